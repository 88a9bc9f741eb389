// Delta log retention (issue 13, item 2): checkpoints written by every writer at the table's
// delta.checkpointInterval, log cleanup after them (delta.logRetentionDuration), readers
// that start from _last_checkpoint and never need the cleaned commits, writers behind the
// cleanup that never re-create a removed version, and kill -9 in the middle of cleanup.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "etl/job.h"
#include "query/engine.h"
#include "store/object_store.h"
#include "table/delta.h"
#include "table/maintenance.h"
#include "table/properties.h"
#include "etl_lake.h"
#include "test_util.h"

namespace orderlake::table {
namespace {
namespace stdfs = std::filesystem;
using json = nlohmann::json;
using orderlake::testing::run_orderlake;
using orderlake::testing::TempDir;
using orderlake::testing::write_file;
using ::testing::HasSubstr;

DataFile file(int v) {
  DataFile f;
  f.path = fmt::format("p=x/part-{:04d}.parquet", v);
  f.partition_values = {{"p", "x"}};
  f.size = 100;
  f.records = static_cast<uint64_t>(v + 1);
  f.stats = json{{"numRecords", v + 1}}.dump();
  return f;
}

std::vector<json> first_actions() {
  return {protocol_action(), metadata_action({{"a", "integer"}, {"p", "string"}}, {"p"})};
}

// The versions of the commit files and of the checkpoints in a local log.
std::pair<std::set<int64_t>, std::set<int64_t>> log_files(const stdfs::path& log_dir) {
  std::set<int64_t> commits, checkpoints;
  for (auto& e : stdfs::directory_iterator(log_dir)) {
    const std::string name = e.path().filename().string();
    if (version_of_key(name) >= 0) commits.insert(version_of_key(name));
    else if (version_of_log_file(name) >= 0) checkpoints.insert(version_of_log_file(name));
  }
  return {commits, checkpoints};
}

// Makes the commits before `before` look `age` old (cleanup reads a commit's age from its
// file's modification time, as Delta does).
void age_commits(const stdfs::path& log_dir, int64_t before, std::chrono::hours age) {
  for (int64_t v = 0; v < before; ++v) {
    const stdfs::path p = log_dir / fmt::format("{:020d}.json", v);
    if (stdfs::exists(p)) stdfs::last_write_time(p, stdfs::file_time_type::clock::now() - age);
  }
}

int64_t sum_records(const Snapshot& s) { return static_cast<int64_t>(s.records()); }

TEST(TableProperties, ParseValidateAndDefaults) {
  EXPECT_EQ(ParseDeltaInterval("interval 30 days", "k").value(), 30LL * 86400 * 1000);
  EXPECT_EQ(ParseDeltaInterval("interval 1 hours", "k").value(), 3600LL * 1000);
  EXPECT_EQ(ParseDeltaInterval("INTERVAL 1 hour 30 minutes", "k").value(), 5400LL * 1000);
  EXPECT_EQ(ParseDeltaInterval("2 weeks", "k").value(), 14LL * 86400 * 1000);
  auto bad = ParseDeltaInterval("interval 1 month", "delta.logRetentionDuration");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("delta.logRetentionDuration must be an interval"));
  EXPECT_FALSE(ParseDeltaInterval("interval x days", "k").ok());
  EXPECT_FALSE(ParseDeltaInterval("interval", "k").ok());
  EXPECT_EQ(FormatDeltaInterval(3600LL * 1000), "interval 1 hours");
  EXPECT_EQ(FormatDeltaInterval(90LL * 1000), "interval 90 seconds");

  EXPECT_TRUE(ValidateTableProperty("delta.checkpointInterval", "5").ok());
  EXPECT_FALSE(ValidateTableProperty("delta.checkpointInterval", "0").ok());
  EXPECT_FALSE(ValidateTableProperty("delta.checkpointInterval", "five").ok());
  auto unknown = ValidateTableProperty("delta.appendOnlyy", "true");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.message(), HasSubstr("unknown Delta table property 'delta.appendOnlyy'"));
  EXPECT_TRUE(ValidateTableProperty("owner", "team-a").ok());

