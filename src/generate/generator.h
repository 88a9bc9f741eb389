// OrderGenerator: writes order log lines (SPEC.md §1) one at a time into a caller's buffer.
//
// Orders come in invoices: one invoice number, customer, country and timestamp shared by a
// few lines (retail profile) or a single line (seed profile). A configurable fraction of the
// lines is dirty, each dirty line exactly one kind that maps 1:1 onto what the etl does
// with it (parse error -> quarantine; else Quantity <= 0, UnitPrice <= 0, missing
// CustomerID are filtered in that order):
//
//   kind                   line                                         etl
//   valid                  everything present and positive              kept
//   missing_customer_id    empty CustomerID (a guest invoice)           missing_customer_id
//   non_positive_quantity  InvoiceNo "C..." and Quantity < 0 (returns)  non_positive_quantity
//   non_positive_price     UnitPrice 0.00 or negative                   non_positive_price
//   malformed              too few fields, non-numeric Quantity, an     quarantine
//                          impossible date, or comma-free garbage
//
// Same config (seed included) and same progress values => byte-identical output.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "generate/calendar.h"
#include "generate/catalog.h"
#include "generate/prng.h"

namespace orderlake::generate {

enum class LineKind : uint8_t {
  kValid = 0,
  kMissingCustomerId = 1,
  kNonPositiveQuantity = 2,
  kNonPositivePrice = 3,
  kMalformed = 4,
};
inline constexpr size_t kLineKinds = 5;
// "valid", "missing_customer_id", "non_positive_quantity", "non_positive_price", "malformed"
std::string_view kind_name(LineKind k);

// Fractions of all lines that are dirty, by kind. Their sum is at most 1.
struct DirtyRates {
  double missing_customer = 0.02;
  double returns = 0.02;
  double bad_price = 0.005;
  double malformed = 0.001;

  // Retail: the defaults above. Seed: all 0 (the original generator wrote clean lines).
  static DirtyRates ForProfile(Profile p);
  Status validate() const;
};

// Back-filled timestamps: orders spread over [first_day, first_day + days) following the
// shop's daily rhythm. Without it, timestamps are the current local wall-clock time.
struct Backfill {
  int64_t first_day = 0;  // days since 1970-01-01
  int64_t days = 1;
};

struct GeneratorConfig {
  Profile profile = Profile::kRetail;
  uint64_t seed = 0;
  DirtyRates rates;
  std::optional<Backfill> backfill;
  int64_t first_invoice = 536365;  // retail: invoice numbers rise from here
  // Live mode clock (seconds since the epoch); empty = the system's real-time clock.
  // Timestamps are its local wall-clock time (localtime_r).
  std::function<int64_t()> clock;

  // The rates (--missing-customer-rate ...) and the back-filled range (--start, --days).
  Status Validate() const;
};

// What the generator wrote on one line (for summaries and tests).
struct LineInfo {
  LineKind kind = LineKind::kValid;
  int32_t quantity = 0;     // as written (negative for returns); 0 for malformed lines
  int64_t price_cents = 0;  // as written
  double unit_price = 0;    // price_cents / 100.0, the double a parser of the text gets
  uint16_t country = 0;     // index into catalog().countries
  int64_t day = 0;          // InvoiceDate's day, days since 1970-01-01
};

class OrderGenerator {
 public:
  // A line never exceeds this many bytes (newline included).
  static constexpr size_t kMaxLineBytes = 512;

  // Builds the profile's catalog and a generator over it.
  static Result<std::unique_ptr<OrderGenerator>> Create(GeneratorConfig config);
  OrderGenerator(std::shared_ptr<const Catalog> catalog, GeneratorConfig config);

  // True when the next line starts a new invoice (the moment a new progress value counts).
  bool at_invoice_start() const { return remaining_ == 0; }
  // For back-filled timestamps: the fraction in [0,1) of the run done so far; the next
  // invoice is placed at that point of the date range. Must not decrease.
  void set_progress(double u) { progress_ = u; }

  // Writes one complete line ending in '\n' at out (room for kMaxLineBytes) and returns its
  // length. Fills *info when info is not null.
  size_t next_line(char* out, LineInfo* info);

  const Catalog& catalog() const { return *catalog_; }
  const GeneratorConfig& config() const { return config_; }

