#include "generate/generator.h"

#include "core/csv.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <ctime>

#include "generate/format.h"

namespace orderlake::generate {
namespace {

// p in [0,1] as a threshold on a uniform 64-bit draw.
uint64_t to_threshold(double p) {
  if (p <= 0) return 0;
  if (p >= 1) return UINT64_MAX;
  return static_cast<uint64_t>(std::ldexp(p, 64));
}

double mean_of(const AliasTable& t, const std::vector<uint32_t>& values) {
  double m = 0;
  for (size_t i = 0; i < values.size(); ++i) m += t.probability(i) * values[i];
  return m;
}

int64_t real_clock() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec);
}

}  // namespace

std::string_view kind_name(LineKind k) {
  switch (k) {
    case LineKind::kValid: return "valid";
    case LineKind::kMissingCustomerId: return "missing_customer_id";
    case LineKind::kNonPositiveQuantity: return "non_positive_quantity";
    case LineKind::kNonPositivePrice: return "non_positive_price";
    case LineKind::kMalformed: return "malformed";
  }
  return "unknown";
}

DirtyRates DirtyRates::ForProfile(Profile p) {
  if (p == Profile::kSeed) return DirtyRates{0, 0, 0, 0};
  return DirtyRates{};
}

Status GeneratorConfig::Validate() const {
  ORDERLAKE_RETURN_IF_ERROR(rates.validate());
  if (backfill) {
    if (backfill->days < 1 || backfill->days > 36600) return Status::Error("--days must be between 1 and 36600");
    if (civil_from_days(backfill->first_day + backfill->days - 1).year > 9999)
      return Status::Error("--start/--days: the range ends after 9999");
  }
  return Status::OK();
}

Status DirtyRates::validate() const {
  const std::pair<const char*, double> all[] = {{"--missing-customer-rate", missing_customer},
                                                {"--return-rate", returns},
                                                {"--bad-price-rate", bad_price},
                                                {"--malformed-rate", malformed}};
  for (const auto& [name, v] : all)
    if (!(v >= 0 && v <= 1)) return Status::Errorf("{} must be a fraction between 0 and 1, not {}", name, v);
  const double sum = missing_customer + returns + bad_price + malformed;
  if (sum > 1.0 + 1e-12)
    return Status::Errorf(
        "the dirty-record rates (--missing-customer-rate, --return-rate, --bad-price-rate, --malformed-rate, "
        "defaults included) add up to {:g}, more than 1 (all lines)",
        sum);
  return Status::OK();
}

Result<std::unique_ptr<OrderGenerator>> OrderGenerator::Create(GeneratorConfig config) {
  ORDERLAKE_RETURN_IF_ERROR(config.rates.validate());
  if (config.backfill && config.backfill->days < 1)
    return Status::Error("the back-fill range needs at least one day");
  auto catalog = Catalog::ForProfile(config.profile);
  if (!catalog.ok()) return catalog.status();
  auto shared = std::make_shared<const Catalog>(std::move(catalog.value()));
  return std::make_unique<OrderGenerator>(std::move(shared), std::move(config));
}

