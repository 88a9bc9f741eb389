// Internal to src/query: turns DuckDB result vectors (C API) into query::Value cells and
// DuckDB logical types into their SQL names. The one header that includes duckdb.h; only
// src/query/*.cpp include it.
#pragma once
#define DUCKDB_API_NO_DEPRECATED
#include <duckdb.h>

#include <string>

#include "query/value.h"

namespace orderlake::query::internal {

// The SQL name of a type as DuckDB spells it: "INTEGER", "DECIMAL(18,3)", "VARCHAR[]",
// "STRUCT(a INTEGER, b VARCHAR)", or the alias (e.g. "JSON") when the type has one.
std::string TypeName(duckdb_logical_type type);

// True for the integer, floating-point and decimal types.
bool IsNumericType(duckdb_logical_type type);

// The value at `row` of a flat vector of the given type. Scalars keep their kind (see
// Value::Kind); dates, times, intervals, UUIDs, blobs and nested values (LIST, STRUCT,
// MAP, ARRAY, UNION) become text in DuckDB's own notation.
Value ReadValue(duckdb_vector vector, duckdb_logical_type type, idx_t row);

}  // namespace orderlake::query::internal
