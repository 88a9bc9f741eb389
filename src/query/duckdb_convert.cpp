#include "query/duckdb_convert.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

namespace orderlake::query::internal {
namespace {

// Owns a duckdb_logical_type obtained from a *_type accessor.
class OwnedType {
 public:
  explicit OwnedType(duckdb_logical_type t) : t_(t) {}
  ~OwnedType() {
    if (t_) duckdb_destroy_logical_type(&t_);
  }
  OwnedType(const OwnedType&) = delete;
  OwnedType& operator=(const OwnedType&) = delete;
  duckdb_logical_type get() const { return t_; }

 private:
  duckdb_logical_type t_;
};

// Takes a string allocated by DuckDB and frees it.
std::string TakeString(char* s) {
  if (!s) return {};
  std::string out(s);
  duckdb_free(s);
  return out;
}

bool IsValid(duckdb_vector v, idx_t row) {
  uint64_t* validity = duckdb_vector_get_validity(v);
  return validity == nullptr || duckdb_validity_row_is_valid(validity, row);
}

template <typename T>
T At(duckdb_vector v, idx_t row) {
  T out;
  std::memcpy(&out, static_cast<const char*>(duckdb_vector_get_data(v)) + row * sizeof(T), sizeof(T));
  return out;
}

std::string_view StringAt(duckdb_vector v, idx_t row) {
  auto* s = static_cast<duckdb_string_t*>(duckdb_vector_get_data(v)) + row;
  return std::string_view(duckdb_string_t_data(s), duckdb_string_t_length(*s));
}

std::string Int128ToString(__int128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  unsigned __int128 u = neg ? static_cast<unsigned __int128>(-(v + 1)) + 1 : static_cast<unsigned __int128>(v);
  char buf[48];
  int pos = sizeof buf;
  while (u > 0) {
    buf[--pos] = static_cast<char>('0' + static_cast<int>(u % 10));
    u /= 10;
  }
  if (neg) buf[--pos] = '-';
  return std::string(buf + pos, sizeof buf - static_cast<size_t>(pos));
}

std::string UInt128ToString(unsigned __int128 u) {
  if (u == 0) return "0";
  char buf[48];
  int pos = sizeof buf;
  while (u > 0) {
    buf[--pos] = static_cast<char>('0' + static_cast<int>(u % 10));
    u /= 10;
  }
  return std::string(buf + pos, sizeof buf - static_cast<size_t>(pos));
}

__int128 ToInt128(duckdb_hugeint h) {
  return static_cast<__int128>(static_cast<unsigned __int128>(static_cast<uint64_t>(h.upper)) << 64 |
                               h.lower);
}

Value IntValue(__int128 v) {
  if (v >= std::numeric_limits<int64_t>::min() && v <= std::numeric_limits<int64_t>::max())
    return Value::Int(static_cast<int64_t>(v));
  return Value::Number(Int128ToString(v));
}

// An unscaled decimal integer with `scale` digits after the point: (12345, 2) -> "123.45".
std::string DecimalToString(__int128 unscaled, int scale) {
  std::string digits = Int128ToString(unscaled);
  if (scale <= 0) return digits;
  bool neg = !digits.empty() && digits[0] == '-';
  if (neg) digits.erase(0, 1);
  if (digits.size() <= static_cast<size_t>(scale))
    digits.insert(0, static_cast<size_t>(scale) + 1 - digits.size(), '0');
  digits.insert(digits.size() - static_cast<size_t>(scale), ".");
  return neg ? "-" + digits : digits;
}

// Days since 1970-01-01 to a civil date (proleptic Gregorian), any sign.
void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
}

std::string DateFromDays(int64_t days) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, y, m, d);
  if (y <= 0) return fmt::format("{:04}-{:02}-{:02} (BC)", 1 - y, m, d);
  return fmt::format("{:04}-{:02}-{:02}", y, m, d);
}

