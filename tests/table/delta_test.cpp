// The Delta log (commits, conflicts, snapshots) and compaction with vacuum, on real
// etl output read back through the query engine.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "etl/job.h"
#include "query/engine.h"
#include "store/object_store.h"
#include "table/compact.h"
#include "table/delta.h"
#include "etl_lake.h"
#include "test_util.h"

namespace orderlake::table {
namespace {
namespace stdfs = std::filesystem;
using json = nlohmann::json;
using orderlake::testing::read_file;
using orderlake::testing::run_orderlake;
using orderlake::testing::TempDir;
using orderlake::testing::write_file;
using ::testing::HasSubstr;

TEST(DeltaPath, EncodingKeepsSlashesAndRoundTrips) {
  const std::string p = "Country=C\xc3\xb4te d%27Ivoire/InvoiceDateOnly=2010-12-01/part-1.parquet";
  const std::string e = encode_path(p);
  EXPECT_EQ(e, "Country=C%C3%B4te%20d%2527Ivoire/InvoiceDateOnly=2010-12-01/part-1.parquet");
  auto d = decode_path(e);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d.value(), p);
  EXPECT_FALSE(decode_path("a%2").ok());
  EXPECT_FALSE(decode_path("a%zz").ok());
  EXPECT_EQ(version_of_key("orders/_delta_log/00000000000000000012.json"), 12);
  EXPECT_EQ(version_of_key("orders/_delta_log/00000000000000000012.checkpoint.parquet"), -1);
  EXPECT_EQ(version_of_key("orders/_delta_log/_last_checkpoint"), -1);
  EXPECT_EQ(version_of_log_file("orders/_delta_log/00000000000000000012.checkpoint.parquet"), 12);
  EXPECT_EQ(version_of_log_file("00000000000000000007.json"), 7);
  EXPECT_EQ(version_of_log_file("orders/_delta_log/_last_checkpoint"), -1);
  EXPECT_EQ(version_of_log_file("orders/_delta_log/0000000000000000001x.json"), -1);
}

DataFile file(const std::string& path, uint64_t rows) {
  DataFile f;
  f.path = path;
  f.partition_values = {{"p", "x"}};
  f.size = 10;
  f.records = rows;
  f.stats = json{{"numRecords", rows}}.dump();
  return f;
}

std::vector<json> first_actions() {
  return {protocol_action(), metadata_action({{"a", "integer"}, {"p", "string"}}, {"p"})};
}

TEST(DeltaLog, TwoWritersNeverShareAVersionAndTheLoserRetriesOnTop) {
  TempDir dir;
  auto store = store::OpenLocal(dir.str());
  DeltaLog log(store.get(), "t");
  Snapshot a, b;  // both start from an empty table
  auto va = log.Commit(&a, {add_action(file("p=x/1.parquet", 5), true), txn_action("app", 0)}, {}, first_actions);
  ASSERT_TRUE(va.ok()) << va.status().message();
  EXPECT_EQ(va.value(), 0);
  int conflicts = 0;
  auto vb = log.Commit(
      &b, {add_action(file("p=x/2.parquet", 7), true)},
      [&](const std::vector<LogCommit>& missed, const Snapshot& now) {
        ++conflicts;
        EXPECT_EQ(missed.size(), 1u);
        EXPECT_EQ(now.txn_version("app"), 0);
        return Status::OK();
      },
      first_actions);
  ASSERT_TRUE(vb.ok()) << vb.status().message();
  EXPECT_EQ(vb.value(), 1);
  EXPECT_EQ(conflicts, 1);
  // Version 1 holds only b's actions: no second protocol/metaData.
  EXPECT_EQ(read_file(dir.path() / "t" / "_delta_log" / "00000000000000000001.json").find("metaData"),
            std::string::npos);
  auto s = log.Load();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->version, 1);
  EXPECT_EQ(s->files.size(), 2u);
  EXPECT_EQ(s->records(), 12u);
  EXPECT_EQ(s->partition_columns(), std::vector<std::string>{"p"});

