// Compaction and vacuum of a Delta table (the OPTIMIZE and VACUUM of Delta Lake).
//
// Compaction: in each partition with at least `min_files` small files (smaller than
// `small_file_bytes`), the small files are merged (by DuckDB, reading and writing Parquet)
// into files of up to about `target_file_bytes`, and one commit removes the old files and
// adds the new ones (dataChange false: no row changes, so readers of any version see the
// same rows). Statistics are computed for the new files. A commit lost to another writer
// is retried on top of it unless that writer removed one of the files being merged.
//
// Checkpoints: every checkpoint_interval commits the compactor writes a checkpoint of the
// log (it holds the whole snapshot anyway), so readers start from it.
//
// Vacuum: files removed more than `retention_ms` ago, and no longer in the snapshot, are
// deleted. A reader holding an older snapshot keeps finding its files for that long.
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
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace orderlake::table {

struct CompactOptions {
  std::string lake;  // a path, file:// or s3:// URL
  std::string table = "orders";
  size_t min_files = 8;
  uint64_t small_file_bytes = uint64_t{32} << 20;
  uint64_t target_file_bytes = uint64_t{128} << 20;
  int64_t retention_ms = 10 * 60 * 1000;
  bool vacuum = true;
  // A checkpoint of the log is written when this many commits were made since the last
  // one (0 = never).
  int64_t checkpoint_interval = 100;
};

struct CompactSummary {
  int64_t version = -1;  // the table's version afterwards
  uint64_t partitions = 0, files_removed = 0, files_added = 0, rows = 0;
  uint64_t bytes_removed = 0, bytes_added = 0;
  uint64_t files_vacuumed = 0;
  int64_t checkpoint = -1;  // the version checkpointed by this run, -1 when none
  double seconds = 0;
  nlohmann::json to_json() const;
  std::string to_text() const;
};

class Compactor {
 public:
  static Result<std::unique_ptr<Compactor>> Open(const CompactOptions& options);
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

// Runs a compactor every `every_s` seconds until *stop. Returns the error that kept it
// from starting (OK once stopped); an error of one run goes to on_error and the next run
// is tried. on_run sees every run's summary.
Status compact_loop(const CompactOptions& options, double every_s, const std::atomic<bool>& stop,
                  const std::function<void(const CompactSummary&)>& on_run,
                  const std::function<void(const Status&)>& on_error);

}  // namespace orderlake::table
