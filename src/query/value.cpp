#include "query/value.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <strings.h>

#include <nlohmann/json.hpp>

namespace orderlake::query {

int64_t Value::as_int() const {
  switch (kind_) {
    case Kind::kBool:
    case Kind::kInt:
      return i_;
    case Kind::kDouble:
      return static_cast<int64_t>(d_);
    case Kind::kNumber:
      return static_cast<int64_t>(std::strtod(s_.c_str(), nullptr));
    default:
      return 0;
  }
}

double Value::as_double() const {
  switch (kind_) {
    case Kind::kBool:
    case Kind::kInt:
      return static_cast<double>(i_);
    case Kind::kDouble:
      return d_;
    case Kind::kNumber:
      return std::strtod(s_.c_str(), nullptr);
    default:
      return 0;
  }
}

std::string Value::ToString() const {
  switch (kind_) {
    case Kind::kNull:
      return "NULL";
    case Kind::kBool:
      return i_ ? "true" : "false";
    case Kind::kInt:
      return std::to_string(i_);
    case Kind::kDouble:
      return FormatDouble(d_);
    case Kind::kNumber:
    case Kind::kText:
      return s_;
  }
  return {};
}

bool operator==(const Value& a, const Value& b) {
  if (a.kind_ != b.kind_) return false;
  switch (a.kind_) {
    case Value::Kind::kNull:
      return true;
    case Value::Kind::kBool:
    case Value::Kind::kInt:
      return a.i_ == b.i_;
    case Value::Kind::kDouble:
      return a.d_ == b.d_ || (std::isnan(a.d_) && std::isnan(b.d_));
    default:
      return a.s_ == b.s_;
  }
}

std::string FormatDouble(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);  // shortest round-trip form
  if (ec != std::errc()) return std::to_string(d);
  return std::string(buf, end);
}

int QueryResult::column_index(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    const std::string& c = columns[i].name;
    if (c.size() == name.size() && strncasecmp(c.data(), name.data(), c.size()) == 0)
      return static_cast<int>(i);
  }
  return -1;
}

nlohmann::json ToJson(const Value& v) {
  using json = nlohmann::json;
  switch (v.kind()) {
    case Value::Kind::kNull: return nullptr;
    case Value::Kind::kBool: return v.as_bool();
    case Value::Kind::kInt: return v.as_int();
    case Value::Kind::kDouble: return std::isfinite(v.as_double()) ? json(v.as_double()) : json(nullptr);
    case Value::Kind::kNumber: {
      json j = json::parse(v.text(), nullptr, false);
      return j.is_number() ? j : json(v.text());
    }
    case Value::Kind::kText: return v.text();
  }
  return nullptr;
}

}  // namespace orderlake::query
