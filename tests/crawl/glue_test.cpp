// The Glue API's pieces: GetPartitions' Expression, GetTables' pattern, crawler exclusions,
// the mapping between Glue's SerDe shapes and the catalog's formats, and confinement of
// locations through an in-process GlueApi.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "crawl/crawler.h"
#include "crawl/glue_internal.h"
#include "test_util.h"

namespace orderlake::crawl::glue {
namespace {
using testing::TempDir;

const std::vector<catalog::Column> kKeys = {{"dt", "string"}, {"hour", "int"}};

bool Match(std::string_view expr, std::vector<std::string> values) {
  auto f = PartitionFilter::Parse(expr, kKeys);
  EXPECT_EQ(f.index(), 0u) << (f.index() == 1 ? std::get<1>(f).message : "");
  return f.index() == 0 && std::get<0>(f)->Matches(values);
}

std::string ParseError(std::string_view expr) {
  auto f = PartitionFilter::Parse(expr, kKeys);
  return f.index() == 1 ? std::get<1>(f).type + ": " + std::get<1>(f).message : "parsed";
}

TEST(GluePartitionExpression, ComparisonsAndLogic) {
  EXPECT_TRUE(Match("dt = '2026-01-01'", {"2026-01-01", "9"}));
  EXPECT_FALSE(Match("dt = '2026-01-01'", {"2026-01-02", "9"}));
  EXPECT_TRUE(Match("hour > 9", {"x", "10"}));  // numeric for an int key ("10" < "9" as text)
  EXPECT_FALSE(Match("hour < 9", {"x", "10"}));
  EXPECT_TRUE(Match("dt <> 'a' AND hour <= 10", {"b", "10"}));
  EXPECT_TRUE(Match("dt != 'a' or hour = 1", {"a", "1"}));
  EXPECT_TRUE(Match("dt IN ('a', 'b') AND NOT hour IN (1, 2)", {"b", "3"}));
  EXPECT_TRUE(Match("dt NOT IN ('a')", {"b", "3"}));
  EXPECT_TRUE(Match("(dt = 'a' OR dt = 'b') AND (hour BETWEEN 2 AND 4)", {"b", "4"}));
  EXPECT_FALSE(Match("(dt = 'a' OR dt = 'b') AND (hour BETWEEN 2 AND 4)", {"b", "5"}));
  EXPECT_TRUE(Match("dt LIKE '2026-%-0_'", {"2026-12-07", "1"}));
  EXPECT_TRUE(Match("dt LIKE '%%%2026%%'", {"x2026y", "1"}));
  EXPECT_TRUE(Match("`DT` = 'it''s'", {"it's", "1"}));  // keys any case, quotes doubled
  EXPECT_TRUE(Match("dt = 'a' OR dt = 'b' AND hour = 1", {"a", "9"}));  // AND binds tighter
}

TEST(GluePartitionExpression, BadInputIsAnErrorNotACrash) {
  EXPECT_NE(ParseError("nope = 'x'").find("not a partition key"), std::string::npos);
  EXPECT_NE(ParseError("dt = 'open").find("InvalidInputException"), std::string::npos);
  EXPECT_NE(ParseError("dt = 'a' AND").find("InvalidInputException"), std::string::npos);
  EXPECT_NE(ParseError("dt = 'a' garbage").find("unexpected"), std::string::npos);
  EXPECT_NE(ParseError("dt IN ()").find("InvalidInputException"), std::string::npos);
  EXPECT_NE(ParseError("hour = 1e999x").find("InvalidInputException"), std::string::npos);
  EXPECT_NE(ParseError(std::string(1000, '(') + "dt = 'a'" + std::string(1000, ')')).find("32 deep"), std::string::npos);
  EXPECT_NE(ParseError(std::string(1000, 'N') + "").find("InvalidInputException"), std::string::npos);
  EXPECT_NE(ParseError("dt LIKE '" + std::string(300, '%') + "'").find("at most 256"), std::string::npos);
  std::string many_nots;
  for (int i = 0; i < 500; ++i) many_nots += "NOT ";
  EXPECT_NE(ParseError(many_nots + "dt = 'a'").find("32 deep"), std::string::npos);
}

TEST(GlueNames, TablePatternsAndExclusions) {
  EXPECT_TRUE(NameMatches("*", "orders"));
  EXPECT_TRUE(NameMatches(".*ord.*", "Orders"));
  EXPECT_TRUE(NameMatches("x|ord*", "orders"));
  EXPECT_FALSE(NameMatches("ord", "orders"));
  EXPECT_FALSE(NameMatches("a*|b*", "orders"));
  EXPECT_TRUE(GlobMatch("**/skip-*", "2026/12/07/10/skip-me"));
  EXPECT_FALSE(GlobMatch("*/skip-*", "2026/12/07/10/skip-me"));  // * stays in one segment
  EXPECT_TRUE(GlobMatch("2026/*/07/**", "2026/12/07/10/x"));
  EXPECT_TRUE(GlobMatch("**.gz", "a/b/c.gz"));
  EXPECT_FALSE(GlobMatch("**.gz", "a/b/c.json"));
  EXPECT_TRUE(GlobMatch("a?c", "abc"));
  EXPECT_FALSE(GlobMatch("a?c", "a/c"));
}

nlohmann::json Input(const std::string& serde, nlohmann::json serde_params = nlohmann::json::object()) {
  return {{"Name", "T"},
          {"StorageDescriptor",
           {{"Columns", {{{"Name", "A"}, {"Type", "INT"}}}},
            {"Location", "s3://orderlake-raw/t"},
            {"SerdeInfo", {{"SerializationLibrary", serde}, {"Parameters", serde_params}}}}}};
}

TEST(GlueShapes, SerdesMapToTheCatalogsFormats) {
  auto table = [](const nlohmann::json& in) {
    auto r = TableFromInput(in, "db");
    EXPECT_EQ(r.index(), 0u) << (r.index() == 1 ? std::get<1>(r).message : "");
    return r.index() == 0 ? std::get<0>(r).first : catalog::Table{};
  };
  auto p = table(Input("org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"));
  EXPECT_EQ(p.format, "parquet");
  EXPECT_EQ(p.name, "t");
  EXPECT_EQ(p.columns, (std::vector<catalog::Column>{{"a", "int"}}));
  EXPECT_EQ(table(Input("org.openx.data.jsonserde.JsonSerDe")).format, "json");
  EXPECT_EQ(table(Input("org.apache.hive.hcatalog.data.JsonSerDe")).format, "json");
  auto csv = table(Input("org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe", {{"field.delim", "\t"}}));
  EXPECT_EQ(csv.format, "csv");
  EXPECT_EQ(csv.delimiter, "\t");
  auto in = Input("org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe");
  in["StorageDescriptor"]["Compressed"] = true;
  in["Parameters"] = {{"skip.header.line.count", "1"}};
  auto gz = table(in);
  EXPECT_EQ(gz.compression, "gzip");
  EXPECT_TRUE(gz.has_header);
  EXPECT_EQ(gz.delimiter, ",");
  auto bad = TableFromInput(Input("com.example.AvroSerDe"), "db");
  ASSERT_EQ(bad.index(), 1u);
  EXPECT_EQ(std::get<1>(bad).type, "InvalidInputException");
  auto dup = Input("org.openx.data.jsonserde.JsonSerDe");
  dup["PartitionKeys"] = {{{"Name", "a"}, {"Type", "string"}}};
  EXPECT_EQ(TableFromInput(dup, "db").index(), 1u);
}

TEST(GlueShapes, ACrawledTableReadsBackAsGlue) {
  catalog::Table t;
  t.database = "default";
  t.name = "raw";
  t.location = "s3://orderlake-raw";
  t.format = "csv";
  t.delimiter = ";";
  t.has_header = true;
  t.compression = "gzip";
  t.columns = {{"a", "int"}};
  t.partition_keys = {{"partition_0", "string"}};
  auto j = TableJson(t, catalog::TableInfo{}, "123456789012");
  EXPECT_EQ(j["TableType"], "EXTERNAL_TABLE");
  EXPECT_EQ(j["Parameters"]["classification"], "csv");
  EXPECT_EQ(j["Parameters"]["skip.header.line.count"], "1");
  EXPECT_EQ(j["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"], "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe");
  EXPECT_EQ(j["StorageDescriptor"]["SerdeInfo"]["Parameters"]["field.delim"], ";");
  EXPECT_EQ(j["StorageDescriptor"]["Compressed"], true);
  EXPECT_EQ(j["PartitionKeys"][0]["Name"], "partition_0");
  auto back = TableFromInput(j, "default");  // a GetTable answer is a valid TableInput
  ASSERT_EQ(back.index(), 0u);
  EXPECT_EQ(std::get<0>(back).first, t);
  auto part = PartitionJson(t, {{"2026"}, "s3://orderlake-raw/2026"}, "1");
  EXPECT_EQ(part["StorageDescriptor"]["Location"], "s3://orderlake-raw/2026");
  EXPECT_EQ(part["Values"][0], "2026");
}

TEST(GlueApi, LocationsAreConfinedInProcess) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.path() / "s3" / "orderlake-raw");
  std::filesystem::create_directories(tmp.path() / "lake");
  store::BucketsOptions bo;
  bo.data_dir = tmp.path();
  auto buckets = store::Buckets::Open(bo);
  ASSERT_TRUE(buckets.ok()) << buckets.status().message();
  GlueApiOptions o;
  o.data_dir = tmp.path();
  o.catalog = catalog::Catalog::DefaultPath(tmp.path());
  o.lake = tmp.path() / "lake";
  o.buckets = &buckets.value();
  auto api = GlueApi::Create(o);
  ASSERT_TRUE(api.ok()) << api.status().message();
  auto call = [&](const std::string& op, const nlohmann::json& body) {
    std::string text = body.dump();
    aws::JsonCall c;
    c.body = text;
    auto r = api.value()->service().Dispatch("AWSGlue." + op, c);
    return std::pair{r.status, nlohmann::json::parse(r.body, nullptr, false)};
  };
  EXPECT_EQ(call("CreateDatabase", {{"DatabaseInput", {{"Name", "d"}}}}).first, 200);
  for (const std::string& loc : std::vector<std::string>{"/etc", "file:///etc/", "s3://orderlake-raw/../../../etc", "s3://other-bucket/",
                          "file://" + (tmp.path() / "catalog").string()}) {
    auto [status, body] =
        call("CreateTable", {{"DatabaseName", "d"}, {"TableInput", {{"Name", "t"}, {"StorageDescriptor", {{"Location", loc}}}}}});
    EXPECT_EQ(status, 400) << loc;
    EXPECT_EQ(body["__type"], "AccessDeniedException") << loc;
  }
  auto ok = call("CreateTable", {{"DatabaseName", "d"},
                                 {"TableInput", {{"Name", "t"}, {"StorageDescriptor", {{"Location", "s3://orderlake-lake/t"}}}}}});
  EXPECT_EQ(ok.first, 200) << ok.second.dump();
  EXPECT_EQ(call("GetTables", {{"DatabaseName", "d"}, {"MaxResults", 0}}).second["__type"], "InvalidInputException");
  EXPECT_EQ(call("GetTables", {{"DatabaseName", "d"}, {"NextToken", "x"}}).second["__type"], "InvalidInputException");
  EXPECT_EQ(call("GetTable", {{"DatabaseName", "d"}, {"Name", 5}}).second["__type"], "InvalidInputException");
  EXPECT_EQ(call("GetTable", {{"DatabaseName", "d"}, {"Name", "t"}}).second["Table"]["StorageDescriptor"]["Location"],
            "s3://orderlake-lake/t");
}

