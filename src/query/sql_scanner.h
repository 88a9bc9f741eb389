// The one SQL scanner: SQL text into tokens with their byte offset, line and column, as
// DuckDB's lexer (PostgreSQL's scan.l) splits it, or as Hive/Athena DDL is written.
//
// DuckDB dialect (the default):
//   - identifiers and keywords: [A-Za-z_\x80-\xff][A-Za-z0-9_$\x80-\xff]*
//   - numbers: 12, 1_000, 3.25, .5, 1e-3 (a number is never followed by letters: 12abc is
//     the number 12 and the identifier abc, as DuckDB reads it)
//   - 'strings' with '' for a quote; E'strings' with backslash escapes as well
//   - "quoted identifiers" with "" for a quote
//   - $$dollar-quoted strings$$ and $tag$…$tag$ (tags are case-sensitive identifiers not
//     starting with a digit); $1 is a parameter
//   - -- line comments (to the end of the line) and /* block comments */, which nest
//   - operators (longest match of ::, <=, >=, <>, !=, ||, ->>, ->, =>, :=, **, <<, >>) and
//     punctuation, one token each
// Hive dialect (Athena DDL): `backquoted names`; backslash escapes (\t \n \r \0 \ooo \uXXXX
// \\ \' \") in both 'strings' and "double-quoted" text; words may start with a digit (an
// all-digit word is a number); no dollar quotes; every other character is one operator.
//
// Scanning never throws: an unterminated string, quoted name, dollar quote or block comment
// stops the scan with an error naming the opening position (PositionMessage formats it).
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace orderlake::query {

enum class TokenKind {
  kIdentifier,         // a bare word that is not a keyword
  kKeyword,            // a bare word that DuckDB reserves (SELECT, FROM, …)
  kNumber,             // 12, 3.5, 1e6
  kString,             // '…', E'…'; text is the value
  kDollarString,       // $$…$$ or $tag$…$tag$; text is the value
  kQuotedIdentifier,   // "…"; text is the name
  kBackquoted,         // `…` (Hive dialect); text is the name
  kParameter,          // $1, ?1
  kOperator,           // operators and punctuation: ( ) , ; . = <> :: …
  kLineComment,        // -- …; text is what follows "--" up to the end of the line
  kBlockComment,       // /* … */; text is what is between the markers
};

enum class SqlDialect { kDuckDb, kHive };

struct Token {
  TokenKind kind = TokenKind::kOperator;
  std::string text;    // see TokenKind; bare words and operators as written
  size_t offset = 0;   // of the token's first byte in the scanned text
  size_t length = 0;   // bytes, quotes and comment markers included
  int line = 1;        // 1-based
  int column = 1;      // 1-based, in characters (UTF-8 sequences count once)

  bool IsWord() const { return kind == TokenKind::kIdentifier || kind == TokenKind::kKeyword; }
  // A bare word equal to `upper_word` (given in upper case), case-insensitively.
  bool IsWord(std::string_view upper_word) const;
  bool IsOperator(std::string_view op) const { return kind == TokenKind::kOperator && text == op; }
  bool IsComment() const { return kind == TokenKind::kLineComment || kind == TokenKind::kBlockComment; }
  // The text in upper case (ASCII letters only).
  std::string Upper() const;
  size_t end() const { return offset + length; }
};

struct ScanError {
  size_t offset = 0;  // where the unterminated string, name or comment opens
  int line = 1;
  int column = 1;
  std::string message;  // "unterminated string (missing ')", …
};

struct ScanResult {
  std::vector<Token> tokens;       // up to the error, if any
  std::optional<ScanError> error;  // the scan stopped here
};

// Every token of `sql`, comments included, in order.
ScanResult ScanSql(std::string_view sql, SqlDialect dialect = SqlDialect::kDuckDb);

// The same without comments.
ScanResult ScanSqlWithoutComments(std::string_view sql, SqlDialect dialect = SqlDialect::kDuckDb);

// True for the words DuckDB reserves (the ones ScanSql marks kKeyword); `upper` in upper case.
bool IsReservedKeyword(std::string_view upper);

// "line 3, column 14: <message>" followed by that line of `sql` and a caret under the
// column (each on a line of its own, indented two spaces).
std::string PositionMessage(std::string_view sql, size_t offset, std::string_view message);

}  // namespace orderlake::query
