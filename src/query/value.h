// Query results as plain C++ values, independent of DuckDB: a Value is one cell (NULL,
// boolean, 64-bit integer, double, exact number kept as text, or text), a Column is a
// name plus the SQL type's name, and a RowSink receives a result one row at a time so
// that large results need not be held in memory. QueryResult is the sink that keeps
// everything.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/status.h"

namespace orderlake::query {

class Value {
 public:
  enum class Kind : uint8_t {
    kNull,
    kBool,
    kInt,     // every integer type that fits in int64
    kDouble,  // DOUBLE (and FLOAT, widened)
    kNumber,  // exact numbers kept as decimal text: DECIMAL, HUGEINT, large UBIGINT
    kText,    // VARCHAR and everything else in DuckDB's text form (dates, lists, ...)
  };

  Value() = default;  // NULL
  static Value Null() { return Value(); }
  static Value Bool(bool b) { Value v(Kind::kBool); v.i_ = b ? 1 : 0; return v; }
  static Value Int(int64_t i) { Value v(Kind::kInt); v.i_ = i; return v; }
  static Value Double(double d) { Value v(Kind::kDouble); v.d_ = d; return v; }
  static Value Number(std::string digits) { Value v(Kind::kNumber); v.s_ = std::move(digits); return v; }
  static Value Text(std::string s) { Value v(Kind::kText); v.s_ = std::move(s); return v; }

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_numeric() const { return kind_ == Kind::kInt || kind_ == Kind::kDouble || kind_ == Kind::kNumber; }

  bool as_bool() const { return i_ != 0; }
  int64_t as_int() const;    // kInt as is; kDouble/kNumber truncated; otherwise 0
  double as_double() const;  // any numeric kind; otherwise 0
  const std::string& text() const { return s_; }  // kText and kNumber

  // Display text: "NULL", "true"/"false", integers, doubles by FormatDouble, text as is.
  std::string ToString() const;

  friend bool operator==(const Value& a, const Value& b);

 private:
  explicit Value(Kind k) : kind_(k) {}
  Kind kind_ = Kind::kNull;
  int64_t i_ = 0;
  double d_ = 0;
  std::string s_;
};

// A cell as JSON: numbers as numbers (exact decimals as written when JSON can hold them,
// non-finite doubles as null), the rest as text or null. The console's and the visuals'
// answers both use it.
nlohmann::json ToJson(const Value& v);

// The shortest text that reads back as the same double ("0.1", "1234.5", "1e+21");
// "nan", "inf" and "-inf" for the special values.
std::string FormatDouble(double d);

struct Column {
  std::string name;
  std::string type;      // DuckDB's type name: "INTEGER", "VARCHAR", "DECIMAL(18,3)", ...
  bool numeric = false;  // a number type: right-aligned in tables, bare in JSON
};

// Receives one statement's result: Begin once, Row per row, End once (unless an earlier
// call failed). A non-ok Status from the sink stops the statement and is returned.
class RowSink {
 public:
  virtual ~RowSink() = default;
  virtual Status Begin(const std::vector<Column>& columns) = 0;
  virtual Status Row(const std::vector<Value>& row) = 0;
  virtual Status End() { return Status::OK(); }
};

// A whole result in memory.
struct QueryResult final : RowSink {
  std::vector<Column> columns;
  std::vector<std::vector<Value>> rows;
  std::vector<std::string> notices;  // warnings about the statement (e.g. Athena DDL accepted)
  double seconds = 0;                // wall time of the statement

  Status Begin(const std::vector<Column>& cols) override {
    columns = cols;
    rows.clear();
    return Status::OK();
  }
  Status Row(const std::vector<Value>& row) override {
    rows.push_back(row);
    return Status::OK();
  }
  // Index of the column with this name (case-insensitive), or -1.
  int column_index(std::string_view name) const;
};

}  // namespace orderlake::query