  Snapshot s;
  TableProperties d = TableProperties::Of(s);
  EXPECT_EQ(d.checkpoint_interval, 10);
  EXPECT_EQ(d.log_retention_ms, 30LL * 86400 * 1000);
  s.metadata = json{{"configuration", {{"delta.checkpointInterval", "5"}, {"delta.logRetentionDuration", "interval 2 hours"}}}};
  TableProperties p = TableProperties::Of(s);
  EXPECT_EQ(p.checkpoint_interval, 5);
  EXPECT_EQ(p.log_retention_ms, 2 * 3600LL * 1000);
}

// A table of `n` commits with the given properties (set at version 1, as ALTER TABLE would).
void make_table(DeltaLog& log, Snapshot* w, int n, const std::map<std::string, std::string>& props) {
  for (int v = 0; v < n; ++v) {
    if (v == 1) {
      ASSERT_TRUE(SetTableProperties(log.store(), log.table(), props).ok());
      ASSERT_TRUE(log.Update(w).ok());
      continue;
    }
    ASSERT_TRUE(log.Commit(w, {add_action(file(v), true), txn_action("etl", v)}, {}, first_actions).ok());
  }
}

TEST(LogRetention, CleanupKeepsTheRetentionAndTheCheckpointAndReadersStillReadTheTable) {
  TempDir dir;
  auto store = store::OpenLocal(dir.str());
  DeltaLog log(store.get(), "t");
  const stdfs::path log_dir = dir.path() / "t" / "_delta_log";
  Snapshot w;
  make_table(log, &w, 60, {{"delta.checkpointInterval", "10"}, {"delta.logRetentionDuration", "interval 1 hours"}});
  ASSERT_EQ(w.version, 59);
  auto full = log.Load(false);  // every commit: the table before any cleanup
  ASSERT_TRUE(full.ok());
  // Commits 0..44 are two hours old, the rest are recent.
  age_commits(log_dir, 45, std::chrono::hours(2));
  int64_t last = -2;
  // Version 59 is not a multiple of 10 and there is no backstop: nothing happens.
  auto none = MaybeCheckpoint(log, w, 59, &last);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->checkpoint, -1);
  // Commit 60: the interval's checkpoint, then cleanup of the commits older than an hour.
  ASSERT_TRUE(log.Commit(&w, {add_action(file(60), true), txn_action("etl", 60)}, {}).ok());
  auto m = MaybeCheckpoint(log, w, 60, &last);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->checkpoint, 60);
  EXPECT_EQ(m->log_files_deleted, 45u);
  EXPECT_EQ(m->oldest_version, 45);
  auto [commits, checkpoints] = log_files(log_dir);
  EXPECT_EQ(*commits.begin(), 45);
  EXPECT_EQ(*commits.rbegin(), 60);
  EXPECT_EQ(commits.size(), 16u);  // contiguous 45..60
  EXPECT_EQ(checkpoints, std::set<int64_t>({60}));
  EXPECT_TRUE(stdfs::exists(log_dir / "_last_checkpoint"));

  // A new reader starts from the checkpoint and reads the same table.
  auto loaded = log.Load();
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->version, 60);
  EXPECT_EQ(loaded->files.size(), w.files.size());
  EXPECT_EQ(sum_records(loaded.value()), sum_records(w));
  EXPECT_EQ(loaded->txn, w.txn);
  // So does one that asks for every commit: the first ones are gone, the checkpoint has them.
  auto replay = log.Load(false);
  ASSERT_TRUE(replay.ok()) << replay.status().message();
  EXPECT_EQ(sum_records(replay.value()), sum_records(w));

  // A reader left at version 20 (its next commits cleaned away) catches up from the
  // checkpoint; one that must see every commit (the etl's bookmark) is told why it cannot.
  Snapshot old_reader = full.value();
  old_reader.version = 20;
  ASSERT_TRUE(log.Update(&old_reader).ok());
  EXPECT_EQ(old_reader.version, 60);
  EXPECT_EQ(sum_records(old_reader), sum_records(w));
  Snapshot visitor;
  visitor.version = 20;
  Status st = log.Update(&visitor, [](const LogCommit&) { return Status::OK(); });
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("removed by log cleanup"));
  EXPECT_THAT(st.message(), HasSubstr("delta.logRetentionDuration"));

  // A writer behind the cleanup (snapshot at version 20) never re-creates version 21.
  Snapshot stale = full.value();
  stale.version = 20;
  int checked = 0;
  auto v = log.Commit(&stale, {add_action(file(61), true)}, [&](const std::vector<LogCommit>&, const Snapshot&) {
    ++checked;
    return Status::OK();
  });
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v.value(), 61);
  EXPECT_GE(checked, 1);
  EXPECT_FALSE(stdfs::exists(log_dir / fmt::format("{:020d}.json", 21)));
}

