// Athena DDL over the catalog, in one process: the parser (what a statement becomes, and
// syntax errors that point at the position), and the engine running it against a catalog
// file (registered partitions only, ALTER TABLE ADD PARTITION, SHOW, DESCRIBE, DROP; CSV,
// JSON, gzip and Parquet tables; mixed formats; tables the crawler made).
#include "query/athena_ddl.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include "catalog/catalog.h"
#include "crawl/crawler.h"
#include "lake_fixture.h"
#include "query/engine.h"
#include "query/table_source.h"
#include "store/object_store.h"
#include "test_util.h"

namespace orderlake::query {
namespace {
namespace fs = std::filesystem;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using orderlake::testing::TempDir;
using orderlake::testing::write_file;

CreateTableDdl ParseCreate(const std::string& sql) {
  auto r = ParseAthenaDdl(sql);
  EXPECT_TRUE(r.has_value()) << sql;
  if (!r) return {};
  EXPECT_TRUE(r->ok()) << r->status().message();
  if (!r->ok() || !std::holds_alternative<CreateTableDdl>(r->value())) return {};
  return std::get<CreateTableDdl>(r->value());
}

std::string ParseError(const std::string& sql) {
  auto r = ParseAthenaDdl(sql);
  EXPECT_TRUE(r.has_value()) << "not taken as DDL: " << sql;
  if (!r) return {};
  EXPECT_FALSE(r->ok()) << "expected a syntax error from: " << sql;
  return r->ok() ? std::string() : r->status().message();
}

std::string Gzip(const std::string& text) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, text.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(out.size() - zs.avail_out);
  deflateEnd(&zs);
  return out;
}

TEST(AthenaDdlParse, TheOriginalProjectsDdl) {
  CreateTableDdl d = ParseCreate(testing::OriginalDdl("s3://tbsm-red-transformed/orders/"));
  EXPECT_TRUE(d.if_not_exists);
  EXPECT_EQ(d.table.database, "default");
  EXPECT_EQ(d.table.name, "tbsm_red_transformed");
  EXPECT_EQ(d.table.location, "s3://tbsm-red-transformed/orders");
  EXPECT_EQ(d.table.format, "parquet");
  EXPECT_EQ(d.table.compression, "none");
  ASSERT_EQ(d.table.columns.size(), 13u);
  EXPECT_EQ(d.table.columns.front(), (catalog::Column{"CustomerID", "int"}));
  EXPECT_EQ(d.table.columns.back(), (catalog::Column{"Region", "string"}));
  EXPECT_THAT(d.table.partition_keys,
              ElementsAre(catalog::Column{"Country", "string"}, catalog::Column{"InvoiceDateOnly", "date"}));
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_THAT(d.warnings[0], HasSubstr("Country, InvoiceDateOnly declared both as columns and as partition keys"));
}

TEST(AthenaDdlParse, TextFormatsDelimitersAndTypes) {
  CreateTableDdl tsv = ParseCreate(
      "CREATE EXTERNAL TABLE Sales.Raw (a INT COMMENT 'x', b VARCHAR(20), c DECIMAL(10, 2), d array<string>, "
      "e map<string,int>, f struct<x:int, y:string>, g timestamp, h boolean, i BIGINT, j real) "
      "ROW FORMAT DELIMITED FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n' STORED AS TEXTFILE "
      "LOCATION 'file:///data/raw/' TBLPROPERTIES ('skip.header.line.count'='1')");
  EXPECT_EQ(tsv.table.database, "sales");
  EXPECT_EQ(tsv.table.name, "raw");
  EXPECT_EQ(tsv.table.format, "csv");
  EXPECT_EQ(tsv.table.delimiter, "\t");
  EXPECT_TRUE(tsv.table.has_header);
  EXPECT_EQ(tsv.table.location, "file:///data/raw");
  std::vector<std::string> types;
  for (const auto& c : tsv.table.columns) types.push_back(c.type);
  EXPECT_EQ(types, (std::vector<std::string>{"int", "varchar(20)", "decimal(10,2)", "array<string>", "map<string,int>",
                                             "struct<x:int,y:string>", "timestamp", "boolean", "bigint", "float"}));
  std::vector<std::string> duck;
  for (const auto& t : types) duck.push_back(DuckDbType(t).value());
  EXPECT_EQ(duck, (std::vector<std::string>{"INTEGER", "VARCHAR", "DECIMAL(10,2)", "VARCHAR[]", "MAP(VARCHAR, INTEGER)",
                                            "STRUCT(\"x\" INTEGER, \"y\" VARCHAR)", "TIMESTAMP", "BOOLEAN", "BIGINT",
                                            "FLOAT"}));
  EXPECT_FALSE(DuckDbType("strnig").ok());

  // OpenCSVSerde's separatorChar; Hive's default ^A; LazySimpleSerDe's byte-number delimiter.
  EXPECT_EQ(ParseCreate("CREATE EXTERNAL TABLE t (a string) ROW FORMAT SERDE "
                        "'org.apache.hadoop.hive.serde2.OpenCSVSerde' WITH SERDEPROPERTIES ('separatorChar'=';', "
                        "'quoteChar'='\"') LOCATION 's3://b/p'")
                .table.delimiter,
            ";");
  EXPECT_EQ(ParseCreate("CREATE EXTERNAL TABLE t (a string) ROW FORMAT SERDE "
                        "'org.apache.hadoop.hive.serde2.OpenCSVSerde' LOCATION 's3://b/p'")
                .table.delimiter,
            ",");
  EXPECT_EQ(ParseCreate("CREATE EXTERNAL TABLE t (a string) LOCATION 's3://b/p'").table.delimiter, "\x01");
  EXPECT_EQ(ParseCreate("CREATE EXTERNAL TABLE t (a string) ROW FORMAT SERDE "
                        "'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe' WITH SERDEPROPERTIES "
                        "('serialization.format'='1') LOCATION 's3://b/p'")
                .table.delimiter,
            "\x01");
  // JSON, as Athena's documentation writes it, and the shorter STORED AS JSON.
  EXPECT_EQ(ParseCreate("CREATE EXTERNAL TABLE t (a string) ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' "
                        "STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat' OUTPUTFORMAT "
                        "'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat' LOCATION 's3://b/p'")
                .table.format,
            "json");
  EXPECT_EQ(ParseCreate("CREATE EXTERNAL TABLE t (a string) STORED AS JSON LOCATION '/tmp/j'").table.format, "json");
  // A plain path is made absolute.
  EXPECT_EQ(ParseCreate("CREATE EXTERNAL TABLE t (a string) STORED AS PARQUET LOCATION 'rel/dir/'").table.location,
            "file://" + (fs::current_path() / "rel/dir").string());
}

TEST(AthenaDdlParse, SyntaxErrorsPointAtThePosition) {
  // The column list left open: the clause that follows is named, with the line and a caret.
  EXPECT_EQ(ParseError("CREATE EXTERNAL TABLE t (\n  a int,\n  b string\n    STORED AS PARQUET\n    LOCATION 's3://b/'"),
            "line 4, column 5: expected ')' after column list, found 'STORED'\n"
            "      STORED AS PARQUET\n"
            "      ^");
  EXPECT_EQ(ParseError("CREATE EXTERNAL TABLE t (a int b string) LOCATION 's3://b/'"),
            "line 1, column 32: expected ',' or ')' after column 'a', found 'b'\n"
            "  CREATE EXTERNAL TABLE t (a int b string) LOCATION 's3://b/'\n"
            "                                 ^");
  // Unknown types, with the list of Athena's.
  std::string type = ParseError("CREATE EXTERNAL TABLE t (\n\ta int,\n\tb strng) LOCATION 's3://b/'");
  EXPECT_THAT(type, HasSubstr("line 3, column 4: unknown type 'strng' for column 'b' (Athena's types: boolean"));
  EXPECT_THAT(type, HasSubstr("\n  \tb strng) LOCATION 's3://b/'\n  \t  ^"));  // tabs kept under the caret
  // Missing LOCATION: at the end of the statement.
  EXPECT_THAT(ParseError("CREATE EXTERNAL TABLE t (a int) STORED AS PARQUET"),
              HasSubstr("line 1, column 50: CREATE EXTERNAL TABLE default.t needs a LOCATION"));
  EXPECT_THAT(ParseError("CREATE EXTERNAL TABLE t (a int) STORED AS ORC LOCATION 's3://b/'"),
              HasSubstr("line 1, column 43: unsupported file format STORED AS ORC"));
  EXPECT_THAT(ParseError("CREATE EXTERNAL TABLE t (a int) LOCATION 'hdfs://nn/x'"),
              HasSubstr("line 1, column 42: location 'hdfs://nn/x': unsupported scheme"));
  EXPECT_THAT(ParseError("CREATE EXTERNAL TABLE t (a int) LOCATION 's3:///x'"), HasSubstr("has no bucket name"));
  EXPECT_THAT(ParseError("CREATE EXTERNAL TABLE t (a int, A string) LOCATION '/x'"),
              HasSubstr("line 1, column 33: column 'A' is declared twice"));
  EXPECT_THAT(ParseError("CREATE EXTERNAL TABLE t (a int) LOCATION '/x' LOCATION '/y'"), HasSubstr("LOCATION given twice"));
  EXPECT_THAT(ParseError("CREATE EXTERNAL TABLE t (a decimal(40,2)) LOCATION '/x'"), HasSubstr("precision must be 1 to 38"));
  EXPECT_THAT(ParseError("CREATE EXTERNAL TABLE t (a int) LOCATION '/x"), HasSubstr("line 1, column 42: unterminated string"));
  EXPECT_THAT(ParseError("CREATE EXTERNAL TABLE t (a int) LOCATION '/x' EXTRA"),
              HasSubstr("line 1, column 47: expected PARTITIONED BY, ROW FORMAT, STORED AS, LOCATION, TBLPROPERTIES or the end"));
  EXPECT_THAT(ParseError("MSCK REPAIR TABLE t now"), HasSubstr("line 1, column 21: unexpected 'now' after the end"));
  EXPECT_THAT(ParseError("ALTER TABLE t ADD PARTITION (k = ) LOCATION '/x'"),
              HasSubstr("line 1, column 34: expected the value of 'k' as a string or a number, found ')'"));
  EXPECT_THAT(ParseError("ALTER TABLE t RENAME TO u"), HasSubstr("refused: ALTER TABLE supports only ADD"));
  EXPECT_THAT(ParseError("DROP TABLE IF t"), HasSubstr("expected EXISTS"));
  // More than one statement.
  EXPECT_THAT(ParseError("DROP TABLE t; DROP TABLE u"), HasSubstr("expected one statement"));
}

TEST(AthenaDdlParse, WhatIsLeftToDuckDb) {
  for (const char* sql : {"SELECT 1", "DESCRIBE SELECT * FROM orders", "SHOW orders", "SHOW ALL TABLES", "DROP VIEW v",
                          "CREATE TABLE t AS SELECT 1", "INSERT INTO t VALUES (1)", "ALTER VIEW v RENAME TO w",
                          "COPY orders TO '/tmp/x'", "WITH x AS (SELECT 1) SELECT * FROM x"})
    EXPECT_FALSE(ParseAthenaDdl(sql).has_value()) << sql;
  for (const char* sql : {"SHOW TABLES", "show tables in sales 'ord*'", "SHOW DATABASES", "SHOW PARTITIONS t",
                          "DESCRIBE t", "DESC FORMATTED db.t", "DROP TABLE IF EXISTS t", "MSCK REPAIR TABLE `t`",
                          "ALTER TABLE t ADD IF NOT EXISTS PARTITION (a='1') PARTITION (a=2) LOCATION 's3://b/x/'"}) {
    auto r = ParseAthenaDdl(sql);
    ASSERT_TRUE(r.has_value()) << sql;
    EXPECT_TRUE(r->ok()) << sql << ": " << r->status().message();
  }
  auto add = std::get<AddPartitionsDdl>(ParseAthenaDdl("ALTER TABLE t ADD IF NOT EXISTS PARTITION (a='1') "
                                                       "PARTITION (a=2) LOCATION 's3://b/x/'")
                                            ->value());
  EXPECT_TRUE(add.if_not_exists);
  ASSERT_EQ(add.partitions.size(), 2u);
  EXPECT_EQ(add.partitions[1].values[0], (std::pair<std::string, std::string>{"a", "2"}));
  EXPECT_EQ(add.partitions[1].location, "s3://b/x");
}

// A lake (the query fixture) and an engine over a catalog file.
class DdlEngine : public ::testing::Test {
 protected:
  void SetUp() override {
    lake_ = dir_.path() / "lake";
    testing::WriteOrders(lake_, testing::OrdersSelect(testing::SampleRows()));
    catalog_ = dir_.path() / "catalog" / "catalog.db";
    engine_ = Open();
    ASSERT_NE(engine_, nullptr);
  }
  std::unique_ptr<Engine> Open() {
    EngineOptions o;
    o.catalog = catalog_;
    auto e = Engine::Open(lake_, o);
    EXPECT_TRUE(e.ok()) << e.status().message();
    return e.ok() ? std::move(e).value() : nullptr;
  }
  QueryResult Run(const std::string& sql) {
    auto r = engine_->Execute(sql);
    EXPECT_TRUE(r.ok()) << r.status().message() << "\n" << sql;
    return r.ok() ? std::move(r).value() : QueryResult();
  }
  std::string Error(const std::string& sql) {
    auto r = engine_->Execute(sql);
    EXPECT_FALSE(r.ok()) << "expected an error from: " << sql;
    return r.ok() ? std::string() : r.status().message();
  }
  std::vector<std::string> Column0(const std::string& sql) {
    std::vector<std::string> out;
    for (const auto& row : Run(sql).rows) out.push_back(row[0].ToString());
    return out;
  }
  int64_t Scalar(const std::string& sql) {
    QueryResult r = Run(sql);
    return r.rows.empty() ? -1 : r.rows[0][0].as_int();
  }
  TempDir dir_;
  fs::path lake_, catalog_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(DdlEngine, OnlyRegisteredPartitionsAreRead) {
  const std::string loc = (lake_ / "orders").string();
  Run("CREATE EXTERNAL TABLE o (CustomerID int, InvoiceNo string, TotalAmount double) PARTITIONED BY "
      "(Country string, InvoiceDateOnly date) STORED AS PARQUET LOCATION '" + loc + "'");
  EXPECT_FALSE(fs::exists(lake_ / "catalog.db"));
  EXPECT_TRUE(fs::exists(catalog_));
  EXPECT_EQ(Scalar("SELECT count(*) FROM o"), 0);
  // One partition by hand: only its rows.
  QueryResult add = Run("ALTER TABLE o ADD PARTITION (Country = 'France', InvoiceDateOnly = DATE '2010-12-01')");
  EXPECT_EQ(add.rows.size(), 1u);
  EXPECT_EQ(add.rows[0][0].text(), "Country=France/InvoiceDateOnly=2010-12-01");
  EXPECT_EQ(Scalar("SELECT count(*) FROM o"), Scalar("SELECT count(*) FROM orders WHERE Country = 'France' AND "
                                                     "InvoiceDateOnly = DATE '2010-12-01'"));
  EXPECT_THAT(Error("ALTER TABLE o ADD PARTITION (Country = 'France', InvoiceDateOnly = '2010-12-01')"),
              HasSubstr("partition Country=France/InvoiceDateOnly=2010-12-01 of default.o already exists"));
  EXPECT_THAT(Run("ALTER TABLE o ADD IF NOT EXISTS PARTITION (country = 'France', invoicedateonly = '2010-12-01')")
                  .notices[0],
              HasSubstr("0 added, 1 already there"));
  EXPECT_THAT(Error("ALTER TABLE o ADD PARTITION (Country = 'France')"), HasSubstr("'InvoiceDateOnly' is missing"));
  EXPECT_THAT(Error("ALTER TABLE o ADD PARTITION (Country = 'France', Day = '1')"), HasSubstr("no partition key 'Day'"));
  EXPECT_THAT(Error("ALTER TABLE o ADD PARTITION (Country = 'X', InvoiceDateOnly = '12/01/2010')"),
              HasSubstr("'12/01/2010' is not a valid date"));
  EXPECT_THAT(Error("ALTER TABLE nope ADD PARTITION (a = 1)"), HasSubstr("no table default.nope"));
  // A new directory is not read until it is registered, as in Athena.
  EXPECT_EQ(Column0("SHOW PARTITIONS o"), (std::vector<std::string>{"Country=France/InvoiceDateOnly=2010-12-01"}));
  QueryResult repair = Run("MSCK REPAIR TABLE o");
  EXPECT_EQ(repair.rows.size(), 8u);
  EXPECT_EQ(Scalar("SELECT count(*) FROM o"), 11);
  EXPECT_EQ(Column0("SHOW PARTITIONS o").size(), 9u);
  // A partition elsewhere (another directory) answers with the catalog's values.
  fs::path elsewhere = dir_.path() / "elsewhere";
  fs::create_directories(elsewhere);
  fs::copy_file(lake_ / "orders/Country=Japan/InvoiceDateOnly=2010-12-03/part-00000.parquet", elsewhere / "x.parquet");
  Run("ALTER TABLE o ADD PARTITION (Country = 'Nowhere', InvoiceDateOnly = '2011-01-01') LOCATION 'file://" +
      elsewhere.string() + "/'");
  QueryResult moved = Run("SELECT Country, InvoiceDateOnly, count(*) FROM o WHERE Country = 'Nowhere' GROUP BY ALL");
  ASSERT_EQ(moved.rows.size(), 1u);
  EXPECT_EQ(moved.rows[0][1].ToString(), "2011-01-01");
  EXPECT_EQ(moved.rows[0][2].as_int(), 1);
  EXPECT_EQ(Scalar("SELECT count(*) FROM o"), 12);
  // Files are listed at every statement: a removed file is gone at once.
  fs::remove(elsewhere / "x.parquet");
  EXPECT_EQ(Scalar("SELECT count(*) FROM o"), 11);
}

TEST_F(DdlEngine, ShowDescribeDropAndAnotherEngineSeesTheCatalog) {
  Run("CREATE EXTERNAL TABLE sales.t (a int, b string) STORED AS PARQUET LOCATION '" + (dir_.path() / "t").string() + "'");
  EXPECT_EQ(Column0("SHOW TABLES"), (std::vector<std::string>{"orders", "tbsm_red_transformed"}));
  EXPECT_EQ(Column0("SHOW TABLES IN sales"), (std::vector<std::string>{"t"}));
  EXPECT_EQ(Column0("SHOW DATABASES"), (std::vector<std::string>{"default", "sales"}));
  EXPECT_EQ(Column0("SHOW TABLES 'tbsm*|x'"), (std::vector<std::string>{"tbsm_red_transformed"}));
  EXPECT_THAT(Error("SHOW TABLES IN nope"), HasSubstr("no database 'nope'"));
  // An empty location: the columns, no rows.
  QueryResult empty = Run("SELECT * FROM sales.t");
  EXPECT_EQ(empty.columns.size(), 2u);
  EXPECT_EQ(empty.columns[0].type, "INTEGER");
  EXPECT_TRUE(empty.rows.empty());
  // DESCRIBE: Athena's three columns; FORMATTED adds where and how.
  QueryResult d = Run("DESCRIBE sales.t");
  ASSERT_EQ(d.columns.size(), 3u);
  EXPECT_EQ(d.columns[0].name, "col_name");
  EXPECT_EQ(d.rows.size(), 2u);
  EXPECT_EQ(d.rows[1][1].text(), "string");
  QueryResult f = Run("DESCRIBE FORMATTED sales.t");
  bool location = false;
  for (const auto& row : f.rows)
    if (row[0].text() == "Location:") location = row[1].text() == "file://" + (dir_.path() / "t").string();
  EXPECT_TRUE(location);
  // The lake's own table: DuckDB's DESCRIBE, and Athena's with FORMATTED.
  EXPECT_EQ(Run("DESCRIBE orders").columns[0].name, "column_name");
  EXPECT_EQ(Run("DESCRIBE FORMATTED orders").rows[13][0].text(), "Country");
  EXPECT_EQ(Column0("SHOW PARTITIONS orders").size(), 9u);
  // Another engine (another process would do the same) sees the table at once.
  auto other = Open();
  auto seen = other->Execute("SELECT count(*) FROM sales.t");
  ASSERT_TRUE(seen.ok()) << seen.status().message();
  auto tables = other->Tables();
  ASSERT_TRUE(tables.ok());
  EXPECT_THAT(*tables, Contains("sales.t"));
  // DROP TABLE removes the entry only.
  write_file(dir_.path() / "t" / "keep.txt", "x");
  EXPECT_THAT(Run("DROP TABLE sales.t").notices[0], HasSubstr("dropped from the catalog; its files at"));
  EXPECT_TRUE(fs::exists(dir_.path() / "t" / "keep.txt"));
  EXPECT_THAT(other->Execute("SELECT count(*) FROM sales.t").status().message(), HasSubstr("does not exist"));
  EXPECT_THAT(Error("DROP TABLE sales.t"), HasSubstr("DROP TABLE: no table sales.t"));
  EXPECT_THAT(Run("DROP TABLE IF EXISTS sales.t").notices[0], HasSubstr("nothing to do"));
  EXPECT_THAT(Error("DROP TABLE orders"), HasSubstr("orders is the lake's own table"));
  EXPECT_THAT(Error("SHOW PARTITIONS nope"), HasSubstr("no table default.nope"));
  EXPECT_THAT(Error("MSCK REPAIR TABLE nope"), HasSubstr("no table default.nope"));
  // A catalog `orders` takes the lake's place until it is dropped.
  Run("CREATE EXTERNAL TABLE orders (x int) STORED AS PARQUET LOCATION '" + (dir_.path() / "none").string() + "'");
  EXPECT_EQ(Run("SELECT * FROM orders").columns.size(), 1u);
  Run("DROP TABLE orders");
  EXPECT_EQ(Run("SELECT * FROM orders").columns.size(), 15u);
  EXPECT_EQ(Scalar("SELECT count(*) FROM orders"), 11);
}

TEST_F(DdlEngine, CsvJsonAndGzipTables) {
  // CSV with a header, one file gzip without a .gz name, a short and a long line, a value
  // that is no int, RFC 4180 quotes.
  fs::path csv = dir_.path() / "csv";
  write_file(csv / "a.csv", "id,name,qty\n1,\"a, b\",3\n2,c\n");
  write_file(csv / "sub" / "b", Gzip("id,name,qty\n3,d,x\n4,e,5,extra\n"));
  write_file(csv / "_SUCCESS", "");
  write_file(csv / ".hidden.csv", "id,name,qty\n9,hidden,9\n");
  Run("CREATE EXTERNAL TABLE c (id bigint, name string, qty int) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' "
      "LOCATION '" + csv.string() + "' TBLPROPERTIES ('skip.header.line.count'='1')");
  QueryResult r = Run("SELECT id, name, qty FROM c ORDER BY id");
  ASSERT_EQ(r.rows.size(), 4u);
  EXPECT_EQ(r.rows[0][1].text(), "a, b");
  EXPECT_EQ(r.rows[0][2].as_int(), 3);
  EXPECT_TRUE(r.rows[1][2].is_null());
  EXPECT_TRUE(r.rows[2][2].is_null());  // 'x' is no int: NULL, as Hive reads text
  EXPECT_EQ(r.rows[3][2].as_int(), 5);
  EXPECT_EQ(r.columns[0].type, "BIGINT");

  // JSON lines, keys matched without regard to case, partitions from key=value directories.
  fs::path js = dir_.path() / "json";
  write_file(js / "dt=2010-12-01" / "a.json", "{\"InvoiceNo\":\"536365\",\"Quantity\":6,\"Tags\":[\"x\"]}\n"
                                              "{\"InvoiceNo\":\"C2\",\"Quantity\":\"many\"}\n");
  write_file(js / "dt=2010-12-02" / "b", Gzip("{\"invoiceno\":\"7\",\"QUANTITY\":1}\n"));
  Run("CREATE EXTERNAL TABLE j (invoiceno string, quantity int, tags array<string>) PARTITIONED BY (dt date) "
      "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION '" + js.string() + "'");
  EXPECT_EQ(Run("MSCK REPAIR TABLE j").rows.size(), 2u);
  QueryResult jr = Run("SELECT invoiceno, quantity, tags, dt FROM j ORDER BY invoiceno");
  ASSERT_EQ(jr.rows.size(), 3u);
  EXPECT_EQ(jr.rows[0][0].text(), "536365");
  EXPECT_EQ(jr.rows[0][1].as_int(), 6);
  EXPECT_EQ(jr.rows[0][2].ToString(), "['x']");
  EXPECT_EQ(jr.rows[0][3].ToString(), "2010-12-01");
  EXPECT_EQ(jr.rows[1][0].text(), "7");
  EXPECT_EQ(jr.rows[1][1].as_int(), 1);
  EXPECT_TRUE(jr.rows[2][1].is_null());
  EXPECT_EQ(Scalar("SELECT count(*) FROM j WHERE dt = DATE '2010-12-02'"), 1);
}

TEST_F(DdlEngine, MixedFormatsAreAClearErrorNotAMisread) {
  fs::path mixed = dir_.path() / "mixed";
  fs::create_directories(mixed);
  fs::copy_file(lake_ / "orders/Country=Japan/InvoiceDateOnly=2010-12-03/part-00000.parquet", mixed / "a.parquet",
                fs::copy_options::none);
  write_file(mixed / "b.csv", "1,2,3\n");
  Run("CREATE EXTERNAL TABLE m (CustomerID int) STORED AS PARQUET LOCATION '" + mixed.string() + "'");
  EXPECT_THAT(Error("SELECT * FROM m"),
              HasSubstr("table default.m: mixed formats under file://" + mixed.string() +
                        ": the table is Parquet but b.csv is CSV text"));
  Run("CREATE EXTERNAL TABLE mc (a string) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION '" + mixed.string() + "'");
  EXPECT_THAT(Error("SELECT * FROM mc"), HasSubstr("the table is CSV text but a.parquet is Parquet"));
  write_file(dir_.path() / "lines" / "a.json", "{\"a\": 1}\n");
  Run("CREATE EXTERNAL TABLE mj (a string) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION '" +
      (dir_.path() / "lines").string() + "'");
  EXPECT_THAT(Error("SELECT * FROM mj"), HasSubstr("the table is CSV text but a.json is JSON lines"));
  // Once the location holds one format, it reads.
  fs::remove(mixed / "b.csv");
  EXPECT_EQ(Scalar("SELECT count(*) FROM m"), 1);
}

TEST_F(DdlEngine, TablesTheCrawlerMadeAreQueryableAtOnce) {
  // The curated table, crawled: the same rows as the lake's own.
  auto cat = catalog::Catalog::Open(catalog_);
  ASSERT_TRUE(cat.ok());
  auto lake_store = store::Open((lake_ / "orders").string());
  ASSERT_TRUE(lake_store.ok());
  crawl::Options opts;
  opts.table = "curated";
  auto rep = crawl::Crawl(*lake_store.value(), *cat.value(), opts);
  ASSERT_TRUE(rep.ok()) << rep.status().message();
  EXPECT_EQ(Scalar("SELECT count(*) FROM curated"), 11);
  QueryResult a = Run("SELECT * EXCLUDE (Country, InvoiceDateOnly), Country, InvoiceDateOnly FROM curated ORDER BY ALL");
  QueryResult b = Run("SELECT * FROM orders ORDER BY ALL");
  EXPECT_TRUE(a.rows == b.rows);
  // Raw order lines in Firehose's yyyy/MM/dd/HH/ layout (partition_0 … partition_3).
  fs::path raw = dir_.path() / "raw";
  write_file(raw / "2010/12/01/08/fh-1", "536365,85123A,WHITE HANGING HEART,6,12/01/2010 08:26,2.55,17850,United Kingdom\n"
                                          "536366,22633,HAND WARMER,6,12/01/2010 08:28,1.85,17850,United Kingdom\n");
  write_file(raw / "2010/12/01/09/fh-2", Gzip("536367,84879,ASSORTED BIRD,32,12/01/2010 09:34,1.69,13047,France\n"));
  auto raw_store = store::Open(raw.string());
  auto raw_rep = crawl::Crawl(*raw_store.value(), *cat.value(), crawl::Options{});
  ASSERT_TRUE(raw_rep.ok()) << raw_rep.status().message();
  QueryResult rr = Run("SELECT partition_3, count(*), sum(col3) FROM raw GROUP BY ALL ORDER BY 1");
  ASSERT_EQ(rr.rows.size(), 2u);
  EXPECT_EQ(rr.rows[0][0].text(), "08");
  EXPECT_EQ(rr.rows[0][1].as_int(), 2);
  EXPECT_EQ(rr.rows[0][2].as_int(), 12);
  EXPECT_EQ(rr.rows[1][2].as_int(), 32);
}

TEST(DdlWithoutCatalog, ReadOnlyStatementsAnswerAndChangesAreRefused) {
  TempDir dir;
  testing::WriteOrders(dir.path() / "lake", testing::OrdersSelect(testing::SampleRows()));
  auto e = Engine::Open(dir.path() / "lake");
  ASSERT_TRUE(e.ok());
  auto tables = e.value()->Execute("SHOW TABLES");
  ASSERT_TRUE(tables.ok()) << tables.status().message();
  EXPECT_EQ(tables->rows.size(), 2u);
  EXPECT_TRUE(e.value()->Execute("SHOW PARTITIONS orders").ok());
  EXPECT_TRUE(e.value()->Execute("DESCRIBE FORMATTED tbsm_red_transformed").ok());
  for (const char* sql : {"CREATE EXTERNAL TABLE x (a int) LOCATION '/tmp/x'", "MSCK REPAIR TABLE orders",
                          "ALTER TABLE orders ADD PARTITION (Country='x', InvoiceDateOnly='2010-01-01')",
                          "DROP TABLE orders", "DROP TABLE IF EXISTS x"}) {
    auto r = e.value()->Execute(sql);
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_THAT(r.status().message(), HasSubstr("changes the catalog, and this SQL endpoint is read-only")) << sql;
    EXPECT_FALSE(e.value()->Check(sql).ok()) << sql;
  }
  EXPECT_FALSE(fs::exists(dir.path() / "lake" / "catalog"));
}

}  // namespace
}  // namespace orderlake::query
