// Every DuckDB the program opens starts from table::BaseDuckConfig: no extension
// autoloading and no external file cache, which otherwise keeps the blocks of every file
// read (a long-running reader of new Parquet files grew by gigabytes).
#include <gtest/gtest.h>

#include <string>

#include "query/file_reader.h"
#include "table/duck.h"
#include "test_util.h"

namespace orderlake {
namespace {

using orderlake::testing::TempDir;

// The first column of the first row of `sql` through `duck`, as text.
std::string DuckValue(table::Duck& duck, const std::string& sql) {
  duckdb_result r;
  Status st = duck.Sql(sql, &r);
  EXPECT_TRUE(st.ok()) << st.message();
  if (!st.ok()) return {};
  char* v = duckdb_value_varchar(&r, 0, 0);
  std::string out = v ? v : "";
  duckdb_free(v);
  duckdb_destroy_result(&r);
  return out;
}

TEST(DuckConfig, TheTablesDuckCachesNoFileAndLoadsNoExtension) {
  TempDir dir;
  const std::string file = (dir.path() / "a.parquet").string();
  auto duck = table::Duck::Open();
  ASSERT_TRUE(duck.ok()) << duck.status().message();
  ASSERT_TRUE((*duck)->Sql("COPY (SELECT range AS a FROM range(1000)) TO '" + file + "' (FORMAT parquet)").ok());
  EXPECT_EQ(DuckValue(**duck, "SELECT sum(a) FROM read_parquet('" + file + "')"), "499500");
  EXPECT_EQ(DuckValue(**duck, "SELECT count(*) FROM duckdb_external_file_cache()"), "0");
  EXPECT_EQ(DuckValue(**duck, "SELECT current_setting('autoload_known_extensions')"), "false");
  EXPECT_EQ(DuckValue(**duck, "SELECT current_setting('memory_limit')"), "488.2 MiB");  // 512MB
}

TEST(DuckConfig, TheFileReaderCachesNoFile) {
  TempDir dir;
  const std::string file = (dir.path() / "a.parquet").string();
  {
    auto duck = table::Duck::Open();
    ASSERT_TRUE(duck.ok());
    ASSERT_TRUE((*duck)->Sql("COPY (SELECT range AS a FROM range(1000)) TO '" + file + "' (FORMAT parquet)").ok());
  }
  auto reader = query::FileReader::Open(dir.path());
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  for (int i = 0; i < 3; ++i) {
    auto sum = (*reader)->Execute("SELECT sum(a) FROM read_parquet('" + file + "')");
    ASSERT_TRUE(sum.ok()) << sum.status().message();
    EXPECT_EQ(sum->rows.at(0).at(0).ToString(), "499500");
  }
  auto cached = (*reader)->Execute("SELECT count(*) FROM duckdb_external_file_cache()");
  ASSERT_TRUE(cached.ok()) << cached.status().message();
  EXPECT_EQ(cached->rows.at(0).at(0).ToString(), "0");
}

}  // namespace
}  // namespace orderlake