// "HH:MM:SS" plus the fraction (of `frac_digits` digits) with trailing zeros dropped.
std::string TimeOfDay(int64_t units, int64_t units_per_second, int frac_digits) {
  int64_t secs = units / units_per_second;
  int64_t frac = units % units_per_second;
  std::string out = fmt::format("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
  if (frac != 0) {
    std::string f = fmt::format("{:0{}}", frac, frac_digits);
    while (!f.empty() && f.back() == '0') f.pop_back();
    out += "." + f;
  }
  return out;
}

// A timestamp counted in `units_per_second` units since the epoch.
std::string Timestamp(int64_t units, int64_t units_per_second, int frac_digits) {
  if (units == std::numeric_limits<int64_t>::max()) return "infinity";
  if (units == -std::numeric_limits<int64_t>::max()) return "-infinity";
  int64_t per_day = 86400 * units_per_second;
  int64_t days = units / per_day;
  int64_t rest = units % per_day;
  if (rest < 0) {
    rest += per_day;
    --days;
  }
  return DateFromDays(days) + " " + TimeOfDay(rest, units_per_second, frac_digits);
}

std::string Interval(const duckdb_interval& iv) {
  std::string out;
  auto part = [&](int64_t n, const char* unit) {
    if (n == 0) return;
    if (!out.empty()) out += ' ';
    out += fmt::format("{} {}{}", n, unit, (n == 1 || n == -1) ? "" : "s");
  };
  part(iv.months / 12, "year");
  part(iv.months % 12, "month");
  part(iv.days, "day");
  if (iv.micros != 0 || out.empty()) {
    if (!out.empty()) out += ' ';
    int64_t us = iv.micros;
    if (us < 0) {
      out += '-';
      us = -us;
    }
    out += TimeOfDay(us, 1000000, 6);
  }
  return out;
}

std::string Uuid(duckdb_hugeint h) {
  uint64_t upper = static_cast<uint64_t>(h.upper) ^ (uint64_t{1} << 63);
  std::string hex = fmt::format("{:016x}{:016x}", upper, h.lower);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) +
         "-" + hex.substr(20);
}

std::string Blob(std::string_view b) {
  std::string out;
  for (unsigned char c : b) {
    if (c >= 32 && c < 127 && c != '\\')
      out += static_cast<char>(c);
    else
      out += fmt::format("\\x{:02X}", c);
  }
  return out;
}

std::string Bits(std::string_view b) {
  if (b.empty()) return {};
  unsigned padding = static_cast<unsigned char>(b[0]);
  std::string out;
  for (size_t i = 1; i < b.size(); ++i)
    for (int bit = 7; bit >= 0; --bit) out += ((static_cast<unsigned char>(b[i]) >> bit) & 1) ? '1' : '0';
  return padding < out.size() ? out.substr(padding) : std::string();
}

std::string FloatText(float f) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, f);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(f);
}

bool IsStringLike(duckdb_type id) {
  return id == DUCKDB_TYPE_VARCHAR || id == DUCKDB_TYPE_ENUM || id == DUCKDB_TYPE_BLOB ||
         id == DUCKDB_TYPE_UUID || id == DUCKDB_TYPE_DATE || id == DUCKDB_TYPE_TIMESTAMP ||
         id == DUCKDB_TYPE_TIMESTAMP_TZ || id == DUCKDB_TYPE_TIME || id == DUCKDB_TYPE_INTERVAL;
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

// A value nested in a LIST/STRUCT/MAP: strings quoted as in DuckDB's literal notation.
std::string NestedText(duckdb_vector v, duckdb_logical_type type, idx_t row) {
  Value val = ReadValue(v, type, row);
  if (val.is_null()) return "NULL";
  duckdb_type id = duckdb_get_type_id(type);
  if (IsStringLike(id)) return Quote(val.ToString());
  return val.ToString();
}

std::string ListText(duckdb_vector child, duckdb_logical_type child_type, uint64_t offset, uint64_t length) {
  std::string out = "[";
  for (uint64_t i = 0; i < length; ++i) {
    if (i) out += ", ";
    out += NestedText(child, child_type, offset + i);
  }
  return out + "]";
}

std::string NestedValue(duckdb_vector v, duckdb_logical_type type, idx_t row) {
  switch (duckdb_get_type_id(type)) {
    case DUCKDB_TYPE_LIST: {
      auto e = At<duckdb_list_entry>(v, row);
      OwnedType child_type(duckdb_list_type_child_type(type));
      return ListText(duckdb_list_vector_get_child(v), child_type.get(), e.offset, e.length);
    }
    case DUCKDB_TYPE_ARRAY: {
      idx_t n = duckdb_array_type_array_size(type);
      OwnedType child_type(duckdb_array_type_child_type(type));
      return ListText(duckdb_array_vector_get_child(v), child_type.get(), row * n, n);
    }
    case DUCKDB_TYPE_STRUCT: {
      std::string out = "{";
      idx_t n = duckdb_struct_type_child_count(type);
      for (idx_t i = 0; i < n; ++i) {
        if (i) out += ", ";
        OwnedType child_type(duckdb_struct_type_child_type(type, i));
        out += Quote(TakeString(duckdb_struct_type_child_name(type, i))) + ": " +
               NestedText(duckdb_struct_vector_get_child(v, i), child_type.get(), row);
      }
      return out + "}";
    }
    case DUCKDB_TYPE_MAP: {
      auto e = At<duckdb_list_entry>(v, row);
      duckdb_vector entries = duckdb_list_vector_get_child(v);
      duckdb_vector keys = duckdb_struct_vector_get_child(entries, 0);
      duckdb_vector values = duckdb_struct_vector_get_child(entries, 1);
      OwnedType key_type(duckdb_map_type_key_type(type));
      OwnedType value_type(duckdb_map_type_value_type(type));
      std::string out = "{";
      for (uint64_t i = 0; i < e.length; ++i) {
        if (i) out += ", ";
        out += NestedText(keys, key_type.get(), e.offset + i) + "=" +
               NestedText(values, value_type.get(), e.offset + i);
      }
      return out + "}";
    }
    case DUCKDB_TYPE_UNION: {
      // Stored as a STRUCT whose first child is the tag.
      uint8_t tag = At<uint8_t>(duckdb_struct_vector_get_child(v, 0), row);
      OwnedType member_type(duckdb_union_type_member_type(type, tag));
      return NestedText(duckdb_struct_vector_get_child(v, static_cast<idx_t>(tag) + 1), member_type.get(), row);
    }
    default:
      return {};
  }
}

}  // namespace

