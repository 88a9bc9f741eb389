// The query engine over test lakes: schema, partition values, pruning, live discovery of
// files, the empty lake, and the read-only guard.
#include "query/engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lake_fixture.h"
#include "query/schema.h"
#include "test_util.h"

namespace orderlake::query {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;
using orderlake::testing::TempDir;
using orderlake::testing::write_file;
using testing::OrdersSelect;
using testing::SampleRows;
using testing::WriteOrders;

std::unique_ptr<Engine> OpenOk(const fs::path& lake, const EngineOptions& options = {}) {
  auto e = Engine::Open(lake, options);
  EXPECT_TRUE(e.ok()) << e.status().message();
  return e.ok() ? std::move(e).value() : nullptr;
}

QueryResult RunSql(Engine& e, const std::string& sql) {
  auto r = e.Execute(sql);
  EXPECT_TRUE(r.ok()) << r.status().message() << "\n" << sql;
  return r.ok() ? std::move(r).value() : QueryResult();
}

std::string Error(Engine& e, const std::string& sql) {
  auto r = e.Execute(sql);
  EXPECT_FALSE(r.ok()) << "expected an error from: " << sql;
  return r.ok() ? std::string() : r.status().message();
}

int64_t Count(Engine& e, const std::string& where = "") {
  QueryResult r = RunSql(e, "SELECT count(*) FROM orders " + where);
  return r.rows.empty() ? -1 : r.rows[0][0].as_int();
}

class SampleLake : public ::testing::Test {
 protected:
  void SetUp() override {
    lake_ = dir_.path() / "lake";
    WriteOrders(lake_, OrdersSelect(SampleRows()));
    engine_ = OpenOk(lake_);
    ASSERT_NE(engine_, nullptr);
  }
  TempDir dir_;
  fs::path lake_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(SampleLake, BothTableNamesHaveTheSpecColumnsThenThePartitionColumns) {
  for (const char* table : {"orders", "tbsm_red_transformed"}) {
    QueryResult r = RunSql(*engine_, std::string("SELECT * FROM ") + table + " LIMIT 0");
    ASSERT_EQ(r.columns.size(), kOrdersSchema.size()) << table;
    for (size_t i = 0; i < kOrdersSchema.size(); ++i) {
      EXPECT_EQ(r.columns[i].name, kOrdersSchema[i].name) << table;
      EXPECT_EQ(r.columns[i].type, kOrdersSchema[i].type) << table << "." << r.columns[i].name;
    }
    EXPECT_EQ(RunSql(*engine_, std::string("SELECT count(*) FROM ") + table).rows[0][0].as_int(), 11);
  }
  // The SPEC's exact types, as DESCRIBE reports them.
  QueryResult d = RunSql(*engine_, "DESCRIBE orders");
  ASSERT_EQ(d.rows.size(), 15u);
  EXPECT_EQ(d.rows[0][0].text(), "CustomerID");
  EXPECT_EQ(d.rows[0][1].text(), "INTEGER");
  EXPECT_EQ(d.rows[13][0].text(), "Country");
  EXPECT_EQ(d.rows[13][1].text(), "VARCHAR");
  EXPECT_EQ(d.rows[14][0].text(), "InvoiceDateOnly");
  EXPECT_EQ(d.rows[14][1].text(), "DATE");
  auto tables = engine_->Tables();
  ASSERT_TRUE(tables.ok());
  EXPECT_EQ(*tables, (std::vector<std::string>{"orders", "tbsm_red_transformed"}));
}

TEST_F(SampleLake, PartitionValuesComeBackUnescaped) {
  // The fixture wrote Hive's escaping, which DuckDB itself does not produce.
  EXPECT_TRUE(fs::is_directory(lake_ / "orders" / "Country=Côte d%27Ivoire" / "InvoiceDateOnly=2010-12-03"));
  EXPECT_TRUE(fs::is_directory(lake_ / "orders" / "Country=United Kingdom"));
  QueryResult r = RunSql(*engine_, "SELECT DISTINCT Country FROM orders ORDER BY Country");
  std::vector<std::string> got;
  for (const auto& row : r.rows) got.push_back(row[0].text());
  EXPECT_EQ(got, (std::vector<std::string>{"Australia", "Côte d'Ivoire", "France", "Germany", "Japan",
                                           "USA", "United Kingdom"}));
  QueryResult c = RunSql(*engine_, "SELECT Description, InvoiceDateOnly, typeof(InvoiceDateOnly) FROM orders "
                                "WHERE Country = 'Côte d''Ivoire'");
  ASSERT_EQ(c.rows.size(), 1u);
  EXPECT_EQ(c.rows[0][0].text(), "POPPY'S PLAYHOUSE, \"KITCHEN\"");
  EXPECT_EQ(c.rows[0][1].text(), "2010-12-03");
  EXPECT_EQ(c.rows[0][2].text(), "DATE");
  EXPECT_EQ(Count(*engine_, "WHERE InvoiceDateOnly BETWEEN DATE '2010-12-01' AND DATE '2010-12-02'"), 6);
}

TEST(QueryEngine, HiveEscapedSpecialValuesAndTheDefaultPartition) {
  TempDir dir;
  fs::path lake = dir.path() / "lake";
  std::vector<testing::OrderRow> rows;
  for (const char* country : {"a/b=c%d", "x y,z#?", "50% off", "A+B", "Ünïcode:日本", "tab\there"})
    rows.push_back({1, "1", country, "d", 1, 1, "12/01/2010 08:00", 8, "Other", country, "2010-12-01"});
  WriteOrders(lake, OrdersSelect(rows));
  EXPECT_TRUE(fs::is_directory(lake / "orders" / "Country=a%2Fb%3Dc%25d"));
  EXPECT_TRUE(fs::is_directory(lake / "orders" / "Country=x y,z%23%3F"));
  EXPECT_TRUE(fs::is_directory(lake / "orders" / "Country=tab%09here"));
  // Hive writes NULL and empty partition values as __HIVE_DEFAULT_PARTITION__.
  fs::path hdp = lake / "orders" / "Country=__HIVE_DEFAULT_PARTITION__";
  fs::create_directories(hdp);
  fs::copy(lake / "orders" / "Country=A+B" / "InvoiceDateOnly=2010-12-01", hdp / "InvoiceDateOnly=2010-12-01");

  auto e = OpenOk(lake);
  QueryResult r = RunSql(*e, "SELECT StockCode, Country FROM orders ORDER BY StockCode");
  ASSERT_EQ(r.rows.size(), 7u);
  for (const auto& row : r.rows) {
    if (row[1].is_null()) {
      EXPECT_EQ(row[0].text(), "A+B");  // the copied file
      continue;
    }
    EXPECT_EQ(row[0].text(), row[1].text());
  }
  EXPECT_EQ(Count(*e, "WHERE Country IS NULL"), 1);
  EXPECT_EQ(Count(*e, "WHERE Country = 'a/b=c%d'"), 1);
  EXPECT_EQ(Count(*e, "WHERE Country = 'A+B'"), 1);
}

TEST(QueryEngine, PartitionFiltersPruneDirectories) {
  TempDir dir;
  fs::path lake = dir.path() / "lake";
  std::vector<testing::OrderRow> rows;
  for (const char* date : {"2010-12-01", "2010-12-02"})
    rows.push_back({1, "1", "S", "d", 2, 3, "x", 8, "Europe", "United Kingdom", date});
  rows.push_back({1, "1", "S", "d", 2, 3, "x", 8, "Oceania", "Vanuatu", "2010-12-01"});
  rows.push_back({1, "1", "S", "d", 2, 3, "x", 8, "Africa", "Zimbabwe", "2010-12-05"});
  rows.push_back({1, "1", "S", "d", 2, 3, "x", 8, "Europe", "United Kingdom", "2010-12-05"});
  WriteOrders(lake, OrdersSelect(rows));
  // Every file outside the United Kingdom's partitions before 2010-12-05 becomes garbage:
  // a query that opened one of them would fail.
  auto garble = [](const fs::path& p) { write_file(p, "this is not a parquet file"); };
  garble(lake / "orders" / "Country=Vanuatu" / "InvoiceDateOnly=2010-12-01" / "part-00000.parquet");
  garble(lake / "orders" / "Country=Zimbabwe" / "InvoiceDateOnly=2010-12-05" / "part-00000.parquet");
  garble(lake / "orders" / "Country=United Kingdom" / "InvoiceDateOnly=2010-12-05" / "part-00000.parquet");

  auto e = OpenOk(lake);
  EXPECT_EQ(Count(*e, "WHERE Country = 'United Kingdom' AND InvoiceDateOnly < DATE '2010-12-05'"), 2);
  EXPECT_EQ(RunSql(*e, "SELECT count(*) FROM tbsm_red_transformed WHERE Country = 'United Kingdom' "
                    "AND InvoiceDateOnly <= DATE '2010-12-02'")
                .rows[0][0]
                .as_int(),
            2);
  // Without the filter the garbage is read, which shows the filter is what avoided it.
  EXPECT_THAT(Error(*e, "SELECT count(*) FROM orders"), HasSubstr("parquet"));

  // The profile agrees: 2 of the 5 files scanned.
  QueryResult plan = RunSql(*e, "EXPLAIN ANALYZE SELECT count(*) FROM orders WHERE Country = 'United Kingdom' "
                             "AND InvoiceDateOnly < DATE '2010-12-05'");
  ASSERT_EQ(plan.rows.size(), 1u);
  EXPECT_THAT(plan.rows[0][1].text(), HasSubstr("Scanning Files: 2/5"));
  EXPECT_THAT(plan.rows[0][1].text(), HasSubstr("Total Files Read: 2"));
}

TEST_F(SampleLake, CountryFilterReadsOnlyThatCountrysFiles) {
  QueryResult plan = RunSql(*engine_, "EXPLAIN ANALYZE SELECT count(*) FROM orders WHERE Country = 'United Kingdom'");
  ASSERT_EQ(plan.rows.size(), 1u);
  // United Kingdom has 3 date partitions out of 9.
  EXPECT_THAT(plan.rows[0][1].text(), HasSubstr("Scanning Files: 3/9"));
  EXPECT_THAT(plan.rows[0][1].text(), HasSubstr("Total Files Read: 3"));
}

TEST_F(SampleLake, FilesBeingWrittenAndMetadataAreNeverRead) {
  fs::path uk = lake_ / "orders" / "Country=United Kingdom" / "InvoiceDateOnly=2010-12-01";
  for (const char* name : {"part-1.parquet.inprogress", ".part-2.parquet", "_part-3.parquet", "part-4.tmp"})
    write_file(uk / name, "garbage");
  write_file(lake_ / "_orderlake" / "commits" / "00001.parquet", "garbage");
  write_file(lake_ / "_quarantine" / "x.parquet", "garbage");
  write_file(lake_ / "orders" / "_temporary" / "0" / "x.parquet", "garbage");
  write_file(lake_ / "orders" / ".staging" / "x" / "y.parquet", "garbage");
  write_file(lake_ / "orders" / "Country=France" / "_tmp" / "y.parquet", "garbage");
  EXPECT_EQ(Count(*engine_), 11);
  EXPECT_EQ(Count(*engine_, "WHERE Country = 'United Kingdom'"), 5);
}

TEST(QueryEngine, EmptyLakeHasTheTablesWithNoRowsAndSeesDataWhenItArrives) {
  TempDir dir;
  fs::path lake = dir.path() / "lake";
  fs::create_directories(lake);
  auto e = OpenOk(lake);
  for (const char* table : {"orders", "tbsm_red_transformed"}) {
    QueryResult r = RunSql(*e, std::string("SELECT * FROM ") + table);
    EXPECT_TRUE(r.rows.empty());
    ASSERT_EQ(r.columns.size(), kOrdersSchema.size());
    for (size_t i = 0; i < kOrdersSchema.size(); ++i) {
      EXPECT_EQ(r.columns[i].name, kOrdersSchema[i].name);
      EXPECT_EQ(r.columns[i].type, kOrdersSchema[i].type);
    }
  }
  EXPECT_EQ(Count(*e), 0);
  // Partitions with only unpublished files are still empty.
  write_file(lake / "orders" / "Country=France" / "InvoiceDateOnly=2010-12-01" / "x.parquet.inprogress", "...");
  EXPECT_EQ(Count(*e), 0);
  // The ETL publishes: the same engine sees the rows at the next statement.
  WriteOrders(lake, OrdersSelect(SampleRows()));
  EXPECT_EQ(Count(*e), 11);
  WriteOrders(lake, OrdersSelect({SampleRows()[0]}), "part-00001.parquet");
  EXPECT_EQ(Count(*e), 12);
  // And when everything is compacted away, the table is empty again rather than an error.
  fs::remove_all(lake / "orders");
  EXPECT_EQ(Count(*e), 0);
}

TEST(QueryEngine, MissingLakeIsAClearError) {
  TempDir dir;
  auto e = Engine::Open(dir.path() / "nowhere");
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(e.status().message(), HasSubstr("does not exist"));
  EXPECT_THAT(e.status().message(), HasSubstr((dir.path() / "nowhere").string()));
  write_file(dir.path() / "file", "x");
  auto f = Engine::Open(dir.path() / "file");
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(f.status().message(), HasSubstr("not a directory"));
}

TEST_F(SampleLake, ReadOnlyStatementsAreAllowed) {
  for (const std::string& sql : std::vector<std::string>{
           "SELECT 1",
           "WITH t AS (SELECT Country FROM orders) SELECT count(*) FROM t",
           "FROM orders LIMIT 1",
           "VALUES (1, 2)",
           "DESCRIBE tbsm_red_transformed",
           "SHOW TABLES",
           "SUMMARIZE orders",
           "PRAGMA table_info('orders')",
           "EXPLAIN SELECT * FROM orders",
           "EXPLAIN ANALYZE SELECT count(*) FROM orders",
           "-- a comment first\nSELECT 2;",
           "SELECT * FROM read_parquet('" + (lake_ / "orders/Country=France/InvoiceDateOnly=2010-12-01/part-00000.parquet").string() + "')",
       }) {
    EXPECT_TRUE(engine_->Check(sql).ok()) << sql << ": " << engine_->Check(sql).message();
    auto r = engine_->Execute(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().message();
  }
}

TEST_F(SampleLake, WritesAndAccessOutsideTheLakeAreRefused) {
  TempDir outside;
  write_file(outside.path() / "secret.csv", "a,b\n1,2\n");
  write_file(dir_.path() / "outside.csv", "a,b\n1,2\n");  // beside the lake
  const std::string lake = lake_.string();
  const std::string out = outside.str();
  struct Case {
    std::string sql;
    std::string expect;  // part of the error
  };
  std::vector<Case> cases = {
      {"SELECT * FROM read_csv('/etc/passwd')", "Cannot access file \"/etc/passwd\""},
      {"SELECT * FROM read_csv('" + out + "/secret.csv')", "Permission Error"},
      {"SELECT * FROM read_text('/etc/hostname')", "Permission Error"},
      {"SELECT * FROM glob('/etc/*')", "Permission Error"},
      {"SELECT * FROM read_csv('" + lake + "/../outside.csv')", "Permission Error"},
      {"SELECT * FROM 'https://example.com/x.parquet'", "Permission Error"},
      {"COPY orders TO '/tmp/x.csv'", "refused: COPY"},
      {"COPY orders TO '" + lake + "/copy.csv'", "refused: COPY"},
      {"EXPLAIN ANALYZE COPY orders TO '" + lake + "/copy2.csv'", "refused: COPY"},
      {"EXPLAIN (ANALYZE) COPY orders TO '" + lake + "/copy3.csv'", "refused: COPY"},
      {"EXPLAIN ANALYZE CREATE TABLE t AS SELECT 1", "refused: CREATE"},
      {"EXPORT DATABASE '" + lake + "/export'", "refused: EXPORT"},
      {"CREATE TABLE t AS SELECT * FROM orders", "refused: CREATE"},
      {"CREATE VIEW v AS SELECT 1", "refused: CREATE"},
      {"CREATE OR REPLACE VIEW orders AS SELECT 1 AS x", "refused: CREATE"},
      {"CREATE MACRO m(x) AS x", "refused: CREATE"},
      {"INSERT INTO orders VALUES (1)", ""},
      {"UPDATE orders SET Quantity = 0", ""},
      {"DELETE FROM orders", ""},
      {"DROP VIEW orders", "refused: DROP"},
      {"ALTER VIEW orders RENAME TO o", "refused: ALTER"},
      {"ATTACH '" + out + "/x.db'", ""},
      {"ATTACH '" + lake + "/x.db'", "refused: ATTACH"},
      {"DETACH memory", "refused: DETACH"},
      {"INSTALL httpfs", "refused: INSTALL"},
      {"LOAD httpfs", "refused: LOAD"},
      {"SET enable_external_access = true", "refused: SET"},
      {"RESET allowed_directories", "refused: RESET"},
      {"SET threads = 1", "refused: SET"},
      {"PRAGMA threads = 1", "refused: PRAGMA"},
      {"PRAGMA enable_profiling", "refused: PRAGMA"},
      {"USE memory", "refused: USE"},
      {"BEGIN TRANSACTION", "refused: BEGIN"},
      {"CHECKPOINT", "refused: CHECKPOINT"},
      {"CALL pragma_table_info('orders')", "refused: CALL"},
      {"VACUUM", "refused: VACUUM"},
      {"PREPARE p AS SELECT 1", "refused: PREPARE"},
      {"SELECT * FROM query('CREATE TABLE z AS SELECT 1')", ""},
      {"SELECT ?", "parameter"},
      {"SELECT 1; SELECT 2", "expected one statement"},
      {"; EXPORT DATABASE '" + lake + "/export2'", "refused: EXPORT"},
      {"(EXPLAIN ANALYZE EXPORT DATABASE '" + lake + "/export3')", ""},
      {"EXPLAIN EXPORT DATABASE '" + lake + "/export4'", ""},
      {"EXPLAIN (FORMAT json) EXPORT DATABASE '" + lake + "/export5'", ""},
      {"/* hidden */ -- more\n EXPORT DATABASE '" + lake + "/export6'", "refused: EXPORT"},
  };
  for (const auto& c : cases) {
    EXPECT_FALSE(engine_->Check(c.sql).ok()) << c.sql;
    std::string err = Error(*engine_, c.sql);
    EXPECT_THAT(err, HasSubstr(c.expect)) << c.sql;
    EXPECT_EQ(err.find('\n'), std::string::npos) << "one line: " << err;
  }
  // Nothing was written, inside the lake or out, and the tables are intact.
  for (const char* name : {"copy.csv", "copy2.csv", "copy3.csv", "export", "export2", "export3", "export4", "export5",
                           "export6", "x.db"})
    EXPECT_FALSE(fs::exists(lake_ / name)) << name;
  EXPECT_FALSE(fs::exists(outside.path() / "x.db"));
  EXPECT_EQ(Count(*engine_), 11);
  // Permission errors say where reading is allowed.
  EXPECT_THAT(Error(*engine_, "SELECT * FROM read_csv('/etc/passwd')"), HasSubstr("only the lake at " + lake));
  // Settings stay locked (DuckDB's own lock, beneath the statement check).
  QueryResult s = RunSql(*engine_, "SELECT current_setting('enable_external_access'), current_setting('lock_configuration')");
  EXPECT_EQ(s.rows[0][0].ToString(), "false");
  EXPECT_EQ(s.rows[0][1].ToString(), "true");
}

TEST_F(SampleLake, TheOriginalDdlOverTheLakesOwnLocationGivesTheSameTable) {
  // The original project's DDL declared the partition columns twice (Athena rejects it).
  std::string ddl = testing::OriginalDdl((lake_ / "orders").string() + "/");
  ddl.erase(ddl.find_last_of(';'));  // one statement, without its semicolon
  // Without a catalog (the dashboard's endpoint) DDL that would change one is refused.
  EXPECT_THAT(Error(*engine_, ddl), HasSubstr("refused: CREATE EXTERNAL TABLE changes the catalog"));
  EXPECT_THAT(Error(*engine_, "MSCK REPAIR TABLE tbsm_red_transformed"), HasSubstr("refused: MSCK REPAIR TABLE"));
  EXPECT_FALSE(engine_->Check(ddl).ok());

  EngineOptions options;
  options.catalog = dir_.path() / "catalog.db";
  auto e = OpenOk(lake_, options);
  QueryResult r = RunSql(*e, ddl);
  EXPECT_TRUE(r.columns.empty());
  ASSERT_GE(r.notices.size(), 3u);
  EXPECT_THAT(r.notices[0], HasSubstr("table default.tbsm_red_transformed created: 13 columns, 2 partition keys"));
  EXPECT_THAT(r.notices[1], HasSubstr("warning: Country, InvoiceDateOnly declared both as columns and as partition keys"));
  // As in Athena, a partitioned table has no partitions until they are registered; the
  // lake's own `orders` is untouched.
  EXPECT_EQ(RunSql(*e, "SELECT count(*) FROM tbsm_red_transformed").rows[0][0].as_int(), 0);
  EXPECT_EQ(Count(*e), 11);
  QueryResult m = RunSql(*e, "MSCK REPAIR TABLE tbsm_red_transformed");
  ASSERT_EQ(m.columns.size(), 1u);
  EXPECT_EQ(m.rows.size(), 9u);  // the sample's partition directories
  EXPECT_EQ(m.rows[0][0].text(), "Country=Australia/InvoiceDateOnly=2010-11-30");
  EXPECT_THAT(m.notices[0], HasSubstr("9 partitions added"));
  // The same rows, column names and types as the lake's own table.
  QueryResult mine = RunSql(*e, "SELECT * FROM tbsm_red_transformed ORDER BY ALL");
  QueryResult lakes = RunSql(*e, "SELECT * FROM orders ORDER BY ALL");
  ASSERT_EQ(mine.rows.size(), 11u);
  ASSERT_EQ(mine.columns.size(), lakes.columns.size());
  for (size_t i = 0; i < mine.columns.size(); ++i) {
    EXPECT_EQ(mine.columns[i].name, lakes.columns[i].name);
    EXPECT_EQ(mine.columns[i].type, lakes.columns[i].type) << mine.columns[i].name;
  }
  EXPECT_TRUE(mine.rows == lakes.rows);
  // Partition values come back unescaped from the catalog's table too.
  EXPECT_EQ(RunSql(*e, "SELECT count(*) FROM tbsm_red_transformed WHERE Country = 'Côte d''Ivoire'").rows[0][0].as_int(), 1);
  // Again: IF NOT EXISTS leaves it, without it is an error; a second MSCK adds nothing.
  EXPECT_THAT(RunSql(*e, ddl).notices[0], HasSubstr("already exists: unchanged"));
  std::string again = ddl;
  again.replace(again.find(" IF NOT EXISTS"), 14, "");
  EXPECT_THAT(Error(*e, again), HasSubstr("table default.tbsm_red_transformed already exists"));
  QueryResult m2 = RunSql(*e, "MSCK REPAIR TABLE tbsm_red_transformed");
  EXPECT_TRUE(m2.rows.empty());
  EXPECT_THAT(m2.notices[0], HasSubstr("0 partitions added (9 already in the catalog)"));
  // MSCK REPAIR on the lake's own table has nothing to do.
  EXPECT_THAT(RunSql(*e, "MSCK REPAIR TABLE orders").notices[0], HasSubstr("nothing to do"));
}

TEST_F(SampleLake, ErrorsAreOneLineWithDuckDbsHint) {
  std::string err = Error(*engine_, "SELECT * FROM order");
  EXPECT_THAT(err, HasSubstr("Parser Error"));
  err = Error(*engine_, "SELECT * FROM ordrs");
  EXPECT_THAT(err, HasSubstr("Table with name ordrs does not exist"));
  EXPECT_THAT(err, HasSubstr("Did you mean \"orders\""));
  EXPECT_EQ(err.find('\n'), std::string::npos);
  EXPECT_THAT(Error(*engine_, "   "), HasSubstr("no SQL statement"));
}

TEST(QueryEngine, ValuesOfEveryCommonType) {
  TempDir dir;
  auto e = OpenOk(dir.path());
  QueryResult r = RunSql(*e,
                      "SELECT true AS b, 42::TINYINT AS i1, -7::BIGINT AS i8, 18446744073709551615::UBIGINT AS u8, "
                      "170141183460469231731687303715884105727::HUGEINT AS h, 0.1::DOUBLE AS d, 0.1::FLOAT AS f, "
                      "1.50::DECIMAL(10,2) AS dec, -0.05::DECIMAL(4,3) AS dec2, 'x' AS s, DATE '2010-12-01' AS dt, "
                      "TIMESTAMP '2010-12-01 08:26:00' AS ts, TIME '23:59:59.25' AS t, INTERVAL 90 MINUTE AS iv, "
                      "[1, 2] AS l, {'k': 'v'} AS st, NULL::INTEGER AS n, 'a'::BLOB AS bl, "
                      "'6f1f7ee4-08c3-4e1a-9c52-1d6e9f4a5b3c'::UUID AS id, 'inf'::DOUBLE AS inf");
  ASSERT_EQ(r.rows.size(), 1u);
  const auto& v = r.rows[0];
  auto col = [&](const char* name) { return v[static_cast<size_t>(r.column_index(name))]; };
  EXPECT_EQ(col("b").kind(), Value::Kind::kBool);
  EXPECT_EQ(col("i1").as_int(), 42);
  EXPECT_EQ(col("i8").as_int(), -7);
  EXPECT_EQ(col("u8").ToString(), "18446744073709551615");
  EXPECT_EQ(col("h").ToString(), "170141183460469231731687303715884105727");
  EXPECT_EQ(col("d").ToString(), "0.1");
  EXPECT_EQ(col("f").ToString(), "0.1");
  EXPECT_EQ(col("dec").ToString(), "1.50");
  EXPECT_EQ(col("dec").kind(), Value::Kind::kNumber);
  EXPECT_EQ(col("dec2").ToString(), "-0.050");
  EXPECT_EQ(col("s").text(), "x");
  EXPECT_EQ(col("dt").ToString(), "2010-12-01");
  EXPECT_EQ(col("ts").ToString(), "2010-12-01 08:26:00");
  EXPECT_EQ(col("t").ToString(), "23:59:59.25");
  EXPECT_EQ(col("iv").ToString(), "01:30:00");
  EXPECT_EQ(col("l").ToString(), "[1, 2]");
  EXPECT_EQ(col("st").ToString(), "{'k': 'v'}");
  EXPECT_TRUE(col("n").is_null());
  EXPECT_EQ(col("bl").ToString(), "a");
  EXPECT_EQ(col("id").ToString(), "6f1f7ee4-08c3-4e1a-9c52-1d6e9f4a5b3c");
  EXPECT_EQ(col("inf").ToString(), "inf");
  EXPECT_EQ(r.columns[static_cast<size_t>(r.column_index("dec"))].type, "DECIMAL(10,2)");
  EXPECT_TRUE(r.columns[static_cast<size_t>(r.column_index("dec"))].numeric);
  EXPECT_EQ(r.columns[static_cast<size_t>(r.column_index("l"))].type, "INTEGER[]");
  EXPECT_FALSE(r.columns[static_cast<size_t>(r.column_index("s"))].numeric);
}

}  // namespace
}  // namespace orderlake::query
