// table::CompactOptions::Validate: the one check for `orderlake compact`, the compactor of
// `etl --follow` and `up`, and tests; errors name the flag.
#include <gtest/gtest.h>

#include "table/compact.h"

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