OrderGenerator::OrderGenerator(std::shared_ptr<const Catalog> catalog, GeneratorConfig config)
    : catalog_(std::move(catalog)), config_(std::move(config)), rng_(config_.seed) {
  if (!config_.clock) config_.clock = real_clock;
  if (config_.backfill) rhythm_.emplace(config_.backfill->first_day, config_.backfill->days);
  next_invoice_ = config_.first_invoice;

  // Preformatted catalog text.
  for (const Item& item : catalog_->items) {
    ItemText t{};
    t.head_off = static_cast<uint32_t>(text_.size());
    csv::append_field(text_, item.stock_code);
    t.code_len = static_cast<uint16_t>(text_.size() - t.head_off);
    text_.push_back(',');
    csv::append_field(text_, item.description);
    text_.push_back(',');
    t.head_len = static_cast<uint16_t>(std::min<size_t>(text_.size() - t.head_off, 200));
    text_.resize(t.head_off + t.head_len);
    t.price_off = static_cast<uint32_t>(text_.size());
    text_ += cents_to_string(item.price_cents);
    t.price_len = static_cast<uint8_t>(text_.size() - t.price_off);
    t.cents = item.price_cents;
    t.unit_price = static_cast<double>(item.price_cents) / 100.0;
    t.expensive = item.price_cents >= 1000;
    items_.push_back(t);
    if (item.stock_code == "POST") post_item_ = static_cast<int>(items_.size() - 1);
  }
  text_.append(64, '\0');  // slack for the fixed-size copies in next_line
  for (const Country& c : catalog_->countries) {
    std::string s;
    csv::append_field(s, c.name);
    if (s.size() > 60) s.resize(60);
    country_csv_.push_back(std::move(s));
  }

  // Invoice sizes and quantities.
  std::vector<double> w;
  if (catalog_->profile == Profile::kSeed) {
    invoice_size_values_ = {1};
    return_size_values_ = {1};
    invoice_size_.build({1.0});
    return_size_.build({1.0});
  } else {
    // Skewed around 5-20 lines (mean ~12), a few long ones, some single-line invoices.
    for (uint32_t n = 1; n <= 80; ++n) {
      invoice_size_values_.push_back(n);
      double x = std::pow(static_cast<double>(n), 1.3) * std::exp(-static_cast<double>(n) / 7.0);
      if (n == 1) x += 1.2;
      w.push_back(x);
    }
    invoice_size_.build(w);
    // Returns (cancellations) are mostly one or two lines.
    return_size_values_ = {1, 2, 3, 4, 5, 6};
    return_size_.build({55, 20, 10, 7, 5, 3});
  }
  // Quantities: mostly small, some wholesale packs (UCI Online Retail shape).
  quantity_values_ = {1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 18, 20, 24, 25, 30, 32, 36, 48, 50, 72, 96, 100, 144, 200};
  quantity_.build({27, 15, 7, 7, 2.5, 8, 3, 4, 12, 1.5, 0.3, 1.2, 4, 1, 0.3, 0.4, 1, 1.2, 0.3, 0.5, 0.5, 0.3, 0.4, 0.2});
  small_quantity_values_ = {1, 2, 3, 4, 6, 8, 12};
  small_quantity_.build({60, 20, 6, 6, 4, 2, 2});

  // Invoice-level kinds (returns, guests) and line-level kinds (bad price, malformed),
  // chosen so that each kind's expected share of the lines is its configured rate:
  // with mean sizes mn (normal) and mr (return), P(return invoice) = q_r, P(guest) = q_g,
  //   share of return lines = q_r*mr / L, share of guest lines = q_g*mn / L,
  //   L = q_r*mr + (1-q_r)*mn (mean lines per invoice).
  const DirtyRates& r = config_.rates;
  const double mn = mean_of(invoice_size_, invoice_size_values_);
  const double mr = mean_of(return_size_, return_size_values_);
  if (r.returns > 0) {
    const double denom = mr * (1 - r.returns) + r.returns * mn;
    q_return_ = denom > 0 ? r.returns * mn / denom : 1.0;
  }
  const double mean_lines = q_return_ * mr + (1 - q_return_) * mn;
  q_missing_ = std::min(1.0 - q_return_, r.missing_customer * mean_lines / mn);
  const double normal_share = 1.0 - r.returns - r.missing_customer;
  if (normal_share > 1e-12) {
    const double pb = std::min(1.0, r.bad_price / normal_share);
    const double pm = std::min(1.0 - pb, r.malformed / normal_share);
    bad_price_threshold_ = to_threshold(pb);
    malformed_threshold_ = to_threshold(pm);
    any_line_dirt_ = bad_price_threshold_ > 0 || malformed_threshold_ > 0;
  }
}

void OrderGenerator::set_timestamp() {
  int64_t key;
  int year;
  unsigned month, mday, hour, minute;
  if (rhythm_) {
    const ShopMinute m = rhythm_->at(progress_);
    key = m.day * 1440 + m.hour * 60 + m.minute;
    if (key == minute_key_) return;
    const CivilDate c = civil_from_days(m.day);
    year = c.year, month = c.month, mday = c.day, hour = m.hour, minute = m.minute;
    day_ = m.day;
  } else {
    const int64_t now = config_.clock();
    key = now / 60;
    if (key == minute_key_) return;
    const time_t t = static_cast<time_t>(now);
    struct tm tm {};
    localtime_r(&t, &tm);
    year = tm.tm_year + 1900, month = static_cast<unsigned>(tm.tm_mon + 1);
    mday = static_cast<unsigned>(tm.tm_mday), hour = static_cast<unsigned>(tm.tm_hour);
    minute = static_cast<unsigned>(tm.tm_min);
    year = std::clamp(year, 1000, 9999);
    day_ = days_from_civil(year, month, mday);
  }
  minute_key_ = key;
  mid_[0] = ',';
  format_invoice_date(mid_ + 1, year, month, mday, hour, minute);
  mid_[17] = ',';
}