  // A conflict check that refuses: the commit fails and nothing is written.
  Snapshot stale = a;  // at version 0
  auto vc = log.Commit(&stale, {txn_action("app", 0)}, [](const std::vector<LogCommit>&, const Snapshot& now) {
    return now.txn_version("app") >= 0 ? Status::Error("batch 0 is already committed") : Status::OK();
  });
  ASSERT_FALSE(vc.ok());
  EXPECT_THAT(vc.status().message(), HasSubstr("already committed"));
  EXPECT_FALSE(stdfs::exists(dir.path() / "t" / "_delta_log" / "00000000000000000002.json"));
}

TEST(DeltaLog, RemovesTxnAndIncrementalUpdates) {
  TempDir dir;
  auto store = store::OpenLocal(dir.str());
  DeltaLog log(store.get(), "t");
  Snapshot w;
  ASSERT_TRUE(log.Commit(&w, {add_action(file("p=x/1.parquet", 5), true), txn_action("app", 0)}, {}, first_actions).ok());
  Snapshot reader;
  ASSERT_TRUE(log.Update(&reader).ok());
  EXPECT_EQ(reader.version, 0);
  ASSERT_TRUE(log.Commit(&w, {remove_action(file("p=x/1.parquet", 5), 1000, false),
                              add_action(file("p=x/2.parquet", 5), false), txn_action("app", 3)},
                         {})
                  .ok());
  int visited = 0;
  ASSERT_TRUE(log.Update(&reader, [&](const LogCommit& c) {
                   EXPECT_EQ(c.version, 1);
                   ++visited;
                   return Status::OK();
                 }).ok());
  EXPECT_EQ(visited, 1);  // only the new commit is read
  EXPECT_EQ(reader.version, 1);
  EXPECT_EQ(reader.files.size(), 1u);
  EXPECT_TRUE(reader.files.count("p=x/2.parquet"));
  ASSERT_TRUE(reader.tombstones.count("p=x/1.parquet"));
  EXPECT_EQ(reader.tombstones["p=x/1.parquet"].deletion_timestamp, 1000);
  EXPECT_EQ(reader.txn_version("app"), 3);
  EXPECT_EQ(reader.txn_version("other"), -1);
}

TEST(DeltaLog, AGapOrANewerProtocolIsAnError) {
  TempDir dir;
  write_file(dir.path() / "t" / "_delta_log" / "00000000000000000000.json",
             protocol_action().dump() + "\n" + metadata_action({{"a", "integer"}}, {}).dump() + "\n");
  write_file(dir.path() / "t" / "_delta_log" / "00000000000000000002.json", txn_action("a", 1).dump() + "\n");
  auto store = store::OpenLocal(dir.str());
  DeltaLog log(store.get(), "t");
  auto s = log.Load();
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("gap"));

  TempDir dir2;
  write_file(dir2.path() / "t" / "_delta_log" / "00000000000000000000.json",
             R"({"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["deletionVectors"]}})" "\n");
  auto store2 = store::OpenLocal(dir2.str());
  DeltaLog log2(store2.get(), "t");
  auto s2 = log2.Load();
  ASSERT_FALSE(s2.ok());
  EXPECT_THAT(s2.status().message(), HasSubstr("reader of version 3"));
}

