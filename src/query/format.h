// Writing query results as text. Every writer is a RowSink, so a result can be written
// while it is read; the table writer alone keeps the rows until End (it needs the widths).
//
//   table  aligned columns as in psql / the DuckDB CLI: a header, a separator line,
//          numbers right-aligned, NULL shown as NULL, a "(N rows)" footer. Cells with
//          line breaks span several lines; control characters are shown escaped (\t,
//          \r, \x1B). An EXPLAIN result is printed as the plan text itself.
//   csv    RFC 4180: a header line, then one line per row ending in "\n"; a field holding
//          a comma, a double quote, CR or LF is enclosed in double quotes with inner
//          quotes doubled. NULL is an empty field; an empty string is "".
//   json   one JSON array of objects, one object per line, keys in column order
//          ({"Country":"France","n":3}); numbers as JSON numbers (NaN and infinities as
//          null), booleans as true/false, NULL as null, everything else as strings.
//          Repeated column names get a suffix (_2, _3, ...) to keep keys unique.
//   jsonl  the same objects as JSON lines: one object per line, no enclosing array.
#pragma once
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "query/value.h"

namespace orderlake::query {

enum class OutputFormat { kTable, kCsv, kJson, kJsonLines };

std::optional<OutputFormat> ParseOutputFormat(std::string_view name);  // "table", "csv", ...
std::string_view OutputFormatName(OutputFormat f);

// A RowSink that writes to `out` in format `f`.
std::unique_ptr<RowSink> MakeWriter(OutputFormat f, std::ostream& out);

// Results as Athena writes them to its OutputLocation: `text` false gives the .csv of a
// query (a header line, every value and name in double quotes with inner quotes doubled,
// NULL an empty unquoted field, lines ending in "\n"); `text` true gives the .txt of DDL
// and utility statements (no header, values separated by tabs, one row per line).
std::unique_ptr<RowSink> MakeAthenaWriter(bool text, std::ostream& out);

// A whole result in format `f`.
std::string FormatResult(const QueryResult& r, OutputFormat f);

// Helpers, exposed for tests and other writers.
std::string CsvField(std::string_view s);   // quoted only when needed
std::string JsonString(std::string_view s);  // with the quotes; control chars as \uXXXX
size_t DisplayWidth(std::string_view utf8);  // terminal columns (wide CJK counts 2)

}  // namespace orderlake::query