TEST(LogRetention, TheEtlBookmarkKeepsItsCommits) {
  TempDir dir;
  auto store = store::OpenLocal(dir.str());
  DeltaLog log(store.get(), "t");
  const stdfs::path log_dir = dir.path() / "t" / "_delta_log";
  Snapshot w;
  make_table(log, &w, 41, {{"delta.logRetentionDuration", "interval 1 hours"}});
  age_commits(log_dir, 41, std::chrono::hours(3));
  // The etl's bookmark.json says version 25: the commits after it carry its bookmark.
  write_file(dir.path() / "_orderlake" / "t" / "bookmark.json", json{{"version", 2}, {"delta_version", 25}}.dump());
  int64_t last = -2;
  auto m = MaybeCheckpoint(log, w, 40, &last);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->checkpoint, 40);
  EXPECT_EQ(m->log_files_deleted, 26u);  // 0..25
  EXPECT_EQ(*log_files(log_dir).first.begin(), 26);
  // A bookmark.json without delta_version (from before the table had a log): nothing goes.
  write_file(dir.path() / "_orderlake" / "t" / "bookmark.json", json{{"version", 1}, {"objects", json::object()}}.dump());
  auto kept = CleanupLog(log, 40, 3600 * 1000, clock::unix_ms());
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->log_files_deleted, 0u);
  // No bookmark: no constraint, so the cleanup goes up to the checkpoint.
  stdfs::remove(dir.path() / "_orderlake" / "t" / "bookmark.json");
  auto rest = CleanupLog(log, 40, 3600 * 1000, clock::unix_ms());
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->log_files_deleted, 14u);  // 26..39
  EXPECT_EQ(*log_files(log_dir).first.begin(), 40);
}

TEST(LogRetention, LogStaysBoundedUnderManyCommits) {
  // K commits with a short retention: the log holds the retention's worth plus at most one
  // checkpoint interval, however many commits were made.
  TempDir dir;
  auto store = store::OpenLocal(dir.str());
  DeltaLog log(store.get(), "t");
  const stdfs::path log_dir = dir.path() / "t" / "_delta_log";
  Snapshot w;
  make_table(log, &w, 2, {{"delta.checkpointInterval", "5"}, {"delta.logRetentionDuration", "interval 1 hours"}});
  int64_t last = -2;
  size_t most = 0;
  for (int v = 2; v <= 300; ++v) {
    ASSERT_TRUE(log.Commit(&w, {add_action(file(v), true), txn_action("etl", v)}, {}).ok());
    // Everything but the last 20 commits is "older than the retention".
    age_commits(log_dir, v - 20 + 1, std::chrono::hours(2));
    auto m = MaybeCheckpoint(log, w, w.version, &last);
    ASSERT_TRUE(m.ok()) << m.status().message();
    auto [commits, checkpoints] = log_files(log_dir);
    most = std::max(most, commits.size());
    EXPECT_LE(checkpoints.size(), 1u) << v;  // the newest only
  }
  EXPECT_LE(most, 20u + 5u + 1u);
  auto loaded = log.Load();
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(sum_records(loaded.value()), sum_records(w));
  EXPECT_EQ(loaded->files.size(), 300u);
}

// A lake written by the real etl, batch after batch (etl_lake.h), and its row count by SQL.
struct EtlLake : orderlake::testing::EtlLake {
  std::string Count() {
    auto e = query::Engine::Open(lake());
    if (!e.ok()) return e.status().message();
    auto r = e.value()->Execute("SELECT count(*) FROM orders");
    if (!r.ok()) return r.status().message();
    return r->rows.at(0).at(0).ToString();
  }
};

TEST(LogRetention, TheEtlAloneWritesACheckpointEveryInterval) {
  EtlLake l;
  l.AddBatch(1);  // version 0
  auto store = store::OpenLocal(l.lake().string());
  auto v = SetTableProperties(store.get(), "orders", {{"delta.checkpointInterval", "3"}});
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v.value(), 1);
  for (int i = 2; i <= 8; ++i) l.AddBatch(i);  // versions 2..8
  const stdfs::path log_dir = l.lake() / "orders" / "_delta_log";
  EXPECT_EQ(log_files(log_dir).second, std::set<int64_t>({6}));  // 3 was written, then replaced
  DeltaLog log(store.get(), "orders");
  auto last = log.LastCheckpoint();
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last.value(), 6);
  // Nothing was old enough to clean (30 days by default).
  EXPECT_EQ(log_files(log_dir).first.size(), 9u);
  EXPECT_EQ(l.Count(), std::to_string(l.rows));
}