// Runs that take a while (thousands of objects) are seen RUNNING by the calls right after
// their start: a second start is refused, a stop cancels without writing the catalog.
TEST(GlueApi, RunningCrawlersAndJobsRefuseASecondStart) {
  TempDir tmp;
  const auto hour = tmp.path() / "s3" / "orderlake-raw" / "2026" / "12" / "07" / "10";
  std::filesystem::create_directories(hour);
  std::filesystem::create_directories(tmp.path() / "lake");
  for (int i = 0; i < 3000; ++i)
    std::ofstream(hour / ("orders-" + std::to_string(i)))
        << "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/01/2010 08:26,2.55,17850,United Kingdom\n";
  store::BucketsOptions bo;
  bo.data_dir = tmp.path();
  auto buckets = store::Buckets::Open(bo).value();
  GlueApiOptions o;
  o.data_dir = tmp.path();
  o.catalog = catalog::Catalog::DefaultPath(tmp.path());
  o.lake = tmp.path() / "lake";
  o.buckets = &buckets;
  auto api = GlueApi::Create(o).value();
  auto call = [&](const std::string& op, const nlohmann::json& body) {
    std::string text = body.dump();
    aws::JsonCall c;
    c.body = text;
    auto r = api->service().Dispatch("AWSGlue." + op, c);
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    return j.contains("__type") ? j["__type"].get<std::string>() : std::string("ok");
  };
  auto get = [&](const std::string& op, const nlohmann::json& body) {
    std::string text = body.dump();
    aws::JsonCall c;
    c.body = text;
    return nlohmann::json::parse(api->service().Dispatch("AWSGlue." + op, c).body);
  };
  const nlohmann::json crawler = {{"Name", "c"}};
  ASSERT_EQ(call("CreateCrawler", {{"Name", "c"}, {"Role", "r"}, {"Targets", {{"S3Targets", {{{"Path", "s3://orderlake-raw/"}}}}}}}), "ok");
  ASSERT_EQ(call("StartCrawler", crawler), "ok");
  EXPECT_EQ(call("StartCrawler", crawler), "CrawlerRunningException");
  EXPECT_EQ(call("DeleteCrawler", crawler), "CrawlerRunningException");
  EXPECT_EQ(get("GetCrawler", crawler)["Crawler"]["State"], "RUNNING");
  ASSERT_EQ(call("StopCrawler", crawler), "ok");
  EXPECT_EQ(call("StopCrawler", crawler), "CrawlerStoppingException");
  nlohmann::json c;
  for (int i = 0; i < 600; ++i) {
    c = get("GetCrawler", crawler)["Crawler"];
    if (c["State"] == "READY") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(c["State"], "READY");
  EXPECT_EQ(c["LastCrawl"]["Status"], "CANCELLED");
  EXPECT_EQ(get("GetTables", {{"DatabaseName", "default"}})["TableList"].size(), 0u);  // nothing written

  const nlohmann::json job = {{"JobName", "j"}};
  ASSERT_EQ(call("CreateJob", {{"Name", "j"}, {"Role", "r"}, {"Command", {{"Name", "glueetl"}}}}), "ok");
  auto first = get("StartJobRun", job);
  ASSERT_TRUE(first.contains("JobRunId")) << first.dump();
  EXPECT_EQ(call("StartJobRun", job), "ConcurrentRunsExceededException");
  nlohmann::json run;
  for (int i = 0; i < 1200; ++i) {
    run = get("GetJobRun", {{"JobName", "j"}, {"RunId", first["JobRunId"]}})["JobRun"];
    if (run["JobRunState"] != "RUNNING") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(run["JobRunState"], "SUCCEEDED") << run.dump();
  EXPECT_EQ(get("GetJobRuns", job)["JobRuns"].size(), 1u);
}

}  // namespace
}  // namespace orderlake::crawl::glue