std::string TypeName(duckdb_logical_type type) {
  std::string alias = TakeString(duckdb_logical_type_get_alias(type));
  if (!alias.empty()) return alias;
  switch (duckdb_get_type_id(type)) {
    case DUCKDB_TYPE_BOOLEAN: return "BOOLEAN";
    case DUCKDB_TYPE_TINYINT: return "TINYINT";
    case DUCKDB_TYPE_SMALLINT: return "SMALLINT";
    case DUCKDB_TYPE_INTEGER: return "INTEGER";
    case DUCKDB_TYPE_BIGINT: return "BIGINT";
    case DUCKDB_TYPE_UTINYINT: return "UTINYINT";
    case DUCKDB_TYPE_USMALLINT: return "USMALLINT";
    case DUCKDB_TYPE_UINTEGER: return "UINTEGER";
    case DUCKDB_TYPE_UBIGINT: return "UBIGINT";
    case DUCKDB_TYPE_HUGEINT: return "HUGEINT";
    case DUCKDB_TYPE_UHUGEINT: return "UHUGEINT";
    case DUCKDB_TYPE_FLOAT: return "FLOAT";
    case DUCKDB_TYPE_DOUBLE: return "DOUBLE";
    case DUCKDB_TYPE_VARCHAR: return "VARCHAR";
    case DUCKDB_TYPE_BLOB: return "BLOB";
    case DUCKDB_TYPE_DATE: return "DATE";
    case DUCKDB_TYPE_TIME: return "TIME";
    case DUCKDB_TYPE_TIME_NS: return "TIME_NS";
    case DUCKDB_TYPE_TIME_TZ: return "TIME WITH TIME ZONE";
    case DUCKDB_TYPE_TIMESTAMP: return "TIMESTAMP";
    case DUCKDB_TYPE_TIMESTAMP_S: return "TIMESTAMP_S";
    case DUCKDB_TYPE_TIMESTAMP_MS: return "TIMESTAMP_MS";
    case DUCKDB_TYPE_TIMESTAMP_NS: return "TIMESTAMP_NS";
    case DUCKDB_TYPE_TIMESTAMP_TZ: return "TIMESTAMP WITH TIME ZONE";
    case DUCKDB_TYPE_INTERVAL: return "INTERVAL";
    case DUCKDB_TYPE_UUID: return "UUID";
    case DUCKDB_TYPE_BIT: return "BIT";
    case DUCKDB_TYPE_BIGNUM: return "BIGNUM";
    case DUCKDB_TYPE_ENUM: return "ENUM";
    case DUCKDB_TYPE_SQLNULL: return "\"NULL\"";
    case DUCKDB_TYPE_DECIMAL:
      return fmt::format("DECIMAL({},{})", duckdb_decimal_width(type), duckdb_decimal_scale(type));
    case DUCKDB_TYPE_LIST: {
      OwnedType child(duckdb_list_type_child_type(type));
      return TypeName(child.get()) + "[]";
    }
    case DUCKDB_TYPE_ARRAY: {
      OwnedType child(duckdb_array_type_child_type(type));
      return fmt::format("{}[{}]", TypeName(child.get()), duckdb_array_type_array_size(type));
    }
    case DUCKDB_TYPE_MAP: {
      OwnedType k(duckdb_map_type_key_type(type));
      OwnedType v(duckdb_map_type_value_type(type));
      return "MAP(" + TypeName(k.get()) + ", " + TypeName(v.get()) + ")";
    }
    case DUCKDB_TYPE_STRUCT:
    case DUCKDB_TYPE_UNION: {
      bool is_struct = duckdb_get_type_id(type) == DUCKDB_TYPE_STRUCT;
      idx_t n = is_struct ? duckdb_struct_type_child_count(type) : duckdb_union_type_member_count(type);
      std::string out = is_struct ? "STRUCT(" : "UNION(";
      for (idx_t i = 0; i < n; ++i) {
        if (i) out += ", ";
        OwnedType child(is_struct ? duckdb_struct_type_child_type(type, i) : duckdb_union_type_member_type(type, i));
        out += TakeString(is_struct ? duckdb_struct_type_child_name(type, i) : duckdb_union_type_member_name(type, i));
        out += " " + TypeName(child.get());
      }
      return out + ")";
    }
    default:
      return fmt::format("TYPE#{}", static_cast<int>(duckdb_get_type_id(type)));
  }
}

