// The etl reading raw objects from S3 (moto's server) gives the same table as from a local
// directory.
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
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

TEST(EtlS3Input, SameTableAsFromALocalDirectory) {
  TempDir tmp;
  const auto logs = tmp.path() / "logs";
  ASSERT_EQ(run_orderlake({"generate", "--out", logs.string(), "--count", "30000", "--seed", "11", "--start",
                           "2010-12-01", "--days", "3", "--rotate-size", "1M"})
                .exit_code,
            0);
  {  // and one gzip object, as Firehose writes them with GZIP compression
    gzFile gz = gzopen((logs / "delivered.gz").c_str(), "wb");
    const std::string lines = "800001,B,y,3,12/02/2010 09:00,2.00,12347,Germany\n800002,C,z,1,12/02/2010 09:05,9.99,12347,Germany\n";
    gzwrite(gz, lines.data(), static_cast<unsigned>(lines.size()));
    gzclose(gz);
  }
  MotoServer moto;
  ASSERT_EQ(aws_cli(moto.endpoint(), {"s3api", "create-bucket", "--bucket", "raw"}).exit_code, 0);
  auto cp = aws_cli(moto.endpoint(), {"s3", "cp", "--recursive", logs.string(), "s3://raw/firehose/2010/"});
  ASSERT_EQ(cp.exit_code, 0) << cp.err;

  const std::vector<std::string> env = {"AWS_ENDPOINT_URL_S3=" + moto.endpoint(), "AWS_ACCESS_KEY_ID=testing",
                                        "AWS_SECRET_ACCESS_KEY=testing", "AWS_REGION=us-east-1"};
  auto from_s3 = run_orderlake({"etl", "--input", "s3://raw/firehose", "--lake", (tmp.path() / "lake-s3").string(), "--json"},
                               300, env);
  ASSERT_EQ(from_s3.exit_code, 0) << from_s3.err;
  auto local = run_orderlake({"etl", "--input", logs.string(), "--lake", (tmp.path() / "lake-local").string(), "--json"});
  ASSERT_EQ(local.exit_code, 0) << local.err;
  const json a = json::parse(from_s3.out), b = json::parse(local.out);
  EXPECT_GT(a["objects"].get<int>(), 1);
  EXPECT_EQ(a["objects"], b["objects"]);
  EXPECT_EQ(a["records"], b["records"]);
  EXPECT_EQ(a["kept"], b["kept"]);
  EXPECT_EQ(a["filtered"], b["filtered"]);
  EXPECT_EQ(a["quarantined"], b["quarantined"]);
  const std::string q = "SELECT Country, InvoiceDateOnly, count(*) AS n, round(sum(TotalAmountUSD), 6) AS usd, "
                        "min(OrderID) AS o FROM orders GROUP BY ALL ORDER BY ALL";
  auto qa = run_orderlake({"query", "--lake", (tmp.path() / "lake-s3").string(), "--format", "csv", q});
  auto qb = run_orderlake({"query", "--lake", (tmp.path() / "lake-local").string(), "--format", "csv", q});
  ASSERT_EQ(qa.exit_code, 0) << qa.err;
  EXPECT_EQ(qa.out, qb.out);
  auto gz_rows = run_orderlake({"query", "--lake", (tmp.path() / "lake-s3").string(), "--format", "csv",
                                "SELECT count(*) FROM orders WHERE InvoiceNo IN ('800001', '800002')"});
  EXPECT_EQ(gz_rows.out, "count_star()\n2\n");
  // The quarantine names the S3 object.
  std::string quarantine;
  for (auto& e : stdfs::recursive_directory_iterator(tmp.path() / "lake-s3" / "_quarantine"))
    if (e.is_regular_file()) quarantine += testing::read_file(e.path());
  EXPECT_NE(quarantine.find("\"source\":\"s3://raw/firehose/2010/orders-"), std::string::npos) << quarantine.substr(0, 300);

  // Incremental on S3 too: nothing new, then one new object.
  auto again = run_orderlake({"etl", "--input", "s3://raw/firehose", "--lake", (tmp.path() / "lake-s3").string(), "--json"},
                             300, env);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(json::parse(again.out)["kept"], 0);
  testing::write_file(tmp.path() / "new.log", "900001,A,x,2,12/05/2010 10:00,1.50,12346,France\n");
  ASSERT_EQ(aws_cli(moto.endpoint(), {"s3", "cp", (tmp.path() / "new.log").string(), "s3://raw/firehose/2010/new.log"}).exit_code, 0);
  auto third = run_orderlake({"etl", "--input", "s3://raw/firehose", "--lake", (tmp.path() / "lake-s3").string(), "--json"},
                             300, env);
  ASSERT_EQ(third.exit_code, 0) << third.err;
  EXPECT_EQ(json::parse(third.out)["kept"], 1);
}

TEST(EtlS3Input, MissingBucketIsAClearError) {
  TempDir tmp;
  MotoServer moto;
  auto r = run_orderlake({"etl", "--input", "s3://nope/raw", "--lake", (tmp.path() / "lake").string()}, 120,
                         {"AWS_ENDPOINT_URL_S3=" + moto.endpoint(), "AWS_ACCESS_KEY_ID=testing",
                          "AWS_SECRET_ACCESS_KEY=testing"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("bucket nope does not exist"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace orderlake
