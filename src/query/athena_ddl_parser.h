// Internal to the Athena DDL (athena_ddl.h): the parser's tokens, read by the one SQL
// scanner (sql_scanner.h) in its Hive dialect, and the recursive-descent Parser that turns
// them into a DdlStatement. The parser lives in athena_ddl_parser.cpp (statements, names,
// types) and athena_ddl_create.cpp (CREATE EXTERNAL TABLE); the executor over the catalog in
// athena_ddl_executor.cpp.
#pragma once
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "query/athena_ddl.h"
#include "query/sql_scanner.h"

namespace orderlake::query::ddl {

using catalog::Column;
using catalog::Partition;
using catalog::Table;

inline std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

inline std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

inline bool IEquals(std::string_view a, std::string_view b) { return Lower(a) == Lower(b); }

inline std::string QName(const catalog::Table& t) { return t.database + "." + t.name; }

inline bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A token as the parser sees it: the scanner's, with words and numbers alike as kWord
// (Hive names may start with a digit) and a kEnd token at the end of the statement.
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

Tokens Tokenize(std::string_view sql);

// "the end of the statement", "the string 'x'", "'('", … for messages.
std::string Describe(const Token& t);

// Nested types (array<array<…>>, struct<…>) deeper than this are a syntax error.
inline constexpr int kMaxTypeDepth = 100;

struct CreateClauses;  // athena_ddl_create.cpp

class Parser {
 public:
  Parser(std::string_view sql, std::vector<Token> tokens) : sql_(sql), t_(std::move(tokens)) {}
  // The database of unqualified table names ("default" unless set).
  std::string default_database = "default";

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
    ref.database = default_database;
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
  // Keys are lower-cased unless `keep_case` (Delta's property names are camelCase).
  Result<std::vector<std::pair<std::string, std::string>>> Properties(std::string_view clause, bool keep_case = false) {
    std::vector<std::pair<std::string, std::string>> out;
    ORDERLAKE_RETURN_IF_ERROR(ExpectPunct('(', fmt::format("after {}", clause)));
    for (;;) {
      auto k = String(fmt::format("a property name ('name'='value') in {}", clause));
      if (!k.ok()) return k.status();
      ORDERLAKE_RETURN_IF_ERROR(ExpectPunct('=', fmt::format("after the property name '{}'", *k)));
      auto v = String(fmt::format("the value of '{}' as a string", *k));
      if (!v.ok()) return v.status();
      out.emplace_back(keep_case ? *k : Lower(*k), *v);
      if (AcceptPunct(',')) continue;
      ORDERLAKE_RETURN_IF_ERROR(ExpectPunct(')', fmt::format("after the {} list", clause)));
      return out;
    }
  }

  // An Athena type, normalized to lower case ("decimal(10,2)", "array<string>").

  // An Athena type, normalized to lower case ("decimal(10,2)", "array<string>").
  Result<std::string> Type(std::string_view column);

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
  Result<std::vector<std::pair<Column, size_t>>> ColumnList(std::string_view what);

  Result<DdlStatement> CreateTable();
  Result<DdlStatement> AlterTable();

 private:
  // CREATE EXTERNAL TABLE's pieces (athena_ddl_create.cpp).
  Status CreateClause(CreateClauses& c, CreateTableDdl& d);
  Status RowFormat(CreateClauses& c, CreateTableDdl& d);
  Status StoredAs(CreateClauses& c);
  Status FinishColumns(const CreateClauses& c, CreateTableDdl& d);
  Status FinishFormat(const CreateClauses& c, CreateTableDdl& d);
  Status FinishProperties(const CreateClauses& c, CreateTableDdl& d);
  Result<std::string> TypeAt(std::string_view column, int depth);

  std::string_view sql_;
  std::vector<Token> t_;
  size_t i_ = 0;
};

// ALTER TABLE … SET TBLPROPERTIES and SHOW TBLPROPERTIES of the lake's own Delta table
// (athena_ddl_properties.cpp).
Result<QueryResult> RunSetTblProperties(const SetTblPropertiesDdl& d, const DdlContext& ctx);
Result<QueryResult> RunShowTblProperties(const ShowTblPropertiesDdl& d, const DdlContext& ctx);

}  // namespace orderlake::query::ddl