TEST(DeltaLog, ACheckpointGivesTheSameSnapshotAsEveryCommit) {
  TempDir dir;
  auto store = store::OpenLocal(dir.str());
  DeltaLog log(store.get(), "t");
  Snapshot w;
  const auto meta = [] {
    return std::vector<json>{protocol_action(),
                             metadata_action({{"a", "integer"}, {"p", "string"}, {"d", "date"}}, {"p", "d"})};
  };
  auto f = [](int v, int i) {
    DataFile d = file(fmt::format("p=x{}/d=2010-12-0{}/part-{:03d}.parquet", i % 3, 1 + i % 2, v), v + i);
    d.partition_values = {{"p", i % 3 == 0 ? std::nullopt : std::optional<std::string>("x" + std::to_string(i % 3))},
                          {"d", "2010-12-0" + std::to_string(1 + i % 2)}};
    d.size = 100 + v;
    d.modification_time = 1000 + v;
    return d;
  };
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  for (int v = 0; v < 130; ++v) {
    std::vector<json> actions = {txn_action("etl", v), add_action(f(v, v), true)};
    // A tombstone; the first one expired long ago, so no checkpoint keeps it.
    if (v % 10 == 9) actions.push_back(remove_action(f(v - 5, v - 5), v == 9 ? 1000 : now, false));
    ASSERT_TRUE(log.Commit(&w, actions, {}, meta).ok());
    if (v == 120) {
      ASSERT_TRUE(log.WriteCheckpoint(w).ok());
    }
  }
  auto last = log.LastCheckpoint();
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last.value(), 120);
  auto from_cp = log.Load(true), replayed = log.Load(false);
  ASSERT_TRUE(from_cp.ok()) << from_cp.status().message();
  ASSERT_TRUE(replayed.ok());
  auto same = [](const Snapshot& a, const Snapshot& b) {
    EXPECT_EQ(a.version, b.version);
    EXPECT_EQ(a.txn, b.txn);
    EXPECT_EQ(a.metadata.at("schemaString"), b.metadata.at("schemaString"));
    EXPECT_EQ(a.partition_columns(), b.partition_columns());
    ASSERT_EQ(a.files.size(), b.files.size());
    for (auto& [p, x] : a.files) {
      ASSERT_TRUE(b.files.count(p)) << p;
      const DataFile& y = b.files.at(p);
      EXPECT_EQ(x.partition_values, y.partition_values) << p;
      EXPECT_EQ(x.size, y.size);
      EXPECT_EQ(x.records, y.records);
      EXPECT_EQ(json::parse(x.stats), json::parse(y.stats));
    }
    std::set<std::string> ta, tb;
    for (auto& [p, t] : a.tombstones) ta.insert(p);
    for (auto& [p, t] : b.tombstones)
      if (t.deletion_timestamp > 1000) tb.insert(p);
    EXPECT_EQ(ta, tb);
  };
  same(from_cp.value(), replayed.value());
  EXPECT_EQ(from_cp->files.size(), 130u - 13u);
  EXPECT_EQ(from_cp->tombstones.size(), 12u);
  EXPECT_EQ(replayed->tombstones.size(), 13u);

  // DuckDB reads the checkpoint with the protocol's column types.
  const std::string cp = (dir.path() / "t" / "_delta_log" / "00000000000000000120.checkpoint.parquet").string();
  auto types = orderlake::testing::duckdb_rows("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "
                                               "read_parquet('" + cp + "')) ORDER BY column_name");
  std::map<std::string, std::string> by_name;
  for (auto& r : types) by_name[r.at(0)] = r.at(1);
  EXPECT_THAT(by_name["add"], HasSubstr("partitionValues MAP(VARCHAR, VARCHAR)"));
  EXPECT_THAT(by_name["add"], HasSubstr("size BIGINT"));
  EXPECT_THAT(by_name["metaData"], HasSubstr("partitionColumns VARCHAR[]"));
  EXPECT_THAT(by_name["protocol"], HasSubstr("minReaderVersion INTEGER"));
  EXPECT_THAT(by_name["txn"], HasSubstr("appId VARCHAR"));
  EXPECT_EQ(orderlake::testing::duckdb_value("SELECT count(*) FROM read_parquet('" + cp + "') WHERE \"add\" IS NOT NULL"),
            std::to_string(121 - 12));

  // A damaged checkpoint: the commits still give the snapshot.
  write_file(cp, "PAR1 not really");
  auto fallback = log.Load(true);
  ASSERT_TRUE(fallback.ok()) << fallback.status().message();
  EXPECT_EQ(fallback->tombstones.size(), 13u);
  fallback->tombstones.erase("p=x1/d=2010-12-01/part-004.parquet");  // the expired one
  same(fallback.value(), replayed.value());
}

