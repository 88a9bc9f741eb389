// Compaction in tiers (issue 13, item 5): a partition that receives many micro-batch files
// keeps few live files however long its history, each row is rewritten about once per tier
// (not once per pass), the rows never change, and vacuum's tombstones stay bounded.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "store/object_store.h"
#include "table/compact.h"
#include "table/delta.h"
#include "test_util.h"

namespace orderlake::table {
namespace {
namespace stdfs = std::filesystem;
using json = nlohmann::json;
using orderlake::testing::duckdb_value;
using orderlake::testing::TempDir;

// One micro-batch: a Parquet file of `rows` rows (a BIGINT, b DOUBLE) in partition p=x,
// committed as an add.
uint64_t add_batch(DeltaLog& log, Snapshot* w, const stdfs::path& lake, int n, int rows) {
  const std::string rel = fmt::format("p=x/part-{:05d}.parquet", n);
  const stdfs::path file = lake / "orders" / rel;
  stdfs::create_directories(file.parent_path());
  duckdb_value(fmt::format("COPY (SELECT ({0} * 100000 + range)::BIGINT AS a, random() AS b FROM range({1})) TO '{2}' "
                           "(FORMAT parquet)",
                           n, rows, file.string()));
  DataFile f;
  f.path = rel;
  f.partition_values = {{"p", "x"}};
  f.size = stdfs::file_size(file);
  f.records = static_cast<uint64_t>(rows);
  f.stats = json{{"numRecords", rows}}.dump();
  auto first = [] {
    return std::vector<json>{protocol_action(),
                             metadata_action({{"a", "long"}, {"b", "double"}, {"p", "string"}}, {"p"})};
  };
  EXPECT_TRUE(log.Commit(w, {add_action(f, true)}, {}, first).ok());
  return f.size;
}

TEST(CompactionTiers, LiveFilesPerPartitionStayBoundedAndRowsUnchanged) {
  TempDir dir;
  const stdfs::path lake = dir.path() / "lake";
  auto store = store::OpenLocal(lake.string());
  DeltaLog log(store.get(), "orders");
  Snapshot w;
  CompactOptions o;
  o.lake = lake.string();
  o.min_files = 4;                         // the fan-in: 4 files of a tier make one of the next
  o.small_file_bytes = uint64_t{1} << 20;  // files under 1 MiB are small
  o.target_file_bytes = uint64_t{1} << 20;
  o.retention_ms = 0;  // vacuum at once: tombstones must not pile up either
  o.checkpoint_interval = 0;
  auto c = Compactor::Open(o);
  ASSERT_TRUE(c.ok()) << c.status().message();

  const int kBatches = 240, kRows = 300;
  uint64_t added_bytes = 0, rewritten_bytes = 0;
  size_t most_live = 0;
  for (int n = 0; n < kBatches; ++n) {
    added_bytes += add_batch(log, &w, lake, n, kRows);
    if (n % 3 != 2) continue;  // a compaction pass every 3 micro-batches
    auto s = c.value()->RunOnce();
    ASSERT_TRUE(s.ok()) << s.status().message();
    rewritten_bytes += s->bytes_removed;
    EXPECT_EQ(s->files_vacuumed, s->files_removed);
    ASSERT_TRUE(log.Update(&w).ok());
    most_live = std::max(most_live, w.files.size());
  }
  // The bound: fewer than min_files files in each tier the sizes span. A micro-batch file
  // here is a few KiB, so 1 MiB is 3 to 4 tiers of 4x above it: at most 3 files in each
  // of 5 tiers, and the 2 micro-batches that arrive between passes.
  EXPECT_LE(most_live, 5u * 3u + 2u);
  EXPECT_LT(w.files.size(), 12u) << "240 micro-batches";
  // Rows are unchanged: the table holds every row of every batch once.
  EXPECT_EQ(w.records(), static_cast<uint64_t>(kBatches * kRows));
  EXPECT_EQ(duckdb_value(fmt::format("SELECT count(*) || '/' || count(DISTINCT a) FROM read_parquet('{}/orders/p=x/*.parquet')",
                                     lake.string())),
            fmt::format("{0}/{0}", kBatches * kRows));
  // A row is rewritten about once per tier, not once per pass (merging everything small in
  // each pass would rewrite the partition's data ~80 times).
  EXPECT_LT(rewritten_bytes, 6 * added_bytes);

  // Vacuum's tombstones leave the snapshot with their files: a checkpoint now holds the
  // live files and no remove of the ~230 files merged away.
  c.value().reset();
  o.checkpoint_interval = 1;
  auto c2 = Compactor::Open(o);
  ASSERT_TRUE(c2.ok()) << c2.status().message();
  auto s = c2.value()->RunOnce();
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_EQ(s->checkpoint, s->version);  // (this pass may merge a tier the last one filled)
  ASSERT_TRUE(log.Update(&w).ok());
  EXPECT_EQ(w.records(), static_cast<uint64_t>(kBatches * kRows));
  const std::string cp = (lake / "orders" / "_delta_log" / fmt::format("{:020d}.checkpoint.parquet", w.version)).string();
  EXPECT_EQ(duckdb_value(fmt::format("SELECT count(\"add\") || '/' || count(remove) FROM read_parquet('{}')", cp)),
            fmt::format("{}/0", w.files.size()));
}

}  // namespace
}  // namespace orderlake::table
