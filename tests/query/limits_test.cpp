// Issue 16 in the query stage: a symbolic link inside the lake does not let `orderlake
// query` read outside it (defect 6), and statements nested far too deep end with an error,
// not a signal (defect 7).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "lake_fixture.h"
#include "query/confine.h"
#include "query/engine.h"
#include "test_util.h"

namespace orderlake::query {
namespace {
namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using orderlake::testing::CommandResult;
using orderlake::testing::run_orderlake;
using orderlake::testing::TempDir;
using orderlake::testing::write_file;

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

class QueryLimits : public ::testing::Test {
 protected:
  void SetUp() override {
    lake_ = fs::canonical(dir_.path()) / "lake";
    testing::WriteOrders(lake_, testing::OrdersSelect(testing::SampleRows()));
  }
  CommandResult Query(std::vector<std::string> args) {
    args.insert(args.begin(), {"query", "--lake", lake_.string(), "--catalog", (dir_.path() / "catalog.db").string()});
    return run_orderlake(args, 120);
  }
  CommandResult QueryFile(const std::string& sql) {
    const fs::path f = dir_.path() / "statement.sql";
    write_file(f, sql);
    return Query({"-f", f.string()});
  }
  TempDir dir_;
  fs::path lake_;
};

TEST_F(QueryLimits, ConfinerAllowsTheRootsWholeUntilALinkLeadsOut) {
  Confiner c;
  const std::string root = lake_.string() + "/";
  auto clean = c.Confine({root});
  ASSERT_TRUE(clean.ok()) << clean.status().message();
  EXPECT_EQ(clean->directories, std::vector<std::string>{root});
  EXPECT_THAT(clean->files, IsEmpty());
  // A link to a file inside is harmless; a link out, to a directory or dangling is not.
  fs::create_directory_symlink("/etc", lake_ / "evil");
  fs::create_symlink(lake_ / "orders", lake_ / "orders_again");
  write_file(lake_ / "note.txt", "x");
  fs::create_symlink(lake_ / "note.txt", lake_ / "note_link.txt");
  fs::create_symlink("/no/such/file", lake_ / "orders" / "dangling.csv");
  auto dirty = c.Confine({root});
  ASSERT_TRUE(dirty.ok()) << dirty.status().message();
  EXPECT_THAT(dirty->directories, Not(::testing::Contains(root)));
  EXPECT_THAT(dirty->files, ::testing::Contains(root + "note.txt"));
  EXPECT_THAT(dirty->files, ::testing::Contains(root + "note_link.txt"));
  for (const auto& d : dirty->directories) EXPECT_THAT(d, AllOf(Not(HasSubstr("evil")), Not(HasSubstr("orders_again"))));
  for (const auto& f : dirty->files) EXPECT_THAT(f, AllOf(Not(HasSubstr("evil")), Not(HasSubstr("dangling"))));
  EXPECT_EQ(dirty->escapes.size(), 3u);
  EXPECT_THAT(dirty->Explain(), HasSubstr(root + "evil -> /etc"));
  // Removed again: the next walk sees it (the listing is read again on a new mtime).
  fs::remove(lake_ / "evil");
  fs::remove(lake_ / "orders_again");
  fs::remove(lake_ / "orders" / "dangling.csv");
  auto again = c.Confine({root});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->directories, std::vector<std::string>{root});
}

TEST_F(QueryLimits, ALinkOutOfTheLakeIsNotFollowed) {
  fs::create_directory_symlink("/etc", lake_ / "evil");
  fs::create_directories(lake_ / "misc");
  fs::create_symlink("/etc/passwd", lake_ / "misc" / "passwd.csv");
  const std::string l = lake_.string();
  const std::vector<std::string> reads = {
      "SELECT content FROM read_text('" + l + "/evil/passwd')",
      "SELECT * FROM read_csv('" + l + "/evil/passwd', header = false)",
      "SELECT * FROM read_csv('" + l + "/misc/passwd.csv', header = false)",
      "SELECT * FROM read_parquet('" + l + "/evil/*.parquet')",
      "SELECT * FROM glob('" + l + "/evil/*')",
      "SELECT * FROM glob('" + l + "/*/passwd')",
      "SELECT content FROM read_text('" + l + "/ev' || 'il/passwd')",
  };
  for (const auto& sql : reads) {
    auto r = Query({"--format", "csv", sql});
    EXPECT_EQ(r.exit_code, 1) << sql << "\n" << r.out;
    EXPECT_THAT(r.err, HasSubstr("Permission Error")) << sql;
    EXPECT_THAT(r.err, HasSubstr(l + "/evil -> /etc")) << sql;
    EXPECT_THAT(r.out, Not(HasSubstr("root:"))) << sql;
  }
  // The table, and the sample queries, still answer. (A link inside the table's own
  // directory would withhold that directory as a whole: the glob-listed table would then
  // fail with this same message; a Delta table names its files and is not concerned.)
  auto n = Query({"--format", "csv", "SELECT count(*) AS n FROM orders"});
  EXPECT_EQ(n.exit_code, 0) << n.err;
  EXPECT_EQ(n.out, "n\n11\n");
  auto samples = Query({"-f", std::string(ORDERLAKE_SOURCE_DIR) + "/sql/queries.sql"});
  EXPECT_EQ(samples.exit_code, 0) << samples.err;
  EXPECT_THAT(samples.out, HasSubstr("12. Duplicate OrderIDs"));
}

TEST_F(QueryLimits, DeeplyNestedStatementsEndWithAnErrorNotASignal) {
  const std::string loc = " STORED AS PARQUET LOCATION '" + (dir_.path() / "t").string() + "';\n";
  struct Case {
    std::string sql, error;
  };
  const std::vector<Case> cases = {
      {"CREATE EXTERNAL TABLE t (a " + Repeat("array<", 10000) + "int" + Repeat(">", 10000) + ")" + loc,
       "nested more than 100 levels deep"},
      {"CREATE EXTERNAL TABLE t (a " + Repeat("struct<a:", 100000) + "int" + Repeat(">", 100000) + ")" + loc,
       "nested more than 100 levels deep"},
      {"SELECT " + Repeat("(", 10000) + "1" + Repeat(")", 10000) + ";\n", "Parser Error"},
      {"SELECT " + Repeat("1 + ", 10000) + "1;\n", "expression depth"},
      {"SELECT " + Repeat("abs(", 10000) + "1" + Repeat(")", 10000) + ";\n", "Error"},
  };
  for (const auto& c : cases) {
    auto r = QueryFile(c.sql);
    EXPECT_EQ(r.exit_code, 1) << c.sql.substr(0, 60) << "\n" << r.err.substr(0, 300);
    EXPECT_THAT(r.err, HasSubstr(c.error)) << c.sql.substr(0, 60);
    EXPECT_THAT(r.err, HasSubstr("statement 1 failed")) << c.sql.substr(0, 60);
  }
}

}  // namespace
}  // namespace orderlake::query
