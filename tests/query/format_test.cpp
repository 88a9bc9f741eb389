// Output formats: exact text for a small result.
#include "query/format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "query/engine.h"
#include "test_util.h"

namespace orderlake::query {
namespace {
using ::testing::HasSubstr;

QueryResult Small() {
  QueryResult r;
  r.columns = {{"n", "INTEGER", true}, {"s", "VARCHAR", false}, {"d", "DOUBLE", true}, {"b", "BOOLEAN", false}};
  r.rows = {
      {Value::Int(1), Value::Text("plain"), Value::Double(2.5), Value::Bool(true)},
      {Value::Int(22), Value::Text("a,b \"c\""), Value::Null(), Value::Null()},
      {Value::Null(), Value::Text(""), Value::Double(-0.125), Value::Bool(false)},
  };
  return r;
}

TEST(QueryFormat, Table) {
  EXPECT_EQ(FormatResult(Small(), OutputFormat::kTable),
            "    n | s       |      d | b\n"
            "------+---------+--------+-------\n"
            "    1 | plain   |    2.5 | true\n"
            "   22 | a,b \"c\" |   NULL | NULL\n"
            " NULL |         | -0.125 | false\n"
            "(3 rows)\n");
  QueryResult one;
  one.columns = {{"Country", "VARCHAR", false}, {"n", "BIGINT", true}};
  one.rows = {{Value::Text("Côte d'Ivoire"), Value::Int(3)}};
  EXPECT_EQ(FormatResult(one, OutputFormat::kTable),
            " Country       | n\n"
            "---------------+---\n"
            " Côte d'Ivoire | 3\n"
            "(1 row)\n");
  one.rows.clear();
  EXPECT_EQ(FormatResult(one, OutputFormat::kTable),
            " Country | n\n"
            "---------+---\n"
            "(0 rows)\n");
}

TEST(QueryFormat, TableHandlesWideCharactersLineBreaksAndControlCharacters) {
  QueryResult r;
  r.columns = {{"a", "VARCHAR", false}, {"b", "VARCHAR", false}};
  r.rows = {{Value::Text("日本"), Value::Text("two\nlines")}, {Value::Text("t\tab\x1b[2J"), Value::Text("x")}};
  EXPECT_EQ(FormatResult(r, OutputFormat::kTable),
            " a            | b\n"
            "--------------+-------\n"
            " 日本         | two\n"
            "              | lines\n"
            " t\\tab\\x1B[2J | x\n"
            "(2 rows)\n");
  EXPECT_EQ(DisplayWidth("日本"), 4u);
  EXPECT_EQ(DisplayWidth("Côte"), 4u);
  EXPECT_EQ(DisplayWidth("e\xCC\x81"), 1u);  // e + combining acute
}

TEST(QueryFormat, Csv) {
  EXPECT_EQ(FormatResult(Small(), OutputFormat::kCsv),
            "n,s,d,b\n"
            "1,plain,2.5,true\n"
            "22,\"a,b \"\"c\"\"\",,\n"
            ",\"\",-0.125,false\n");
  EXPECT_EQ(CsvField("line\nbreak"), "\"line\nbreak\"");
  EXPECT_EQ(CsvField("cr\r"), "\"cr\r\"");
  EXPECT_EQ(CsvField("plain text"), "plain text");
}

TEST(QueryFormat, Json) {
  EXPECT_EQ(FormatResult(Small(), OutputFormat::kJson),
            "[\n"
            "{\"n\":1,\"s\":\"plain\",\"d\":2.5,\"b\":true},\n"
            "{\"n\":22,\"s\":\"a,b \\\"c\\\"\",\"d\":null,\"b\":null},\n"
            "{\"n\":null,\"s\":\"\",\"d\":-0.125,\"b\":false}\n"
            "]\n");
  EXPECT_EQ(FormatResult(Small(), OutputFormat::kJsonLines),
            "{\"n\":1,\"s\":\"plain\",\"d\":2.5,\"b\":true}\n"
            "{\"n\":22,\"s\":\"a,b \\\"c\\\"\",\"d\":null,\"b\":null}\n"
            "{\"n\":null,\"s\":\"\",\"d\":-0.125,\"b\":false}\n");
  QueryResult empty;
  empty.columns = {{"a", "INTEGER", true}};
  EXPECT_EQ(FormatResult(empty, OutputFormat::kJson), "[]\n");
  EXPECT_EQ(FormatResult(empty, OutputFormat::kJsonLines), "");
  EXPECT_EQ(JsonString("tab\there\nnew \"q\" back\\ \x01 é"), "\"tab\\there\\nnew \\\"q\\\" back\\\\ \\u0001 é\"");
}

TEST(QueryFormat, JsonKeepsKeysUniqueAndNonFiniteNumbersValid) {
  QueryResult r;
  r.columns = {{"a", "INTEGER", true}, {"a", "DOUBLE", true}, {"a", "DOUBLE", true}};
  r.rows = {{Value::Int(1), Value::Double(1.0 / 0.0), Value::Double(0.0 / 0.0)}};
  EXPECT_EQ(FormatResult(r, OutputFormat::kJsonLines), "{\"a\":1,\"a_2\":null,\"a_3\":null}\n");
}

TEST(QueryFormat, DoublesAreShortestRoundTrip) {
  EXPECT_EQ(FormatDouble(0.1), "0.1");
  EXPECT_EQ(FormatDouble(2.0), "2");
  EXPECT_EQ(FormatDouble(1234.5678), "1234.5678");
  EXPECT_EQ(FormatDouble(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(FormatDouble(1e21), "1e+21");
  EXPECT_EQ(FormatDouble(-1.0 / 0.0), "-inf");
  for (double d : {0.1, 1.0 / 3, 6.02214076e23, 5e-324, 123456789.123})
    EXPECT_EQ(std::strtod(FormatDouble(d).c_str(), nullptr), d);
}

TEST(QueryFormat, RealResultsThroughTheEngine) {
  orderlake::testing::TempDir dir;
  auto e = Engine::Open(dir.path());
  ASSERT_TRUE(e.ok());
  auto r = (*e)->Execute(
      "SELECT 'x' AS \"a b\", 1.50::DECIMAL(5,2) AS dec, [1, 2] AS l, DATE '2010-12-01' AS d, "
      "NULL AS nothing, 7::HUGEINT AS h");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(FormatResult(*r, OutputFormat::kJsonLines),
            "{\"a b\":\"x\",\"dec\":1.50,\"l\":\"[1, 2]\",\"d\":\"2010-12-01\",\"nothing\":null,\"h\":7}\n");
  EXPECT_EQ(FormatResult(*r, OutputFormat::kCsv),
            "a b,dec,l,d,nothing,h\n"
            "x,1.50,\"[1, 2]\",2010-12-01,,7\n");
  EXPECT_EQ(FormatResult(*r, OutputFormat::kTable),
            " a b |  dec | l      | d          | nothing | h\n"
            "-----+------+--------+------------+---------+---\n"
            " x   | 1.50 | [1, 2] | 2010-12-01 |    NULL | 7\n"
            "(1 row)\n");
  // EXPLAIN prints the plan itself, not a two-column table.
  auto plan = (*e)->Execute("EXPLAIN SELECT 1");
  ASSERT_TRUE(plan.ok());
  std::string text = FormatResult(*plan, OutputFormat::kTable);
  EXPECT_THAT(text, HasSubstr("PROJECTION"));
  EXPECT_EQ(text.find("explain_key"), std::string::npos);
}

TEST(QueryFormat, FormatNames) {
  for (auto f : {OutputFormat::kTable, OutputFormat::kCsv, OutputFormat::kJson, OutputFormat::kJsonLines})
    EXPECT_EQ(ParseOutputFormat(OutputFormatName(f)), f);
  EXPECT_FALSE(ParseOutputFormat("xml").has_value());
}

}  // namespace
}  // namespace orderlake::query
