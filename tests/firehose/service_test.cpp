// FirehoseService in-process: idempotency marks survive WAL segment deletion and a restart
// (they are carried by the checkpoint), and delivered segments are released; the delivery
// hook names each object once it is in place.
#include "firehose/service.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/base64.h"
#include "test_util.h"

namespace orderlake::firehose {
namespace {
using json = nlohmann::json;
using orderlake::testing::TempDir;

double metric(const FirehoseService& s, const std::string& name) {
  std::string text = s.Metrics();
  std::string key = "orderlake_firehose_" + name + "{stream=\"t\"} ";
  auto p = text.find(key);
  return p == std::string::npos ? -1 : std::stod(text.substr(p + key.size()));
}

ApiResponse put(FirehoseService& s, int i, const std::string& key) {
  json recs = json::array();
  for (int r = 0; r < 10; ++r)
    recs.push_back(json{{"Data", base64_encode(fmt::format("{:04}-{:02}", i, r) + std::string(993, 'x') + "\n")}});
  return s.Handle("Firehose_20150804.PutRecordBatch", json{{"DeliveryStreamName", "t"}, {"Records", recs}}.dump(),
                  key);
}

TEST(FirehoseService, IdempotencyMarksSurviveSegmentDeletionAndRestart) {
  TempDir dir;
  FirehoseOptions o;
  o.data_dir = dir.path();
  o.wal_segment_bytes = 64 << 10;
  {
    auto svc = FirehoseService::Open(o);
    ASSERT_TRUE(svc.ok()) << svc.status().message();
    json cfg{{"DeliveryStreamName", "t"},
             {"ExtendedS3DestinationConfiguration",
              {{"RoleARN", "arn:aws:iam::123456789012:role/f"},
               {"BucketARN", "arn:aws:s3:::b"},
               {"BufferingHints", {{"SizeInMBs", 1}, {"IntervalInSeconds", 0}}}}}};
    ASSERT_EQ((*svc)->Handle("Firehose_20150804.CreateDeliveryStream", cfg.dump()).status, 200);
    for (int i = 0; i < 50; ++i) {
      auto r = put(**svc, i, fmt::format("src-1;{};{}", i * 10000, (i + 1) * 10000));
      ASSERT_EQ(r.status, 200) << r.body;
    }
    for (int k = 0; k < 200 && metric(**svc, "records_delivered_total") < 500; ++k)
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    EXPECT_EQ(metric(**svc, "records_delivered_total"), 500);
    EXPECT_EQ(metric(**svc, "records_in_total"), 500);
  }
  size_t segments = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path() / "firehose" / "wal")) segments += e.is_regular_file();
  EXPECT_LE(segments, 3u);  // 500 KB were written in 64 KB segments; the delivered ones are gone
  auto svc = FirehoseService::Open(o);
  ASSERT_TRUE(svc.ok()) << svc.status().message();
  EXPECT_EQ(put(**svc, 0, "src-1;0;10000").status, 200);
  EXPECT_EQ(put(**svc, 49, "src-1;490000;500000").status, 200);
  EXPECT_EQ(metric(**svc, "records_in_total"), 0);  // both were replays
  EXPECT_EQ(put(**svc, 50, "src-1;500000;510000").status, 200);
  EXPECT_EQ(put(**svc, 0, "src-2;0;10000").status, 200);
  EXPECT_EQ(metric(**svc, "records_in_total"), 20);
  auto bad = (*svc)->Handle("Firehose_20150804.PutRecordBatch", "{\"DeliveryStreamName\":\"t\",\"Records\":[{}]}");
  EXPECT_EQ(bad.status, 400);
  auto unknown = (*svc)->Handle("Firehose_20150804.Nope", "{}");
  EXPECT_NE(unknown.body.find("UnknownOperationException"), std::string::npos);
}

