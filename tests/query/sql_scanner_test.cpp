// The one SQL scanner: every token kind, positions, errors, dialects.
#include "query/sql_scanner.h"

#include <gtest/gtest.h>

#include "query/script.h"

namespace orderlake::query {
namespace {

std::vector<Token> Tokens(std::string_view sql, SqlDialect d = SqlDialect::kDuckDb) {
  ScanResult r = ScanSql(sql, d);
  EXPECT_FALSE(r.error) << r.error->message;
  return r.tokens;
}

TEST(SqlScanner, WordsKeywordsNumbersAndOperators) {
  auto t = Tokens("SELECT a_1, \"Weird \"\"x\"\"\" FROM t WHERE n >= 1_000 AND x::int <> 3.5e-2 || .5");
  ASSERT_EQ(t.size(), 18u);
  EXPECT_EQ(t[0].kind, TokenKind::kKeyword);
  EXPECT_TRUE(t[0].IsWord("SELECT"));
  EXPECT_EQ(t[1].kind, TokenKind::kIdentifier);
  EXPECT_EQ(t[1].text, "a_1");
  EXPECT_TRUE(t[2].IsOperator(","));
  EXPECT_EQ(t[3].kind, TokenKind::kQuotedIdentifier);
  EXPECT_EQ(t[3].text, "Weird \"x\"");
  EXPECT_EQ(t[3].length, 13u);
  EXPECT_TRUE(t[8].IsOperator(">="));
  EXPECT_EQ(t[9].kind, TokenKind::kNumber);
  EXPECT_EQ(t[9].text, "1_000");
  EXPECT_TRUE(t[12].IsOperator("::"));
  EXPECT_TRUE(t[14].IsOperator("<>"));
  EXPECT_EQ(t[15].text, "3.5e-2");
  EXPECT_TRUE(t[16].IsOperator("||"));
  EXPECT_EQ(t[17].kind, TokenKind::kNumber);
  EXPECT_EQ(t[17].text, ".5");
}

TEST(SqlScanner, NumberFollowedByLettersIsTwoTokens) {
  auto t = Tokens("SELECT 12abc");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[1].kind, TokenKind::kNumber);
  EXPECT_EQ(t[1].text, "12");
  EXPECT_EQ(t[2].kind, TokenKind::kIdentifier);
  EXPECT_EQ(t[2].text, "abc");
}

TEST(SqlScanner, StringsAndTheirEscapes) {
  auto t = Tokens("'it''s' E'a\\'b\\n' e'x' nE'y'");
  ASSERT_EQ(t.size(), 5u);
  EXPECT_EQ(t[0].kind, TokenKind::kString);
  EXPECT_EQ(t[0].text, "it's");
  EXPECT_EQ(t[1].kind, TokenKind::kString);
  EXPECT_EQ(t[1].text, "a'b\n");
  EXPECT_EQ(t[1].offset, 8u);  // at the E
  EXPECT_EQ(t[2].text, "x");
  EXPECT_EQ(t[3].kind, TokenKind::kIdentifier);  // nE is a name, then a plain string
  EXPECT_EQ(t[3].text, "nE");
  EXPECT_EQ(t[4].text, "y");
  // Without E, a backslash is an ordinary character.
  auto plain = Tokens("'a\\' , 'b'");
  ASSERT_EQ(plain.size(), 3u);
  EXPECT_EQ(plain[0].text, "a\\");
}

TEST(SqlScanner, DollarQuotesAndParameters) {
  auto t = Tokens("$$a;'b$$ $tag$x $$ y$tag$ $1 $name ? a$b");
  ASSERT_EQ(t.size(), 6u);
  EXPECT_EQ(t[0].kind, TokenKind::kDollarString);
  EXPECT_EQ(t[0].text, "a;'b");
  EXPECT_EQ(t[1].kind, TokenKind::kDollarString);
  EXPECT_EQ(t[1].text, "x $$ y");
  EXPECT_EQ(t[2].kind, TokenKind::kParameter);
  EXPECT_EQ(t[2].text, "$1");
  EXPECT_EQ(t[3].kind, TokenKind::kParameter);
  EXPECT_EQ(t[3].text, "$name");
  EXPECT_EQ(t[4].kind, TokenKind::kParameter);
  EXPECT_EQ(t[5].kind, TokenKind::kIdentifier);  // $ continues a name, as in DuckDB
  EXPECT_EQ(t[5].text, "a$b");
  // Tags are case-sensitive.
  auto c = Tokens("$a$x$A$y$a$");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].text, "x$A$y");
}

TEST(SqlScanner, CommentsNestAsInDuckDb) {
  auto t = Tokens("SELECT /* a /* b */ c */ 1 -- rest; of line\n, 2");
  ASSERT_EQ(t.size(), 6u);
  EXPECT_EQ(t[1].kind, TokenKind::kBlockComment);
  EXPECT_EQ(t[1].text, " a /* b */ c ");
  EXPECT_EQ(t[2].text, "1");
  EXPECT_EQ(t[3].kind, TokenKind::kLineComment);
  EXPECT_EQ(t[3].text, " rest; of line");
  EXPECT_TRUE(t[4].IsOperator(","));
  auto no_comments = ScanSqlWithoutComments("/* x */ SELECT -- y\n 1");
  ASSERT_EQ(no_comments.tokens.size(), 2u);
  EXPECT_TRUE(no_comments.tokens[0].IsWord("SELECT"));
}

