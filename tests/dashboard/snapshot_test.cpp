// Table versions (TableWatcher) and the answer cache (AnswerCache): a version per set of
// published runs, "in flux" while a run is being published, waiters woken on a change;
// answers cached per (version, key), computed once for concurrent requests, never stored
// when the table moved meanwhile or the answer is an error.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>
#include <vector>

#include "dashboard/snapshot.h"
#include "etl/runs.h"
#include "test_util.h"

namespace orderlake::dashboard {
namespace {
namespace fs = std::filesystem;
using orderlake::testing::TempDir;
using orderlake::testing::write_file;
using namespace std::chrono_literals;

TEST(TableWatcher, VersionFollowsPublishedRuns) {
  TempDir lake;
  TableWatcher w(lake.path(), "orders", 20ms);
  w.Start();
  TableVersion v1 = w.Current();
  EXPECT_EQ(v1.version, 1u);
  EXPECT_EQ(v1.runs, 0u);
  EXPECT_EQ(v1.last_run_id, "");
  EXPECT_FALSE(v1.in_flux);

  const fs::path meta = lake.path() / "_orderlake" / "orders";
  write_file(meta / "runs" / ".20260101T000000Z-a.json.123.tmp", "{}");  // a temporary name: not a run
  EXPECT_EQ(w.Rescan().version, 1u);

  // A run being published: in flux, and a new listing.
  write_file(meta / "pending" / "20260101T000000Z-a.json", "{}");
  TableVersion v2 = w.Rescan();
  EXPECT_EQ(v2.version, 2u);
  EXPECT_TRUE(v2.in_flux);

  // Published: the waiter (woken by the polling thread) sees the new version.
  std::thread publisher([&] {
    std::this_thread::sleep_for(50ms);
    write_file(meta / "runs" / "20260101T000000Z-a.json", "{}");
    fs::remove(meta / "pending" / "20260101T000000Z-a.json");
  });
  TableVersion v3 = w.WaitForChange(v2.version, 5s);
  publisher.join();
  for (int i = 0; i < 100 && (w.Current().in_flux || w.Current().runs != 1); ++i) std::this_thread::sleep_for(10ms);
  v3 = w.Current();
  EXPECT_GT(v3.version, v2.version);
  EXPECT_EQ(v3.runs, 1u);
  EXPECT_EQ(v3.last_run_id, "20260101T000000Z-a");
  EXPECT_FALSE(v3.in_flux);
  EXPECT_GT(v3.published_ms, 0);
  EXPECT_EQ(v3.ToJson()["run_id"], "20260101T000000Z-a");

  // Nothing changes: the version stays.
  EXPECT_EQ(w.Rescan().version, v3.version);
  w.Stop();
  EXPECT_TRUE(w.stopping());
}

TEST(TableWatcher, VersionFollowsTheDeltaLog) {
  TempDir lake;
  const auto log = lake.path() / "orders" / "_delta_log";
  const auto meta = lake.path() / "_orderlake" / "orders";
  write_file(log / "00000000000000000000.json", "{}\n");
  write_file(log / "00000000000000000001.json", "{}\n");
  write_file(meta / "runs" / "20260101T000000Z-a.json", "{}");
  TableWatcher w(lake.path(), "orders", std::chrono::milliseconds(10));
  TableVersion v1 = w.Rescan();
  EXPECT_EQ(v1.version, 1u);
  EXPECT_EQ(v1.token, "delta:1");
  EXPECT_EQ(v1.runs, 1u);
  EXPECT_GT(v1.published_ms, 0);
  // A pending journal does not make a Delta table "in flux": the commit is the moment.
  write_file(meta / "pending" / "20260101T000001Z-b.json", "{}");
  EXPECT_EQ(w.Rescan().version, 1u);
  EXPECT_FALSE(w.Rescan().in_flux);
  write_file(meta / "runs" / "20260101T000001Z-b.json", "{}");
  write_file(log / "00000000000000000002.json", "{}\n");
  write_file(log / "00000000000000000003.json", "{}\n");
  TableVersion v2 = w.Rescan();
  EXPECT_EQ(v2.version, 2u);
  EXPECT_EQ(v2.token, "delta:3");
  EXPECT_EQ(v2.runs, 2u);
  EXPECT_EQ(v2.last_run_id, "20260101T000001Z-b");
  // A new watcher on a long log starts at its newest commit.
  TableWatcher w2(lake.path(), "orders", std::chrono::milliseconds(10));
  EXPECT_EQ(w2.Rescan().token, "delta:3");
}

TEST(TableWatcher, StartsFromTheLastCheckpointAndIgnoresCleanedUpCommits) {
  TempDir lake;
  const auto log = lake.path() / "orders" / "_delta_log";
  // Log retention kept the checkpoint at 20 and the commits after it; 0-19 are gone.
  write_file(log / "00000000000000000020.checkpoint.parquet", "PAR1");
  write_file(log / "_last_checkpoint", R"({"version":20,"size":3})");
  for (const char* c : {"00000000000000000020.json", "00000000000000000021.json", "00000000000000000022.json"})
    write_file(log / c, "{}\n");
  TableWatcher w(lake.path(), "orders", std::chrono::milliseconds(10));
  EXPECT_EQ(w.Rescan().token, "delta:22");
  // More commits, and the older ones cleaned up meanwhile: followed commit by commit.
  write_file(log / "00000000000000000023.json", "{}\n");
  fs::remove(log / "00000000000000000020.json");
  fs::remove(log / "00000000000000000021.json");
  TableVersion v = w.Rescan();
  EXPECT_EQ(v.token, "delta:23");
  EXPECT_GT(v.published_ms, 0);
}

// The run count is every run the table ever committed: the etl folds old run records into
// runs_rollup.json (etl/runs.h) and deletes them, so the listing alone would undercount.
TEST(TableWatcher, RunsCountTheRollupAndTheRecentRecords) {
  TempDir lake;
  const fs::path meta = lake.path() / "_orderlake" / "orders";
  etl::RunTotals folded;
  folded.runs = 40;
  const nlohmann::json rollup = {{"version", 1},
                                 {"table", "orders"},
                                 {"folded_through", "20260101T000002Z-b"},
                                 {"totals", folded.ToJson()},
                                 {"days", nlohmann::json::object()}};
  write_file(meta / "runs_rollup.json", rollup.dump());
  // One record already in the roll-up (its deletion is pending), two after it.
  for (const char* id : {"20260101T000001Z-a", "20260101T000003Z-c", "20260101T000004Z-d"})
    write_file(meta / "runs" / (std::string(id) + ".json"), "{}");
  {
    TableWatcher w(lake.path(), "orders", 20ms);
    w.Start();
    EXPECT_EQ(w.Current().runs, 42u);
    EXPECT_EQ(w.Current().last_run_id, "20260101T000004Z-d");
  }
  // The same for a Delta table; and when every record is folded, the roll-up names the last run.
  write_file(lake.path() / "orders" / "_delta_log" / "00000000000000000000.json", "{}");
  for (const char* id : {"20260101T000001Z-a", "20260101T000003Z-c", "20260101T000004Z-d"})
    fs::remove(meta / "runs" / (std::string(id) + ".json"));
  folded.runs = 43;
  nlohmann::json all = rollup;
  all["folded_through"] = "20260101T000004Z-d";
  all["totals"] = folded.ToJson();
  write_file(meta / "runs_rollup.json", all.dump());
  TableWatcher w(lake.path(), "orders", 20ms);
  w.Start();
  EXPECT_EQ(w.Current().token, "delta:0");
  EXPECT_EQ(w.Current().runs, 43u);
  EXPECT_EQ(w.Current().last_run_id, "20260101T000004Z-d");
  write_file(meta / "runs" / "20260101T000005Z-e.json", "{}");
  write_file(lake.path() / "orders" / "_delta_log" / "00000000000000000001.json", "{}");
  EXPECT_EQ(w.Rescan().runs, 44u);
  EXPECT_EQ(w.Current().last_run_id, "20260101T000005Z-e");
}

TEST(AnswerCache, HitsMissesAndVersions) {
  AnswerCache cache;
  int computed = 0;
  auto compute = [&]() -> std::optional<Answer> {
    ++computed;
    return Answer{200, "body" + std::to_string(computed), 1};
  };
  bool hit = true;
  auto a = cache.Get(1, "daily|{}", compute, &hit);
  EXPECT_FALSE(hit);
  EXPECT_EQ(a->body, "body1");
  auto b = cache.Get(1, "daily|{}", compute, &hit);
  EXPECT_TRUE(hit);
  EXPECT_EQ(b->body, "body1");
  EXPECT_EQ(computed, 1);
  // Another key, another version: computed; the newer version drops the older answers.
  cache.Get(1, "hourly|{}", compute, &hit);
  EXPECT_FALSE(hit);
  auto c = cache.Get(2, "daily|{}", compute, &hit);
  EXPECT_FALSE(hit);
  EXPECT_EQ(c->body, "body3");
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.misses(), 3u);
}

TEST(AnswerCache, ErrorsAndMovedTablesAreNotStored) {
  AnswerCache cache;
  bool hit = false;
  auto err = cache.Get(1, "k", [] { return std::optional<Answer>(Answer{400, "bad", 1}); }, &hit);
  EXPECT_EQ(err->status, 400);
  EXPECT_EQ(cache.size(), 0u);
  auto moved = cache.Get(1, "k", [] { return std::optional<Answer>(); }, &hit);
  EXPECT_EQ(moved, nullptr);
  EXPECT_EQ(cache.size(), 0u);
  auto once = cache.Get(1, "k", [] { return std::optional<Answer>(Answer{200, "x", 1, false}); }, &hit);
  EXPECT_EQ(once->body, "x");
  EXPECT_EQ(cache.size(), 0u);
}

TEST(AnswerCache, ConcurrentRequestsComputeOnce) {
  AnswerCache cache;
  std::atomic<int> computed{0};
  std::vector<std::thread> threads;
  std::vector<std::string> bodies(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto a = cache.Get(7, "summary|{}", [&]() -> std::optional<Answer> {
        ++computed;
        std::this_thread::sleep_for(100ms);
        return Answer{200, "once", 7};
      }, nullptr);
      bodies[i] = a->body;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(computed.load(), 1);
  for (const auto& b : bodies) EXPECT_EQ(b, "once");
}

TEST(DashboardTime, IsoUtc) {
  EXPECT_EQ(IsoUtc(0), "");
  EXPECT_EQ(IsoUtc(1291161600123), "2010-12-01T00:00:00.123Z");
}

}  // namespace
}  // namespace orderlake::dashboard
