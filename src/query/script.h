// Splitting SQL scripts into statements: at ';' outside string literals ('...', E'...'),
// quoted identifiers ("..."), dollar-quoted strings ($tag$...$tag$) and comments (-- and
// /* */, which nest), as the SQL scanner (sql_scanner.h) reads them. Each statement remembers the line it starts on and the last "--" comment line
// before it, which serves as its title ("-- 3. Orders per day" -> "3. Orders per day").
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orderlake::query {

struct Statement {
  std::string sql;    // from its first token to just before its ';' (comments inside kept)
  std::string title;  // the text of the last "--" comment line before it, trimmed; or ""
  int line = 0;       // 1-based line of its first token
};

struct SplitResult {
  std::vector<Statement> statements;  // every statement ended by ';'
  // The statement after the last ';', if it has any token (a script's last statement
  // may omit the ';'; the interactive prompt waits for more input instead).
  std::optional<Statement> unterminated;
  // Offset in the text just after the last ';' (0 when there is none): where the
  // unterminated rest, with the comments before it, begins.
  size_t rest_offset = 0;
  // True when the text ends inside a string, quoted identifier or block comment.
  bool open_quote = false;
};

SplitResult SplitStatements(std::string_view text);

// All statements of a script, the unterminated last one included.
std::vector<Statement> ScriptStatements(std::string_view text);

// The first `max_chars` of a statement on one line (runs of white space become one
// space), for error messages.
std::string OneLine(std::string_view sql, size_t max_chars = 160);

}  // namespace orderlake::query