  // Probability that an invoice is a return / a guest invoice (for tests).
  double return_invoice_probability() const { return q_return_; }
  double missing_invoice_probability() const { return q_missing_; }

 private:
  enum class InvoiceKind : uint8_t { kNormal, kReturn, kGuest };
  struct ItemText {
    uint32_t head_off;   // "CODE,DESCRIPTION," in text_
    uint16_t head_len;
    uint16_t code_len;
    uint32_t price_off;  // "2.55" in text_
    uint8_t price_len;
    bool expensive;      // bought in small quantities
    int64_t cents;
    double unit_price;
  };

  void start_invoice();
  void set_timestamp();
  int32_t draw_quantity(const ItemText& item);
  size_t write_malformed(char* out, const ItemText& item, int32_t qty);

  std::shared_ptr<const Catalog> catalog_;
  GeneratorConfig config_;
  Rng rng_;
  std::optional<DailyRhythm> rhythm_;

  // Catalog text, preformatted.
  std::string text_;
  std::vector<ItemText> items_;
  std::vector<std::string> country_csv_;
  int post_item_ = -1;

  AliasTable invoice_size_, return_size_, quantity_, small_quantity_;
  std::vector<uint32_t> invoice_size_values_, return_size_values_, quantity_values_, small_quantity_values_;
  double q_return_ = 0, q_missing_ = 0;
  uint64_t bad_price_threshold_ = 0, malformed_threshold_ = 0;  // per-line, normal invoices
  bool any_line_dirt_ = false;

  // The current invoice.
  double progress_ = 0;
  int64_t next_invoice_ = 0;
  uint32_t remaining_ = 0;
  bool post_first_ = false;
  InvoiceKind invoice_kind_ = InvoiceKind::kNormal;
  uint16_t country_ = 0;
  int64_t day_ = 0;
  int64_t minute_key_ = INT64_MIN;
  char prefix_[24];  // "536365," or "C536365,"
  uint8_t prefix_len_ = 0;
  char mid_[20];     // ",MM/dd/yyyy HH:mm,"
  char suffix_[96];  // ",17850,United Kingdom\n" (",," for guests)
  uint8_t suffix_len_ = 0;
  uint8_t customer_len_ = 0;  // digits of the CustomerID within suffix_
};

// Expected totals over the lines written, as the etl will compute them (SPEC.md §2):
// valid lines only, amounts Quantity * UnitPrice as doubles in line order.
class SummaryBuilder {
 public:
  explicit SummaryBuilder(const Catalog& catalog);

  void add(const LineInfo& info) {
    ++kinds_[static_cast<size_t>(info.kind)];
    if (info.kind != LineKind::kValid) return;
    const double amount = static_cast<double>(info.quantity) * info.unit_price;
    total_ += amount;
    ++rows_;
    if (amount > 100.0) ++high_;
    Agg& c = by_country_[info.country];
    ++c.rows;
    c.total += amount;
    if (info.day != last_day_) select_day(info.day);
    ++day_agg_->rows;
    day_agg_->total += amount;
  }

  uint64_t lines() const;
  uint64_t count(LineKind k) const { return kinds_[static_cast<size_t>(k)]; }
  uint64_t valid_rows() const { return rows_; }
  double total_amount() const { return total_; }
  uint64_t high_orders() const { return high_; }

  // {"valid": n, "missing_customer_id": n, ...}: lines by kind.
  nlohmann::ordered_json kinds_json() const;
  // {"rows", "total_amount", "by_country", "by_date", "high_orders"}: what the etl should
  // keep and sum from these lines.
  nlohmann::ordered_json expected_json() const;

 private:
  struct Agg {
    uint64_t rows = 0;
    double total = 0;
  };
  void select_day(int64_t day);

  std::vector<std::string> country_names_;
  std::array<uint64_t, kLineKinds> kinds_{};
  uint64_t rows_ = 0, high_ = 0;
  double total_ = 0;
  std::vector<Agg> by_country_;
  std::vector<std::pair<int64_t, Agg>> by_day_;  // sorted by day
  int64_t last_day_ = INT64_MIN;
  Agg* day_agg_ = nullptr;
};

}  // namespace orderlake::generate