TEST(LogRetention, TheEtlGoesOnAfterCleanupFromItsBookmark) {
  EtlLake l;
  l.AddBatch(1);  // version 0; bookmark.json at version 0
  auto store = store::OpenLocal(l.lake().string());
  ASSERT_TRUE(SetTableProperties(store.get(), "orders",
                                 {{"delta.checkpointInterval", "2"}, {"delta.logRetentionDuration", "interval 1 hours"}})
                  .ok());  // version 1
  const stdfs::path log_dir = l.lake() / "orders" / "_delta_log";
  age_commits(log_dir, 2, std::chrono::hours(2));
  l.AddBatch(2);  // version 2: checkpoint, cleanup up to the bookmark (version 0 goes)
  EXPECT_EQ(log_files(log_dir).second, std::set<int64_t>({2}));
  EXPECT_EQ(*log_files(log_dir).first.begin(), 1);
  age_commits(log_dir, 3, std::chrono::hours(2));
  l.AddBatch(3);
  l.AddBatch(4);  // version 4: checkpoint; bookmark.json still says 0: commits 1.. stay
  EXPECT_EQ(*log_files(log_dir).first.begin(), 1);
  EXPECT_EQ(l.Count(), std::to_string(l.rows));  // every row once
}

// One micro-batch of `rows` rows as a Parquet file in p=x, committed (as the etl would).
void add_parquet_batch(DeltaLog& log, Snapshot* w, const stdfs::path& lake, int n, int rows) {
  const std::string rel = fmt::format("p=x/part-{:05d}.parquet", n);
  const stdfs::path f = lake / "t" / rel;
  stdfs::create_directories(f.parent_path());
  orderlake::testing::duckdb_value(fmt::format(
      "COPY (SELECT ({0} * 100000 + range)::BIGINT AS a FROM range({1})) TO '{2}' (FORMAT parquet)", n, rows, f.string()));
  DataFile d = file(n);
  d.path = rel;
  d.size = stdfs::file_size(f);
  d.records = static_cast<uint64_t>(rows);
  d.stats = json{{"numRecords", rows}}.dump();
  ASSERT_TRUE(log.Commit(w, {add_action(d, true)}, {}, first_actions).ok());
}

TEST(LogRetention, KillDuringCleanupLosesNothing) {
  TempDir dir;
  const stdfs::path lake = dir.path() / "lake";
  auto store = store::OpenLocal(lake.string());
  DeltaLog log(store.get(), "t");
  const stdfs::path log_dir = lake / "t" / "_delta_log";
  Snapshot w;
  add_parquet_batch(log, &w, lake, 0, 100);
  ASSERT_TRUE(SetTableProperties(store.get(), "t",
                                 {{"delta.checkpointInterval", "100"}, {"delta.logRetentionDuration", "interval 1 hours"}})
                  .ok());  // version 1
  ASSERT_TRUE(log.Update(&w).ok());
  for (int n = 2; n < 12; ++n) add_parquet_batch(log, &w, lake, n, 100);  // versions 2..11
  age_commits(log_dir, 12, std::chrono::hours(2));
  auto count = [&] {
    return orderlake::testing::duckdb_value(
        fmt::format("SELECT count(*) FROM read_parquet('{}/t/p=x/*.parquet')", lake.string()));
  };
  ASSERT_EQ(count(), "1100");
  // A compactor that checkpoints (its backstop: 1 commit behind) and is killed in the
  // middle of the cleanup after it.
  const std::vector<std::string> compact = {"compact", "--lake", lake.string(), "--table", "t",
                                            "--checkpoint-interval", "1", "--min-files", "1000", "--json"};
  auto r = run_orderlake(compact, 120, {"ORDERLAKE_CRASH_AT=mid_log_cleanup"});
  EXPECT_EQ(r.exit_code, 86) << r.err;
  auto [commits, checkpoints] = log_files(log_dir);
  EXPECT_EQ(checkpoints, std::set<int64_t>({11}));
  ASSERT_FALSE(commits.empty());
  EXPECT_EQ(*commits.begin(), 2);  // killed after two commits were deleted
  EXPECT_EQ(*commits.rbegin() - *commits.begin() + 1, static_cast<int64_t>(commits.size()));  // contiguous
  // Every reader still reads the same table: from the checkpoint, or catching up.
  auto loaded = log.Load();
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->records(), 1100u);
  EXPECT_EQ(loaded->files.size(), w.files.size());
  auto replay = log.Load(false);
  ASSERT_TRUE(replay.ok()) << replay.status().message();
  EXPECT_EQ(replay->records(), 1100u);
  // Writers go on; the next checkpoint finishes the cleanup.
  add_parquet_batch(log, &w, lake, 12, 100);  // version 12 (recent)
  auto again = run_orderlake(compact);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(json::parse(again.out)["checkpoint"], 12);
  EXPECT_EQ(json::parse(again.out)["log_files_deleted"], 10);  // 2..11
  EXPECT_EQ(log_files(log_dir).first, std::set<int64_t>({12}));
  EXPECT_EQ(log_files(log_dir).second, std::set<int64_t>({12}));
  auto end = log.Load();
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(end->records(), 1200u);
  EXPECT_EQ(count(), "1200");
}

}  // namespace
}  // namespace orderlake::table

