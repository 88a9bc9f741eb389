// UpOptions::Validate: the one check for the CLI and tests; errors name the flag. run_up
// refuses invalid options before anything starts.
#include <gtest/gtest.h>

#include <atomic>

#include "test_util.h"
#include "up/pipeline.h"

namespace orderlake::up {
namespace {

void expect_error(const Status& st, const std::string& text) {
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(text), std::string::npos) << st.message();
}

TEST(UpOptions, DefaultsAreValidAndErrorsNameTheFlag) {
  EXPECT_TRUE(UpOptions{}.Validate().ok()) << UpOptions{}.Validate().message();
  UpOptions o;
  o.rate = 0;
  expect_error(o.Validate(), "--rate");
  o = {};
  o.dashboard_port = 70000;
  expect_error(o.Validate(), "--port must be between 0 and 65535, got 70000");
  o = {};
  o.firehose_port = -1;
  expect_error(o.Validate(), "--firehose-port");
  o = {};
  o.aws_port = 65536;
  expect_error(o.Validate(), "--aws-port must be between 0 and 65535, got 65536");
  o = {};
  o.etl_interval_ms = 5;
  expect_error(o.Validate(), "--etl-interval-ms must be between 10 and 3600000, got 5");
  o = {};
  o.etl_min_gap_ms = -1;
  expect_error(o.Validate(), "--etl-min-gap-ms");
  o = {};
  o.agent_poll_ms = 0;
  expect_error(o.Validate(), "--agent-poll-ms");
  o = {};
  o.agent_buffer_ms = 1'000'000;
  expect_error(o.Validate(), "--agent-buffer-ms");
  o = {};
  o.compact_every_s = -1;
  expect_error(o.Validate(), "--compact-every");
  o = {};
  o.retention_minutes = -1;
  expect_error(o.Validate(), "--retention-minutes");
  o = {};
  o.log_retention_ms = 30'000;
  expect_error(o.Validate(), "--log-retention must be at least 1m, got 30s");
  o = {};
  o.raw_retention_ms = -1;
  expect_error(o.Validate(), "--raw-retention");
  o = {};
  o.etl_lookback_ms = 0;
  expect_error(o.Validate(), "--etl-lookback must be between 1s and 24h, got 0");
  o = {};
  o.raw_retention_ms = 0;  // keep raw objects forever
  EXPECT_TRUE(o.Validate().ok());
  o = {};
  o.stream = "no spaces allowed";
  expect_error(o.Validate(), "delivery stream name");
}

TEST(UpOptions, RunUpRefusesInvalidOptionsBeforeStarting) {
  testing::TempDir d;
  UpOptions o;
  o.data_dir = d.path() / "data";
  o.etl_interval_ms = 1;
  std::atomic<bool> stop{false};
  Status st = run_up(o, stop);
  expect_error(st, "--etl-interval-ms");
  EXPECT_FALSE(std::filesystem::exists(d.path() / "data"));
}

}  // namespace
}  // namespace orderlake::up
