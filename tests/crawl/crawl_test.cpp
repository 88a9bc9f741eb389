// `orderlake crawl` (the Glue crawler): raw CSV, raw JSON lines (CSVTOJSON), gzip objects,
// the curated Parquet table, S3 (moto), idempotence, mixed formats, concurrent crawls.
#include "crawl/crawler.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "catalog/catalog.h"
#include "test_util.h"

namespace orderlake::crawl {
namespace {
namespace stdfs = std::filesystem;
using catalog::Catalog;
using catalog::Column;
using catalog::Table;
using testing::run_orderlake;
using testing::TempDir;

const std::vector<Column> kRawCsvColumns = {{"col0", "string"}, {"col1", "string"}, {"col2", "string"},
                                            {"col3", "int"},    {"col4", "string"}, {"col5", "double"},
                                            {"col6", "int"},    {"col7", "string"}};

const std::vector<Column> kCuratedColumns = {
    {"CustomerID", "int"},        {"OrderID", "string"},  {"InvoiceNo", "string"},   {"StockCode", "string"},
    {"Description", "string"},    {"Quantity", "int"},    {"UnitPrice", "double"},   {"TotalAmount", "double"},
    {"TotalAmountUSD", "double"}, {"OrderTag", "string"}, {"InvoiceDate", "string"}, {"InvoiceHour", "int"},
    {"Region", "string"}};

void Generate(const stdfs::path& out, int count = 2000) {
  auto g = run_orderlake({"generate", "--out", out.string(), "--count", std::to_string(count), "--seed", "1", "--start",
                          "2010-12-01"});
  ASSERT_EQ(g.exit_code, 0) << g.err;
}

testing::CommandResult CrawlCli(const stdfs::path& location, const stdfs::path& catalog,
                                const std::vector<std::string>& extra = {}, const std::vector<std::string>& env = {}) {
  std::vector<std::string> args = {"crawl", location.string(), "--catalog", catalog.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_orderlake(args, 300, env);
}

Table GetTable(const stdfs::path& catalog, const std::string& name) {
  auto c = Catalog::Open(catalog);
  EXPECT_TRUE(c.ok()) << c.status().message();
  if (!c.ok()) return {};
  auto t = c.value()->GetTable("default", name);
  EXPECT_TRUE(t.ok() && t.value().has_value()) << name;
  return t.ok() && t.value() ? *t.value() : Table{};
}

void Gzip(const stdfs::path& from, const stdfs::path& to) {
  const std::string data = testing::read_file(from);
  gzFile gz = gzopen(to.c_str(), "wb");
  gzwrite(gz, data.data(), static_cast<unsigned>(data.size()));
  gzclose(gz);
}

TEST(CrawlTypes, ValuesAndNames) {
  EXPECT_EQ(ValueType(""), "");
  EXPECT_EQ(ValueType("42"), "int");
  EXPECT_EQ(ValueType("-7"), "int");
  EXPECT_EQ(ValueType("4294967296"), "bigint");
  EXPECT_EQ(ValueType("0042"), "string");
  EXPECT_EQ(ValueType("2.55"), "double");
  EXPECT_EQ(ValueType("1e3"), "double");
  EXPECT_EQ(ValueType("true"), "boolean");
  EXPECT_EQ(ValueType("2010-12-01"), "date");
  EXPECT_EQ(ValueType("2010-12-01 08:26:00"), "timestamp");
  EXPECT_EQ(ValueType("12/01/2010 08:26"), "string");
  EXPECT_EQ(ValueType("85123A"), "string");
  EXPECT_EQ(MergeTypes("int", "bigint"), "bigint");
  EXPECT_EQ(MergeTypes("int", "double"), "double");
  EXPECT_EQ(MergeTypes("", "date"), "date");
  EXPECT_EQ(MergeTypes("int", "string"), "string");
  EXPECT_EQ(MergeTypes("date", "timestamp"), "string");
  EXPECT_EQ(TableNameFor("s3://bucket/Raw-Orders/"), "raw_orders");
  EXPECT_EQ(TableNameFor("/data/lake/orders"), "orders");
  EXPECT_EQ(TableNameFor("s3://bucket"), "bucket");
}

TEST(Crawl, RawCsvHasNoHeaderAndEightTypedColumns) {
  TempDir tmp;
  Generate(tmp.path() / "logs");
  const auto cat = tmp.path() / "catalog.db";
  auto r = CrawlCli(tmp.path() / "logs", cat);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("table default.logs created: 8 columns, 0 partition keys, format csv"), std::string::npos)
      << r.out;
  Table t = GetTable(cat, "logs");
  EXPECT_EQ(t.format, "csv");
  EXPECT_EQ(t.compression, "none");
  EXPECT_EQ(t.delimiter, ",");
  EXPECT_FALSE(t.has_header);
  EXPECT_EQ(t.columns, kRawCsvColumns);
  EXPECT_TRUE(t.partition_keys.empty());
  EXPECT_EQ(t.location, "file://" + stdfs::absolute(tmp.path() / "logs").lexically_normal().string());

  auto again = CrawlCli(tmp.path() / "logs", cat);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("table default.logs: no changes"), std::string::npos) << again.out;
}

TEST(Crawl, CsvHeaderAndDelimiterAreDetected) {
  TempDir tmp;
  testing::write_file(tmp.path() / "t" / "a.csv",
                      "id;name;price;day;at\n1;x;2.5;2010-12-01;2010-12-01 08:26:00\n2;\"y;z\";3;2010-12-02;\n");
  auto store = store::OpenLocal((tmp.path() / "t").string());
  auto rep = Infer(*store, {});
  ASSERT_TRUE(rep.ok()) << rep.status().message();
  EXPECT_EQ(rep->table.delimiter, ";");
  EXPECT_TRUE(rep->table.has_header);
  EXPECT_EQ(rep->table.columns, (std::vector<Column>{{"id", "int"},
                                                     {"name", "string"},
                                                     {"price", "double"},
                                                     {"day", "date"},
                                                     {"at", "timestamp"}}));
  // All strings everywhere: no header can be told apart, as in Glue.
  testing::write_file(tmp.path() / "s" / "a.tsv", "a\tb\nc\td\n");
  auto s = store::OpenLocal((tmp.path() / "s").string());
  auto rs = Infer(*s, {});
  ASSERT_TRUE(rs.ok()) << rs.status().message();
  EXPECT_EQ(rs->table.delimiter, "\t");
  EXPECT_FALSE(rs->table.has_header);
  EXPECT_EQ(rs->table.columns, (std::vector<Column>{{"col0", "string"}, {"col1", "string"}}));
}

TEST(Crawl, RawJsonLinesAsTheAgentWritesThem) {
  TempDir tmp;
  std::string lines;
  for (int i = 0; i < 50; ++i)
    lines += "{\"InvoiceNo\":\"" + std::to_string(536365 + i) +
             "\",\"StockCode\":\"85123A\",\"Description\":\"WHITE HANGING HEART\",\"Quantity\":\"6\","
             "\"InvoiceDate\":\"12/01/2010 08:26\",\"UnitPrice\":\"2.55\",\"CustomerID\":\"17850\","
             "\"Country\":\"United Kingdom\"}\n";
  testing::write_file(tmp.path() / "raw-json" / "2010" / "12" / "01" / "08" / "stream-1-2010-12-01-08-26-00-x", lines);
  testing::write_file(tmp.path() / "raw-json" / "2010" / "12" / "02" / "09" / "stream-1-2010-12-02-09-00-00-y", lines);
  const auto cat = tmp.path() / "catalog.db";
  auto r = CrawlCli(tmp.path() / "raw-json", cat);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("partitions added 2"), std::string::npos) << r.out;
  Table t = GetTable(cat, "raw_json");
  EXPECT_EQ(t.format, "json");
  std::vector<Column> expected;
  for (const char* n : {"InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID",
                        "Country"})
    expected.push_back({n, "string"});
  EXPECT_EQ(t.columns, expected);
  // Firehose's yyyy/MM/dd/HH folders are partitions as Glue names them.
  EXPECT_EQ(t.partition_keys, (std::vector<Column>{{"partition_0", "string"},
                                                   {"partition_1", "string"},
                                                   {"partition_2", "string"},
                                                   {"partition_3", "string"}}));
  auto c = Catalog::Open(cat);
  ASSERT_TRUE(c.ok());
  auto parts = c.value()->Partitions("default", "raw_json").value();
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].values, (std::vector<std::string>{"2010", "12", "01", "08"}));
}