// The delivery hook `orderlake up` wakes its etl with: called once per object, after the
// object is in place, with its key, record count and the first record's arrival time.
TEST(FirehoseService, OnDeliveredNamesEachObjectOnceItIsInPlace) {
  TempDir d;
  std::mutex mu;
  std::vector<DeliveredObject> seen;
  std::vector<bool> existed;
  FirehoseOptions fo;
  fo.data_dir = d.path();
  fo.on_delivered = [&](const DeliveredObject& o) {
    std::lock_guard lock(mu);
    existed.push_back(std::filesystem::exists(d.path() / "s3" / std::string(o.bucket) / std::string(o.key)));
    DeliveredObject copy = o;  // the views live only for the call: keep what the test checks
    copy.stream = copy.bucket = copy.key = {};
    seen.push_back(copy);
  };
  auto service = FirehoseService::Open(fo);
  ASSERT_TRUE(service.ok()) << service.status().message();
  auto created = service.value()->Handle(
      "Firehose_20150804.CreateDeliveryStream",
      R"({"DeliveryStreamName": "s", "ExtendedS3DestinationConfiguration": {"RoleARN": "arn:aws:iam::123456789012:role/r",
          "BucketARN": "arn:aws:s3:::b", "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 0}}})");
  ASSERT_EQ(created.status, 200) << created.body;
  const int64_t before = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
  auto put = service.value()->Handle("Firehose_20150804.PutRecordBatch",
                                     R"({"DeliveryStreamName": "s", "Records": [{"Data": "YQo="}, {"Data": "Ygo="}]})");
  ASSERT_EQ(put.status, 200) << put.body;
  ASSERT_TRUE(orderlake::testing::wait_for(
      [&] {
        std::lock_guard lock(mu);
        return !seen.empty();
      },
      30));
  service.value()->Stop();
  std::lock_guard lock(mu);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(existed[0]);
  EXPECT_EQ(seen[0].records, 2u);
  EXPECT_EQ(seen[0].bytes, 4u);
  EXPECT_GE(seen[0].oldest_arrival_ms, before - 1000);
}

// Found by fuzz/firehose_fuzz.cpp: an X-Orderlake-Batch source id that was not UTF-8 was
// accepted and kept for the checkpoint, whose JSON dump then threw on the delivery thread
// and ended the process (again at each restart, the batch being in the WAL). Such ids,
// and ids with control characters, are refused with the request; UTF-8 ones still work.
TEST(FirehoseService, BatchSourceIdsMustBeUtf8WithoutControlCharacters) {
  TempDir d;
  FirehoseOptions fo;
  fo.data_dir = d.path();
  auto service = FirehoseService::Open(fo);
  ASSERT_TRUE(service.ok()) << service.status().message();
  auto& svc = **service;
  json cfg{{"DeliveryStreamName", "t"},
           {"ExtendedS3DestinationConfiguration",
            {{"RoleARN", "arn:aws:iam::123456789012:role/f"},
             {"BucketARN", "arn:aws:s3:::b"},
             {"BufferingHints", {{"SizeInMBs", 1}, {"IntervalInSeconds", 0}}}}}};
  ASSERT_EQ(svc.Handle("Firehose_20150804.CreateDeliveryStream", cfg.dump()).status, 200);
  for (const std::string key : {"a\xff\xffnt-host:/var/log/a.log;0;312", "host:/var/log/\x01.log;0;312",
                                "host:/var/log/a\x7f.log;0;312", "host:/var/log/\xc3.log;0;312"}) {
    auto r = put(svc, 0, key);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(json::parse(r.body).value("__type", ""), "InvalidArgumentException");
  }
  EXPECT_EQ(put(svc, 0, "h\xc3\xb4te:/var/log/\xe6\x97\xa5.log;0;10").status, 200);  // UTF-8 is fine
  // The service is still delivering: the accepted batch lands and the checkpoint is saved.
  for (int k = 0; k < 200 && metric(svc, "records_delivered_total") < 10; ++k)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  EXPECT_EQ(metric(svc, "records_delivered_total"), 10);
}

// A RoleARN or BucketARN of 1 MB went through std::regex_match, whose recursion overflowed
// the stack and ended the service (a 100 KB RoleARN was enough over HTTP). AWS's limits
// (RoleARN 512 characters, BucketARN 2,048) are checked first.
TEST(FirehoseService, OverlongArnsAreRefusedWithoutReachingTheRegex) {
  TempDir d;
  FirehoseOptions fo;
  fo.data_dir = d.path();
  auto service = FirehoseService::Open(fo);
  ASSERT_TRUE(service.ok()) << service.status().message();
  const std::string huge(1 << 20, 'a');
  for (const auto& [role, bucket] : {std::pair{"arn:" + huge + ":iam::123456789012:role/f", std::string("arn:aws:s3:::b")},
                                     std::pair{std::string("arn:aws:iam::123456789012:role/f"), "arn:" + huge + ":s3:::b"}}) {
    json cfg{{"DeliveryStreamName", "t"},
             {"ExtendedS3DestinationConfiguration", {{"RoleARN", role}, {"BucketARN", bucket}}}};
    auto r = (*service)->Handle("Firehose_20150804.CreateDeliveryStream", cfg.dump());
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(json::parse(r.body).value("__type", ""), "InvalidArgumentException");
  }
  json ok{{"DeliveryStreamName", "t"},
          {"ExtendedS3DestinationConfiguration",
           {{"RoleARN", "arn:aws:iam::123456789012:role/" + std::string(480, 'r')}, {"BucketARN", "arn:aws:s3:::b"}}}};
  EXPECT_EQ((*service)->Handle("Firehose_20150804.CreateDeliveryStream", ok.dump()).status, 200);
}

}  // namespace
}  // namespace orderlake::firehose
