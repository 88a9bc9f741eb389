// The whole batch path on S3 (moto's server): raw objects in one bucket, the Delta table in
// another, compaction there too; the answers equal those of a local lake, the log is
// where the AWS CLI sees it, and a crash mid-publish leaves no stray object behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace orderlake {
namespace {
namespace stdfs = std::filesystem;
using nlohmann::json;
using testing::aws_cli;
using testing::MotoServer;
using testing::run_orderlake;
using testing::TempDir;

std::set<std::string> keys(const std::string& endpoint, const std::string& bucket, const std::string& prefix) {
  auto r = aws_cli(endpoint, {"s3api", "list-objects-v2", "--bucket", bucket, "--prefix", prefix, "--output", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> out;
  if (r.out.empty()) return out;
  json j = json::parse(r.out);
  for (auto& o : j.value("Contents", json::array())) out.insert(o["Key"].get<std::string>());
  return out;
}

TEST(EtlS3Lake, SameAnswersAsALocalLakeWithCommitsCompactionAndACrash) {
  TempDir tmp;
  const auto logs = tmp.path() / "logs";
  ASSERT_EQ(run_orderlake({"generate", "--out", (logs / "a").string(), "--count", "20000", "--seed", "5", "--start",
                           "2010-12-01", "--days", "3", "--rotate-size", "512K"})
                .exit_code,
            0);
  MotoServer moto;
  for (const char* b : {"raw", "lake"})
    ASSERT_EQ(aws_cli(moto.endpoint(), {"s3api", "create-bucket", "--bucket", b}).exit_code, 0);
  auto sync = [&] {
    auto cp = aws_cli(moto.endpoint(), {"s3", "sync", logs.string(), "s3://raw/in/"});
    ASSERT_EQ(cp.exit_code, 0) << cp.err;
  };
  sync();
  const std::vector<std::string> env = {"AWS_ENDPOINT_URL_S3=" + moto.endpoint(), "AWS_ACCESS_KEY_ID=testing",
                                        "AWS_SECRET_ACCESS_KEY=testing", "AWS_REGION=us-east-1",
                                        "XDG_CACHE_HOME=" + (tmp.path() / "cache").string()};
  const std::string s3lake = "s3://lake/curated";
  const std::string local = (tmp.path() / "local-lake").string();
  auto etl = [&](const std::string& lake, std::vector<std::string> extra_env = {}) {
    std::vector<std::string> e = env;
    e.insert(e.end(), extra_env.begin(), extra_env.end());
    return run_orderlake({"etl", "--input", "s3://raw/in", "--lake", lake, "--json", "--memory-mb", "16"}, 300, e);
  };
  auto first = etl(s3lake);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_EQ(etl(local).exit_code, 0);

  // The log is in the bucket, beside the Hive partitions.
  auto objs = keys(moto.endpoint(), "lake", "curated/orders/");
  ASSERT_TRUE(objs.count("curated/orders/_delta_log/00000000000000000000.json"));
  auto c0 = aws_cli(moto.endpoint(), {"s3", "cp", "s3://lake/curated/orders/_delta_log/00000000000000000000.json", "-"});
  ASSERT_EQ(c0.exit_code, 0) << c0.err;
  EXPECT_NE(c0.out.find("\"protocol\""), std::string::npos);
  EXPECT_NE(c0.out.find("\"txn\""), std::string::npos);
  size_t parquet = 0;
  for (auto& k : objs) parquet += k.ends_with(".parquet") && k.find("/Country=") != std::string::npos;
  EXPECT_EQ(parquet, json::parse(first.out)["files"].get<size_t>());

  // A second batch dies mid-publish (some files uploaded, no commit); the next run removes
  // them and publishes the batch once.
  ASSERT_EQ(run_orderlake({"generate", "--out", (logs / "b").string(), "--count", "8000", "--seed", "6", "--start",
                           "2010-12-02", "--days", "2", "--rotate-size", "256K"})
                .exit_code,
            0);
  sync();
  auto crashed = etl(s3lake, {"ORDERLAKE_CRASH_AT=mid_publish"});
  ASSERT_EQ(crashed.exit_code, 86) << crashed.err;
  EXPECT_FALSE(keys(moto.endpoint(), "lake", "curated/_orderlake/orders/pending/").empty());
  auto resumed = etl(s3lake);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_TRUE(keys(moto.endpoint(), "lake", "curated/_orderlake/orders/pending/").empty());
  ASSERT_EQ(etl(local).exit_code, 0);

  // Compaction in the bucket, then the answers of both lakes.
  auto compact = run_orderlake({"compact", "--lake", s3lake, "--min-files", "2", "--checkpoint-interval", "1",
                                "--json"}, 300, env);
  ASSERT_EQ(compact.exit_code, 0) << compact.err;
  EXPECT_GT(json::parse(compact.out)["files_removed"].get<int>(), 0);
  EXPECT_GE(json::parse(compact.out)["checkpoint"].get<int>(), 2);  // read back by the query below
  EXPECT_TRUE(keys(moto.endpoint(), "lake", "curated/orders/_delta_log/_last_checkpoint").size() == 1);
  const std::string q = "SELECT Country, InvoiceDateOnly, count(*) AS n, sum(Quantity) AS q, "
                        "count(DISTINCT OrderID) AS ids FROM orders GROUP BY ALL ORDER BY ALL";
  auto qa = run_orderlake({"query", "--lake", s3lake, "--format", "csv", q}, 300, env);
  auto qb = run_orderlake({"query", "--lake", local, "--format", "csv", q});
  ASSERT_EQ(qa.exit_code, 0) << qa.err;
  ASSERT_EQ(qb.exit_code, 0) << qb.err;
  EXPECT_EQ(qa.out, qb.out);
  EXPECT_GT(std::count(qa.out.begin(), qa.out.end(), '\n'), 10);

  // The original project's DDL over the Delta table in the bucket: after MSCK REPAIR the
  // catalog table reads the newest snapshot (not the files compaction removed).
  const std::string catalog = (tmp.path() / "catalog.db").string();
  auto ddl = run_orderlake({"query", "--lake", s3lake, "--catalog", catalog, "-f", "-"}, 300, env,
                           "CREATE EXTERNAL TABLE t (CustomerID int, Quantity int, OrderID string) "
                           "PARTITIONED BY (Country string, InvoiceDateOnly date) STORED AS PARQUET "
                           "LOCATION 's3://lake/curated/orders/';\nMSCK REPAIR TABLE t;\n");
  ASSERT_EQ(ddl.exit_code, 0) << ddl.err;
  const std::string qt = "SELECT Country, InvoiceDateOnly, count(*) AS n, sum(Quantity) AS q, "
                         "count(DISTINCT OrderID) AS ids FROM t GROUP BY ALL ORDER BY ALL";
  auto via_catalog = run_orderlake({"query", "--lake", s3lake, "--catalog", catalog, "--format", "csv", qt}, 300, env);
  ASSERT_EQ(via_catalog.exit_code, 0) << via_catalog.err;
  EXPECT_EQ(via_catalog.out, qb.out);

  // Every Parquet object in the bucket is in the snapshot or removed by compaction: the
  // crashed run left nothing behind.
  auto log_text = run_orderlake({"query", "--lake", s3lake, "--format", "csv",
                                 "SELECT count(*) FROM orders"}, 300, env);
  ASSERT_EQ(log_text.exit_code, 0) << log_text.err;
  std::set<std::string> in_log;
  for (auto& k : keys(moto.endpoint(), "lake", "curated/orders/_delta_log/")) {
    if (!k.ends_with(".json")) continue;  // the checkpoint and _last_checkpoint
    auto t = aws_cli(moto.endpoint(), {"s3", "cp", "s3://lake/" + k, "-"});
    ASSERT_EQ(t.exit_code, 0);
    size_t pos = 0;
    while (pos < t.out.size()) {
      size_t nl = t.out.find('\n', pos);
      if (nl == std::string::npos) nl = t.out.size();
      json a = json::parse(t.out.substr(pos, nl - pos));
      pos = nl + 1;
      if (a.contains("add")) in_log.insert(a["add"]["path"].get<std::string>());
    }
  }
  for (auto& k : keys(moto.endpoint(), "lake", "curated/orders/Country=")) {
    std::string rel = k.substr(std::string("curated/orders/").size());
    std::string enc;
    for (char c : rel) enc += c == ' ' ? std::string("%20") : std::string(1, c);
    EXPECT_TRUE(in_log.count(enc)) << k << " is not in the log";
  }
}

TEST(EtlS3Lake, UnreachableEndpointAndMissingBucketAreClearErrors) {
  TempDir tmp;
  testing::write_file(tmp.path() / "in" / "a.log", "536365,85123A,X,6,12/01/2010 08:26,2.55,17850,United Kingdom\n");
  MotoServer moto;
  const std::vector<std::string> base = {"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing",
                                         "AWS_REGION=us-east-1", "XDG_CACHE_HOME=" + (tmp.path() / "cache").string()};
  auto with = [&](const std::string& endpoint) {
    std::vector<std::string> e = base;
    e.push_back("AWS_ENDPOINT_URL_S3=" + endpoint);
    return e;
  };
  auto missing = run_orderlake({"etl", "--input", (tmp.path() / "in").string(), "--lake", "s3://no-such-bucket/x"}, 120,
                               with(moto.endpoint()));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no-such-bucket"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("does not exist"), std::string::npos) << missing.err;
  auto down = run_orderlake({"etl", "--input", (tmp.path() / "in").string(), "--lake", "s3://lake/x"}, 120,
                            with("http://127.0.0.1:" + std::to_string(testing::free_port())));
  EXPECT_EQ(down.exit_code, 1);
  EXPECT_NE(down.err.find("lake s3://lake/x"), std::string::npos) << down.err;
}

}  // namespace
}  // namespace orderlake
