// One raw order record (SPEC §1, CSV or JSON line) through the Glue job's rules (SPEC §2):
// parse, clean, and derive the curated columns. Works on views into the caller's line; no
// allocation per record on the CSV path.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/region.h"

namespace orderlake::etl {

// Why a record went to quarantine (it could not be parsed).
enum class Reject : uint8_t {
  kInvalidUtf8,
  kLineTooLong,
  kBadQuoting,
  kFieldCount,
  kBadJson,
  kMissingField,
  kBadQuantity,
  kBadUnitPrice,
  kBadCustomerId,
  kBadDate,
  kCorruptObject,
  kCount
};
// Why a parsed record was filtered out by the clean step.
enum class Filter : uint8_t { kNonPositiveQuantity, kNonPositivePrice, kMissingCustomerId, kCount };

std::string_view reject_name(Reject r);
std::string_view filter_name(Filter f);

struct TransformConfig {
  double usd_rate = 0.012;        // TotalAmountUSD = TotalAmount * usd_rate
  double high_threshold = 100.0;  // OrderTag = High when TotalAmount > this
  const RegionMap* regions = &RegionMap::Default();
  size_t max_record_bytes = 1024000;  // longer lines are quarantined (Firehose's record limit)
};

// A record that parsed. Views point into the line or into the parser's scratch and stay
// valid until the next parse() on the same parser.
struct ParsedOrder {
  std::string_view invoice_no, stock_code, description, invoice_date, country;
  int32_t quantity = 0;
  double unit_price = 0;
  bool has_customer = false;
  int32_t customer_id = 0;
  int32_t days = 0;  // InvoiceDateOnly as days since 1970-01-01
  int32_t hour = 0;  // InvoiceHour
};

enum class Outcome : uint8_t { kKept, kFiltered, kRejected };

struct Verdict {
  Outcome outcome = Outcome::kKept;
  Reject reject = Reject::kCount;
  Filter filter = Filter::kCount;
  std::string detail;  // for rejects: what was wrong, naming the field and value
};

// Parses and cleans lines. One per thread (it owns scratch buffers).
class RecordParser {
 public:
  explicit RecordParser(const TransformConfig& config);
  ~RecordParser();
  RecordParser(const RecordParser&) = delete;
  RecordParser& operator=(const RecordParser&) = delete;

  // `line` has no line terminator. When `utf8_checked` is true the caller has already
  // validated the bytes as UTF-8. On kKept, *out holds the record.
  Outcome parse(std::string_view line, bool utf8_checked, ParsedOrder* out, Verdict* verdict);

 private:
  Outcome parse_csv(std::string_view line, ParsedOrder* out, Verdict* v);
  Outcome parse_json(std::string_view line, ParsedOrder* out, Verdict* v);
  Outcome finish(ParsedOrder* out, std::string_view qty, std::string_view price,
                 std::string_view customer, bool customer_null, Verdict* v);

  const TransformConfig& config_;
  std::string scratch_;
  struct JsonState;
  std::unique_ptr<JsonState> json_;
};

// Field parsers, exposed for tests. Each trims surrounding ASCII spaces.
bool parse_int32(std::string_view s, int32_t* out);
bool parse_price(std::string_view s, double* out);
// CustomerID: an integer, or an integer-valued decimal such as "17850.0". *present is
// false for an empty field.
bool parse_customer_id(std::string_view s, bool* present, int32_t* out);
// InvoiceDate in MM/dd/yyyy HH:mm, M/d/yyyy H:mm or yyyy-MM-dd HH:mm[:ss].
bool parse_invoice_date(std::string_view s, int32_t* days, int32_t* hour);

// Days since 1970-01-01 of a proleptic Gregorian date, and back to "yyyy-MM-dd".
int32_t days_from_civil(int y, unsigned m, unsigned d);
std::string civil_from_days(int32_t days);

}  // namespace orderlake::etl
