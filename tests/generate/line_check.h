// Test-local reading of order lines, written independently of the generator: an RFC 4180
// field splitter and a classifier that applies the etl's rules (SPEC.md §2) in order.
#pragma once
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orderlake::testing::gen {

// Splits one line (without its newline) into fields; nullopt when the quoting is broken.
inline std::optional<std::vector<std::string>> split_csv(std::string_view line) {
  std::vector<std::string> fields;
  std::string cur;
  size_t i = 0;
  for (;;) {
    cur.clear();
    if (i < line.size() && line[i] == '"') {
      ++i;
      for (;;) {
        if (i >= line.size()) return std::nullopt;  // unterminated quote
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            cur.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        cur.push_back(line[i++]);
      }
      if (i < line.size() && line[i] != ',') return std::nullopt;  // text after closing quote
    } else {
      while (i < line.size() && line[i] != ',') {
        if (line[i] == '"') return std::nullopt;  // quote inside an unquoted field
        cur.push_back(line[i++]);
      }
    }
    fields.push_back(cur);
    if (i >= line.size()) break;
    ++i;  // the comma
  }
  return fields;
}

// Splits a file's text into lines (without '\n'); *complete says whether it ended in '\n'.
inline std::vector<std::string_view> split_lines(std::string_view text, bool* complete = nullptr) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) {
      out.push_back(text.substr(start));
      break;
    }
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  if (complete) *complete = text.empty() || text.back() == '\n';
  return out;
}

inline bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

struct ParsedDate {
  int year, month, day, hour, minute;
};

// Strict "MM/dd/yyyy HH:mm" with calendar checks.
inline std::optional<ParsedDate> parse_date(std::string_view s) {
  if (s.size() != 16 || s[2] != '/' || s[5] != '/' || s[10] != ' ' || s[13] != ':') return std::nullopt;
  auto num = [&](size_t at, size_t n) -> int {
    std::string_view d = s.substr(at, n);
    if (!all_digits(d)) return -1;
    return std::atoi(std::string(d).c_str());
  };
  ParsedDate d{num(6, 4), num(0, 2), num(3, 2), num(11, 2), num(14, 2)};
  static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (d.year < 1000 || d.month < 1 || d.month > 12 || d.day < 1 || d.day > kDays[d.month - 1] || d.hour < 0 ||
      d.hour > 23 || d.minute < 0 || d.minute > 59)
    return std::nullopt;
  if (d.month == 2 && d.day == 29 && !((d.year % 4 == 0 && d.year % 100 != 0) || d.year % 400 == 0))
    return std::nullopt;
  return d;
}

enum class Kind { kValid, kMissingCustomerId, kNonPositiveQuantity, kNonPositivePrice, kMalformed };

struct Record {
  Kind kind = Kind::kMalformed;
  std::vector<std::string> fields;
  long quantity = 0;
  double unit_price = 0;
  std::optional<ParsedDate> date;
};

// The etl's order: parse errors -> malformed; Quantity <= 0; UnitPrice <= 0; no CustomerID.
inline Record classify(std::string_view line) {
  Record r;
  auto f = split_csv(line);
  if (!f || f->size() != 8) return r;
  r.fields = std::move(*f);
  const std::string& qty = r.fields[3];
  std::string_view qd = qty;
  if (!qd.empty() && qd[0] == '-') qd.remove_prefix(1);
  if (!all_digits(qd)) return r;
  r.date = parse_date(r.fields[4]);
  if (!r.date) return r;
  const std::string& price = r.fields[5];
  if (price.empty()) return r;
  char* end = nullptr;
  errno = 0;
  r.unit_price = std::strtod(price.c_str(), &end);
  if (end != price.c_str() + price.size() || errno != 0) return r;
  if (!r.fields[6].empty() && !all_digits(r.fields[6])) return r;
  r.quantity = std::strtol(qty.c_str(), nullptr, 10);
  if (r.quantity <= 0) r.kind = Kind::kNonPositiveQuantity;
  else if (r.unit_price <= 0) r.kind = Kind::kNonPositivePrice;
  else if (r.fields[6].empty()) r.kind = Kind::kMissingCustomerId;
  else r.kind = Kind::kValid;
  return r;
}

// What the etl should keep from valid records, recomputed from the lines as a reader of the
// text computes it: rows, money (Quantity * UnitPrice), High orders, by country and by day.
struct Tally {
  uint64_t rows = 0, high = 0;
  double total = 0;
  std::map<std::string, std::pair<uint64_t, double>> by_country, by_date;  // rows, money

  void add(const Record& rec) {
    if (rec.kind != Kind::kValid) return;
    const double amount = static_cast<double>(rec.quantity) * rec.unit_price;
    ++rows;
    total += amount;
    high += amount > 100;
    auto& c = by_country[rec.fields[7]];
    ++c.first;
    c.second += amount;
    char day[16];
    std::snprintf(day, sizeof day, "%04d-%02d-%02d", rec.date->year, rec.date->month, rec.date->day);
    auto& d = by_date[day];
    ++d.first;
    d.second += amount;
  }
};

}  // namespace orderlake::testing::gen
