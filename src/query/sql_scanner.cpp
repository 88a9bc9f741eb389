#include "query/sql_scanner.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace orderlake::query {
namespace {

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHigh(char c) { return static_cast<unsigned char>(c) >= 0x80; }
bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || IsHigh(c); }
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c); }

// UTF-8 encoding of a code point below 0x10000.
void AppendUtf8(unsigned cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// The escape after a backslash at s[j] (Hive's: \t \n \r \0 \ooo \uXXXX, else the
// character itself), appended to `out`; j moves past it.
void AppendBackslashEscape(std::string_view s, size_t& j, std::string& out) {
  const char e = s[j];
  if (e >= '0' && e <= '7') {
    unsigned v = 0;
    for (size_t n = 0; n < 3 && j < s.size() && s[j] >= '0' && s[j] <= '7'; ++n) v = v * 8 + static_cast<unsigned>(s[j++] - '0');
    AppendUtf8(v & 0xFF, out);
    return;
  }
  if (e == 'u' && j + 4 < s.size() &&
      std::all_of(s.begin() + static_cast<long>(j) + 1, s.begin() + static_cast<long>(j) + 5,
                  [](char h) { return std::isxdigit(static_cast<unsigned char>(h)) != 0; })) {
    AppendUtf8(static_cast<unsigned>(std::stoul(std::string(s.substr(j + 1, 4)), nullptr, 16)), out);
    j += 5;
    return;
  }
  switch (e) {
    case 't': out += '\t'; break;
    case 'n': out += '\n'; break;
    case 'r': out += '\r'; break;
    default: out += e; break;  // \\ \' \" and anything else: the character itself
  }
  ++j;
}

constexpr std::array<std::string_view, 13> kMultiCharOperators = {"->>", "::", "<=", ">=", "<>", "!=", "||",
                                                                 "->",  "=>", ":=", "**", "<<", ">>"};

class Scanner {
 public:
  Scanner(std::string_view sql, SqlDialect dialect) : s_(sql), hive_(dialect == SqlDialect::kHive) {}

  ScanResult Run() {
    while (i_ < s_.size()) {
      if (IsSpace(s_[i_])) {
        ++i_;
        continue;
      }
      if (!Next()) break;
    }
    return std::move(out_);
  }

 private:
  // Scans the token at i_; false when it hit an error.
  bool Next() {
    const char c = s_[i_];
    const char d = i_ + 1 < s_.size() ? s_[i_ + 1] : '\0';
    if (c == '-' && d == '-') return LineComment();
    if (c == '/' && d == '*') return BlockComment();
    if (c == '\'') return Quoted(i_, i_, TokenKind::kString, hive_);
    if (c == '"') return Quoted(i_, i_, TokenKind::kQuotedIdentifier, hive_);
    if (c == '`' && hive_) return Quoted(i_, i_, TokenKind::kBackquoted, false);
    if (hive_ ? IsIdentChar(c) : IsIdentStart(c)) return Word();
    if (!hive_ && (IsDigit(c) || (c == '.' && IsDigit(d)))) return Number();
    if (!hive_ && c == '$') return Dollar();
    if (!hive_ && c == '?') {
      size_t j = i_ + 1;
      while (j < s_.size() && IsDigit(s_[j])) ++j;
      return Emit(TokenKind::kParameter, i_, j, std::string(s_.substr(i_, j - i_)));
    }
    if (!hive_)
      for (std::string_view op : kMultiCharOperators)
        if (s_.substr(i_, op.size()) == op) return Emit(TokenKind::kOperator, i_, i_ + op.size(), std::string(op));
    size_t len = 1;
    while (i_ + len < s_.size() && (static_cast<unsigned char>(s_[i_ + len]) & 0xC0) == 0x80) ++len;  // whole UTF-8
    return Emit(TokenKind::kOperator, i_, i_ + len, std::string(s_.substr(i_, len)));
  }

  bool Emit(TokenKind kind, size_t begin, size_t end, std::string text) {
    Token t;
    t.kind = kind;
    t.text = std::move(text);
    t.offset = begin;
    t.length = end - begin;
    Locate(begin, t.line, t.column);
    out_.tokens.push_back(std::move(t));
    i_ = end;
    return true;
  }

  bool Fail(size_t at, std::string message) {
    ScanError e;
    e.offset = at;
    e.message = std::move(message);
    Locate(at, e.line, e.column);
    out_.error = std::move(e);
    i_ = s_.size();
    return false;
  }

  // Line and column of `offset`, counted on from the last position asked (offsets only grow).
  void Locate(size_t offset, int& line, int& column) {
    for (; at_ < offset; ++at_) {
      if (s_[at_] == '\n') {
        ++line_;
        column_ = 1;
      } else if ((static_cast<unsigned char>(s_[at_]) & 0xC0) != 0x80) {
        ++column_;
      }
    }
    line = line_;
    column = column_;
  }

  bool LineComment() {
    size_t eol = s_.find_first_of("\r\n", i_);
    if (eol == std::string_view::npos) eol = s_.size();
    return Emit(TokenKind::kLineComment, i_, eol, std::string(s_.substr(i_ + 2, eol - i_ - 2)));
  }

  // DuckDB's block comments nest (/* a /* b */ c */ is one comment); Hive's do not.
  bool BlockComment() {
    int depth = 0;
    for (size_t j = i_; j + 1 < s_.size(); ++j) {
      if (s_[j] == '/' && s_[j + 1] == '*') {
        if (depth == 0 || !hive_) ++depth;
        ++j;
      } else if (s_[j] == '*' && s_[j + 1] == '/') {
        ++j;
        if (--depth == 0) return Emit(TokenKind::kBlockComment, i_, j + 1, std::string(s_.substr(i_ + 2, j - 1 - i_ - 2)));
      }
    }
    return Fail(i_, "unterminated comment (missing */)");
  }

  // A string or quoted name opening at `quote` (the token starts at `begin`: E'…' starts
  // at the E). A doubled quote is one quote; with `backslash`, \x escapes too.
  bool Quoted(size_t begin, size_t quote, TokenKind kind, bool backslash) {
    const char q = s_[quote];
    std::string text;
    for (size_t j = quote + 1; j < s_.size();) {
      if (s_[j] == q && j + 1 < s_.size() && s_[j + 1] == q) {
        text += q;
        j += 2;
      } else if (s_[j] == q) {
        return Emit(kind, begin, j + 1, std::move(text));
      } else if (backslash && s_[j] == '\\' && j + 1 < s_.size()) {
        ++j;
        if (hive_) {
          AppendBackslashEscape(s_, j, text);
        } else {  // E'…': C-style escapes
          const char e = s_[j++];
          text += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e == 'b' ? '\b' : e == 'f' ? '\f' : e;
        }
      } else {
        text += s_[j++];
      }
    }
    if (kind == TokenKind::kString) return Fail(begin, "unterminated string (missing ')");
    return Fail(begin, fmt::format("unterminated quoted name (missing {})", q));
  }

  bool Word() {
    size_t j = i_;
    while (j < s_.size() && (IsIdentChar(s_[j]) || (!hive_ && s_[j] == '$'))) ++j;
    std::string_view w = s_.substr(i_, j - i_);
    if (!hive_ && w.size() == 1 && (w[0] == 'E' || w[0] == 'e') && j < s_.size() && s_[j] == '\'')
      return Quoted(i_, j, TokenKind::kString, true);
    if (hive_ && std::all_of(w.begin(), w.end(), IsDigit)) return Emit(TokenKind::kNumber, i_, j, std::string(w));
    Token probe;
    probe.text = std::string(w);
    const TokenKind kind = !hive_ && IsReservedKeyword(probe.Upper()) ? TokenKind::kKeyword : TokenKind::kIdentifier;
    return Emit(kind, i_, j, std::string(w));
  }

  bool Number() {
    size_t j = i_;
    auto digits = [&] {
      while (j < s_.size() && (IsDigit(s_[j]) || (s_[j] == '_' && j > i_ && IsDigit(s_[j - 1])))) ++j;
    };
    digits();
    if (j < s_.size() && s_[j] == '.' && !(j + 1 < s_.size() && s_[j + 1] == '.')) {
      ++j;
      digits();
    }
    if (j < s_.size() && (s_[j] == 'e' || s_[j] == 'E')) {
      size_t k = j + 1;
      if (k < s_.size() && (s_[k] == '+' || s_[k] == '-')) ++k;
      if (k < s_.size() && IsDigit(s_[k])) {
        j = k;
        digits();
      }
    }
    return Emit(TokenKind::kNumber, i_, j, std::string(s_.substr(i_, j - i_)));
  }

  // $1 (a parameter), $name (a named parameter), or $tag$…$tag$ / $$…$$.
  bool Dollar() {
    size_t j = i_ + 1;
    if (j < s_.size() && IsDigit(s_[j])) {
      while (j < s_.size() && IsDigit(s_[j])) ++j;
      return Emit(TokenKind::kParameter, i_, j, std::string(s_.substr(i_, j - i_)));
    }
    while (j < s_.size() && IsIdentChar(s_[j])) ++j;
    if (j >= s_.size() || s_[j] != '$') return Emit(TokenKind::kParameter, i_, j, std::string(s_.substr(i_, j - i_)));
    const std::string_view tag = s_.substr(i_, j - i_ + 1);
    const size_t close = s_.find(tag, j + 1);
    if (close == std::string_view::npos)
      return Fail(i_, fmt::format("unterminated dollar-quoted string (missing {})", tag));
    return Emit(TokenKind::kDollarString, i_, close + tag.size(), std::string(s_.substr(j + 1, close - j - 1)));
  }

  std::string_view s_;
  bool hive_;
  size_t i_ = 0;
  ScanResult out_;
  size_t at_ = 0;  // Locate's position, line and column
  int line_ = 1;
  int column_ = 1;
};

}  // namespace

