// The firehose's own bookkeeping does not grow with history: under a steady load the WAL
// directory holds a bounded number of segments (delivered ones are deleted) and the
// checkpoint a bounded size; idempotency marks of sources unused for a week are dropped
// from the checkpoint while recent ones still drop replays.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/base64.h"
#include "core/clock.h"
#include "firehose/service.h"
#include "test_util.h"

namespace orderlake::firehose {
namespace {
namespace stdfs = std::filesystem;
using json = nlohmann::json;
using orderlake::testing::TempDir;

double metric(const FirehoseService& s, const std::string& name) {
  std::string text = s.Metrics();
  std::string key = "orderlake_firehose_" + name + "{stream=\"t\"} ";
  auto p = text.find(key);
  return p == std::string::npos ? -1 : std::stod(text.substr(p + key.size()));
}

// Ten records of ~1 KB; `source` and the batch's [start, end) name it for idempotency.
ApiResponse put(FirehoseService& s, int i, const std::string& source) {
  json recs = json::array();
  for (int r = 0; r < 10; ++r)
    recs.push_back(json{{"Data", base64_encode(fmt::format("{:06}-{:02}", i, r) + std::string(993, 'x') + "\n")}});
  return s.Handle("Firehose_20150804.PutRecordBatch", json{{"DeliveryStreamName", "t"}, {"Records", recs}}.dump(),
                  fmt::format("{};{};{}", source, i * 10000, (i + 1) * 10000));
}

FirehoseOptions options(const TempDir& dir) {
  FirehoseOptions o;
  o.data_dir = dir.path();
  o.wal_segment_bytes = 64 << 10;
  return o;
}

void create(FirehoseService& s) {
  json cfg{{"DeliveryStreamName", "t"},
           {"ExtendedS3DestinationConfiguration",
            {{"RoleARN", "arn:aws:iam::123456789012:role/f"},
             {"BucketARN", "arn:aws:s3:::b"},
             {"BufferingHints", {{"SizeInMBs", 1}, {"IntervalInSeconds", 0}}}}}};
  ASSERT_EQ(s.Handle("Firehose_20150804.CreateDeliveryStream", cfg.dump()).status, 200);
}

size_t files_in(const stdfs::path& dir) {
  size_t n = 0;
  for (auto& e : stdfs::directory_iterator(dir))  // not a temporary of a write in progress
    n += e.is_regular_file() && !e.path().filename().string().starts_with(".");
  return n;
}

bool delivered(FirehoseService& s, double records) {
  return orderlake::testing::wait_for([&] { return metric(s, "records_delivered_total") >= records; }, 30);
}

TEST(FirehoseBookkeeping, WalSegmentsAndCheckpointStayBoundedUnderLoad) {
  TempDir dir;
  auto svc = FirehoseService::Open(options(dir));
  ASSERT_TRUE(svc.ok()) << svc.status().message();
  create(**svc);
  const stdfs::path wal = dir.path() / "firehose" / "wal";
  size_t most = 0, state_files = 0;
  uintmax_t checkpoint_most = 0;
  // 16 MB in 64 KB segments: ~250 segments written over the run.
  for (int i = 0; i < 1600; ++i) {
    auto r = put(**svc, i, fmt::format("host:/var/log/orders-{}.log", i / 100));  // a "rotation" every 100 puts
    ASSERT_EQ(r.status, 200) << r.body;
    if (i == 49) state_files = files_in(dir.path() / "firehose");
    if (i % 50 == 49) {
      most = std::max(most, files_in(wal));
      std::error_code ec;
      checkpoint_most = std::max(checkpoint_most, stdfs::file_size(dir.path() / "firehose" / "checkpoint.json", ec));
    }
  }
  ASSERT_TRUE(delivered(**svc, 16000));
  // Undelivered data is at most a buffer (1 MB: 16 segments) plus what arrives meanwhile.
  EXPECT_LE(most, 40u);
  // Once delivery has caught up, the delivered segments are gone.
  ASSERT_TRUE(orderlake::testing::wait_for([&] { return files_in(wal) <= 2; }, 30)) << files_in(wal);
  EXPECT_LT(checkpoint_most, 4096u);  // 16 sources, one stream
  EXPECT_EQ(files_in(dir.path() / "firehose"), state_files);  // lock, checkpoint.json, ...: no more
}

TEST(FirehoseBookkeeping, IdempotencyMarksUnusedForAWeekAreDropped) {
  TempDir dir;
  {
    auto svc = FirehoseService::Open(options(dir));
    ASSERT_TRUE(svc.ok()) << svc.status().message();
    create(**svc);
    ASSERT_EQ(put(**svc, 0, "old-file").status, 200);
    for (int i = 0; i < 150; ++i) ASSERT_EQ(put(**svc, i, "new-file").status, 200);  // old-file's segment closes
    ASSERT_TRUE(delivered(**svc, 1510));
  }
  const stdfs::path cp_path = dir.path() / "firehose" / "checkpoint.json";
  json cp = json::parse(orderlake::testing::read_file(cp_path));
  json& stream = cp["streams"].begin().value();
  ASSERT_TRUE(stream["hwm"].contains("old-file")) << cp.dump();
  ASSERT_TRUE(stream["hwm_used"].contains("old-file")) << cp.dump();
  stream["hwm_used"]["old-file"] = clock::unix_ms() - int64_t{8} * 86400 * 1000;  // last used 8 days ago
  orderlake::testing::write_file(cp_path, cp.dump());

  auto svc = FirehoseService::Open(options(dir));
  ASSERT_TRUE(svc.ok()) << svc.status().message();
  EXPECT_EQ(put(**svc, 149, "new-file").status, 200);  // a replay: dropped
  EXPECT_EQ(metric(**svc, "records_in_total"), 0);
  ASSERT_EQ(put(**svc, 150, "new-file").status, 200);
  ASSERT_TRUE(orderlake::testing::wait_for(
      [&] {
        json now = json::parse(orderlake::testing::read_file(cp_path), nullptr, false);
        if (now.is_discarded()) return false;
        const json& s = now["streams"].begin().value();
        return !s["hwm"].contains("old-file") && s["hwm"].value("new-file", 0) == 1510000;
      },
      30))
      << orderlake::testing::read_file(cp_path);
}

}  // namespace
}  // namespace orderlake::firehose
