// `orderlake query` on a lake in S3 (moto's server): the same answers as on the local lake,
// and never a file from an older snapshot.
#include <gtest/gtest.h>

#include <filesystem>

#include "test_util.h"

namespace orderlake {
namespace {
using testing::aws_cli;
using testing::MotoServer;
using testing::run_orderlake;
using testing::TempDir;

TEST(QueryS3Lake, SameAnswersAsLocalAndNoStaleFiles) {
  TempDir tmp;
  const auto logs = tmp.path() / "logs", lake = tmp.path() / "lake";
  ASSERT_EQ(run_orderlake({"generate", "--out", logs.string(), "--count", "20000", "--seed", "5", "--start",
                           "2010-12-01", "--days", "4"})
                .exit_code,
            0);
  ASSERT_EQ(run_orderlake({"etl", "--input", logs.string(), "--lake", lake.string()}).exit_code, 0);
  MotoServer moto;
  ASSERT_EQ(aws_cli(moto.endpoint(), {"s3api", "create-bucket", "--bucket", "curated"}).exit_code, 0);
  // Uploaded without its Delta log: a plain Hive layout, which the mirror follows by listing
  // (a Delta table in S3 is followed through its log: tests/etl/s3_lake_test.cpp).
  auto cp = aws_cli(moto.endpoint(), {"s3", "cp", "--recursive", lake.string(), "s3://curated/warehouse/", "--exclude",
                                      "orders/_delta_log/*"});
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  const std::vector<std::string> env = {"AWS_ENDPOINT_URL_S3=" + moto.endpoint(), "AWS_ACCESS_KEY_ID=testing",
                                        "AWS_SECRET_ACCESS_KEY=testing", "AWS_REGION=us-east-1",
                                        "XDG_CACHE_HOME=" + (tmp.path() / "cache").string()};
  // Every row, in a fixed order, and the original sample queries' aggregates.
  const std::string all = "SELECT * FROM orders ORDER BY ALL";
  auto remote = run_orderlake({"query", "--lake", "s3://curated/warehouse", "--format", "csv", all}, 300, env);
  auto local = run_orderlake({"query", "--lake", lake.string(), "--format", "csv", all});
  ASSERT_EQ(remote.exit_code, 0) << remote.err;
  ASSERT_EQ(local.exit_code, 0) << local.err;
  EXPECT_GT(remote.out.size(), 100000u);
  EXPECT_TRUE(remote.out == local.out) << "the S3 lake's rows differ from the local lake's";
  const std::string queries = std::string(ORDERLAKE_SOURCE_DIR) + "/sql/queries.sql";
  auto remote_q = run_orderlake({"query", "--lake", "s3://curated/warehouse", "-f", queries}, 300, env);
  EXPECT_EQ(remote_q.exit_code, 0) << remote_q.err;

  // A partition removed from the store is gone from the next answer, even though an
  // earlier run cached its files.
  const std::string count = "SELECT count(*) AS n FROM orders WHERE Country = 'United Kingdom'";
  auto before = run_orderlake({"query", "--lake", "s3://curated/warehouse", "--format", "csv", count}, 300, env);
  ASSERT_EQ(before.exit_code, 0) << before.err;
  EXPECT_NE(before.out, "n\n0\n");
  auto rm = aws_cli(moto.endpoint(), {"s3", "rm", "--recursive", "s3://curated/warehouse/orders/Country=United Kingdom/"});
  ASSERT_EQ(rm.exit_code, 0) << rm.err;
  auto after = run_orderlake({"query", "--lake", "s3://curated/warehouse", "--format", "csv", count}, 300, env);
  ASSERT_EQ(after.exit_code, 0) << after.err;
  EXPECT_EQ(after.out, "n\n0\n");

  // With its log, the table is read through the log; a data file deleted behind the log's
  // back is an error that names it, not a silently smaller answer.
  auto cp_log = aws_cli(moto.endpoint(), {"s3", "cp", "--recursive", lake.string(), "s3://curated/delta/"});
  ASSERT_EQ(cp_log.exit_code, 0) << cp_log.err;
  auto whole = run_orderlake({"query", "--lake", "s3://curated/delta", "--format", "csv", count}, 300, env);
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  EXPECT_EQ(whole.out, before.out);
  ASSERT_EQ(aws_cli(moto.endpoint(), {"s3", "rm", "--recursive", "s3://curated/delta/orders/Country=United Kingdom/"}).exit_code, 0);
  auto broken = run_orderlake({"query", "--lake", "s3://curated/delta", "--format", "csv", count}, 300, env);
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_NE(broken.err.find("Country=United Kingdom"), std::string::npos) << broken.err;
  EXPECT_NE(broken.err.find("no such object"), std::string::npos) << broken.err;
}

}  // namespace
}  // namespace orderlake