void OrderGenerator::start_invoice() {
  const Catalog& cat = *catalog_;
  const double u = rng_.uniform();
  invoice_kind_ = u < q_return_                ? InvoiceKind::kReturn
                  : u < q_return_ + q_missing_ ? InvoiceKind::kGuest
                                               : InvoiceKind::kNormal;
  remaining_ = invoice_kind_ == InvoiceKind::kReturn
                   ? return_size_values_[return_size_.sample(rng_)]
                   : invoice_size_values_[invoice_size_.sample(rng_)];

  int64_t invoice_no;
  uint32_t customer_id;
  if (cat.profile == Profile::kSeed) {
    invoice_no = rng_.between(536365, 581587);
    customer_id = static_cast<uint32_t>(rng_.between(Catalog::kFirstCustomerId, Catalog::kLastCustomerId));
    country_ = static_cast<uint16_t>(cat.country_choice.sample(rng_));
    post_first_ = false;
  } else {
    invoice_no = next_invoice_++;
    country_ = static_cast<uint16_t>(cat.country_choice.sample(rng_));
    const auto& members = cat.customers_of[country_];
    const uint32_t k = cat.customer_choice[country_].sample(rng_);
    customer_id = cat.customers[members[k]].id;
    // Customers abroad usually pay postage, listed first on the invoice.
    post_first_ = post_item_ >= 0 && country_ != 0 && remaining_ > 1 && rng_.chance(0.4);
  }

  char* p = prefix_;
  if (invoice_kind_ == InvoiceKind::kReturn) *p++ = 'C';
  p = format_uint(p, static_cast<uint64_t>(invoice_no));
  *p++ = ',';
  prefix_len_ = static_cast<uint8_t>(p - prefix_);

  set_timestamp();

  p = suffix_;
  *p++ = ',';
  if (invoice_kind_ != InvoiceKind::kGuest) p = format_uint(p, customer_id);
  customer_len_ = static_cast<uint8_t>(p - suffix_ - 1);
  *p++ = ',';
  const std::string& cn = country_csv_[country_];
  std::memcpy(p, cn.data(), cn.size());
  p += cn.size();
  *p++ = '\n';
  suffix_len_ = static_cast<uint8_t>(p - suffix_);
}

int32_t OrderGenerator::draw_quantity(const ItemText& item) {
  if (catalog_->profile == Profile::kSeed) return static_cast<int32_t>(rng_.between(1, 10));
  if (item.expensive) return static_cast<int32_t>(small_quantity_values_[small_quantity_.sample(rng_)]);
  return static_cast<int32_t>(quantity_values_[quantity_.sample(rng_)]);
}

size_t OrderGenerator::next_line(char* out, LineInfo* info) {
  if (remaining_ == 0) start_invoice();
  --remaining_;

  uint32_t idx;
  if (post_first_) {
    idx = static_cast<uint32_t>(post_item_);
    post_first_ = false;
  } else {
    idx = catalog_->item_choice.sample(rng_);
  }
  const ItemText& item = items_[idx];
  int32_t qty = idx == static_cast<uint32_t>(post_item_) ? static_cast<int32_t>(1 + rng_.below(3))
                                                           : draw_quantity(item);

  LineKind kind;
  bool bad_price = false;
  switch (invoice_kind_) {
    case InvoiceKind::kReturn:
      kind = LineKind::kNonPositiveQuantity;
      qty = -qty;
      break;
    case InvoiceKind::kGuest:
      kind = LineKind::kMissingCustomerId;
      break;
    default:
      kind = LineKind::kValid;
      if (any_line_dirt_) {
        const uint64_t r = rng_.next();
        if (r < bad_price_threshold_) {
          kind = LineKind::kNonPositivePrice;
          bad_price = true;
        } else if (r - bad_price_threshold_ < malformed_threshold_) {
          kind = LineKind::kMalformed;
        }
      }
  }
  if (kind == LineKind::kMalformed) {
    if (info) *info = LineInfo{kind, 0, 0, 0.0, country_, day_};
    return write_malformed(out, item, qty);
  }

  char* p = out;
  std::memcpy(p, prefix_, sizeof prefix_);  // fixed-size copies; lengths advance p
  p += prefix_len_;
  if (item.head_len <= 64) {
    std::memcpy(p, text_.data() + item.head_off, 64);  // inline vector copy, no call
  } else {
    std::memcpy(p, text_.data() + item.head_off, item.head_len);
  }
  p += item.head_len;
  p = format_int(p, qty);
  std::memcpy(p, mid_, 18);
  p += 18;
  int64_t cents = item.cents;
  double unit_price = item.unit_price;
  if (!bad_price) {
    std::memcpy(p, text_.data() + item.price_off, 8);
    p += item.price_len;
  } else {
    // Mostly free items (0.00), some negative adjustments.
    cents = rng_.chance(0.75) ? 0 : -item.cents;
    unit_price = static_cast<double>(cents) / 100.0;
    p = format_cents(p, cents);
  }
  std::memcpy(p, suffix_, sizeof suffix_);
  p += suffix_len_;
  if (info) *info = LineInfo{kind, qty, cents, unit_price, country_, day_};
  return static_cast<size_t>(p - out);
}