bool IsNumericType(duckdb_logical_type type) {
  switch (duckdb_get_type_id(type)) {
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_UTINYINT:
    case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER:
    case DUCKDB_TYPE_UBIGINT:
    case DUCKDB_TYPE_HUGEINT:
    case DUCKDB_TYPE_UHUGEINT:
    case DUCKDB_TYPE_FLOAT:
    case DUCKDB_TYPE_DOUBLE:
    case DUCKDB_TYPE_DECIMAL:
      return true;
    default:
      return false;
  }
}

Value ReadValue(duckdb_vector v, duckdb_logical_type type, idx_t row) {
  if (!IsValid(v, row)) return Value::Null();
  switch (duckdb_get_type_id(type)) {
    case DUCKDB_TYPE_BOOLEAN: return Value::Bool(At<bool>(v, row));
    case DUCKDB_TYPE_TINYINT: return Value::Int(At<int8_t>(v, row));
    case DUCKDB_TYPE_SMALLINT: return Value::Int(At<int16_t>(v, row));
    case DUCKDB_TYPE_INTEGER: return Value::Int(At<int32_t>(v, row));
    case DUCKDB_TYPE_BIGINT: return Value::Int(At<int64_t>(v, row));
    case DUCKDB_TYPE_UTINYINT: return Value::Int(At<uint8_t>(v, row));
    case DUCKDB_TYPE_USMALLINT: return Value::Int(At<uint16_t>(v, row));
    case DUCKDB_TYPE_UINTEGER: return Value::Int(At<uint32_t>(v, row));
    case DUCKDB_TYPE_UBIGINT: {
      uint64_t u = At<uint64_t>(v, row);
      if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return Value::Int(static_cast<int64_t>(u));
      return Value::Number(std::to_string(u));
    }
    case DUCKDB_TYPE_HUGEINT: return IntValue(ToInt128(At<duckdb_hugeint>(v, row)));
    case DUCKDB_TYPE_UHUGEINT: {
      auto h = At<duckdb_uhugeint>(v, row);
      unsigned __int128 u = static_cast<unsigned __int128>(h.upper) << 64 | h.lower;
      if (u <= static_cast<unsigned __int128>(std::numeric_limits<int64_t>::max()))
        return Value::Int(static_cast<int64_t>(u));
      return Value::Number(UInt128ToString(u));
    }
    case DUCKDB_TYPE_FLOAT: {
      float f = At<float>(v, row);
      if (!std::isfinite(f)) return Value::Double(f);
      return Value::Number(FloatText(f));
    }
    case DUCKDB_TYPE_DOUBLE: return Value::Double(At<double>(v, row));
    case DUCKDB_TYPE_DECIMAL: {
      int scale = duckdb_decimal_scale(type);
      __int128 unscaled = 0;
      switch (duckdb_decimal_internal_type(type)) {
        case DUCKDB_TYPE_SMALLINT: unscaled = At<int16_t>(v, row); break;
        case DUCKDB_TYPE_INTEGER: unscaled = At<int32_t>(v, row); break;
        case DUCKDB_TYPE_BIGINT: unscaled = At<int64_t>(v, row); break;
        default: unscaled = ToInt128(At<duckdb_hugeint>(v, row)); break;
      }
      return Value::Number(DecimalToString(unscaled, scale));
    }
    case DUCKDB_TYPE_VARCHAR: return Value::Text(std::string(StringAt(v, row)));
    case DUCKDB_TYPE_BLOB: return Value::Text(Blob(StringAt(v, row)));
    case DUCKDB_TYPE_BIT: return Value::Text(Bits(StringAt(v, row)));
    case DUCKDB_TYPE_DATE: {
      int32_t days = At<int32_t>(v, row);
      if (days == std::numeric_limits<int32_t>::max()) return Value::Text("infinity");
      if (days == -std::numeric_limits<int32_t>::max()) return Value::Text("-infinity");
      return Value::Text(DateFromDays(days));
    }
    case DUCKDB_TYPE_TIME: return Value::Text(TimeOfDay(At<int64_t>(v, row), 1000000, 6));
    case DUCKDB_TYPE_TIME_NS: return Value::Text(TimeOfDay(At<int64_t>(v, row), 1000000000, 9));
    case DUCKDB_TYPE_TIME_TZ: {
      duckdb_time_tz_struct t = duckdb_from_time_tz(At<duckdb_time_tz>(v, row));
      int64_t micros = ((int64_t{t.time.hour} * 60 + t.time.min) * 60 + t.time.sec) * 1000000 + t.time.micros;
      int off = t.offset < 0 ? -t.offset : t.offset;
      std::string zone = fmt::format("{}{:02}", t.offset < 0 ? '-' : '+', off / 3600);
      if (off % 3600) zone += fmt::format(":{:02}", off % 3600 / 60);
      return Value::Text(TimeOfDay(micros, 1000000, 6) + zone);
    }
    case DUCKDB_TYPE_TIMESTAMP: return Value::Text(Timestamp(At<int64_t>(v, row), 1000000, 6));
    case DUCKDB_TYPE_TIMESTAMP_S: return Value::Text(Timestamp(At<int64_t>(v, row), 1, 0));
    case DUCKDB_TYPE_TIMESTAMP_MS: return Value::Text(Timestamp(At<int64_t>(v, row), 1000, 3));
    case DUCKDB_TYPE_TIMESTAMP_NS: return Value::Text(Timestamp(At<int64_t>(v, row), 1000000000, 9));
    case DUCKDB_TYPE_TIMESTAMP_TZ: {
      std::string ts = Timestamp(At<int64_t>(v, row), 1000000, 6);
      return Value::Text(ts.back() == 'y' ? ts : ts + "+00");  // shown in UTC
    }
    case DUCKDB_TYPE_INTERVAL: return Value::Text(Interval(At<duckdb_interval>(v, row)));
    case DUCKDB_TYPE_UUID: return Value::Text(Uuid(At<duckdb_hugeint>(v, row)));
    case DUCKDB_TYPE_ENUM: {
      uint32_t index = 0;
      switch (duckdb_enum_internal_type(type)) {
        case DUCKDB_TYPE_UTINYINT: index = At<uint8_t>(v, row); break;
        case DUCKDB_TYPE_USMALLINT: index = At<uint16_t>(v, row); break;
        default: index = At<uint32_t>(v, row); break;
      }
      return Value::Text(TakeString(duckdb_enum_dictionary_value(type, index)));
    }
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_ARRAY:
    case DUCKDB_TYPE_STRUCT:
    case DUCKDB_TYPE_MAP:
    case DUCKDB_TYPE_UNION:
      return Value::Text(NestedValue(v, type, row));
    case DUCKDB_TYPE_SQLNULL: return Value::Null();
    default: return Value::Text("<" + TypeName(type) + " value>");
  }
}

}  // namespace orderlake::query::internal
