// EtlOptions::Validate and FollowOptions::Validate: the one check of the etl's options for
// the CLI, `up` and tests; errors name the flag.
#include <gtest/gtest.h>

#include "etl/job.h"

namespace orderlake::etl {
namespace {

EtlOptions valid() {
  EtlOptions o;
  o.input = "/tmp/raw";
  o.lake = "/tmp/lake";
  return o;
}

void expect_error(const Status& st, const std::string& text) {
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(text), std::string::npos) << st.message();
}

TEST(EtlOptions, DefaultsWithLocationsAreValid) {
  EXPECT_TRUE(valid().Validate().ok()) << valid().Validate().message();
  EXPECT_TRUE(FollowOptions{}.Validate().ok());
}

TEST(EtlOptions, DiscoveryAndRetentionErrorsNameTheFlag) {
  EtlOptions o = valid();
  o.discovery = "sometimes";
  expect_error(o.Validate(), "--discovery must be auto, notification, listing or full");
  for (const char* mode : {"auto", "notification", "listing", "full"}) {
    o.discovery = mode;
    EXPECT_TRUE(o.Validate().ok()) << mode;
  }
  o = valid();
  o.lookback_ms = -1;
  expect_error(o.Validate(), "--lookback");
  o = valid();
  o.backfill_ms = -5;
  expect_error(o.Validate(), "--backfill-interval");
  o = valid();
  o.raw_retention_ms = -1;
  expect_error(o.Validate(), "--raw-retention");
  o = valid();
  o.raw_retention_ms = 24 * 3600'000;
  EXPECT_TRUE(o.Validate().ok());
}

TEST(EtlOptions, ErrorsNameTheFlag) {
  EtlOptions o = valid();
  o.input.clear();
  expect_error(o.Validate(), "--input");
  o = valid();
  o.lake.clear();
  expect_error(o.Validate(), "--lake");
  o = valid();
  o.table = "a/b";
  expect_error(o.Validate(), "--table");
  o = valid();
  o.threads = 300;
  expect_error(o.Validate(), "--threads must be between 0 and 256, got 300");
  o = valid();
  o.transform.usd_rate = 0;
  expect_error(o.Validate(), "--usd-rate");
  o = valid();
  o.transform.max_record_bytes = 10;
  expect_error(o.Validate(), "--max-record-bytes must be between 64 and 1073741824, got 10");
  o = valid();
  o.memory_budget = 1000;
  expect_error(o.Validate(), "--memory-mb");
  o = valid();
  o.transform.regions = nullptr;
  expect_error(o.Validate(), "--regions");
}

TEST(EtlOptions, RunEtlRefusesInvalidOptions) {
  EtlOptions o = valid();
  o.threads = -1;
  auto r = run_etl(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("--threads"), std::string::npos);
}

TEST(FollowOptions, ErrorsNameTheFlag) {
  FollowOptions f;
  f.interval_ms = 5;
  expect_error(f.Validate(), "--interval-ms must be between 10 and 3600000, got 5");
  f = {};
  f.compact_every_s = -1;
  expect_error(f.Validate(), "--compact-every");
  f = {};
  f.metrics_listen = "9102";
  expect_error(f.Validate(), "--metrics-listen must be HOST:PORT");
  f.metrics_listen = "127.0.0.1:70000";
  expect_error(f.Validate(), "--metrics-listen");
  f.metrics_listen = "127.0.0.1:0";
  EXPECT_TRUE(f.Validate().ok());
}

}  // namespace
}  // namespace orderlake::etl