// A lake built by etl runs of generated lines (two days each); the expected rows alongside.
struct Lake : orderlake::testing::EtlLake {
  void AddBatch(int seed, int count) { EtlLake::AddBatch(seed, count, 2); }
};

// count, sum of an integer column and distinct ids: exact whatever the file layout.
std::string Answer(query::Engine& e) {
  auto r = e.Execute(
      "SELECT count(*) || '/' || sum(Quantity) || '/' || count(DISTINCT OrderID) || '/' || count(DISTINCT Country) "
      "FROM orders");
  if (!r.ok()) return "error: " + r.status().message();
  return r->rows.at(0).at(0).ToString();
}

TEST(Compaction, ConcurrentQueriesAnswerAsIfItNeverRan) {
  Lake l;
  for (int i = 1; i <= 12; ++i) l.AddBatch(i, 400);
  auto e = query::Engine::Open(l.lake());
  ASSERT_TRUE(e.ok()) << e.status().message();
  const std::string expected = Answer(*e.value());
  ASSERT_THAT(expected, ::testing::StartsWith(std::to_string(l.rows) + "/"));

  std::atomic<bool> done{false};
  std::atomic<int> queries{0};
  std::vector<std::string> wrong;
  std::thread reader([&] {
    auto re = query::Engine::Open(l.lake());
    ASSERT_TRUE(re.ok());
    while (!done.load()) {
      std::string got = Answer(*re.value());
      if (got != expected) wrong.push_back(got);
      ++queries;
    }
  });
  // Three rounds: small bins first (a tiny target), then bigger ones merging the merged
  // files again, with vacuum deleting each round's removed files at once afterwards.
  CompactOptions o;
  o.lake = l.lake().string();
  o.min_files = 2;
  o.retention_ms = 60 * 60 * 1000;
  uint64_t removed = 0;
  for (uint64_t target : {uint64_t{40} << 10, uint64_t{200} << 10, uint64_t{64} << 20}) {
    o.target_file_bytes = target;
    auto c = Compactor::Open(o);
    ASSERT_TRUE(c.ok()) << c.status().message();
    auto s = c.value()->RunOnce();
    ASSERT_TRUE(s.ok()) << s.status().message();
    removed += s->files_removed;
    EXPECT_EQ(s->files_vacuumed, 0u);  // within retention
    // Let the reader run a few queries on this version.
    const int q = queries.load();
    ASSERT_TRUE(orderlake::testing::wait_for([&] { return queries.load() >= q + 3; }, 60));
  }
  done.store(true);
  reader.join();
  EXPECT_THAT(wrong, ::testing::IsEmpty());
  EXPECT_GT(queries.load(), 9);
  EXPECT_GT(removed, 12u);
  EXPECT_EQ(Answer(*e.value()), expected);

  // Compaction works in tiers (compact.h): no partition has two files of one tier left
  // (min_files 2), so at most one file per size tier; removed files are still on disk
  // until vacuumed.
  auto store = store::OpenLocal(l.lake().string());
  DeltaLog log(store.get(), "orders");
  auto snap = log.Load();
  ASSERT_TRUE(snap.ok());
  std::map<std::string, std::set<int>> tiers;
  std::map<std::string, int> per_partition;
  for (auto& [p, f] : snap->files) {
    const std::string part = stdfs::path(p).parent_path().string();
    per_partition[part]++;
    EXPECT_TRUE(tiers[part].insert(CompactTier(f.size, o)).second) << p << ": two files of one tier";
  }
  for (auto& [p, n] : per_partition) EXPECT_LE(n, kMaxCompactTier + 1) << p;
  EXPECT_EQ(snap->records(), l.rows);
  for (auto& [p, t] : snap->tombstones)
    EXPECT_TRUE(stdfs::exists(l.lake() / "orders" / decode_path(p).value())) << p;

  // Vacuum with no retention: the removed files go, the answer stays.
  o.retention_ms = 0;
  auto c = Compactor::Open(o);
  ASSERT_TRUE(c.ok());
  auto s = c.value()->RunOnce();
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->files_removed, 0u);
  EXPECT_EQ(s->files_vacuumed, snap->tombstones.size());
  for (auto& [p, t] : snap->tombstones)
    EXPECT_FALSE(stdfs::exists(l.lake() / "orders" / decode_path(p).value())) << p;
  EXPECT_EQ(Answer(*e.value()), expected);

  // The etl goes on committing after compaction.
  l.AddBatch(99, 300);
  EXPECT_THAT(Answer(*e.value()), ::testing::StartsWith(std::to_string(l.rows) + "/"));
}

