// The firehose's event log (store/events.h): every object delivered to a bucket has one
// event naming it (key and size), in delivery order, under the bucket's hidden
// _orderlake/events/<stream>/; events nobody consumed are dropped after the retention; no
// event log when the retention is 0.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "core/base64.h"
#include "firehose/service.h"
#include "store/events.h"
#include "test_util.h"

namespace orderlake::firehose {
namespace {
namespace stdfs = std::filesystem;
using json = nlohmann::json;
using orderlake::testing::TempDir;

double delivered(const FirehoseService& s) {
  const std::string text = s.Metrics(), key = "orderlake_firehose_records_delivered_total{stream=\"t\"} ";
  auto p = text.find(key);
  return p == std::string::npos ? -1 : std::stod(text.substr(p + key.size()));
}

std::unique_ptr<FirehoseService> open_with_stream(const FirehoseOptions& o) {
  auto svc = FirehoseService::Open(o);
  EXPECT_TRUE(svc.ok()) << svc.status().message();
  json cfg{{"DeliveryStreamName", "t"},
           {"ExtendedS3DestinationConfiguration",
            {{"RoleARN", "arn:aws:iam::123456789012:role/f"},
             {"BucketARN", "arn:aws:s3:::b"},
             {"BufferingHints", {{"SizeInMBs", 1}, {"IntervalInSeconds", 0}}}}}};
  EXPECT_EQ((*svc)->Handle("Firehose_20150804.CreateDeliveryStream", cfg.dump()).status, 200);
  return std::move(svc).value();
}

// Puts one batch of 10 records and waits until all records so far are delivered.
void put_and_wait(FirehoseService& s, int i) {
  json recs = json::array();
  for (int r = 0; r < 10; ++r) recs.push_back(json{{"Data", base64_encode(fmt::format("{:04}-{:02}\n", i, r))}});
  auto r = s.Handle("Firehose_20150804.PutRecordBatch", json{{"DeliveryStreamName", "t"}, {"Records", recs}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(orderlake::testing::wait_for([&] { return delivered(s) >= (i + 1) * 10; }, 30));
}

// Files under `dir` relative to it, in key order: the bucket's data objects (no hidden part)
// or its events.
std::map<std::string, uint64_t> files(const stdfs::path& dir, bool events) {
  std::map<std::string, uint64_t> out;
  if (!stdfs::exists(dir)) return out;
  for (auto& e : stdfs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().filename().string().starts_with(".")) continue;
    const std::string rel = e.path().lexically_relative(dir).generic_string();
    if (rel.starts_with("_orderlake/events/") == events) out[rel] = e.file_size();
  }
  return out;
}

std::string slurp(const stdfs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(FirehoseEvents, EachDeliveredObjectHasOneEventInDeliveryOrder) {
  TempDir dir;
  FirehoseOptions o;
  o.data_dir = dir.path();
  auto svc = open_with_stream(o);
  for (int i = 0; i < 12; ++i) put_and_wait(*svc, i);
  svc->Stop();
  const stdfs::path bucket = dir.path() / "s3" / "b";
  const auto objects = files(bucket, false);
  const auto events = files(bucket, true);
  ASSERT_EQ(objects.size(), 12u);  // one batch, one object (interval 0, waited for)
  ASSERT_EQ(events.size(), 12u);
  std::vector<std::string> named;
  for (const auto& [key, size] : events) {
    auto k = store::parse_event_key(key);
    ASSERT_TRUE(k) << key;
    EXPECT_EQ(k->stream, "t");
    const json doc = json::parse(slurp(bucket / key));
    const json& rec = doc.at("Records").at(0);
    EXPECT_EQ(rec.at("eventSource"), "aws:s3");
    EXPECT_EQ(rec.at("eventName"), "ObjectCreated:Put");
    EXPECT_EQ(rec.at("s3").at("bucket").at("name"), "b");
    const std::string obj = rec.at("s3").at("object").at("key");
    ASSERT_TRUE(objects.count(obj)) << obj;
    EXPECT_EQ(rec.at("s3").at("object").at("size").get<uint64_t>(), objects.at(obj));
    named.push_back(obj);
  }
  // The events, in key order, name the objects in the order they were delivered: each
  // holds the records of the next batch.
  for (size_t i = 0; i < named.size(); ++i)
    EXPECT_EQ(slurp(bucket / named[i]).substr(0, 7), fmt::format("{:04}-00", i)) << named[i];
}

TEST(FirehoseEvents, UnconsumedEventsAreDroppedAfterTheRetention) {
  TempDir dir;
  FirehoseOptions o;
  o.data_dir = dir.path();
  o.event_retention_ms = 400;  // a pass at most every 100 ms
  auto svc = open_with_stream(o);
  for (int i = 0; i < 5; ++i) put_and_wait(*svc, i);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  put_and_wait(*svc, 5);  // its delivery runs a pass: the five older events are gone
  svc->Stop();
  const stdfs::path bucket = dir.path() / "s3" / "b";
  EXPECT_EQ(files(bucket, false).size(), 6u);
  EXPECT_EQ(files(bucket, true).size(), 1u);
}

TEST(FirehoseEvents, NoEventLogWithRetentionZero) {
  TempDir dir;
  FirehoseOptions o;
  o.data_dir = dir.path();
  o.event_retention_ms = 0;
  auto svc = open_with_stream(o);
  for (int i = 0; i < 3; ++i) put_and_wait(*svc, i);
  svc->Stop();
  EXPECT_EQ(files(dir.path() / "s3" / "b", false).size(), 3u);
  EXPECT_EQ(files(dir.path() / "s3" / "b", true).size(), 0u);
  o.event_retention_ms = -1;
  EXPECT_FALSE(o.Validate().ok());
}

}  // namespace
}  // namespace orderlake::firehose
