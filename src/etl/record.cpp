#include "etl/record.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <cstring>

#include "core/csv.h"

namespace orderlake::etl {

std::string_view reject_name(Reject r) {
  switch (r) {
    case Reject::kInvalidUtf8: return "invalid_utf8";
    case Reject::kLineTooLong: return "line_too_long";
    case Reject::kBadQuoting: return "bad_quoting";
    case Reject::kFieldCount: return "field_count";
    case Reject::kBadJson: return "bad_json";
    case Reject::kMissingField: return "missing_field";
    case Reject::kBadQuantity: return "bad_quantity";
    case Reject::kBadUnitPrice: return "bad_unit_price";
    case Reject::kBadCustomerId: return "bad_customer_id";
    case Reject::kBadDate: return "bad_date";
    case Reject::kCorruptObject: return "corrupt_object";
    case Reject::kCount: break;
  }
  return "unknown";
}

std::string_view filter_name(Filter f) {
  switch (f) {
    case Filter::kNonPositiveQuantity: return "non_positive_quantity";
    case Filter::kNonPositivePrice: return "non_positive_price";
    case Filter::kMissingCustomerId: return "missing_customer_id";
    case Filter::kCount: break;
  }
  return "unknown";
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads between min_w and max_w digits at s[i...].
bool read_digits(std::string_view s, size_t& i, int min_w, int max_w, int* value) {
  int n = 0, v = 0;
  while (i < s.size() && n < max_w && is_digit(s[i])) {
    v = v * 10 + (s[i] - '0');
    ++i;
    ++n;
  }
  *value = v;
  return n >= min_w;
}

bool expect(std::string_view s, size_t& i, char c) {
  if (i < s.size() && s[i] == c) {
    ++i;
    return true;
  }
  return false;
}

int days_in_month(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

// Printable excerpt of a value for error messages.
std::string excerpt(std::string_view s) {
  if (s.size() > 60) return fmt::format("{}…", s.substr(0, 60));
  return std::string(s);
}

}  // namespace

bool parse_int32(std::string_view s, int32_t* out) {
  s = trim(s);
  if (s.empty()) return false;
  bool neg = false;
  size_t i = 0;
  if (s[0] == '-' || s[0] == '+') {
    neg = s[0] == '-';
    i = 1;
  }
  if (i == s.size() || s.size() - i > 10) return false;
  int64_t v = 0;
  for (; i < s.size(); ++i) {
    if (!is_digit(s[i])) return false;
    v = v * 10 + (s[i] - '0');
  }
  if (neg) v = -v;
  if (v < INT32_MIN || v > INT32_MAX) return false;
  *out = static_cast<int32_t>(v);
  return true;
}

bool parse_price(std::string_view s, double* out) {
  s = trim(s);
  // Fast path for plain decimals of at most 15 digits ("2.55", "-11062.06"): the digits as an
  // exact integer divided by an exact power of ten is correctly rounded, so it equals what
  // strtod/from_chars give.
  {
    static constexpr double kPow10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8,
                                        1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    size_t i = 0;
    const bool neg = !s.empty() && s[0] == '-';
    if (neg) i = 1;
    uint64_t mant = 0;
    int digits = 0, frac = -1;
    for (; i < s.size(); ++i) {
      const char c = s[i];
      if (is_digit(c)) {
        mant = mant * 10 + static_cast<uint64_t>(c - '0');
        ++digits;
        if (frac >= 0) ++frac;
      } else if (c == '.' && frac < 0) {
        frac = 0;
      } else {
        break;
      }
    }
    if (i == s.size() && digits > 0 && digits <= 15 && frac != 0) {
      double v = static_cast<double>(mant);
      if (frac > 0) v /= kPow10[frac];
      *out = neg ? -v : v;
      return true;
    }
  }
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  if (s.empty() || !(is_digit(s[0]) || s[0] == '-' || s[0] == '.')) return false;
  double v;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::general);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

bool parse_customer_id(std::string_view s, bool* present, int32_t* out) {
  s = trim(s);
  if (s.empty()) {
    *present = false;
    return true;
  }
  // Accept an integer-valued decimal ("17850.0"), as spreadsheet exports write it.
  size_t dot = s.find('.');
  if (dot != std::string_view::npos) {
    std::string_view frac = s.substr(dot + 1);
    if (frac.empty()) return false;
    for (char c : frac)
      if (c != '0') return false;
    s = s.substr(0, dot);
  }
  if (!parse_int32(s, out)) return false;
  *present = true;
  return true;
}

int32_t days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int>(doe) - 719468;
}

std::string civil_from_days(int32_t days) {
  int z = days + 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int y = static_cast<int>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  return fmt::format("{:04d}-{:02d}-{:02d}", y, m, d);
}

bool parse_invoice_date(std::string_view s, int32_t* days, int32_t* hour) {
  s = trim(s);
  size_t i = 0;
  int y, mo, d, h, mi, sec = 0;
  if (s.size() >= 5 && s[4] == '-') {
    // yyyy-MM-dd HH:mm[:ss]
    if (!read_digits(s, i, 4, 4, &y) || !expect(s, i, '-') || !read_digits(s, i, 2, 2, &mo) ||
        !expect(s, i, '-') || !read_digits(s, i, 2, 2, &d))
      return false;
    if (!(expect(s, i, ' ') || expect(s, i, 'T'))) return false;
    if (!read_digits(s, i, 2, 2, &h) || !expect(s, i, ':') || !read_digits(s, i, 2, 2, &mi))
      return false;
    if (i < s.size() && (!expect(s, i, ':') || !read_digits(s, i, 2, 2, &sec))) return false;
  } else {
    // MM/dd/yyyy HH:mm or M/d/yyyy H:mm
    if (!read_digits(s, i, 1, 2, &mo) || !expect(s, i, '/') || !read_digits(s, i, 1, 2, &d) ||
        !expect(s, i, '/') || !read_digits(s, i, 4, 4, &y) || !expect(s, i, ' ') ||
        !read_digits(s, i, 1, 2, &h) || !expect(s, i, ':') || !read_digits(s, i, 2, 2, &mi))
      return false;
  }
  if (i != s.size()) return false;
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
      sec > 59)
    return false;
  *days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  *hour = h;
  return true;
}

