// FirehoseOptions and ServerOptions: the defaults validate, and each bad value is refused
// with an error naming the `orderlake firehose` flag.
#include <gtest/gtest.h>

#include "firehose/server.h"
#include "firehose/service.h"

namespace orderlake::firehose {
namespace {

void expect_error(const Status& st, std::string_view flag) {
  ASSERT_FALSE(st.ok()) << "expected an error naming " << flag;
  EXPECT_NE(st.message().find(flag), std::string::npos) << st.message();
}

TEST(FirehoseOptions, ValidateNamesTheFlag) {
  FirehoseOptions o;
  EXPECT_TRUE(o.Validate().ok()) << o.Validate().message();
  auto with = [](auto change) {
    FirehoseOptions o;
    change(o);
    return o.Validate();
  };
  expect_error(with([](FirehoseOptions& o) { o.data_dir.clear(); }), "--data-dir");
  expect_error(with([](FirehoseOptions& o) { o.region.clear(); }), "--region");
  expect_error(with([](FirehoseOptions& o) { o.max_buffer_bytes = 1000; }), "--max-buffer-mb");
  expect_error(with([](FirehoseOptions& o) { o.wal_segment_bytes = 100; }), "--wal-segment-mb");
  expect_error(with([](FirehoseOptions& o) { o.delivery_retry_seconds = -1; }), "--delivery-retry-seconds");
  expect_error(with([](FirehoseOptions& o) { o.bucket_store = "gcs"; }), "--buckets");
  expect_error(with([](FirehoseOptions& o) { o.account_id = "12"; }), "account id");
  EXPECT_TRUE(with([](FirehoseOptions& o) { o.bucket_store = "s3"; }).ok());
  // Open() goes through the same rule.
  FirehoseOptions bad;
  bad.bucket_store = "gcs";
  auto svc = FirehoseService::Open(bad);
  expect_error(svc.status(), "--buckets");
}

TEST(ServerOptions, ListenAndValidate) {
  ServerOptions o;
  EXPECT_TRUE(o.Validate().ok());
  ASSERT_TRUE(o.SetListen("[::1]:0").ok());
  EXPECT_EQ(o.host, "::1");
  EXPECT_EQ(o.port, 0);
  expect_error(o.SetListen("nohost"), "--listen");
  expect_error(o.SetListen("h:port"), "--listen");
  ASSERT_TRUE(o.SetListen("127.0.0.1:99999").ok());
  expect_error(o.Validate(), "--listen");
  o.port = 4573;
  o.threads = 1;
  expect_error(o.Validate(), "--threads");
  o.threads = 64;
  o.host = "0.0.0.0";
  Status st = o.Validate();
  expect_error(st, "without access keys");
  expect_error(st, "--access-key");
  o.keys["AKID"] = "secret";
  EXPECT_TRUE(o.Validate().ok());
  o.keys["EMPTY"] = "";
  expect_error(o.Validate(), "--secret-key");
}

}  // namespace
}  // namespace orderlake::firehose
