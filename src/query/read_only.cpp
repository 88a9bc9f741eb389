#include "query/read_only.h"

#include "query/sql_scanner.h"

namespace orderlake::query::internal {
namespace {

using Tokens = std::vector<Token>;

// The index of the first token at or after `i` that is not '(' or ';'.
size_t SkipOpenings(const Tokens& t, size_t i) {
  while (i < t.size() && (t[i].IsOperator("(") || t[i].IsOperator(";"))) ++i;
  return i;
}

// The leading keyword (upper case) at `i`, after opening parentheses and empty statements;
// "" when the statement does not start with a word.
std::string LeadingKeyword(const Tokens& t, size_t i) {
  i = SkipOpenings(t, i);
  return i < t.size() && t[i].IsWord() ? t[i].Upper() : std::string();
}

// PRAGMAs that only report (DuckDB turns them into queries); `i` is at PRAGMA.
bool IsReadOnlyPragma(const Tokens& t, size_t i) {
  if (i >= t.size() || !t[i].IsWord("PRAGMA")) return false;
  std::string name = LeadingKeyword(t, i + 1);
  for (const char* ok : {"TABLE_INFO", "SHOW_TABLES", "SHOW_TABLES_EXPANDED", "SHOW_DATABASES", "DATABASE_LIST",
                         "DATABASE_SIZE", "SHOW", "VERSION", "PLATFORM", "FUNCTIONS", "COLLATIONS", "STORAGE_INFO",
                         "METADATA_INFO", "USER_AGENT"})
    if (name == ok) return true;
  return false;
}

// The index just past EXPLAIN [ANALYZE|ANALYSE] at `i` (which must be EXPLAIN).
size_t PastExplain(const Tokens& t, size_t i) {
  ++i;
  if (i < t.size() && (t[i].IsWord("ANALYZE") || t[i].IsWord("ANALYSE"))) ++i;
  return i;
}

// The index of the ')' closing the '(' at `i`, or t.size().
size_t MatchingParenthesis(const Tokens& t, size_t i) {
  int level = 0;
  for (; i < t.size(); ++i) {
    if (t[i].IsOperator("(")) ++level;
    if (t[i].IsOperator(")") && --level == 0) return i;
  }
  return t.size();
}

Status CheckFrom(const Tokens& t, size_t i, int depth) {
  const std::string word = LeadingKeyword(t, i);
  for (const char* ok : {"SELECT", "WITH", "VALUES", "FROM", "TABLE", "DESCRIBE", "DESC", "SHOW", "SUMMARIZE",
                         "PIVOT", "UNPIVOT", "PIVOT_WIDER", "PIVOT_LONGER"})
    if (word == ok) return Status::OK();
  if (word == "PRAGMA") {
    if (IsReadOnlyPragma(t, i)) return Status::OK();
    return Refused("PRAGMA (other than the read-only ones)");
  }
  if (word == "EXPLAIN") {
    if (depth > 3) return Status::Error("refused: EXPLAIN nested too deeply");
    const size_t rest = PastExplain(t, SkipOpenings(t, i));
    Status direct = CheckFrom(t, rest, depth + 1);
    if (direct.ok()) return direct;
    // EXPLAIN (FORMAT json, ANALYZE) <statement>: skip the option list.
    if (rest < t.size() && t[rest].IsOperator("(")) {
      const size_t close = MatchingParenthesis(t, rest);
      if (close < t.size()) return CheckFrom(t, close + 1, depth + 1);
    }
    return direct;
  }
  if (word.empty()) {
    if (SkipOpenings(t, i) >= t.size()) return Status::Error("no SQL statement given");
    return Status::Error("refused: the statement does not start with a keyword");
  }
  return Refused(word);
}

}  // namespace

Status CheckLeadingKeyword(std::string_view sql) {
  return CheckFrom(ScanSqlWithoutComments(sql).tokens, 0, 0);
}

std::optional<std::vector<std::string>> ExplainedStatements(std::string_view sql) {
  const Tokens t = ScanSqlWithoutComments(sql).tokens;
  if (t.empty() || !t[0].IsWord("EXPLAIN")) return std::nullopt;
  const size_t rest = PastExplain(t, 0);
  std::vector<std::string> out = {std::string(rest < t.size() ? sql.substr(t[rest].offset) : std::string_view())};
  if (rest < t.size() && t[rest].IsOperator("(")) {
    const size_t close = MatchingParenthesis(t, rest);
    if (close < t.size()) out.emplace_back(sql.substr(t[close].end()));
  }
  return out;
}

Status Refused(std::string_view kind) {
  return Status::Errorf(
      "refused: {} statements are not allowed: the query endpoint is read-only (allowed: SELECT, WITH, "
      "VALUES, DESCRIBE, SHOW, SUMMARIZE, read-only PRAGMAs and EXPLAIN of a query)",
      kind);
}

const char* StatementKindName(duckdb_statement_type t) {
  switch (t) {
    case DUCKDB_STATEMENT_TYPE_INSERT: return "INSERT";
    case DUCKDB_STATEMENT_TYPE_UPDATE: return "UPDATE";
    case DUCKDB_STATEMENT_TYPE_DELETE: return "DELETE";
    case DUCKDB_STATEMENT_TYPE_PREPARE: return "PREPARE";
    case DUCKDB_STATEMENT_TYPE_EXECUTE: return "EXECUTE";
    case DUCKDB_STATEMENT_TYPE_CREATE: return "CREATE";
    case DUCKDB_STATEMENT_TYPE_CREATE_FUNC: return "CREATE FUNCTION";
    case DUCKDB_STATEMENT_TYPE_ALTER: return "ALTER";
    case DUCKDB_STATEMENT_TYPE_DROP: return "DROP";
    case DUCKDB_STATEMENT_TYPE_TRANSACTION: return "transaction (BEGIN/COMMIT/ROLLBACK)";
    case DUCKDB_STATEMENT_TYPE_COPY: return "COPY";
    case DUCKDB_STATEMENT_TYPE_EXPORT: return "EXPORT";
    case DUCKDB_STATEMENT_TYPE_ANALYZE:
    case DUCKDB_STATEMENT_TYPE_VACUUM: return "ANALYZE/VACUUM";
    case DUCKDB_STATEMENT_TYPE_VARIABLE_SET:
    case DUCKDB_STATEMENT_TYPE_SET: return "SET/RESET/USE";
    case DUCKDB_STATEMENT_TYPE_PRAGMA: return "PRAGMA (one that changes settings)";
    case DUCKDB_STATEMENT_TYPE_CALL: return "CALL";
    case DUCKDB_STATEMENT_TYPE_LOAD: return "INSTALL/LOAD";
    case DUCKDB_STATEMENT_TYPE_EXTENSION: return "extension";
    case DUCKDB_STATEMENT_TYPE_ATTACH: return "ATTACH";
    case DUCKDB_STATEMENT_TYPE_DETACH: return "DETACH";
    case DUCKDB_STATEMENT_TYPE_MULTI: return "multi-part";
    default: return "this kind of";
  }
}

}  // namespace orderlake::query::internal
