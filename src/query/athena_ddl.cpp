#include "query/athena_ddl.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "core/hive.h"

namespace orderlake::query {
namespace {
namespace fs = std::filesystem;
using catalog::Column;
using catalog::Partition;
using catalog::Table;

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IEquals(std::string_view a, std::string_view b) { return Lower(a) == Lower(b); }

std::string QName(const catalog::Table& t) { return t.database + "." + t.name; }

bool IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// ---- tokens ---------------------------------------------------------------------------

struct Token {
  enum Kind { kWord, kBackquoted, kDoubleQuoted, kString, kPunct, kEnd } kind = kEnd;
  std::string text;  // identifiers and strings without quotes, escapes decoded
  std::string upper;
  size_t offset = 0;  // in the statement
};

// The statement's tokens, comments dropped, up to the end or a ';' (a kEnd token marks
// either). `error` is set (and the tokens stop) at an unterminated string or comment.
struct Tokens {
  std::vector<Token> tokens;
  std::optional<size_t> error_offset;
  std::string error;
  size_t semicolon = std::string_view::npos;  // offset of the ';' that ended the statement
};

// Hive's backslash escapes in a string literal: \t \n \r \0 \\ \' \" \ooo (octal) \uXXXX.
void AppendEscape(std::string_view s, size_t& j, std::string& out) {
  char e = s[j];
  auto utf8 = [&](unsigned cp) {
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
  };
  if (e >= '0' && e <= '7') {
    unsigned v = 0;
    size_t n = 0;
    while (n < 3 && j < s.size() && s[j] >= '0' && s[j] <= '7') v = v * 8 + static_cast<unsigned>(s[j++] - '0'), ++n;
    utf8(v & 0xFF);
    return;
  }
  auto hex4 = [&] {
    if (j + 4 >= s.size()) return false;
    for (size_t k = j + 1; k <= j + 4; ++k)
      if (!std::isxdigit(static_cast<unsigned char>(s[k]))) return false;
    return true;
  };
  if (e == 'u' && hex4()) {
    utf8(static_cast<unsigned>(std::stoul(std::string(s.substr(j + 1, 4)), nullptr, 16)));
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

Tokens Tokenize(std::string_view s) {
  Tokens out;
  size_t i = 0;
  auto fail = [&](size_t at, std::string msg) {
    out.error_offset = at;
    out.error = std::move(msg);
  };
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      size_t eol = s.find('\n', i);
      i = eol == std::string_view::npos ? s.size() : eol + 1;
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      size_t close = s.find("*/", i + 2);
      if (close == std::string_view::npos) {
        fail(i, "unterminated comment (missing */)");
        break;
      }
      i = close + 2;
    } else if (c == '`' || c == '"' || c == '\'') {
      size_t j = i + 1;
      std::string text;
      bool closed = false;
      while (j < s.size()) {
        if (s[j] == c && j + 1 < s.size() && s[j + 1] == c) {
          text += c;
          j += 2;
        } else if (s[j] == c) {
          closed = true;
          break;
        } else if (s[j] == '\\' && c != '`' && j + 1 < s.size()) {
          ++j;
          AppendEscape(s, j, text);
        } else {
          text += s[j++];
        }
      }
      if (!closed) {
        fail(i, c == '\'' ? "unterminated string (missing ')" : fmt::format("unterminated quoted name (missing {})", c));
        break;
      }
      Token::Kind kind = c == '\'' ? Token::kString : c == '`' ? Token::kBackquoted : Token::kDoubleQuoted;
      out.tokens.push_back({kind, text, Upper(text), i});
      i = j + 1;
    } else if (IsWordChar(c)) {
      size_t j = i;
      while (j < s.size() && IsWordChar(s[j])) ++j;
      std::string text(s.substr(i, j - i));
      out.tokens.push_back({Token::kWord, text, Upper(text), i});
      i = j;
    } else if (c == ';') {
      out.semicolon = i;
      break;
    } else {
      out.tokens.push_back({Token::kPunct, std::string(1, c), std::string(1, c), i});
      ++i;
    }
  }
  size_t end = out.semicolon != std::string_view::npos ? out.semicolon : s.size();
  while (end > 0 && std::isspace(static_cast<unsigned char>(s[end - 1]))) --end;
  out.tokens.push_back({Token::kEnd, "", "", end});
  return out;
}

// "line 3, column 14: <message>" and the line with a caret under the column.
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

std::string Describe(const Token& t) {
  switch (t.kind) {
    case Token::kEnd: return "the end of the statement";
    case Token::kString: return fmt::format("the string '{}'", t.text);
    case Token::kBackquoted: return fmt::format("`{}`", t.text);
    case Token::kDoubleQuoted: return fmt::format("\"{}\"", t.text);
    default: return fmt::format("'{}'", t.text);
  }
}

// ---- types ----------------------------------------------------------------------------

constexpr const char* kTypeList =
    "boolean, tinyint, smallint, int, bigint, float, double, decimal(p,s), string, varchar(n), char(n), date, "
    "timestamp, binary, array<t>, map<k,v>, struct<name:t,...>";

// ---- the parser -----------------------------------------------------------------------

class Parser {
 public:
  Parser(std::string_view sql, std::vector<Token> tokens) : sql_(sql), t_(std::move(tokens)) {}

  const Token& Peek(size_t k = 0) const { return t_[std::min(i_ + k, t_.size() - 1)]; }
  bool IsWord(std::string_view w, size_t k = 0) const { return Peek(k).kind == Token::kWord && Peek(k).upper == w; }
  bool IsPunct(char p, size_t k = 0) const { return Peek(k).kind == Token::kPunct && Peek(k).text[0] == p; }
  bool AtEnd() const { return Peek().kind == Token::kEnd; }
  void Next() {
    if (i_ + 1 < t_.size()) ++i_;
  }
  bool AcceptWord(std::string_view w) {
    if (!IsWord(w)) return false;
    Next();
    return true;
  }
  bool AcceptPunct(char p) {
    if (!IsPunct(p)) return false;
    Next();
    return true;
  }

  Status ErrorAt(size_t offset, std::string_view message) const {
    return Status::Error(PositionMessage(sql_, offset, message));
  }
  Status Expected(std::string_view what) const {
    return ErrorAt(Peek().offset, fmt::format("expected {}, found {}", what, Describe(Peek())));
  }
  Status ExpectWord(std::string_view w) {
    if (AcceptWord(w)) return Status::OK();
    return Expected(w);
  }
  Status ExpectPunct(char p, std::string_view context = {}) {
    if (AcceptPunct(p)) return Status::OK();
    return Expected(context.empty() ? fmt::format("'{}'", p) : fmt::format("'{}' {}", p, context));
  }
  Status ExpectEnd() {
    if (AtEnd()) return Status::OK();
    return ErrorAt(Peek().offset, fmt::format("unexpected {} after the end of the statement", Describe(Peek())));
  }

  Result<std::string> Identifier(std::string_view what) {
    const Token& t = Peek();
    if ((t.kind == Token::kWord || t.kind == Token::kBackquoted || t.kind == Token::kDoubleQuoted) && !t.text.empty()) {
      std::string name = t.text;
      Next();
      return name;
    }
    return Expected(what);
  }

  Result<TableRef> TableName() {
    TableRef ref;
    auto first = Identifier("a table name");
    if (!first.ok()) return first.status();
    if (AcceptPunct('.')) {
      auto second = Identifier("a table name after the database name");
      if (!second.ok()) return second.status();
      ref.database = Lower(*first);
      ref.name = Lower(*second);
    } else {
      ref.name = Lower(*first);
    }
    return ref;
  }

