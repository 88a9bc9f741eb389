// Internal to src/query: the text side of the query endpoint's read-only check, read with
// the SQL scanner (sql_scanner.h), so comments, strings and quoted names never confuse it.
// The first line of defence, before DuckDB even binds a statement (binding can act: EXPORT
// DATABASE creates its directory while being prepared): a statement must start like a
// query. Engine checks the statement type DuckDB reports after preparing as well.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "query/duckdb_convert.h"

namespace orderlake::query::internal {

// OK when `sql` starts (after comments, opening parentheses and empty statements) with a
// query's keyword (SELECT, WITH, VALUES, FROM, TABLE, DESCRIBE, SHOW, SUMMARIZE, PIVOT…),
// a read-only PRAGMA, or EXPLAIN [ANALYZE] [(options)] of such a statement; otherwise the
// refusal, naming what the statement is.
Status CheckLeadingKeyword(std::string_view sql);

// For a statement starting with EXPLAIN [ANALYZE]: the texts that may be the statement it
// explains (what follows the keywords, and what follows a parenthesized option list);
// nullopt when `sql` does not start with EXPLAIN.
std::optional<std::vector<std::string>> ExplainedStatements(std::string_view sql);

// "refused: <kind> statements are not allowed: the query endpoint is read-only (…)".
Status Refused(std::string_view kind);

// What a DuckDB statement type is called in a refusal ("INSERT", "COPY", …).
const char* StatementKindName(duckdb_statement_type type);

}  // namespace orderlake::query::internal
