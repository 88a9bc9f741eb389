// SQL text of values and names, for the SQL orderlake writes itself (DuckDB's dialect).
#pragma once
#include <string>
#include <string_view>

namespace orderlake::sql {

// 'text' with every ' doubled.
inline std::string literal(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

// "name" with every " doubled.
inline std::string ident(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace orderlake::sql
