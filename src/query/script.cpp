#include "query/script.h"

#include <cctype>

#include "query/sql_scanner.h"

namespace orderlake::query {
namespace {

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

}  // namespace

SplitResult SplitStatements(std::string_view text) {
  SplitResult out;
  const ScanResult scan = ScanSql(text);
  bool started = false;  // the current statement has a token
  size_t start = 0;
  int start_line = 0;
  std::string title;

  auto finish = [&](size_t end) {
    Statement st;
    st.sql = Trim(text.substr(start, end - start));
    st.title = title;
    st.line = start_line;
    started = false;
    title.clear();
    return st;
  };
  auto begin_token = [&](size_t at, int line) {
    if (!started) {
      started = true;
      start = at;
      start_line = line;
    }
  };
  for (const Token& t : scan.tokens) {
    if (t.kind == TokenKind::kLineComment) {
      if (!started) title = Trim(t.text);
    } else if (t.kind == TokenKind::kBlockComment) {
      continue;
    } else if (t.IsOperator(";")) {
      if (started) out.statements.push_back(finish(t.offset));
      title.clear();
      out.rest_offset = t.end();
    } else {
      begin_token(t.offset, t.line);
    }
  }
  if (scan.error) {
    // The text ends inside a string, quoted name, dollar quote or block comment; an open
    // comment is not the start of a statement.
    out.open_quote = true;
    if (text.substr(scan.error->offset, 2) != "/*") begin_token(scan.error->offset, scan.error->line);
  }
  if (started) out.unterminated = finish(text.size());
  return out;
}

std::vector<Statement> ScriptStatements(std::string_view text) {
  SplitResult r = SplitStatements(text);
  if (r.unterminated) r.statements.push_back(std::move(*r.unterminated));
  return std::move(r.statements);
}

std::string OneLine(std::string_view sql, size_t max_chars) {
  std::string out;
  bool space = false;
  for (char c : sql) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  if (out.size() > max_chars) {
    size_t cut = max_chars;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // keep UTF-8 whole
    out = out.substr(0, cut) + "...";
  }
  return out;
}

}  // namespace orderlake::query