namespace orderlake::table {
namespace {

// A measurement, not a check (run with --gtest_also_run_disabled_tests): Load() over a log
// of 2,000 commits without and with checkpoints and cleanup, and the etl's per-commit cost
// of AfterCommit (not due / due) with ~500 live files.
TEST(LogRetention, DISABLED_MeasureLoadAndAfterCommit) {
  TempDir dir;
  auto store = store::OpenLocal(dir.str());
  DeltaLog log(store.get(), "t");
  Snapshot w;
  auto ms_since = [](auto t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  };
  for (int v = 0; v < 2000; ++v) {
    std::vector<json> a = {add_action(file(v), true), txn_action("etl", v)};
    if (v >= 500) a.push_back(remove_action(file(v - 500), clock::unix_ms(), false));  // ~500 live files
    ASSERT_TRUE(log.Commit(&w, a, {}, first_actions).ok());
  }
  auto t0 = std::chrono::steady_clock::now();
  auto all = log.Load();
  const double before = ms_since(t0);
  ASSERT_TRUE(all.ok());
  ASSERT_TRUE(SetTableProperties(store.get(), "t", {{"delta.logRetentionDuration", "interval 1 hours"}}).ok());
  age_commits(dir.path() / "t" / "_delta_log", 2001, std::chrono::hours(2));
  ASSERT_TRUE(log.Update(&w).ok());
  // The etl's hook: not due (one new commit read by key), then due (checkpoint + cleanup).
  ASSERT_TRUE(AfterCommit(store.get(), "t", w.version).ok());  // first call: loads the snapshot
  double not_due = 0, due = 0;
  int n_due = 0, n_not = 0;
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(log.Commit(&w, {add_action(file(3000 + i), true), remove_action(file(1500 + i), clock::unix_ms(), false)}, {}).ok());
    t0 = std::chrono::steady_clock::now();
    auto m = AfterCommit(store.get(), "t", w.version);
    ASSERT_TRUE(m.ok()) << m.status().message();
    if (m->checkpoint >= 0) due += ms_since(t0), ++n_due;
    else not_due += ms_since(t0), ++n_not;
  }
  auto [commits, checkpoints] = log_files(dir.path() / "t" / "_delta_log");
  t0 = std::chrono::steady_clock::now();
  auto after = log.Load();
  const double after_ms = ms_since(t0);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->files.size(), w.files.size());
  std::printf("Load(): %.1f ms reading %lld commits before; %.1f ms from the checkpoint at %lld + %zu commits after "
              "(log holds %zu commits, %zu checkpoints)\n",
              before, static_cast<long long>(all->version + 1), after_ms, static_cast<long long>(*checkpoints.rbegin()),
              static_cast<size_t>(after->version - *checkpoints.rbegin()), commits.size(), checkpoints.size());
  std::printf("AfterCommit with %zu live files: %.2f ms when not due (%d), %.1f ms with checkpoint+cleanup (%d)\n",
              w.files.size(), not_due / std::max(n_not, 1), n_not, due / std::max(n_due, 1), n_due);
}

}  // namespace
}  // namespace orderlake::table