  Result<std::string> String(std::string_view what) {
    const Token& t = Peek();
    if (t.kind == Token::kString || t.kind == Token::kDoubleQuoted) {
      std::string s = t.text;
      Next();
      return s;
    }
    return Expected(what);
  }

  // ('k'='v', ...)
  Result<std::vector<std::pair<std::string, std::string>>> Properties(std::string_view clause) {
    std::vector<std::pair<std::string, std::string>> out;
    ORDERLAKE_RETURN_IF_ERROR(ExpectPunct('(', fmt::format("after {}", clause)));
    for (;;) {
      auto k = String(fmt::format("a property name ('name'='value') in {}", clause));
      if (!k.ok()) return k.status();
      ORDERLAKE_RETURN_IF_ERROR(ExpectPunct('=', fmt::format("after the property name '{}'", *k)));
      auto v = String(fmt::format("the value of '{}' as a string", *k));
      if (!v.ok()) return v.status();
      out.emplace_back(Lower(*k), *v);
      if (AcceptPunct(',')) continue;
      ORDERLAKE_RETURN_IF_ERROR(ExpectPunct(')', fmt::format("after the {} list", clause)));
      return out;
    }
  }

  // An Athena type, normalized to lower case ("decimal(10,2)", "array<string>").
  Result<std::string> Type(std::string_view column) {
    const Token& t = Peek();
    if (t.kind != Token::kWord) return Expected(fmt::format("a type for column '{}'", column));
    const size_t at = t.offset;
    const std::string w = t.upper;
    Next();
    static const std::map<std::string, std::string> kSimple = {
        {"BOOLEAN", "boolean"}, {"TINYINT", "tinyint"},     {"SMALLINT", "smallint"}, {"INT", "int"},
        {"INTEGER", "int"},     {"BIGINT", "bigint"},       {"FLOAT", "float"},       {"REAL", "float"},
        {"DOUBLE", "double"},   {"STRING", "string"},       {"DATE", "date"},         {"TIMESTAMP", "timestamp"},
        {"BINARY", "binary"}};
    if (auto it = kSimple.find(w); it != kSimple.end()) {
      if (w == "DOUBLE") AcceptWord("PRECISION");
      return it->second;
    }
    if (w == "DECIMAL" || w == "NUMERIC") {
      if (!AcceptPunct('(')) return std::string("decimal(10,0)");
      auto p = Number("the precision of decimal(p,s)");
      if (!p.ok()) return p.status();
      int s = 0;
      if (AcceptPunct(',')) {
        auto sv = Number("the scale of decimal(p,s)");
        if (!sv.ok()) return sv.status();
        s = *sv;
      }
      ORDERLAKE_RETURN_IF_ERROR(ExpectPunct(')', "after decimal(p,s)"));
      if (*p < 1 || *p > 38 || s > *p) return ErrorAt(at, fmt::format("decimal({},{}): precision must be 1 to 38 and scale at most the precision", *p, s));
      return fmt::format("decimal({},{})", *p, s);
    }
    if (w == "VARCHAR" || w == "CHAR") {
      std::string name = Lower(w);
      if (!AcceptPunct('(')) {
        if (w == "CHAR") return ErrorAt(at, "char needs a length: char(n)");
        return name;
      }
      auto n = Number(fmt::format("the length of {}(n)", name));
      if (!n.ok()) return n.status();
      ORDERLAKE_RETURN_IF_ERROR(ExpectPunct(')', fmt::format("after {}(n)", name)));
      return fmt::format("{}({})", name, *n);
    }
    if (w == "ARRAY") {
      ORDERLAKE_RETURN_IF_ERROR(ExpectPunct('<', "after array"));
      auto e = Type(column);
      if (!e.ok()) return e.status();
      ORDERLAKE_RETURN_IF_ERROR(ExpectPunct('>', "to close array<...>"));
      return fmt::format("array<{}>", *e);
    }
    if (w == "MAP") {
      ORDERLAKE_RETURN_IF_ERROR(ExpectPunct('<', "after map"));
      auto k = Type(column);
      if (!k.ok()) return k.status();
      ORDERLAKE_RETURN_IF_ERROR(ExpectPunct(',', "between the key and value types of map<k,v>"));
      auto v = Type(column);
      if (!v.ok()) return v.status();
      ORDERLAKE_RETURN_IF_ERROR(ExpectPunct('>', "to close map<k,v>"));
      return fmt::format("map<{},{}>", *k, *v);
    }
    if (w == "STRUCT") {
      ORDERLAKE_RETURN_IF_ERROR(ExpectPunct('<', "after struct"));
      std::string out = "struct<";
      for (bool first = true;; first = false) {
        auto f = Identifier("a field name in struct<name:type,...>");
        if (!f.ok()) return f.status();
        ORDERLAKE_RETURN_IF_ERROR(ExpectPunct(':', "between a struct field's name and type"));
        auto ft = Type(column);
        if (!ft.ok()) return ft.status();
        if (AcceptWord("COMMENT")) {
          auto c = String("the field's comment");
          if (!c.ok()) return c.status();
        }
        out += (first ? "" : ",") + *f + ":" + *ft;
        if (AcceptPunct(',')) continue;
        ORDERLAKE_RETURN_IF_ERROR(ExpectPunct('>', "to close struct<...>"));
        return out + ">";
      }
    }
    return ErrorAt(at, fmt::format("unknown type '{}' for column '{}' (Athena's types: {})", t_[i_ - 1].text,
                                   column, kTypeList));
  }

  Result<int> Number(std::string_view what) {
    const Token& t = Peek();
    if (t.kind == Token::kWord && IsDigits(t.text) && t.text.size() < 9) {
      int v = std::stoi(t.text);
      Next();
      return v;
    }
    return Expected(what);
  }

  // (name type [COMMENT '...'], ...): `what` is "column list" or "PARTITIONED BY list".
  Result<std::vector<std::pair<Column, size_t>>> ColumnList(std::string_view what) {
    std::vector<std::pair<Column, size_t>> out;
    ORDERLAKE_RETURN_IF_ERROR(ExpectPunct('(', fmt::format("to start the {}", what)));
    for (;;) {
      const size_t at = Peek().offset;
      auto name = Identifier(fmt::format("a column name in the {}", what));
      if (!name.ok()) return name.status();
      for (const auto& [c, pos] : out)
        if (IEquals(c.name, *name)) return ErrorAt(at, fmt::format("column '{}' is declared twice in the {}", *name, what));
      auto type = Type(*name);
      if (!type.ok()) return type.status();
      if (AcceptWord("COMMENT")) {
        auto c = String("the column's comment as a string");
        if (!c.ok()) return c.status();
      }
      out.push_back({{*name, *type}, at});
      if (AcceptPunct(',')) continue;
      if (AcceptPunct(')')) return out;
      if (Peek().kind == Token::kWord &&
          (IsWord("PARTITIONED") || IsWord("ROW") || IsWord("STORED") || IsWord("LOCATION") ||
           IsWord("TBLPROPERTIES") || IsWord("COMMENT") || IsWord("WITH")))
        return Expected(fmt::format("')' after {}", what));
      if (AtEnd()) return Expected(fmt::format("')' after {}", what));
      return Expected(fmt::format("',' or ')' after column '{}'", *name));
    }
  }

  Result<DdlStatement> CreateTable();
  Result<DdlStatement> AlterTable();