TEST(Crawl, GzipObjects) {
  TempDir tmp;
  Generate(tmp.path() / "logs");
  stdfs::create_directories(tmp.path() / "gz");
  for (const auto& e : stdfs::directory_iterator(tmp.path() / "logs"))
    Gzip(e.path(), tmp.path() / "gz" / (e.path().filename().string() + ".gz"));
  const auto cat = tmp.path() / "catalog.db";
  auto r = CrawlCli(tmp.path() / "gz", cat, {"--table", "raw_gz"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Table t = GetTable(cat, "raw_gz");
  EXPECT_EQ(t.format, "csv");
  EXPECT_EQ(t.compression, "gzip");
  EXPECT_FALSE(t.has_header);
  EXPECT_EQ(t.columns, kRawCsvColumns);
}

TEST(Crawl, CuratedTable) {
  TempDir tmp;
  Generate(tmp.path() / "logs");
  auto etl = run_orderlake({"etl", "--input", (tmp.path() / "logs").string(), "--lake", (tmp.path() / "lake").string()});
  ASSERT_EQ(etl.exit_code, 0) << etl.err;
  size_t dirs = 0;
  for (const auto& c : stdfs::directory_iterator(tmp.path() / "lake" / "orders"))
    if (c.path().filename().string().starts_with("Country="))
      for (const auto& d : stdfs::directory_iterator(c.path())) dirs += d.is_directory() ? 1 : 0;
  ASSERT_GT(dirs, 1u);

  const auto cat = tmp.path() / "data" / "catalog" / "catalog.db";
  auto r = run_orderlake({"crawl", (tmp.path() / "lake" / "orders").string(), "--data-dir", (tmp.path() / "data").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("table default.orders created: 13 columns, 2 partition keys, format parquet; partitions added " +
                       std::to_string(dirs)),
            std::string::npos)
      << r.out;
  Table t = GetTable(cat, "orders");
  EXPECT_EQ(t.format, "parquet");
  EXPECT_EQ(t.columns, kCuratedColumns);
  EXPECT_EQ(t.partition_keys, (std::vector<Column>{{"Country", "string"}, {"InvoiceDateOnly", "date"}}));
  auto c = Catalog::Open(cat);
  ASSERT_TRUE(c.ok());
  auto parts = c.value()->Partitions("default", "orders").value();
  EXPECT_EQ(parts.size(), dirs);
  bool uk = false;
  for (const auto& p : parts)
    uk = uk || (p.values[0] == "United Kingdom" && p.values[1] == "2010-12-01" &&
                p.location.ends_with("/orders/Country=United Kingdom/InvoiceDateOnly=2010-12-01"));
  EXPECT_TRUE(uk);

  auto again = run_orderlake({"crawl", (tmp.path() / "lake" / "orders").string(), "--data-dir", (tmp.path() / "data").string()});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("no changes"), std::string::npos) << again.out;
}

TEST(Crawl, MixedFormatsAreAClearError) {
  TempDir tmp;
  testing::write_file(tmp.path() / "mixed" / "a.csv", "1,2,3\n4,5,6\n");
  testing::write_file(tmp.path() / "mixed" / "b.json", "{\"a\":1}\n");
  auto r = CrawlCli(tmp.path() / "mixed", tmp.path() / "catalog.db");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("mixed formats: a.csv is csv but b.json is json"), std::string::npos) << r.err;
  // Different partition layouts are one too.
  testing::write_file(tmp.path() / "layout" / "a.csv", "1,2\n");
  testing::write_file(tmp.path() / "layout" / "k=1" / "b.csv", "1,2\n");
  auto l = CrawlCli(tmp.path() / "layout", tmp.path() / "catalog.db");
  EXPECT_NE(l.exit_code, 0);
  EXPECT_NE(l.err.find("different partition keys"), std::string::npos) << l.err;
  auto empty = CrawlCli(tmp.path() / "nothing-here", tmp.path() / "catalog.db");
  EXPECT_NE(empty.exit_code, 0);
}

TEST(Crawl, TwoProcessesAtOnceBothLand) {
  TempDir tmp;
  Generate(tmp.path() / "a");
  Generate(tmp.path() / "b");
  const auto cat = tmp.path() / "catalog.db";
  testing::CommandResult ra, rb;
  std::thread ta([&] { ra = CrawlCli(tmp.path() / "a", cat); });
  std::thread tb([&] { rb = CrawlCli(tmp.path() / "b", cat); });
  ta.join();
  tb.join();
  ASSERT_EQ(ra.exit_code, 0) << ra.err;
  ASSERT_EQ(rb.exit_code, 0) << rb.err;
  EXPECT_EQ(GetTable(cat, "a").columns, kRawCsvColumns);
  EXPECT_EQ(GetTable(cat, "b").columns, kRawCsvColumns);
}

TEST(Crawl, S3Location) {
  TempDir tmp;
  Generate(tmp.path() / "logs");
  testing::MotoServer moto;
  ASSERT_EQ(testing::aws_cli(moto.endpoint(), {"s3api", "create-bucket", "--bucket", "raw"}).exit_code, 0);
  auto cp = testing::aws_cli(moto.endpoint(), {"s3", "cp", "--recursive", (tmp.path() / "logs").string(),
                                               "s3://raw/firehose/dt=2010-12-01/"});
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  const std::vector<std::string> env = {"AWS_ENDPOINT_URL_S3=" + moto.endpoint(), "AWS_ACCESS_KEY_ID=testing",
                                        "AWS_SECRET_ACCESS_KEY=testing", "AWS_REGION=us-east-1"};
  const auto cat = tmp.path() / "catalog.db";
  auto r = run_orderlake({"crawl", "s3://raw/firehose", "--catalog", cat.string()}, 300, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("partitions added 1"), std::string::npos) << r.out;
  Table t = GetTable(cat, "firehose");
  EXPECT_EQ(t.location, "s3://raw/firehose");
  EXPECT_EQ(t.format, "csv");
  EXPECT_EQ(t.columns, kRawCsvColumns);
  EXPECT_EQ(t.partition_keys, (std::vector<Column>{{"dt", "date"}}));
  auto c = Catalog::Open(cat);
  ASSERT_TRUE(c.ok());
  auto parts = c.value()->Partitions("default", "firehose").value();
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].location, "s3://raw/firehose/dt=2010-12-01");
  auto again = run_orderlake({"crawl", "s3://raw/firehose", "--catalog", cat.string()}, 300, env);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("no changes"), std::string::npos) << again.out;
}

