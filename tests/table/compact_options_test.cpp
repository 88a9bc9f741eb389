// table::CompactOptions::Validate: the one check for `orderlake compact`, the compactor of
// `etl --follow` and `up`, and tests; errors name the flag.
#include <gtest/gtest.h>

#include <csignal>
#include <string>

#include "table/compact.h"
#include "test_util.h"

namespace orderlake::table {
namespace {

void expect_error(const Status& st, const std::string& text) {
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(text), std::string::npos) << st.message();
}

TEST(CompactOptions, ValidWithALakeAndErrorsNameTheFlag) {
  CompactOptions o;
  expect_error(o.Validate(), "--lake");
  o.lake = "/tmp/lake";
  EXPECT_TRUE(o.Validate().ok()) << o.Validate().message();
  o.min_files = 1;
  expect_error(o.Validate(), "--min-files must be between 2 and 1048576, got 1");
  o = {};
  o.lake = "/tmp/lake";
  o.target_file_bytes = 0;
  expect_error(o.Validate(), "--target-mb");
  o.target_file_bytes = 40 << 10;  // below a MiB is fine for callers other than the CLI
  EXPECT_TRUE(o.Validate().ok());
  o.small_file_bytes = 0;
  expect_error(o.Validate(), "--small-mb");
  o = {};
  o.lake = "/tmp/lake";
  o.retention_ms = -1;
  expect_error(o.Validate(), "--retention-minutes");
  o = {};
  o.lake = "/tmp/lake";
  o.checkpoint_interval = -2;  // -1 is the default now (the table's delta.checkpointInterval)
  expect_error(o.Validate(), "--checkpoint-interval");
  o = {};
  o.lake = "/tmp/lake";
  o.every_s = 0.01;
  expect_error(o.Validate(), "--every");
  o = {};
  o.lake = "/tmp/lake";
  o.metrics_listen = "127.0.0.1:0";
  expect_error(o.Validate(), "--metrics-listen needs --every");
  o.every_s = 5;
  EXPECT_TRUE(o.Validate().ok());
}

TEST(CompactOptions, OpenRefusesInvalidOptions) {
  CompactOptions o;
  o.lake = "/tmp/lake";
  o.min_files = 0;
  auto c = Compactor::Open(o);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("--min-files"), std::string::npos);
}

}  // namespace
}  // namespace orderlake::table

namespace orderlake::table {
namespace {

// `orderlake compact --every` started while its S3 lake cannot be reached (an outage, the
// endpoint not up yet) keeps trying, pass after pass, instead of exiting at start.
TEST(CompactLoop, AnUnreachableLakeAtStartIsRetriedNotFatal) {
  testing::TempDir home;
  const int port = testing::free_port();  // nothing listens there
  testing::BackgroundProcess p(
      {ORDERLAKE_BINARY, "compact", "--lake", "s3://nowhere/lake", "--every", "0.2"},
      {"AWS_ENDPOINT_URL=http://127.0.0.1:" + std::to_string(port), "AWS_ACCESS_KEY_ID=test",
       "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1", "HOME=" + home.path().string(),
       "XDG_CACHE_HOME=" + (home.path() / "cache").string()});
  ASSERT_TRUE(testing::wait_for(
      [&] {
        const std::string err = p.err();
        return err.find("(retrying)", err.find("(retrying)") + 1) != std::string::npos;  // two passes
      },
      30))
      << p.err();
  EXPECT_EQ(p.Stop(SIGINT, 20), 0) << p.err();
}

}  // namespace
}  // namespace orderlake::table