size_t OrderGenerator::write_malformed(char* out, const ItemText& item, int32_t qty) {
  char* p = out;
  const uint32_t variant = rng_.below(4);
  if (variant == 3) {
    // Printable garbage: no comma (one field), no double quote (no open quoted field that
    // could swallow the next line), neither starting nor ending with a space.
    const uint32_t len = 5 + rng_.below(76);
    for (uint32_t i = 0; i < len; ++i) {
      char c;
      do {
        c = static_cast<char>(0x20 + rng_.below(95));
      } while (c == ',' || c == '"' || (c == ' ' && (i == 0 || i + 1 == len)));
      *p++ = c;
    }
    *p++ = '\n';
    return static_cast<size_t>(p - out);
  }

  // The eight fields of a good line, then one thing broken.
  char qty_buf[24];
  const std::string_view qty_text(qty_buf, static_cast<size_t>(format_int(qty_buf, qty) - qty_buf));
  const char* head = text_.data() + item.head_off;
  std::string_view fields[8] = {
      std::string_view(prefix_, prefix_len_ - 1),
      std::string_view(head, item.code_len),
      std::string_view(head + item.code_len + 1, static_cast<size_t>(item.head_len - item.code_len - 2)),
      qty_text,
      std::string_view(mid_ + 1, 16),
      std::string_view(text_.data() + item.price_off, item.price_len),
      std::string_view(suffix_ + 1, customer_len_),
      std::string_view(suffix_ + 2 + customer_len_, static_cast<size_t>(suffix_len_ - customer_len_ - 3)),
  };
  size_t nfields = 8;
  if (variant == 0) {
    nfields = 2 + rng_.below(6);  // 2..7 fields
  } else if (variant == 1) {
    static const std::string_view kWords[] = {"six", "twelve", "one dozen", "abc", "lots", "qty"};
    fields[3] = kWords[rng_.below(6)];
  } else {
    static const std::string_view kDates[] = {"13/45/2010 99:99", "00/00/0000 00:00", "32/13/2011 25:61",
                                              "yesterday", "not a date"};
    fields[4] = kDates[rng_.below(5)];
  }
  for (size_t i = 0; i < nfields; ++i) {
    if (i) *p++ = ',';
    std::memcpy(p, fields[i].data(), fields[i].size());
    p += fields[i].size();
  }
  *p++ = '\n';
  return static_cast<size_t>(p - out);
}

// ---- SummaryBuilder ----

SummaryBuilder::SummaryBuilder(const Catalog& catalog) {
  for (const auto& c : catalog.countries) country_names_.push_back(c.name);
  by_country_.resize(country_names_.size());
}

uint64_t SummaryBuilder::lines() const {
  uint64_t n = 0;
  for (uint64_t k : kinds_) n += k;
  return n;
}

void SummaryBuilder::select_day(int64_t day) {
  auto it = std::lower_bound(by_day_.begin(), by_day_.end(), day,
                             [](const auto& e, int64_t d) { return e.first < d; });
  if (it == by_day_.end() || it->first != day) it = by_day_.insert(it, {day, Agg{}});
  last_day_ = day;
  day_agg_ = &it->second;
}

nlohmann::ordered_json SummaryBuilder::kinds_json() const {
  nlohmann::ordered_json j;
  for (size_t k = 0; k < kLineKinds; ++k) j[std::string(kind_name(static_cast<LineKind>(k)))] = kinds_[k];
  return j;
}

nlohmann::ordered_json SummaryBuilder::expected_json() const {
  nlohmann::ordered_json j;
  j["rows"] = rows_;
  j["total_amount"] = total_;
  nlohmann::ordered_json countries = nlohmann::ordered_json::object();
  for (size_t i = 0; i < by_country_.size(); ++i) {
    if (by_country_[i].rows == 0) continue;
    countries[country_names_[i]] = {{"rows", by_country_[i].rows}, {"total_amount", by_country_[i].total}};
  }
  j["by_country"] = std::move(countries);
  nlohmann::ordered_json dates = nlohmann::ordered_json::object();
  for (const auto& [day, agg] : by_day_) {
    if (agg.rows == 0) continue;
    dates[format_iso_date(day)] = {{"rows", agg.rows}, {"total_amount", agg.total}};
  }
  j["by_date"] = std::move(dates);
  j["high_orders"] = high_;
  return j;
}

}  // namespace orderlake::generate
