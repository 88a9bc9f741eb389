#include "query/athena_ddl_parser.h"

#include <map>
#include <set>

#include "query/sql_scanner.h"

namespace orderlake::query {
namespace ddl {
namespace fs = std::filesystem;

Tokens Tokenize(std::string_view s) {
  Tokens out;
  const ScanResult scan = ScanSqlWithoutComments(s, SqlDialect::kHive);
  for (const query::Token& t : scan.tokens) {
    if (t.IsOperator(";")) {
      out.semicolon = t.offset;
      break;
    }
    Token::Kind kind = Token::kPunct;
    switch (t.kind) {
      case TokenKind::kString: kind = Token::kString; break;
      case TokenKind::kQuotedIdentifier: kind = Token::kDoubleQuoted; break;
      case TokenKind::kBackquoted: kind = Token::kBackquoted; break;
      case TokenKind::kIdentifier:
      case TokenKind::kKeyword:
      case TokenKind::kNumber: kind = Token::kWord; break;
      default: kind = Token::kPunct; break;
    }
    out.tokens.push_back({kind, t.text, Upper(t.text), t.offset});
  }
  // The scan stops at an unterminated string or comment: an error of this statement
  // unless it comes after the ';' that ends it.
  if (scan.error && out.semicolon == std::string_view::npos) {
    out.error_offset = scan.error->offset;
    out.error = scan.error->message;
  }
  size_t end = out.semicolon != std::string_view::npos ? out.semicolon : s.size();
  while (end > 0 && std::isspace(static_cast<unsigned char>(s[end - 1]))) --end;
  out.tokens.push_back({Token::kEnd, "", "", end});
  return out;
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

namespace {

constexpr const char* kTypeList =
    "boolean, tinyint, smallint, int, bigint, float, double, decimal(p,s), string, varchar(n), char(n), date, "
    "timestamp, binary, array<t>, map<k,v>, struct<name:t,...>";

}  // namespace

Result<std::string> Parser::Type(std::string_view column) { return TypeAt(column, 0); }

// Recursive for array<…>, map<…> and struct<…>, to at most kMaxTypeDepth levels.
Result<std::string> Parser::TypeAt(std::string_view column, int depth) {
  if (depth > kMaxTypeDepth)
    return ErrorAt(Peek().offset, fmt::format("the type of column '{}' is nested more than {} levels deep", column,
                                              kMaxTypeDepth));
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
    auto e = TypeAt(column, depth + 1);
    if (!e.ok()) return e.status();
    ORDERLAKE_RETURN_IF_ERROR(ExpectPunct('>', "to close array<...>"));
    return fmt::format("array<{}>", *e);
  }
  if (w == "MAP") {
    ORDERLAKE_RETURN_IF_ERROR(ExpectPunct('<', "after map"));
    auto k = TypeAt(column, depth + 1);
    if (!k.ok()) return k.status();
    ORDERLAKE_RETURN_IF_ERROR(ExpectPunct(',', "between the key and value types of map<k,v>"));
    auto v = TypeAt(column, depth + 1);
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
      auto ft = TypeAt(column, depth + 1);
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

Result<std::vector<std::pair<Column, size_t>>> Parser::ColumnList(std::string_view what) {
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

Result<DdlStatement> Parser::AlterTable() {
  AddPartitionsDdl d;
  auto ref = TableName();
  if (!ref.ok()) return ref.status();
  d.table = *ref;
  if (IsWord("SET") && IsWord("TBLPROPERTIES", 1)) {
    Next();
    Next();
    SetTblPropertiesDdl s{*ref, {}};
    auto props = Properties("SET TBLPROPERTIES", /*keep_case=*/true);
    if (!props.ok()) return props.status();
    s.properties = std::move(props).value();
    ORDERLAKE_RETURN_IF_ERROR(ExpectEnd());
    return DdlStatement(std::move(s));
  }
  if (!IsWord("ADD"))
    return ErrorAt(Peek().offset, fmt::format("refused: ALTER TABLE supports only ADD [IF NOT EXISTS] PARTITION "
                                              "(...) and SET TBLPROPERTIES (...), found {}",
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

namespace {

// SHOW TABLES [IN db] ['pattern'] | SHOW DATABASES | SHOW PARTITIONS t; nullopt for
// other SHOW statements (DuckDB's).
std::optional<Result<DdlStatement>> ParseShow(Parser& p) {
  auto end_then = [&](DdlStatement s) -> Result<DdlStatement> {
    ORDERLAKE_RETURN_IF_ERROR(p.ExpectEnd());
    return s;
  };
  if (p.IsWord("TABLES", 1)) {
    p.Next();
    p.Next();
    ShowTablesDdl d;
    if (p.default_database != "default") d.database = p.default_database;
    if (p.AcceptWord("IN") || p.AcceptWord("FROM")) {
      auto db = p.Identifier("a database name");
      if (!db.ok()) return Result<DdlStatement>(db.status());
      d.database = *db;
    }
    if (p.AcceptWord("LIKE") || p.Peek().kind == Token::kString) {
      auto pat = p.String("a pattern as a string, e.g. 'order*'");
      if (!pat.ok()) return Result<DdlStatement>(pat.status());
      d.pattern = *pat;
    }
    return end_then(d);
  }
  if ((p.IsWord("DATABASES", 1) || p.IsWord("SCHEMAS", 1)) && p.Peek(2).kind == Token::kEnd)
    return Result<DdlStatement>(DdlStatement(ShowDatabasesDdl{}));
  if (p.IsWord("TBLPROPERTIES", 1)) {
    p.Next();
    p.Next();
    auto ref = p.TableName();
    if (!ref.ok()) return Result<DdlStatement>(ref.status());
    return end_then(ShowTblPropertiesDdl{*ref});
  }
  if (p.IsWord("PARTITIONS", 1)) {
    p.Next();
    p.Next();
    auto ref = p.TableName();
    if (!ref.ok()) return Result<DdlStatement>(ref.status());
    return end_then(ShowPartitionsDdl{*ref});
  }
  return std::nullopt;
}

// DESCRIBE [FORMATTED|EXTENDED] t; nullopt for DuckDB's DESCRIBE (of a query, …).
std::optional<Result<DdlStatement>> ParseDescribe(Parser& p) {
  p.Next();
  DescribeDdl d;
  if (p.IsWord("FORMATTED") || p.IsWord("EXTENDED")) {
    p.Next();
    d.formatted = true;
    auto ref = p.TableName();
    if (!ref.ok()) return Result<DdlStatement>(ref.status());
    d.table = *ref;
    ORDERLAKE_RETURN_IF_ERROR(p.ExpectEnd());
    return Result<DdlStatement>(DdlStatement(d));
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
  if (!ref.ok()) return Result<DdlStatement>(ref.status());
  d.table = *ref;
  return Result<DdlStatement>(DdlStatement(d));
}

// The statement at the parser's position; nullopt when it is not Athena DDL.
std::optional<Result<DdlStatement>> ParseStatement(Parser& p) {
  auto end_then = [&](DdlStatement s) -> Result<DdlStatement> {
    ORDERLAKE_RETURN_IF_ERROR(p.ExpectEnd());
    return s;
  };
  if (p.IsWord("CREATE") && p.IsWord("EXTERNAL", 1)) {
    p.Next();
    p.Next();
    ORDERLAKE_RETURN_IF_ERROR(p.ExpectWord("TABLE"));
    return p.CreateTable();
  }
  if (p.IsWord("MSCK")) {
    p.Next();
    ORDERLAKE_RETURN_IF_ERROR(p.ExpectWord("REPAIR"));
    ORDERLAKE_RETURN_IF_ERROR(p.ExpectWord("TABLE"));
    auto ref = p.TableName();
    if (!ref.ok()) return Result<DdlStatement>(ref.status());
    return end_then(MsckRepairDdl{*ref});
  }
  if (p.IsWord("ALTER") && p.IsWord("TABLE", 1)) {
    p.Next();
    p.Next();
    return p.AlterTable();
  }
  if (p.IsWord("DROP") && p.IsWord("TABLE", 1)) {
    p.Next();
    p.Next();
    DropTableDdl d;
    if (p.AcceptWord("IF")) {
      ORDERLAKE_RETURN_IF_ERROR(p.ExpectWord("EXISTS"));
      d.if_exists = true;
    }
    auto ref = p.TableName();
    if (!ref.ok()) return Result<DdlStatement>(ref.status());
    d.table = *ref;
    return end_then(d);
  }
  if (p.IsWord("SHOW")) return ParseShow(p);
  if (p.IsWord("DESCRIBE") || p.IsWord("DESC")) return ParseDescribe(p);
  return std::nullopt;
}

}  // namespace
}  // namespace ddl

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
  std::filesystem::path p = std::filesystem::absolute(l, ec).lexically_normal();
  if (ec) return Status::Errorf("location '{}': {}", location, ec.message());
  std::string s = p.string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return "file://" + s;
}

std::set<std::string> ReferencedNames(std::string_view sql) {
  std::set<std::string> out;
  for (const Token& t : ScanSql(sql).tokens)
    if (t.kind != TokenKind::kOperator && t.kind != TokenKind::kParameter && !t.IsComment())
      out.insert(ddl::Lower(t.text));
  return out;
}

std::optional<Result<DdlStatement>> ParseAthenaDdl(std::string_view sql, std::string_view default_database) {
  ddl::Tokens tokens = ddl::Tokenize(sql);
  ddl::Parser p(sql, tokens.tokens);
  p.default_database = ddl::Lower(default_database);
  auto r = ddl::ParseStatement(p);
  if (!r) return std::nullopt;
  if (tokens.error_offset) return Result<DdlStatement>(p.ErrorAt(*tokens.error_offset, tokens.error));
  if (r->ok() && tokens.semicolon != std::string_view::npos &&
      sql.find_first_not_of(" \t\r\n;", tokens.semicolon) != std::string_view::npos)
    return Result<DdlStatement>(Status::Error("expected one statement, got more: run them one at a time"));
  return r;
}

}  // namespace orderlake::query