TEST(SqlScanner, PositionsAreLinesAndCharacterColumns) {
  auto t = Tokens("SELECT\n  'é', x\n\tFROM t");
  ASSERT_EQ(t.size(), 6u);
  EXPECT_EQ(t[0].line, 1);
  EXPECT_EQ(t[0].column, 1);
  EXPECT_EQ(t[1].line, 2);
  EXPECT_EQ(t[1].column, 3);
  EXPECT_EQ(t[1].offset, 9u);
  EXPECT_EQ(t[3].text, "x");
  EXPECT_EQ(t[3].column, 8);  // 'é' is 3 characters, 4 bytes
  EXPECT_EQ(t[4].line, 3);
  EXPECT_EQ(t[4].column, 2);
}

TEST(SqlScanner, UnterminatedPiecesAreErrorsWithTheirPosition) {
  struct Case {
    const char* sql;
    size_t offset;
    int line, column;
    const char* message;
  } cases[] = {
      {"SELECT 'open", 7, 1, 8, "unterminated string (missing ')"},
      {"SELECT\n  \"name", 9, 2, 3, "unterminated quoted name (missing \")"},
      {"SELECT 1 /* a /* b */", 9, 1, 10, "unterminated comment (missing */)"},
      {"SELECT $q$ body", 7, 1, 8, "unterminated dollar-quoted string (missing $q$)"},
      {"SELECT E'x\\'", 7, 1, 8, "unterminated string (missing ')"},
  };
  for (const auto& c : cases) {
    ScanResult r = ScanSql(c.sql);
    ASSERT_TRUE(r.error) << c.sql;
    EXPECT_EQ(r.error->offset, c.offset) << c.sql;
    EXPECT_EQ(r.error->line, c.line) << c.sql;
    EXPECT_EQ(r.error->column, c.column) << c.sql;
    EXPECT_EQ(r.error->message, c.message) << c.sql;
    EXPECT_TRUE(r.tokens.size() >= 1u && r.tokens[0].IsWord("SELECT")) << c.sql;
  }
  ScanResult hive = ScanSql("x `open", SqlDialect::kHive);
  ASSERT_TRUE(hive.error);
  EXPECT_EQ(hive.error->message, "unterminated quoted name (missing `)");
}

TEST(SqlScanner, HiveDialect) {
  auto t = Tokens("`my col` 'a\\tb\\u00e9\\101' \"q\\\"\" 2010 1x array<array<int>> $x", SqlDialect::kHive);
  ASSERT_EQ(t.size(), 14u);
  EXPECT_EQ(t[0].kind, TokenKind::kBackquoted);
  EXPECT_EQ(t[0].text, "my col");
  EXPECT_EQ(t[1].kind, TokenKind::kString);
  EXPECT_EQ(t[1].text, "a\tb\xc3\xa9" "A");
  EXPECT_EQ(t[2].kind, TokenKind::kQuotedIdentifier);
  EXPECT_EQ(t[2].text, "q\"");
  EXPECT_EQ(t[3].kind, TokenKind::kNumber);
  EXPECT_EQ(t[4].kind, TokenKind::kIdentifier);  // Hive names may start with a digit
  EXPECT_EQ(t[4].text, "1x");
  EXPECT_TRUE(t[10].IsOperator(">"));  // one character each: no >> operator
  EXPECT_TRUE(t[11].IsOperator(">"));
  EXPECT_TRUE(t[12].IsOperator("$"));
  // Hive's block comments do not nest.
  auto c = Tokens("/* a /* b */ x", SqlDialect::kHive);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[1].text, "x");
}

TEST(SqlScanner, SemicolonsInsideQuotesAndCommentsDoNotSplitStatements) {
  auto st = ScriptStatements(
      "SELECT ';' AS a, \";\" AS b; /* ; */ SELECT $$;$$, $t$ ; $t$ -- ;\n, E'\\';' ; "
      "SELECT /* nested /* ; */ ; */ 3");
  ASSERT_EQ(st.size(), 3u);
  EXPECT_EQ(st[0].sql, "SELECT ';' AS a, \";\" AS b");
  EXPECT_EQ(st[1].sql, "SELECT $$;$$, $t$ ; $t$ -- ;\n, E'\\';'");
  EXPECT_EQ(st[2].sql, "SELECT /* nested /* ; */ ; */ 3");
}

TEST(SqlScanner, PositionMessageShowsTheLineAndACaret) {
  EXPECT_EQ(PositionMessage("SELECT\n  x é y", 13, "here"), "line 2, column 6: here\n    x é y\n       ^");
}

}  // namespace
}  // namespace orderlake::query