// Parquet on S3: the crawler downloads one object to read its schema.
TEST(Crawl, S3CuratedTable) {
  TempDir tmp;
  Generate(tmp.path() / "logs");
  auto etl = run_orderlake({"etl", "--input", (tmp.path() / "logs").string(), "--lake", (tmp.path() / "lake").string()});
  ASSERT_EQ(etl.exit_code, 0) << etl.err;
  testing::MotoServer moto;
  ASSERT_EQ(testing::aws_cli(moto.endpoint(), {"s3api", "create-bucket", "--bucket", "lake"}).exit_code, 0);
  auto cp = testing::aws_cli(moto.endpoint(), {"s3", "cp", "--recursive", (tmp.path() / "lake").string(), "s3://lake/"});
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  const std::vector<std::string> env = {"AWS_ENDPOINT_URL_S3=" + moto.endpoint(), "AWS_ACCESS_KEY_ID=testing",
                                        "AWS_SECRET_ACCESS_KEY=testing", "AWS_REGION=us-east-1"};
  const auto cat = tmp.path() / "catalog.db";
  auto r = run_orderlake({"crawl", "s3://lake/orders", "--catalog", cat.string()}, 300, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Table t = GetTable(cat, "orders");
  EXPECT_EQ(t.location, "s3://lake/orders");
  EXPECT_EQ(t.format, "parquet");
  EXPECT_EQ(t.columns, kCuratedColumns);
  EXPECT_EQ(t.partition_keys, (std::vector<Column>{{"Country", "string"}, {"InvoiceDateOnly", "date"}}));
  // The same partitions as the local crawl finds.
  auto local = run_orderlake({"crawl", (tmp.path() / "lake" / "orders").string(), "--catalog", cat.string(), "--table",
                              "orders_local"});
  ASSERT_EQ(local.exit_code, 0) << local.err;
  auto c = Catalog::Open(cat);
  ASSERT_TRUE(c.ok());
  auto ps = c.value()->Partitions("default", "orders").value();
  auto pl = c.value()->Partitions("default", "orders_local").value();
  ASSERT_EQ(ps.size(), pl.size());
  for (size_t i = 0; i < ps.size(); ++i) EXPECT_EQ(ps[i].values, pl[i].values);
}

}  // namespace
}  // namespace orderlake::crawl