struct RecordParser::JsonState {
  simdjson::dom::parser parser;
  std::string padded;
};

RecordParser::RecordParser(const TransformConfig& config)
    : config_(config), json_(std::make_unique<JsonState>()) {}
RecordParser::~RecordParser() = default;

Outcome RecordParser::parse(std::string_view line, bool utf8_checked, ParsedOrder* out,
                            Verdict* v) {
  if (line.size() > config_.max_record_bytes) {
    v->reject = Reject::kLineTooLong;
    v->detail = fmt::format("record of {} bytes is over the limit of {} bytes", line.size(),
                            config_.max_record_bytes);
    return Outcome::kRejected;
  }
  if (!utf8_checked && !simdjson::validate_utf8(line.data(), line.size())) {
    v->reject = Reject::kInvalidUtf8;
    v->detail = "record is not valid UTF-8";
    return Outcome::kRejected;
  }
  size_t first = 0;
  while (first < line.size() && (line[first] == ' ' || line[first] == '\t')) ++first;
  if (first < line.size() && line[first] == '{') return parse_json(line, out, v);
  return parse_csv(line, out, v);
}

Outcome RecordParser::parse_csv(std::string_view line, ParsedOrder* out, Verdict* v) {
  std::string_view f[8];
  size_t err_pos = 0;
  const int n = csv::split(line, f, 8, scratch_, ',', &err_pos);
  if (n < 0) {
    v->reject = Reject::kBadQuoting;
    v->detail = fmt::format("broken CSV quoting at byte {} of the record", err_pos);
    return Outcome::kRejected;
  }
  if (n != 8) {
    v->reject = Reject::kFieldCount;
    v->detail = fmt::format("expected 8 fields, found {}", n);
    return Outcome::kRejected;
  }
  out->invoice_no = f[0];
  out->stock_code = f[1];
  out->description = f[2];
  out->invoice_date = f[4];
  out->country = f[7];
  return finish(out, f[3], f[5], f[6], false, v);
}

namespace {
constexpr std::string_view kJsonKeys[8] = {"InvoiceNo", "StockCode",  "Description", "Quantity",
                                           "InvoiceDate", "UnitPrice", "CustomerID", "Country"};
}