bool Token::IsWord(std::string_view upper_word) const {
  if (!IsWord() || text.size() != upper_word.size()) return false;
  for (size_t k = 0; k < text.size(); ++k)
    if (std::toupper(static_cast<unsigned char>(text[k])) != upper_word[k]) return false;
  return true;
}

std::string Token::Upper() const {
  std::string out = text;
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

ScanResult ScanSql(std::string_view sql, SqlDialect dialect) { return Scanner(sql, dialect).Run(); }

ScanResult ScanSqlWithoutComments(std::string_view sql, SqlDialect dialect) {
  ScanResult r = ScanSql(sql, dialect);
  std::erase_if(r.tokens, [](const Token& t) { return t.IsComment(); });
  return r;
}

bool IsReservedKeyword(std::string_view upper) {
  // SELECT keyword_name FROM duckdb_keywords() WHERE keyword_category = 'reserved' (DuckDB 1.4).
  static constexpr std::string_view kReserved[] = {
      "ALL",        "ANALYSE",    "ANALYZE",     "AND",         "ANY",       "ARRAY",      "AS",         "ASC",
      "ASYMMETRIC", "BOTH",       "CASE",        "CAST",        "CHECK",     "COLLATE",    "COLUMN",     "CONSTRAINT",
      "CREATE",     "DEFAULT",    "DEFERRABLE",  "DESC",        "DESCRIBE",  "DISTINCT",   "DO",         "ELSE",
      "END",        "EXCEPT",     "FALSE",       "FETCH",       "FOR",       "FOREIGN",    "FROM",       "GROUP",
      "HAVING",     "IN",         "INITIALLY",   "INTERSECT",   "INTO",      "LAMBDA",     "LATERAL",    "LEADING",
      "LIMIT",      "NOT",        "NULL",        "OFFSET",      "ON",        "ONLY",       "OR",         "ORDER",
      "PIVOT",      "PIVOT_LONGER", "PIVOT_WIDER", "PLACING",   "PRIMARY",   "QUALIFY",    "REFERENCES", "RETURNING",
      "SELECT",     "SHOW",       "SOME",        "SUMMARIZE",   "SYMMETRIC", "TABLE",      "THEN",       "TO",
      "TRAILING",   "TRUE",       "UNION",       "UNIQUE",      "UNPIVOT",   "USING",      "VARIADIC",   "WHEN",
      "WHERE",      "WINDOW",     "WITH"};
  return std::find(std::begin(kReserved), std::end(kReserved), upper) != std::end(kReserved);
}

std::string PositionMessage(std::string_view sql, size_t offset, std::string_view message) {
  offset = std::min(offset, sql.size());
  size_t line_start = offset;
  while (line_start > 0 && sql[line_start - 1] != '\n') --line_start;
  int line = 1 + static_cast<int>(std::count(sql.begin(), sql.begin() + static_cast<long>(line_start), '\n'));
  size_t line_end = sql.find('\n', line_start);
  std::string_view text = sql.substr(line_start, line_end == std::string_view::npos ? std::string_view::npos
                                                                                      : line_end - line_start);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  std::string caret;
  int column = 1;
  for (size_t k = line_start; k < offset && k - line_start < text.size(); ++k) {
    unsigned char ch = static_cast<unsigned char>(sql[k]);
    if ((ch & 0xC0) == 0x80) continue;  // a UTF-8 continuation byte: same character
    caret += ch == '\t' ? '\t' : ' ';
    ++column;
  }
  return fmt::format("line {}, column {}: {}\n  {}\n  {}^", line, column, message, text, caret);
}

}  // namespace orderlake::query
