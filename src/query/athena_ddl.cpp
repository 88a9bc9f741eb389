#include "query/athena_ddl.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "query/engine.h"
#include "query/schema.h"

namespace orderlake::query {
namespace {

struct Token {
  enum Kind { kWord, kQuotedIdent, kString, kPunct } kind;
  std::string text;  // words upper-cased in `upper`; identifiers without their quotes
  std::string upper;
};

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

bool IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}

// Tokens of an Athena (Hive) DDL statement, comments dropped; stops at a ';'.
std::vector<Token> Tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      size_t eol = s.find('\n', i);
      i = eol == std::string_view::npos ? s.size() : eol + 1;
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      size_t close = s.find("*/", i + 2);
      i = close == std::string_view::npos ? s.size() : close + 2;
    } else if (c == '`' || c == '"' || c == '\'') {
      size_t j = i + 1;
      std::string text;
      while (j < s.size()) {
        if (s[j] == c && j + 1 < s.size() && s[j + 1] == c) {
          text += c;
          j += 2;
        } else if (s[j] == c) {
          break;
        } else {
          text += s[j++];
        }
      }
      out.push_back({c == '\'' ? Token::kString : Token::kQuotedIdent, text, Upper(text)});
      i = j + 1;
    } else if (IsWordChar(c)) {
      size_t j = i;
      while (j < s.size() && IsWordChar(s[j])) ++j;
      std::string text(s.substr(i, j - i));
      out.push_back({Token::kWord, text, Upper(text)});
      i = j;
    } else {
      if (c == ';') break;
      out.push_back({Token::kPunct, std::string(1, c), std::string(1, c)});
      ++i;
    }
  }
  return out;
}

bool IsWord(const std::vector<Token>& t, size_t i, std::string_view w) {
  return i < t.size() && t[i].kind == Token::kWord && t[i].upper == w;
}

bool IsPunct(const std::vector<Token>& t, size_t i, char p) {
  return i < t.size() && t[i].kind == Token::kPunct && t[i].text[0] == p;
}

// [db.]name at i; returns the table name (lower case) and advances i.
std::string TableName(const std::vector<Token>& t, size_t& i) {
  std::string name;
  while (i < t.size() && (t[i].kind == Token::kWord || t[i].kind == Token::kQuotedIdent)) {
    name = t[i].text;
    ++i;
    if (!IsPunct(t, i, '.')) break;
    ++i;
  }
  return Lower(name);
}

// Column names of a "(name type, name type<...>, ...)" list starting at i (at '(');
// advances i past the closing ')'.
std::vector<std::string> ColumnList(const std::vector<Token>& t, size_t& i) {
  std::vector<std::string> names;
  if (!IsPunct(t, i, '(')) return names;
  int depth = 0;
  bool expect_name = true;
  for (; i < t.size(); ++i) {
    const Token& tok = t[i];
    if (tok.kind == Token::kPunct) {
      char p = tok.text[0];
      if (p == '(' || p == '<') ++depth;
      if (p == ')' || p == '>') --depth;
      if (depth == 0) {
        ++i;
        break;
      }
      if (depth == 1 && (p == ',' || p == '(')) expect_name = true;
      continue;
    }
    if (depth == 1 && expect_name && (tok.kind == Token::kWord || tok.kind == Token::kQuotedIdent)) {
      names.push_back(tok.text);
      expect_name = false;
    }
  }
  return names;
}

bool IsLakeTable(const std::string& name) { return name == kOrdersTable || name == kLegacyOrdersTable; }

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

std::optional<Result<std::vector<std::string>>> AthenaDdlNoOp(std::string_view sql, std::string_view location) {
  std::vector<Token> t = Tokenize(sql);
  size_t i = 0;
  if (IsWord(t, 0, "MSCK") && IsWord(t, 1, "REPAIR") && IsWord(t, 2, "TABLE")) {
    i = 3;
    std::string name = TableName(t, i);
    if (!IsLakeTable(name))
      return Result<std::vector<std::string>>(Status::Errorf("MSCK REPAIR TABLE: no table '{}' (the lake has {} and {})",
                                                             name, kOrdersTable, kLegacyOrdersTable));
    return Result<std::vector<std::string>>(std::vector<std::string>{fmt::format(
        "MSCK REPAIR TABLE {}: nothing to do, partitions are found in {} at every query", name, location)});
  }
  if (!(IsWord(t, 0, "CREATE") && IsWord(t, 1, "EXTERNAL") && IsWord(t, 2, "TABLE"))) return std::nullopt;
  i = 3;
  if (IsWord(t, i, "IF") && IsWord(t, i + 1, "NOT") && IsWord(t, i + 2, "EXISTS")) i += 3;
  std::string name = TableName(t, i);
  if (!IsLakeTable(name))
    return Result<std::vector<std::string>>(Status::Errorf(
        "refused: CREATE EXTERNAL TABLE {}: the query endpoint is read-only; its tables are {} and {}, "
        "defined over the lake",
        name.empty() ? "(no name)" : name, kOrdersTable, kLegacyOrdersTable));
  std::vector<std::string> columns = ColumnList(t, i);
  std::vector<std::string> partitions;
  for (; i < t.size(); ++i)
    if (IsWord(t, i, "PARTITIONED") && IsWord(t, i + 1, "BY")) {
      i += 2;
      partitions = ColumnList(t, i);
      break;
    }

  std::vector<std::string> notices;
  notices.push_back(fmt::format("CREATE EXTERNAL TABLE {}: accepted, nothing to do: the table is defined over {}",
                                name, location));
  auto known = [](const std::string& c) {
    return std::any_of(kOrdersSchema.begin(), kOrdersSchema.end(),
                       [&](const TableColumn& k) { return Lower(k.name) == Lower(c); });
  };
  std::vector<std::string> both, unknown;
  for (const auto& c : columns) {
    bool is_partition = std::any_of(partitions.begin(), partitions.end(),
                                    [&](const std::string& p) { return Lower(p) == Lower(c); });
    if (is_partition) both.push_back(c);
    if (!known(c)) unknown.push_back(c);
  }
  for (const auto& p : partitions)
    if (!known(p)) unknown.push_back(p);
  if (!both.empty())
    notices.push_back(fmt::format(
        "warning: {} declared both as columns and as partition keys (Athena rejects this); treated as "
        "partition keys",
        Join(both)));
  if (!unknown.empty()) notices.push_back(fmt::format("warning: the lake has no column {}: ignored", Join(unknown)));
  return Result<std::vector<std::string>>(std::move(notices));
}

}  // namespace orderlake::query