  std::string_view sql_;
  std::vector<Token> t_;
  size_t i_ = 0;
};

// What a SerDe or input format class says about the format.
std::string FormatOfClass(std::string_view cls) {
  std::string l = Lower(cls);
  if (l.find("parquet") != std::string::npos) return "parquet";
  if (l.find("json") != std::string::npos) return "json";
  if (l.find("opencsvserde") != std::string::npos || l.find("lazysimpleserde") != std::string::npos ||
      l.find("textinputformat") != std::string::npos || l.find("multidelimitserde") != std::string::npos)
    return "csv";
  return {};
}

Result<DdlStatement> Parser::CreateTable() {
  CreateTableDdl d;
  Table& t = d.table;
  // CREATE EXTERNAL TABLE already consumed.
  if (IsWord("IF")) {
    Next();
    ORDERLAKE_RETURN_IF_ERROR(ExpectWord("NOT"));
    ORDERLAKE_RETURN_IF_ERROR(ExpectWord("EXISTS"));
    d.if_not_exists = true;
  }
  auto ref = TableName();
  if (!ref.ok()) return ref.status();
  t.database = ref->database;
  t.name = ref->name;
  auto cols = ColumnList("column list");
  if (!cols.ok()) return cols.status();

  std::optional<std::vector<std::pair<Column, size_t>>> keys;
  std::string stored_as, row_format_class, input_format;
  std::optional<std::string> location;
  size_t location_at = 0, stored_at = 0;
  std::vector<std::pair<std::string, std::string>> serde_props, tbl_props;
  std::optional<std::string> delimited_by;
  bool row_format_delimited = false;
  std::set<std::string> seen;
  auto once = [&](const std::string& clause, size_t at) -> Status {
    if (!seen.insert(clause).second) return ErrorAt(at, fmt::format("{} given twice", clause));
    return Status::OK();
  };
  while (!AtEnd()) {
    const size_t at = Peek().offset;
    if (AcceptWord("COMMENT")) {
      ORDERLAKE_RETURN_IF_ERROR(once("COMMENT", at));
      auto c = String("the table's comment as a string");
      if (!c.ok()) return c.status();
    } else if (AcceptWord("PARTITIONED")) {
      ORDERLAKE_RETURN_IF_ERROR(once("PARTITIONED BY", at));
      ORDERLAKE_RETURN_IF_ERROR(ExpectWord("BY"));
      auto k = ColumnList("PARTITIONED BY list");
      if (!k.ok()) return k.status();
      keys = std::move(k).value();
    } else if (IsWord("CLUSTERED")) {
      return ErrorAt(at, "CLUSTERED BY (bucketed tables) is not supported");
    } else if (AcceptWord("ROW")) {
      ORDERLAKE_RETURN_IF_ERROR(once("ROW FORMAT", at));
      ORDERLAKE_RETURN_IF_ERROR(ExpectWord("FORMAT"));
      if (AcceptWord("DELIMITED")) {
        row_format_delimited = true;
        for (;;) {
          if (AcceptWord("FIELDS")) {
            ORDERLAKE_RETURN_IF_ERROR(ExpectWord("TERMINATED"));
            ORDERLAKE_RETURN_IF_ERROR(ExpectWord("BY"));
            const size_t dat = Peek().offset;
            auto dl = String("the field delimiter as a string, e.g. ','");
            if (!dl.ok()) return dl.status();
            if (dl->size() != 1) return ErrorAt(dat, fmt::format("the field delimiter must be one character, not '{}'", *dl));
            delimited_by = *dl;
            if (AcceptWord("ESCAPED")) {
              ORDERLAKE_RETURN_IF_ERROR(ExpectWord("BY"));
              auto e = String("the escape character as a string");
              if (!e.ok()) return e.status();
            }
          } else if (AcceptWord("COLLECTION") || AcceptWord("MAP")) {
            if (t_[i_ - 1].upper == "COLLECTION") ORDERLAKE_RETURN_IF_ERROR(ExpectWord("ITEMS"));
            else ORDERLAKE_RETURN_IF_ERROR(ExpectWord("KEYS"));
            ORDERLAKE_RETURN_IF_ERROR(ExpectWord("TERMINATED"));
            ORDERLAKE_RETURN_IF_ERROR(ExpectWord("BY"));
            auto x = String("a delimiter as a string");
            if (!x.ok()) return x.status();
          } else if (AcceptWord("LINES")) {
            ORDERLAKE_RETURN_IF_ERROR(ExpectWord("TERMINATED"));
            ORDERLAKE_RETURN_IF_ERROR(ExpectWord("BY"));
            const size_t lat = Peek().offset;
            auto x = String("the line terminator as a string");
            if (!x.ok()) return x.status();
            if (*x != "\n") return ErrorAt(lat, "only '\\n' is supported as LINES TERMINATED BY");
          } else if (AcceptWord("NULL")) {
            ORDERLAKE_RETURN_IF_ERROR(ExpectWord("DEFINED"));
            ORDERLAKE_RETURN_IF_ERROR(ExpectWord("AS"));
            auto x = String("the NULL marker as a string");
            if (!x.ok()) return x.status();
            d.warnings.push_back("warning: NULL DEFINED AS is ignored ('\\N' and empty non-string fields read as NULL)");
          } else {
            break;
          }
        }
      } else if (AcceptWord("SERDE")) {
        auto cls = String("the SerDe class name as a string");
        if (!cls.ok()) return cls.status();
        row_format_class = *cls;
        if (FormatOfClass(*cls).empty())
          return ErrorAt(t_[i_ - 1].offset, fmt::format("unsupported SerDe '{}': orderlake reads Parquet, CSV "
                                                        "(LazySimpleSerDe, OpenCSVSerde) and JSON (JsonSerDe)", *cls));
        if (IsWord("WITH")) {
          Next();
          ORDERLAKE_RETURN_IF_ERROR(ExpectWord("SERDEPROPERTIES"));
          auto p = Properties("SERDEPROPERTIES");
          if (!p.ok()) return p.status();
          serde_props = std::move(p).value();
        }
      } else {
        return Expected("DELIMITED or SERDE after ROW FORMAT");
      }
    } else if (IsWord("WITH") && IsWord("SERDEPROPERTIES", 1)) {
      Next();
      Next();
      auto p = Properties("SERDEPROPERTIES");
      if (!p.ok()) return p.status();
      serde_props = std::move(p).value();
    } else if (AcceptWord("STORED")) {
      ORDERLAKE_RETURN_IF_ERROR(once("STORED AS", at));
      ORDERLAKE_RETURN_IF_ERROR(ExpectWord("AS"));
      stored_at = Peek().offset;
      if (AcceptWord("INPUTFORMAT")) {
        auto in = String("the input format class as a string");
        if (!in.ok()) return in.status();
        input_format = *in;
        ORDERLAKE_RETURN_IF_ERROR(ExpectWord("OUTPUTFORMAT"));
        auto out = String("the output format class as a string");
        if (!out.ok()) return out.status();
        if (FormatOfClass(input_format).empty())
          return ErrorAt(stored_at, fmt::format("unsupported INPUTFORMAT '{}': orderlake reads Parquet, text (CSV) and JSON", input_format));
      } else if (Peek().kind == Token::kWord) {
        stored_as = Peek().upper;
        if (stored_as != "PARQUET" && stored_as != "TEXTFILE" && stored_as != "JSON")
          return ErrorAt(stored_at, fmt::format("unsupported file format STORED AS {}: orderlake reads PARQUET, "
                                                "TEXTFILE (CSV or JSON lines) and JSON",
                                                Peek().text));
        Next();
      } else {
        return Expected("a file format after STORED AS (PARQUET, TEXTFILE or JSON)");
      }
    } else if (AcceptWord("LOCATION")) {
      ORDERLAKE_RETURN_IF_ERROR(once("LOCATION", at));
      location_at = Peek().offset;
      auto l = String("the location as a string, e.g. 's3://bucket/prefix/'");
      if (!l.ok()) return l.status();
      auto norm = NormalizeLocation(*l);
      if (!norm.ok()) return ErrorAt(location_at, norm.status().message());
      location = *norm;
    } else if (AcceptWord("TBLPROPERTIES")) {
      ORDERLAKE_RETURN_IF_ERROR(once("TBLPROPERTIES", at));
      auto p = Properties("TBLPROPERTIES");
      if (!p.ok()) return p.status();
      tbl_props = std::move(p).value();
    } else {
      return Expected("PARTITIONED BY, ROW FORMAT, STORED AS, LOCATION, TBLPROPERTIES or the end of the statement");
    }
  }
  if (!location)
    return ErrorAt(Peek().offset, fmt::format("CREATE EXTERNAL TABLE {} needs a LOCATION 's3://bucket/prefix/' "
                                              "(or a local directory): where the table's files are",
                                              QName(t)));

  // Columns, and the quirk of the original project's DDL.
  std::vector<std::string> both;
  for (const auto& [c, at] : cols.value()) {
    bool is_key = false;
    if (keys)
      for (const auto& [k, kat] : *keys)
        if (IEquals(k.name, c.name)) {
          is_key = true;
          both.push_back(c.name + (k.type == c.type ? "" : fmt::format(" ({} as a column, {} as a key)", c.type, k.type)));
        }
    if (!is_key) t.columns.push_back(c);
  }
  if (keys)
    for (const auto& [k, at] : *keys) t.partition_keys.push_back(k);
  if (!both.empty())
    d.warnings.push_back(fmt::format("warning: {} declared both as columns and as partition keys (Athena rejects "
                                     "this); treated as partition keys",
                                     fmt::join(both, ", ")));
  if (t.columns.empty()) return ErrorAt(location_at, fmt::format("table {} has no columns besides its partition keys", QName(t)));

  // Format: the container (STORED AS, INPUTFORMAT) and the SerDe together.
  const std::string serde = row_format_class.empty() ? "" : FormatOfClass(row_format_class);
  std::string container;  // parquet, json, text
  if (stored_as == "PARQUET") container = "parquet";
  else if (stored_as == "JSON") container = "json";
  else if (!input_format.empty()) container = FormatOfClass(input_format) == "parquet" ? "parquet" : "text";
  else container = serde == "parquet" ? "parquet" : "text";  // TEXTFILE, or nothing said: Hive's default
  if (container == "parquet") {
    if (!serde.empty() && serde != "parquet")
      return ErrorAt(stored_at, fmt::format("ROW FORMAT SERDE '{}' reads {}, but the table is stored as Parquet",
                                            row_format_class, serde));
    if (row_format_delimited) d.warnings.push_back("warning: ROW FORMAT DELIMITED is ignored for Parquet");
    t.format = "parquet";
  } else if (serde == "parquet") {
    return ErrorAt(stored_at, fmt::format("ROW FORMAT SERDE '{}' reads Parquet, but the table is stored as text",
                                          row_format_class));
  } else {
    t.format = (container == "json" || serde == "json") ? "json" : "csv";
  }
  // The CSV field delimiter: Hive's default is ^A (\001); OpenCSVSerde's is ','.
  const bool open_csv = Lower(row_format_class).find("opencsvserde") != std::string::npos;
  t.delimiter = open_csv ? "," : std::string(1, '\x01');
  auto prop = [&](std::string_view name) -> std::optional<std::string> {
    for (const auto& [k, v] : serde_props)
      if (k == name) return v;
    return std::nullopt;
  };
  // Hive reads a delimiter property as a byte number ('1' is \001) or else its first character.
  auto delimiter_of = [&](std::string_view name, const std::string& v) -> Result<std::string> {
    if (IsDigits(v) && v.size() <= 3 && std::stoi(v) < 128) return std::string(1, static_cast<char>(std::stoi(v)));
    if (v.size() == 1) return v;
    return ErrorAt(stored_at, fmt::format("SERDEPROPERTIES '{}'='{}': a delimiter is one character", name, v));
  };
  if (delimited_by) {
    t.delimiter = *delimited_by;
  } else {
    for (std::string_view name : {"field.delim", "serialization.format", "separatorchar"}) {
      auto v = prop(name);
      if (!v) continue;
      auto dl = name == "separatorchar" && v->size() == 1 ? Result<std::string>(*v) : delimiter_of(name, *v);
      if (!dl.ok()) return dl.status();
      t.delimiter = *dl;
      break;
    }
  }
  t.compression = "none";
  for (const auto& [k, v] : tbl_props) {
    if (k == "skip.header.line.count") {
      if (v != "0" && v != "1")
        return ErrorAt(location_at, fmt::format("TBLPROPERTIES 'skip.header.line.count'='{}': only 0 or 1 is supported", v));
      t.has_header = v == "1";
    } else if (k == "compressiontype" || k == "write.compression") {
      if (Lower(v) == "gzip") t.compression = "gzip";
    } else if (k == "projection.enabled" && Lower(v) == "true") {
      d.warnings.push_back("warning: partition projection is not supported: register partitions with MSCK REPAIR "
                           "TABLE or ALTER TABLE ADD PARTITION");
    } else if (k == "table_type") {
      return ErrorAt(location_at, fmt::format("TBLPROPERTIES 'table_type'='{}' is not supported: orderlake's "
                                              "external tables are Hive tables", v));
    }
  }
  if (t.format != "csv") {
    t.has_header = false;
    t.delimiter = ",";
  }
  t.location = *location;
  return DdlStatement(std::move(d));
}

Result<DdlStatement> Parser::AlterTable() {
  AddPartitionsDdl d;
  auto ref = TableName();
  if (!ref.ok()) return ref.status();
  d.table = *ref;
  if (!IsWord("ADD"))
    return ErrorAt(Peek().offset, fmt::format("refused: ALTER TABLE supports only ADD [IF NOT EXISTS] PARTITION "
                                              "(...), found {}",
                                              Describe(Peek())));
  Next();
  if (AcceptWord("IF")) {
    ORDERLAKE_RETURN_IF_ERROR(ExpectWord("NOT"));
    ORDERLAKE_RETURN_IF_ERROR(ExpectWord("EXISTS"));
    d.if_not_exists = true;
  }
  if (!IsWord("PARTITION")) return Expected("PARTITION (key = 'value', ...) after ADD");
  while (IsWord("PARTITION")) {
    AddPartitionsDdl::Spec spec;
    spec.offset = Peek().offset;
    Next();
    ORDERLAKE_RETURN_IF_ERROR(ExpectPunct('(', "after PARTITION"));
    for (;;) {
      auto k = Identifier("a partition key name");
      if (!k.ok()) return k.status();
      ORDERLAKE_RETURN_IF_ERROR(ExpectPunct('=', fmt::format("after the partition key '{}'", *k)));
      // A string, a number, or a typed literal such as DATE '2010-12-01'.
      if ((IsWord("DATE") || IsWord("TIMESTAMP")) && Peek(1).kind == Token::kString) Next();
      std::string value;
      bool negative = AcceptPunct('-');
      if (Peek().kind == Token::kString) {
        value = Peek().text;
        Next();
      } else if (Peek().kind == Token::kWord && IsDigits(Peek().text)) {
        value = (negative ? "-" : "") + Peek().text;
        Next();
      } else {
        return Expected(fmt::format("the value of '{}' as a string or a number", *k));
      }
      spec.values.emplace_back(*k, value);
      if (AcceptPunct(',')) continue;
      ORDERLAKE_RETURN_IF_ERROR(ExpectPunct(')', "after the partition values"));
      break;
    }
    if (AcceptWord("LOCATION")) {
      const size_t at = Peek().offset;
      auto l = String("the partition's location as a string");
      if (!l.ok()) return l.status();
      auto norm = NormalizeLocation(*l);
      if (!norm.ok()) return ErrorAt(at, norm.status().message());
      spec.location = *norm;
    }
    d.partitions.push_back(std::move(spec));
  }
  ORDERLAKE_RETURN_IF_ERROR(ExpectEnd());
  return DdlStatement(std::move(d));
}

// ---- running --------------------------------------------------------------------------

QueryResult Answer(std::vector<std::string> columns) {
  QueryResult r;
  for (auto& c : columns) r.columns.push_back({std::move(c), "VARCHAR", false});
  return r;
}

void AddRow(QueryResult& r, std::vector<std::string> cells) {
  std::vector<Value> row;
  for (auto& c : cells) row.push_back(Value::Text(std::move(c)));
  r.rows.push_back(std::move(row));
}

// "Country=France/InvoiceDateOnly=2010-12-01"
std::string PartitionName(const std::vector<Column>& keys, const std::vector<std::string>& values) {
  std::string out;
  for (size_t i = 0; i < keys.size() && i < values.size(); ++i)
    out += (i ? "/" : "") + hive::segment(keys[i].name, values[i]);
  return out;
}

// Whether a partition value fits its key's type (NULL's directory fits every type).
bool ValueFits(std::string_view type, std::string_view v) {
  if (v == hive::kDefaultPartition) return true;
  if (type == "int" || type == "bigint" || type == "smallint" || type == "tinyint")
    return IsDigits(v[0] == '-' ? v.substr(1) : v);
  if (type == "date")
    return v.size() == 10 && v[4] == '-' && v[7] == '-' && IsDigits(v.substr(0, 4)) && IsDigits(v.substr(5, 2)) &&
           IsDigits(v.substr(8, 2));
  return true;
}

// A table, the catalog's or the lake's own; nullopt when neither has it.
struct Resolved {
  Table table;
  bool builtin = false;
  const BuiltinTable* lake = nullptr;
};

Result<std::optional<Resolved>> Resolve(const DdlContext& ctx, const TableRef& ref) {
  if (ctx.catalog) {
    auto t = ctx.catalog->GetTable(ref.database, ref.name);
    if (!t.ok()) return t.status();
    if (t.value()) return std::optional<Resolved>(Resolved{std::move(*t.value()), false, nullptr});
  }
  if (ref.database == "default")
    for (const auto& b : ctx.builtins)
      if (b.name == ref.name) {
        Resolved r;
        r.builtin = true;
        r.lake = &b;
        r.table.database = "default";
        r.table.name = b.name;
        r.table.location = b.location;
        r.table.format = "parquet";
        r.table.columns = b.columns;
        r.table.partition_keys = b.partition_keys;
        return std::optional<Resolved>(std::move(r));
      }
  return std::optional<Resolved>();
}

Status NoTable(const TableRef& ref, std::string_view statement) {
  return Status::Errorf("{}: no table {} in the catalog (SHOW TABLES lists them)", statement, ref.qualified());
}

// Athena's SHOW TABLES pattern: '*' is any run of characters, '|' separates alternatives.
bool PatternMatches(std::string_view pattern, std::string_view name) {
  std::function<bool(std::string_view, std::string_view)> glob = [&](std::string_view p, std::string_view n) {
    if (p.empty()) return n.empty();
    if (p[0] == '*') return glob(p.substr(1), n) || (!n.empty() && glob(p, n.substr(1)));
    return !n.empty() && std::tolower(static_cast<unsigned char>(p[0])) == std::tolower(static_cast<unsigned char>(n[0])) &&
           glob(p.substr(1), n.substr(1));
  };
  size_t start = 0;
  while (start <= pattern.size()) {
    size_t bar = pattern.find('|', start);
    std::string_view alt = pattern.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start);
    while (!alt.empty() && alt.front() == ' ') alt.remove_prefix(1);
    while (!alt.empty() && alt.back() == ' ') alt.remove_suffix(1);
    if (glob(alt, name)) return true;
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  return false;
}

Result<QueryResult> RunCreate(const CreateTableDdl& d, const DdlContext& ctx) {
  const Table& t = d.table;
  QueryResult r;
  auto old = ctx.catalog->GetTable(t.database, t.name);
  if (!old.ok()) return old.status();
  if (old.value()) {
    if (!d.if_not_exists)
      return Status::Errorf("CREATE EXTERNAL TABLE: table {} already exists in the catalog (at {}); DROP TABLE it "
                            "first, or say IF NOT EXISTS",
                            QName(t), old.value()->location);
    r.notices.push_back(fmt::format("table {} already exists: unchanged", QName(t)));
    return r;
  }
  ORDERLAKE_RETURN_IF_ERROR(ctx.catalog->PutTable(t));
  r.notices.push_back(fmt::format("table {} created: {} columns, {} partition keys, format {}, location {}",
                                  QName(t), t.columns.size(), t.partition_keys.size(), t.format, t.location));
  for (const auto& w : d.warnings) r.notices.push_back(w);
  if (t.database == "default")
    for (const auto& b : ctx.builtins)
      if (b.name == t.name)
        r.notices.push_back(fmt::format("{} now reads the catalog's definition (the lake's own table of that name, "
                                        "at {}, answers again after DROP TABLE {})",
                                        t.name, b.location, t.name));
  if (!t.partition_keys.empty())
    r.notices.push_back(fmt::format("no partitions yet: run MSCK REPAIR TABLE {} (or ALTER TABLE {} ADD PARTITION) "
                                    "to add those under {}",
                                    t.name, t.name, t.location));
  return r;
}

Result<QueryResult> RunMsck(const MsckRepairDdl& d, const DdlContext& ctx) {
  auto res = Resolve(ctx, d.table);
  if (!res.ok()) return res.status();
  if (!res.value()) return NoTable(d.table, "MSCK REPAIR TABLE");
  QueryResult r = Answer({"partition"});
  const Table& t = res.value()->table;
  if (res.value()->builtin) {
    r.notices.push_back(fmt::format("MSCK REPAIR TABLE {}: nothing to do: the lake's own table finds its partitions "
                                    "in {} at every statement",
                                    t.name, t.location));
    return r;
  }
  if (t.partition_keys.empty()) {
    r.notices.push_back(fmt::format("MSCK REPAIR TABLE {}: the table is not partitioned: nothing to do", QName(t)));
    return r;
  }
  auto store = ctx.open_store(t.location);
  if (!store.ok()) return Status::Errorf("MSCK REPAIR TABLE {}: {}", QName(t), store.status().message());
  auto listed = store.value()->List("");
  if (!listed.ok()) return Status::Errorf("MSCK REPAIR TABLE {}: {}", QName(t), listed.status().message());
  auto existing = ctx.catalog->Partitions(t.database, t.name);
  if (!existing.ok()) return existing.status();
  std::set<std::vector<std::string>> have;
  for (const auto& p : existing.value()) have.insert(p.values);

  const size_t nkeys = t.partition_keys.size();
  std::map<std::vector<std::string>, Partition> found;  // sorted by values
  std::set<std::string> skipped;                      // directories that are not partitions of these keys
  std::set<std::string> bad_values;
  for (const auto& o : listed.value()) {
    std::vector<std::string_view> parts;
    std::string_view key = o.key;
    bool hidden = false;
    for (size_t start = 0; start <= key.size();) {
      size_t slash = key.find('/', start);
      if (slash == std::string_view::npos) slash = key.size();
      if (slash > start) {
        std::string_view part = key.substr(start, slash - start);
        hidden = hidden || part[0] == '.' || part[0] == '_';
        parts.push_back(part);
      }
      start = slash + 1;
    }
    if (hidden || o.size == 0) continue;
    if (parts.size() <= nkeys) {
      if (parts.size() > 1) skipped.insert(std::string(key.substr(0, key.rfind('/'))));
      continue;
    }
    std::vector<std::string> values;
    std::string dir;
    bool ok = true;
    for (size_t k = 0; k < nkeys && ok; ++k) {
      std::string_view p = parts[k];
      size_t eq = p.find('=');
      ok = eq != std::string_view::npos && IEquals(p.substr(0, eq), t.partition_keys[k].name);
      if (ok) values.push_back(hive::unescape(p.substr(eq + 1)));
      dir += (k ? "/" : "") + std::string(p);
    }
    if (!ok) {
      skipped.insert(dir);
      continue;
    }
    bool fits = true;
    for (size_t k = 0; k < nkeys; ++k) fits = fits && ValueFits(t.partition_keys[k].type, values[k]);
    if (!fits) {
      bad_values.insert(dir);
      continue;
    }
    if (have.count(values) || found.count(values)) continue;
    found[values] = Partition{values, t.location + "/" + dir};
  }
  std::vector<Partition> add;
  for (auto& [v, p] : found) add.push_back(p);
  if (!add.empty()) {
    auto n = ctx.catalog->AddPartitions(t.database, t.name, add);
    if (!n.ok()) return n.status();
  }
  for (const auto& p : add) AddRow(r, {PartitionName(t.partition_keys, p.values)});
  r.notices.push_back(fmt::format("MSCK REPAIR TABLE {}: {} partition{} added ({} already in the catalog)",
                                  QName(t), add.size(), add.size() == 1 ? "" : "s", have.size()));
  auto list = [](const std::set<std::string>& s) {
    std::vector<std::string> v(s.begin(), s.end());
    if (v.size() > 5) {
      size_t more = v.size() - 5;
      v.resize(5);
      v.push_back(fmt::format("and {} more", more));
    }
    return fmt::format("{}", fmt::join(v, ", "));
  };
  std::vector<std::string> key_names;
  for (const auto& k : t.partition_keys) key_names.push_back(k.name + "=…");
  if (!skipped.empty())
    r.notices.push_back(fmt::format("warning: {} director{} not of the form {} skipped: {}", skipped.size(),
                                    skipped.size() == 1 ? "y" : "ies", fmt::join(key_names, "/"), list(skipped)));
  if (!bad_values.empty())
    r.notices.push_back(fmt::format("warning: {} director{} whose values do not fit the keys' types skipped: {}",
                                    bad_values.size(), bad_values.size() == 1 ? "y" : "ies", list(bad_values)));
  return r;
}

Result<QueryResult> RunAddPartitions(const AddPartitionsDdl& d, const DdlContext& ctx) {
  auto res = Resolve(ctx, d.table);
  if (!res.ok()) return res.status();
  if (!res.value()) return NoTable(d.table, "ALTER TABLE ADD PARTITION");
  if (res.value()->builtin)
    return Status::Errorf("ALTER TABLE ADD PARTITION: {} is the lake's own table, not in the catalog: its partitions "
                          "are found at every statement",
                          d.table.name);
  const Table& t = res.value()->table;
  if (t.partition_keys.empty()) return Status::Errorf("ALTER TABLE ADD PARTITION: table {} is not partitioned", QName(t));
  auto existing = ctx.catalog->Partitions(t.database, t.name);
  if (!existing.ok()) return existing.status();
  std::set<std::vector<std::string>> have;
  for (const auto& p : existing.value()) have.insert(p.values);
  std::vector<std::string> key_names;
  for (const auto& k : t.partition_keys) key_names.push_back(k.name);

  QueryResult r = Answer({"partition"});
  std::vector<Partition> add;
  std::set<std::vector<std::string>> in_statement;
  for (const auto& spec : d.partitions) {
    std::vector<std::optional<std::string>> values(t.partition_keys.size());
    for (const auto& [k, v] : spec.values) {
      size_t i = 0;
      while (i < t.partition_keys.size() && !IEquals(t.partition_keys[i].name, k)) ++i;
      if (i == t.partition_keys.size())
        return Status::Errorf("ALTER TABLE ADD PARTITION: {} has no partition key '{}' (its keys: {})", QName(t),
                              k, fmt::join(key_names, ", "));
      if (values[i]) return Status::Errorf("ALTER TABLE ADD PARTITION: key '{}' given twice", k);
      if (!ValueFits(t.partition_keys[i].type, v))
        return Status::Errorf("ALTER TABLE ADD PARTITION: '{}' is not a valid {} for key '{}'", v, t.partition_keys[i].type,
                              t.partition_keys[i].name);
      values[i] = v;
    }
    Partition p;
    for (size_t i = 0; i < values.size(); ++i) {
      if (!values[i])
        return Status::Errorf("ALTER TABLE ADD PARTITION: a value for every partition key is needed ({}); '{}' is missing",
                              fmt::join(key_names, ", "), t.partition_keys[i].name);
      p.values.push_back(*values[i]);
    }
    p.location = spec.location.empty() ? t.location + "/" + PartitionName(t.partition_keys, p.values) : spec.location;
    if (have.count(p.values) || !in_statement.insert(p.values).second) {
      if (!d.if_not_exists)
        return Status::Errorf("ALTER TABLE ADD PARTITION: partition {} of {} already exists (say ADD IF NOT EXISTS)",
                              PartitionName(t.partition_keys, p.values), QName(t));
      continue;
    }
    add.push_back(std::move(p));
  }
  if (!add.empty()) {
    auto n = ctx.catalog->AddPartitions(t.database, t.name, add);
    if (!n.ok()) return n.status();
  }
  for (const auto& p : add) AddRow(r, {PartitionName(t.partition_keys, p.values)});
  r.notices.push_back(fmt::format("ALTER TABLE {} ADD PARTITION: {} added, {} already there", QName(t),
                                  add.size(), d.partitions.size() - add.size()));
  return r;
}

Result<QueryResult> RunShowTables(const ShowTablesDdl& d, const DdlContext& ctx) {
  std::string db = d.database ? Lower(*d.database) : "default";
  std::set<std::string> names;
  if (ctx.catalog) {
    if (db != "default") {
      auto dbs = ctx.catalog->Databases();
      if (!dbs.ok()) return dbs.status();
      if (std::find(dbs->begin(), dbs->end(), db) == dbs->end())
        return Status::Errorf("SHOW TABLES: no database '{}' in the catalog (SHOW DATABASES lists them)", db);
    }
    auto tables = ctx.catalog->Tables(db);
    if (!tables.ok()) return tables.status();
    names.insert(tables->begin(), tables->end());
  } else if (db != "default") {
    return Status::Errorf("SHOW TABLES: no database '{}' (this endpoint has only the lake's tables)", db);
  }
  if (db == "default")
    for (const auto& b : ctx.builtins) names.insert(b.name);
  QueryResult r = Answer({"tab_name"});
  for (const auto& n : names)
    if (!d.pattern || PatternMatches(*d.pattern, n)) AddRow(r, {n});
  return r;
}

Result<QueryResult> RunShowDatabases(const DdlContext& ctx) {
  std::set<std::string> names = {"default"};
  if (ctx.catalog) {
    auto dbs = ctx.catalog->Databases();
    if (!dbs.ok()) return dbs.status();
    names.insert(dbs->begin(), dbs->end());
  }
  QueryResult r = Answer({"database_name"});
  for (const auto& n : names) AddRow(r, {n});
  return r;
}

// The lake's own partitions: key=value/key=value directories holding a visible .parquet file.
std::vector<std::string> LakePartitions(const BuiltinTable& b) {
  std::vector<std::string> out;
  std::function<void(const fs::path&, size_t, const std::string&)> walk = [&](const fs::path& dir, size_t depth,
                                                                              const std::string& name) {
    std::error_code ec;
    if (depth == b.partition_keys.size()) {
      for (fs::directory_iterator f(dir, ec), end; !ec && f != end; f.increment(ec)) {
        std::string n = f->path().filename().string();
        if (n[0] != '.' && n[0] != '_' && n.ends_with(".parquet")) {
          out.push_back(name);
          return;
        }
      }
      return;
    }
    std::string prefix = b.partition_keys[depth].name + "=";
    std::vector<fs::path> dirs;
    for (fs::directory_iterator d(dir, ec), end; !ec && d != end; d.increment(ec))
      if (d->path().filename().string().starts_with(prefix) && d->is_directory(ec)) dirs.push_back(d->path());
    std::sort(dirs.begin(), dirs.end());
    for (const auto& d : dirs)
      walk(d, depth + 1, name + (depth ? "/" : "") + d.filename().string());
  };
  walk(b.local, 0, "");
  return out;
}

Result<QueryResult> RunShowPartitions(const ShowPartitionsDdl& d, const DdlContext& ctx) {
  auto res = Resolve(ctx, d.table);
  if (!res.ok()) return res.status();
  if (!res.value()) return NoTable(d.table, "SHOW PARTITIONS");
  const Table& t = res.value()->table;
  if (t.partition_keys.empty()) return Status::Errorf("SHOW PARTITIONS: table {} is not partitioned", QName(t));
  QueryResult r = Answer({"partition"});
  if (res.value()->builtin) {
    for (auto& p : LakePartitions(*res.value()->lake)) AddRow(r, {std::move(p)});
    return r;
  }
  auto parts = ctx.catalog->Partitions(t.database, t.name);
  if (!parts.ok()) return parts.status();
  for (const auto& p : parts.value()) AddRow(r, {PartitionName(t.partition_keys, p.values)});
  return r;
}

std::string DelimiterName(const std::string& d) {
  if (d == "\t") return "\\t";
  if (d.size() == 1 && static_cast<unsigned char>(d[0]) < 0x20) return fmt::format("\\{:03o}", static_cast<unsigned char>(d[0]));
  return d;
}

Result<QueryResult> RunDescribe(const DescribeDdl& d, const DdlContext& ctx) {
  auto res = Resolve(ctx, d.table);
  if (!res.ok()) return res.status();
  if (!res.value()) return NoTable(d.table, "DESCRIBE");
  const Table& t = res.value()->table;
  QueryResult r = Answer({"col_name", "data_type", "comment"});
  for (const auto& c : t.columns) AddRow(r, {c.name, c.type, ""});
  for (const auto& c : t.partition_keys) AddRow(r, {c.name, c.type, ""});
  if (!t.partition_keys.empty()) {
    AddRow(r, {"", "", ""});
    AddRow(r, {"# Partition Information", "", ""});
    AddRow(r, {"# col_name", "data_type", "comment"});
    for (const auto& c : t.partition_keys) AddRow(r, {c.name, c.type, ""});
  }
  if (!d.formatted) return r;
  AddRow(r, {"", "", ""});
  AddRow(r, {"# Detailed Table Information", "", ""});
  AddRow(r, {"Database:", t.database, ""});
  AddRow(r, {"Table:", t.name, ""});
  AddRow(r, {"Location:", t.location, ""});
  AddRow(r, {"Table Type:", res.value()->builtin ? "the lake's own table (not in the catalog)" : "EXTERNAL_TABLE", ""});
  AddRow(r, {"", "", ""});
  AddRow(r, {"# Storage Information", "", ""});
  AddRow(r, {"Format:", t.format, ""});
  if (!res.value()->builtin) AddRow(r, {"Compression:", t.compression, ""});
  if (t.format == "csv") {
    AddRow(r, {"Field delimiter:", DelimiterName(t.delimiter), ""});
    AddRow(r, {"Header line:", t.has_header ? "yes (skip.header.line.count=1)" : "no", ""});
  }
  if (!t.partition_keys.empty()) {
    size_t n = 0;
    if (res.value()->builtin) {
      n = LakePartitions(*res.value()->lake).size();
    } else {
      auto parts = ctx.catalog->Partitions(t.database, t.name);
      if (!parts.ok()) return parts.status();
      n = parts->size();
    }
    AddRow(r, {"Partitions:", std::to_string(n), ""});
  }
  return r;
}

Result<QueryResult> RunDrop(const DropTableDdl& d, const DdlContext& ctx) {
  QueryResult r;
  auto t = ctx.catalog->GetTable(d.table.database, d.table.name);
  if (!t.ok()) return t.status();
  if (!t.value()) {
    if (d.table.database == "default")
      for (const auto& b : ctx.builtins)
        if (b.name == d.table.name)
          return Status::Errorf("DROP TABLE: {} is the lake's own table, not in the catalog: there is nothing to drop "
                                "(and DROP TABLE never deletes data)",
                                d.table.name);
    if (d.if_exists) {
      r.notices.push_back(fmt::format("DROP TABLE: no table {}: nothing to do", d.table.qualified()));
      return r;
    }
    return NoTable(d.table, "DROP TABLE");
  }
  auto dropped = ctx.catalog->DropTable(d.table.database, d.table.name);
  if (!dropped.ok()) return dropped.status();
  r.notices.push_back(fmt::format("table {} dropped from the catalog; its files at {} are untouched",
                                  d.table.qualified(), t.value()->location));
  return r;
}

}  // namespace

Result<std::string> NormalizeLocation(std::string_view location) {
  std::string l(location);
  for (std::string_view scheme : {"s3a://", "s3n://"})
    if (l.rfind(scheme, 0) == 0) l = "s3://" + l.substr(scheme.size());
  if (l.rfind("s3://", 0) == 0) {
    while (l.size() > 5 && l.back() == '/') l.pop_back();
    std::string_view rest = std::string_view(l).substr(5);
    if (rest.empty() || rest[0] == '/') return Status::Errorf("location '{}' has no bucket name", location);
    return l;
  }
  if (l.rfind("file://", 0) == 0) l = l.substr(7);
  else if (l.find("://") != std::string::npos)
    return Status::Errorf("location '{}': unsupported scheme (use s3://bucket/prefix, file:///path or a local path)",
                          location);
  if (l.empty()) return Status::Error("empty location");
  std::error_code ec;
  fs::path p = fs::absolute(l, ec).lexically_normal();
  if (ec) return Status::Errorf("location '{}': {}", location, ec.message());
  std::string s = p.string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return "file://" + s;
}

std::set<std::string> ReferencedNames(std::string_view sql) {
  std::set<std::string> out;
  Tokens t = Tokenize(sql);
  for (const auto& tok : t.tokens)
    if (tok.kind != Token::kPunct && tok.kind != Token::kEnd) out.insert(Lower(tok.text));
  return out;
}

std::optional<Result<DdlStatement>> ParseAthenaDdl(std::string_view sql) {
  Tokens tokens = Tokenize(sql);
  Parser p(sql, tokens.tokens);
  auto finish = [&](Result<DdlStatement> r) -> std::optional<Result<DdlStatement>> {
    if (tokens.error_offset) return Result<DdlStatement>(p.ErrorAt(*tokens.error_offset, tokens.error));
    if (r.ok() && tokens.semicolon != std::string_view::npos &&
        sql.find_first_not_of(" \t\r\n;", tokens.semicolon) != std::string_view::npos)
      return Result<DdlStatement>(Status::Error("expected one statement, got more: run them one at a time"));
    return r;
  };
  auto end_then = [&](DdlStatement s) -> Result<DdlStatement> {
    Status st = p.ExpectEnd();
    if (!st.ok()) return st;
    return s;
  };
  if (p.IsWord("CREATE") && p.IsWord("EXTERNAL", 1)) {
    p.Next();
    p.Next();
    if (Status st = p.ExpectWord("TABLE"); !st.ok()) return finish(st);
    return finish(p.CreateTable());
  }
  if (p.IsWord("MSCK")) {
    p.Next();
    if (Status st = p.ExpectWord("REPAIR"); !st.ok()) return finish(st);
    if (Status st = p.ExpectWord("TABLE"); !st.ok()) return finish(st);
    auto ref = p.TableName();
    if (!ref.ok()) return finish(ref.status());
    return finish(end_then(MsckRepairDdl{*ref}));
  }
  if (p.IsWord("ALTER") && p.IsWord("TABLE", 1)) {
    p.Next();
    p.Next();
    return finish(p.AlterTable());
  }
  if (p.IsWord("DROP") && p.IsWord("TABLE", 1)) {
    p.Next();
    p.Next();
    DropTableDdl d;
    if (p.AcceptWord("IF")) {
      if (Status st = p.ExpectWord("EXISTS"); !st.ok()) return finish(st);
      d.if_exists = true;
    }
    auto ref = p.TableName();
    if (!ref.ok()) return finish(ref.status());
    d.table = *ref;
    return finish(end_then(d));
  }
  if (p.IsWord("SHOW")) {
    if (p.IsWord("TABLES", 1)) {
      p.Next();
      p.Next();
      ShowTablesDdl d;
      if (p.AcceptWord("IN") || p.AcceptWord("FROM")) {
        auto db = p.Identifier("a database name");
        if (!db.ok()) return finish(db.status());
        d.database = *db;
      }
      if (p.AcceptWord("LIKE") || p.Peek().kind == Token::kString) {
        auto pat = p.String("a pattern as a string, e.g. 'order*'");
        if (!pat.ok()) return finish(pat.status());
        d.pattern = *pat;
      }
      return finish(end_then(d));
    }
    if ((p.IsWord("DATABASES", 1) || p.IsWord("SCHEMAS", 1)) && p.Peek(2).kind == Token::kEnd) {
      return finish(DdlStatement(ShowDatabasesDdl{}));
    }
    if (p.IsWord("PARTITIONS", 1)) {
      p.Next();
      p.Next();
      auto ref = p.TableName();
      if (!ref.ok()) return finish(ref.status());
      return finish(end_then(ShowPartitionsDdl{*ref}));
    }
    return std::nullopt;
  }
  if (p.IsWord("DESCRIBE") || p.IsWord("DESC")) {
    p.Next();
    DescribeDdl d;
    if (p.IsWord("FORMATTED") || p.IsWord("EXTENDED")) {
      p.Next();
      d.formatted = true;
      auto ref = p.TableName();
      if (!ref.ok()) return finish(ref.status());
      d.table = *ref;
      return finish(end_then(d));
    }
    // DESCRIBE name (or db.name) and nothing else; DESCRIBE SELECT … is DuckDB's.
    auto is_name = [&](size_t k) {
      auto kind = p.Peek(k).kind;
      return kind == Token::kWord || kind == Token::kBackquoted || kind == Token::kDoubleQuoted;
    };
    bool simple = is_name(0) && (p.Peek(1).kind == Token::kEnd ||
                                 (p.IsPunct('.', 1) && is_name(2) && p.Peek(3).kind == Token::kEnd));
    for (const char* kw : {"SELECT", "WITH", "FROM", "VALUES", "TABLE", "SHOW", "PIVOT", "UNPIVOT", "SUMMARIZE"})
      if (p.IsWord(kw)) simple = false;
    if (!simple) return std::nullopt;
    auto ref = p.TableName();
    if (!ref.ok()) return finish(ref.status());
    d.table = *ref;
    return finish(DdlStatement(d));
  }
  return std::nullopt;
}

bool ChangesCatalog(const DdlStatement& s) {
  return std::holds_alternative<CreateTableDdl>(s) || std::holds_alternative<MsckRepairDdl>(s) ||
         std::holds_alternative<AddPartitionsDdl>(s) || std::holds_alternative<DropTableDdl>(s);
}

std::string StatementName(const DdlStatement& s) {
  struct V {
    std::string operator()(const CreateTableDdl&) const { return "CREATE EXTERNAL TABLE"; }
    std::string operator()(const MsckRepairDdl&) const { return "MSCK REPAIR TABLE"; }
    std::string operator()(const AddPartitionsDdl&) const { return "ALTER TABLE ADD PARTITION"; }
    std::string operator()(const ShowTablesDdl&) const { return "SHOW TABLES"; }
    std::string operator()(const ShowDatabasesDdl&) const { return "SHOW DATABASES"; }
    std::string operator()(const ShowPartitionsDdl&) const { return "SHOW PARTITIONS"; }
    std::string operator()(const DescribeDdl&) const { return "DESCRIBE"; }
    std::string operator()(const DropTableDdl&) const { return "DROP TABLE"; }
  };
  return std::visit(V{}, s);
}

Result<QueryResult> RunAthenaDdl(const DdlStatement& s, const DdlContext& ctx) {
  if (ChangesCatalog(s) && !ctx.catalog)
    return Status::Errorf("refused: {} changes the catalog, and this SQL endpoint is read-only (run Athena DDL with "
                          "`orderlake query`)",
                          StatementName(s));
  struct V {
    const DdlContext& ctx;
    Result<QueryResult> operator()(const CreateTableDdl& d) const { return RunCreate(d, ctx); }
    Result<QueryResult> operator()(const MsckRepairDdl& d) const { return RunMsck(d, ctx); }
    Result<QueryResult> operator()(const AddPartitionsDdl& d) const { return RunAddPartitions(d, ctx); }
    Result<QueryResult> operator()(const ShowTablesDdl& d) const { return RunShowTables(d, ctx); }
    Result<QueryResult> operator()(const ShowDatabasesDdl&) const { return RunShowDatabases(ctx); }
    Result<QueryResult> operator()(const ShowPartitionsDdl& d) const { return RunShowPartitions(d, ctx); }
    Result<QueryResult> operator()(const DescribeDdl& d) const { return RunDescribe(d, ctx); }
    Result<QueryResult> operator()(const DropTableDdl& d) const { return RunDrop(d, ctx); }
  };
  return std::visit(V{ctx}, s);
}

}  // namespace orderlake::query