Outcome RecordParser::parse_json(std::string_view line, ParsedOrder* out, Verdict* v) {
  using namespace simdjson;
  auto bad = [&](std::string detail) {
    v->reject = Reject::kBadJson;
    v->detail = std::move(detail);
    return Outcome::kRejected;
  };
  // The DOM parser dispatches to the CPU's best kernels at run time.
  std::string& buf = json_->padded;
  if (buf.size() < line.size() + SIMDJSON_PADDING) buf.resize(line.size() + SIMDJSON_PADDING);
  std::memcpy(buf.data(), line.data(), line.size());
  dom::element doc;
  if (auto err = json_->parser.parse(buf.data(), line.size(), false).get(doc)) return bad(error_message(err));
  dom::object obj;
  if (doc.get(obj)) return bad("not a JSON object");
  std::string_view vals[8];
  bool seen[8] = {}, is_null[8] = {};
  // Numbers are turned back into their shortest text, which parses to the same value.
  char numbuf[8][32];
  for (auto [key, val] : obj) {
    int idx = -1;
    for (int k = 0; k < 8; ++k)
      if (key == kJsonKeys[k]) idx = k;
    if (idx < 0) continue;  // other keys (e.g. ADDMETADATA's) are ignored
    char* nb = numbuf[idx];
    switch (val.type()) {
      case dom::element_type::STRING:
        vals[idx] = val.get_string().value_unsafe();
        break;
      case dom::element_type::INT64: {
        auto r = std::to_chars(nb, nb + 32, val.get_int64().value_unsafe());
        vals[idx] = std::string_view(nb, static_cast<size_t>(r.ptr - nb));
        break;
      }
      case dom::element_type::UINT64: {
        auto r = std::to_chars(nb, nb + 32, val.get_uint64().value_unsafe());
        vals[idx] = std::string_view(nb, static_cast<size_t>(r.ptr - nb));
        break;
      }
      case dom::element_type::DOUBLE: {
        auto r = std::to_chars(nb, nb + 32, val.get_double().value_unsafe());
        vals[idx] = std::string_view(nb, static_cast<size_t>(r.ptr - nb));
        break;
      }
      case dom::element_type::NULL_VALUE:
        is_null[idx] = true;
        break;
      default:
        return bad(fmt::format("field {} must be a string or a number", kJsonKeys[idx]));
    }
    seen[idx] = true;
  }
  for (int k = 0; k < 8; ++k) {
    if (!seen[k] || (is_null[k] && k != 6)) {
      v->reject = Reject::kMissingField;
      v->detail = fmt::format("field {} is missing", kJsonKeys[k]);
      return Outcome::kRejected;
    }
  }
  out->invoice_no = vals[0];
  out->stock_code = vals[1];
  out->description = vals[2];
  out->invoice_date = vals[4];
  out->country = vals[7];
  // numbuf lives only in this frame: copy number texts that the views point at into scratch.
  scratch_.clear();
  scratch_.reserve(5 * 32);
  auto keep = [&](std::string_view& sv, int idx) {
    if (sv.data() >= numbuf[idx] && sv.data() < numbuf[idx] + 32) {
      size_t at = scratch_.size();
      scratch_.append(sv);
      sv = std::string_view(scratch_.data() + at, sv.size());
    }
  };
  keep(out->invoice_no, 0);
  keep(out->stock_code, 1);
  keep(out->description, 2);
  keep(out->invoice_date, 4);
  keep(out->country, 7);
  return finish(out, vals[3], vals[5], vals[6], is_null[6], v);
}

Outcome RecordParser::finish(ParsedOrder* out, std::string_view qty, std::string_view price,
                             std::string_view customer, bool customer_null, Verdict* v) {
  if (!parse_int32(qty, &out->quantity)) {
    v->reject = Reject::kBadQuantity;
    v->detail = fmt::format("Quantity \"{}\" is not an integer", excerpt(qty));
    return Outcome::kRejected;
  }
  if (!parse_price(price, &out->unit_price)) {
    v->reject = Reject::kBadUnitPrice;
    v->detail = fmt::format("UnitPrice \"{}\" is not a decimal number", excerpt(price));
    return Outcome::kRejected;
  }
  if (customer_null) {
    out->has_customer = false;
  } else if (!parse_customer_id(customer, &out->has_customer, &out->customer_id)) {
    v->reject = Reject::kBadCustomerId;
    v->detail = fmt::format("CustomerID \"{}\" is not an integer", excerpt(customer));
    return Outcome::kRejected;
  }
  if (!parse_invoice_date(out->invoice_date, &out->days, &out->hour)) {
    v->reject = Reject::kBadDate;
    v->detail = fmt::format(
        "InvoiceDate \"{}\" is not MM/dd/yyyy HH:mm, M/d/yyyy H:mm or yyyy-MM-dd HH:mm[:ss]",
        excerpt(out->invoice_date));
    return Outcome::kRejected;
  }
  if (out->quantity <= 0) {
    v->filter = Filter::kNonPositiveQuantity;
    return Outcome::kFiltered;
  }
  if (!(out->unit_price > 0)) {
    v->filter = Filter::kNonPositivePrice;
    return Outcome::kFiltered;
  }
  if (!out->has_customer) {
    v->filter = Filter::kMissingCustomerId;
    return Outcome::kFiltered;
  }
  return Outcome::kKept;
}

}  // namespace orderlake::etl