TEST(Compaction, SecondCompactorIsRefusedAndAnUnfinishedMergeIsRemoved) {
  Lake l;
  l.AddBatch(1, 200);
  CompactOptions o;
  o.lake = l.lake().string();
  {
    auto c1 = Compactor::Open(o);
    ASSERT_TRUE(c1.ok());
    auto c2 = Compactor::Open(o);
    ASSERT_FALSE(c2.ok());
    EXPECT_THAT(c2.status().message(), HasSubstr("compaction of table orders"));
  }
  // A merge that wrote its file and journal, then died before its commit.
  const stdfs::path orphan = l.lake() / "orders" / "Country=Germany" / "InvoiceDateOnly=2010-12-01" / "part-x-c000.parquet";
  write_file(orphan, "PAR1");
  write_file(l.lake() / "_orderlake" / "orders" / "pending" / "compact-x.json",
             json{{"id", "x"}, {"files", {"Country=Germany/InvoiceDateOnly=2010-12-01/part-x-c000.parquet"}}}.dump());
  auto c = Compactor::Open(o);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_FALSE(stdfs::exists(orphan));
  EXPECT_FALSE(stdfs::exists(l.lake() / "_orderlake" / "orders" / "pending" / "compact-x.json"));
  // The etl ignores compaction journals and keeps working.
  l.AddBatch(2, 200);
}

TEST(Compaction, WritesACheckpointThatTheQueryEngineStartsFrom) {
  Lake l;
  for (int i = 1; i <= 6; ++i) l.AddBatch(i, 200);
  CompactOptions o;
  o.lake = l.lake().string();
  o.checkpoint_interval = 4;
  o.min_files = 1000;  // no merge: only the checkpoint
  auto c = Compactor::Open(o);
  ASSERT_TRUE(c.ok());
  auto s = c.value()->RunOnce();
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->checkpoint, 5);
  EXPECT_TRUE(stdfs::exists(l.lake() / "orders" / "_delta_log" / "00000000000000000005.checkpoint.parquet"));
  auto again = c.value()->RunOnce();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->checkpoint, -1);  // not due yet
  l.AddBatch(7, 200);
  // The JSON commits before the checkpoint are not needed any more: a new engine starts
  // from the checkpoint (here the only way, with commits 0-4 gone).
  for (int v = 0; v <= 4; ++v) stdfs::remove(l.lake() / "orders" / "_delta_log" / fmt::format("{:020d}.json", v));
  auto e = query::Engine::Open(l.lake());
  ASSERT_TRUE(e.ok());
  EXPECT_THAT(Answer(*e.value()), ::testing::StartsWith(std::to_string(l.rows) + "/"));
}

TEST(Compaction, CommandLine) {
  Lake l;
  for (int i = 1; i <= 3; ++i) l.AddBatch(i, 200);
  auto r = run_orderlake({"compact", "--lake", l.lake().string(), "--min-files", "2", "--retention-minutes", "0",
                          "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_GE(j["files_removed"].get<int>(), 6);
  EXPECT_EQ(j["files_vacuumed"], j["files_removed"]);
  EXPECT_THAT(r.err, HasSubstr("merged into"));
  auto bad = run_orderlake({"compact", "--lake", (l.dir.path() / "nope").string()});
  EXPECT_EQ(bad.exit_code, 0) << bad.err;  // an empty lake has nothing to compact
  EXPECT_THAT(bad.err, HasSubstr("nothing to merge"));
}

}  // namespace
}  // namespace orderlake::table
