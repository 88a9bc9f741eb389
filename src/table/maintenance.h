// Keeping a Delta log short: checkpoints every delta.checkpointInterval commits, written by
// whichever writer made the version, and log cleanup after each checkpoint (Delta's
// metadata cleanup): commits and checkpoints older than delta.logRetentionDuration and
// before the newest checkpoint are deleted, oldest first.
//
// Promises:
// - Cleanup never deletes the newest checkpoint, a commit at or after it, or a commit after
//   the etl's bookmark (`_orderlake/<table>/bookmark.json`'s delta_version: the etl reads
//   the commits after it for its bookmark entries); a bookmark.json without delta_version
//   stops cleanup altogether. A missing bookmark.json is no constraint.
// - The log's commits are always a contiguous range (deleted oldest first, the checkpoint
//   file of a version before its commit), also across a kill -9 at any point; cleanup finds
//   the oldest commit by a binary search of keys, and deletes at most kMaxDeletesPerPass
//   files per pass, so a pass costs with what it deletes, never with the history.
// - Only the newest checkpoint is kept (the writer's previous one is deleted after it;
//   there is no time travel), so the log's checkpoints cost one snapshot of disk.
// - A checkpoint costs with the snapshot's live files and the tombstones younger than
//   delta.deletedFileRetentionDuration, not with the history.
#pragma once
#include <cstdint>
#include <string>

#include "core/status.h"
#include "store/object_store.h"
#include "table/delta.h"

namespace orderlake::table {

struct LogMaintenance {
  int64_t checkpoint = -1;         // the version checkpointed by this pass, -1 when none
  uint64_t log_files_deleted = 0;  // commits and checkpoints deleted by cleanup
  int64_t oldest_version = -1;     // the oldest commit left (-1: not looked up)
};

inline constexpr uint64_t kMaxDeletesPerPass = 10000;

// Deletes what the log no longer needs, given its newest checkpoint `checkpoint` and the
// retention; `now_ms` is the time commits' ages are measured at (their files' mtime).
Result<LogMaintenance> CleanupLog(DeltaLog& log, int64_t checkpoint, int64_t retention_ms, int64_t now_ms);

// For a writer holding the whole snapshot `s` (the compactor), after it committed
// `committed`: a checkpoint of `s` when `committed` is a multiple of the table's
// delta.checkpointInterval, or when the last checkpoint (`*last_checkpoint`, -2 = not
// looked up) is `backstop` or more commits behind (0 = no backstop); then cleanup.
// `min_tombstone_ms` keeps tombstones in the checkpoint at least that long (vacuum's).
Result<LogMaintenance> MaybeCheckpoint(DeltaLog& log, const Snapshot& s, int64_t committed,
                                       int64_t* last_checkpoint, int64_t backstop = 0,
                                       int64_t min_tombstone_ms = 0);

// For a writer that does not hold the whole snapshot (the etl, after each commit): this
// process keeps one whole snapshot per table (from the newest checkpoint, then the new
// commits by key), and checkpoints and cleans like MaybeCheckpoint. Thread-safe.
Result<LogMaintenance> AfterCommit(store::ObjectStore* store, const std::string& table, int64_t committed);

}  // namespace orderlake::table
