// Splitting scripts into statements.
#include "query/script.h"

#include <gtest/gtest.h>

namespace orderlake::query {
namespace {

TEST(QueryScript, SplitsAtSemicolonsOutsideQuotesAndComments) {
  auto st = ScriptStatements(
      "-- file header\n"
      "\n"
      "-- 1. First\n"
      "SELECT 'a;b', \"c;d\" FROM t; -- trailing\n"
      "/* block; comment */\n"
      "-- 2. Second\n"
      "SELECT E'it\\'s;', $$dollar;$$, $tag$x;$tag$\n"
      "  -- inside; the statement\n"
      "  FROM u;\n"
      "SELECT 3");
  ASSERT_EQ(st.size(), 3u);
  EXPECT_EQ(st[0].sql, "SELECT 'a;b', \"c;d\" FROM t");
  EXPECT_EQ(st[0].title, "1. First");
  EXPECT_EQ(st[0].line, 4);
  EXPECT_EQ(st[1].sql, "SELECT E'it\\'s;', $$dollar;$$, $tag$x;$tag$\n  -- inside; the statement\n  FROM u");
  EXPECT_EQ(st[1].title, "2. Second");
  EXPECT_EQ(st[1].line, 7);
  EXPECT_EQ(st[2].sql, "SELECT 3");
  EXPECT_EQ(st[2].title, "");
  EXPECT_EQ(st[2].line, 10);
}

TEST(QueryScript, DoubledQuotesAndEmptyStatements) {
  auto st = ScriptStatements("SELECT 'it''s; fine';;  ; \n -- only a comment\n");
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].sql, "SELECT 'it''s; fine'");
  EXPECT_TRUE(ScriptStatements("-- nothing\n/* here */").empty());
}

TEST(QueryScript, ReportsWhatIsUnfinished) {
  SplitResult r = SplitStatements("SELECT 1; SELECT 'open;");
  ASSERT_EQ(r.statements.size(), 1u);
  ASSERT_TRUE(r.unterminated.has_value());
  EXPECT_EQ(r.unterminated->sql, "SELECT 'open;");
  EXPECT_TRUE(r.open_quote);
  EXPECT_EQ(r.rest_offset, 9u);
  SplitResult c = SplitStatements("SELECT 1; /* open");
  EXPECT_TRUE(c.open_quote);
  EXPECT_FALSE(c.unterminated.has_value());
  SplitResult p = SplitStatements("SELECT $1, 2;");
  EXPECT_EQ(p.statements.size(), 1u);
  EXPECT_FALSE(p.open_quote);
}

TEST(QueryScript, OneLine) {
  EXPECT_EQ(OneLine("SELECT *\n  FROM   t\n"), "SELECT * FROM t");
  EXPECT_EQ(OneLine(std::string(200, 'x'), 10), "xxxxxxxxxx...");
}

}  // namespace
}  // namespace orderlake::query
