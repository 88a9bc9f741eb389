// Compaction and vacuum of a Delta table (the OPTIMIZE and VACUUM of Delta Lake).
//
// Compaction, in tiers: the small files of a partition (smaller than `small_file_bytes`)
// fall into tiers by size, each tier `min_files` times smaller than the one above; a tier
// with `min_files` files is merged (by DuckDB, reading and writing Parquet) into files of up
// to about `target_file_bytes`, which land about one tier up. So a partition holds fewer
// than min_files small files per tier (at most 13 tiers), however long its history, and a
// row is rewritten about once per tier. One commit removes the old files and
// adds the new ones (dataChange false: no row changes, so readers of any version see the
// same rows). Statistics are computed for the new files. A commit lost to another writer
// is retried on top of it unless that writer removed one of the files being merged.
//
// Checkpoints (maintenance.h): at the versions the compactor commits that are multiples of
// the table's delta.checkpointInterval, and as a backstop when the last checkpoint is
// --checkpoint-interval commits behind (default: twice the table's interval); each
// followed by log cleanup (delta.logRetentionDuration).
//
// Vacuum: files removed more than `retention_ms` ago, and no longer in the snapshot, are
// deleted, and their tombstones leave the snapshot. A reader holding an older snapshot
// keeps finding its files for that long. A pass costs with the tombstones of the retention.
//
// Crash safety: a merge writes its file into a staging directory, writes a journal
// (<lake>/_orderlake/<table>/pending/compact-<id>.json) naming it, publishes it, then
// commits; the next compactor deletes a journal's file that did not make it into the log.
// One compactor per table at a time (a lock file; a second one is told so).
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "core/metrics.h"
#include "core/metrics_server.h"
#include "core/status.h"

namespace orderlake::table {

// What `orderlake compact` (and the compactor beside `etl --follow` and in `up`) does; the
// CLI maps its flags here (MiB and minutes into bytes and milliseconds). Validate() is the
// one check for every caller; its errors name the flags.
struct CompactOptions {
  std::string lake;                                  // --lake: a path, file:// or s3:// URL
  std::string table = "orders";                      // --table
  size_t min_files = 8;                              // --min-files: 2 .. 2^20
  uint64_t small_file_bytes = uint64_t{32} << 20;    // --small-mb: 1 MiB .. 1 TiB
  uint64_t target_file_bytes = uint64_t{128} << 20;  // --target-mb: 1 MiB .. 1 TiB
  int64_t retention_ms = 10 * 60 * 1000;             // --retention-minutes: 0 .. 10^7 minutes
  bool vacuum = true;                                // --no-vacuum clears it
  // --checkpoint-interval: the compactor writes a checkpoint when this many commits were
  // made since the last one; -1 (default) = twice the table's delta.checkpointInterval
  // (the writers of those versions write them: this catches one they missed); 0 = the
  // compactor writes none and cleans nothing.
  int64_t checkpoint_interval = -1;
  double every_s = 0;          // --every: keep running, a pass this often (0 = one pass)
  std::string metrics_listen;  // --metrics-listen HOST:PORT with --every; empty = none

  Status Validate() const;
};

// The tier of a small file of `size` bytes: 0 for sizes from small_file_bytes / min_files
// up, each tier below min_files times smaller; the smallest files share tier
// kMaxCompactTier.
inline constexpr int kMaxCompactTier = 12;
int CompactTier(uint64_t size, const CompactOptions& o);

struct CompactSummary {
  int64_t version = -1;  // the table's version afterwards
  uint64_t partitions = 0, files_removed = 0, files_added = 0, rows = 0;
  uint64_t bytes_removed = 0, bytes_added = 0;
  uint64_t files_vacuumed = 0;
  int64_t checkpoint = -1;  // the version checkpointed by this run, -1 when none
  uint64_t log_files_deleted = 0;  // by the log cleanup after the checkpoint
  double seconds = 0;
  nlohmann::json to_json() const;
  std::string to_text() const;
};

class Compactor {
 public:
  // Validates the options, takes the table's compaction lock and (unless defer_load: then
  // in the first RunOnce, retried by every pass until it succeeds) loads the snapshot and
  // removes what an unfinished compaction left.
  static Result<std::unique_ptr<Compactor>> Open(const CompactOptions& options, bool defer_load = false);
  ~Compactor();
  Compactor(const Compactor&) = delete;
  Compactor& operator=(const Compactor&) = delete;

  // Brings the snapshot up to date, compacts what qualifies (one commit), then vacuums.
  Result<CompactSummary> RunOnce();

 private:
  struct Impl;
  explicit Compactor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The compactor's counters in continuous mode (`compact --every`, the compactor beside
// `etl --follow` and in `up`): passes, files merged (removed) and written, bytes, rows,
// vacuumed files, checkpoints, failures, the last pass's duration and the table version.
// Feed it from compact_loop's callbacks; Health() is failing while the last pass failed.
class CompactMetrics {
 public:
  CompactMetrics();
  CompactMetrics(const CompactMetrics&) = delete;
  CompactMetrics& operator=(const CompactMetrics&) = delete;
  void Pass(const CompactSummary& s);
  void Failed(const Status& st);
  bool failing(std::string* why = nullptr) const;
  HealthReport Health() const;
  const metrics::Registry& registry() const { return registry_; }

 private:
  metrics::Registry registry_;
  metrics::Counter &passes_, &files_removed_, &files_added_, &bytes_removed_, &bytes_added_, &rows_, &vacuumed_,
      &checkpoints_, &failures_;
  metrics::Gauge &last_pass_seconds_, &version_;
  mutable std::mutex mu_;
  std::string last_error_;
  bool failing_ = false;
};

// Runs a compactor every `every_s` seconds until *stop. Returns the error that kept it
// from starting (OK once stopped); an error of one run goes to on_error and the next run
// is tried. on_run sees every run's summary.
Status compact_loop(const CompactOptions& options, double every_s, const std::atomic<bool>& stop,
                  const std::function<void(const CompactSummary&)>& on_run,
                  const std::function<void(const Status&)>& on_error);

}  // namespace orderlake::table
