// The curated table as a Delta Lake table: a transaction log `<table>/_delta_log/` of
// JSON commits beside the Hive-partitioned Parquet files of SPEC §3, so Spark, Trino,
// Athena and DuckDB's delta reader read the same table our own readers do.
//
// Promises:
// - Commits are written put-if-absent (`<table>/_delta_log/%020d.json`) through the object
//   store, so two writers never both win a version; a losing writer re-reads the commits
//   it missed, asks its conflict check whether it may go on, and retries at the next
//   version.
// - Protocol (reader 1, writer 2, no table features) and metaData (schema, partition
//   columns) are written by the first commit. Paths in add/remove actions are relative to
//   the table root and percent-encoded, partition values are strings (null for a missing
//   value), and every add carries statistics (numRecords, minValues, maxValues,
//   nullCount).
// - A Snapshot is the table at one version: the live files (adds not removed), the
//   tombstones (removes, for vacuum), the latest txn version per application and the
//   metadata. Update() applies only the commits after the snapshot's version, so a
//   long-running reader pays for what is new.
// - Readers list and read only committed versions: a file being written, or one a
//   compaction replaced, is never in a snapshot.
// - Readers never list or read the whole log: Load() starts from _last_checkpoint's
//   checkpoint and lists only after it (S3's start-after); Update() reads the commits after
//   the snapshot's version by key in a local log (one start-after listing in S3). Load()
//   falls back to the commits when a checkpoint cannot be read.
// - Checkpoints are written by every writer (maintenance.h: every delta.checkpointInterval
//   commits) and the log is cleaned after them (commits older than
//   delta.logRetentionDuration, before the newest checkpoint). A snapshot whose next
//   commits were cleaned away is brought up to date from the newest checkpoint; a writer
//   behind the cleanup catches up before it commits, so a removed version is never
//   written again.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "store/object_store.h"

namespace orderlake::table {

// A data file of the table, as an add action describes it.
struct DataFile {
  std::string path;  // relative to the table root, percent-encoded (as in the log)
  std::vector<std::pair<std::string, std::optional<std::string>>> partition_values;
  uint64_t size = 0;
  int64_t modification_time = 0;  // ms since the epoch
  uint64_t records = 0;           // stats.numRecords
  std::string stats;              // the stats JSON string
  int64_t added_in = 0;           // the version that added it
};

struct Tombstone {
  std::string path;
  int64_t deletion_timestamp = 0;  // ms since the epoch
  int64_t removed_in = 0;
};

struct Snapshot {
  int64_t version = -1;  // -1: no commit yet (the table does not exist)
  std::map<std::string, DataFile> files;       // by path
  std::map<std::string, Tombstone> tombstones;  // removed files, by path
  std::map<std::string, int64_t> txn;           // appId -> latest version
  nlohmann::json metadata, protocol;
  int64_t last_commit_ms = 0;  // commitInfo.timestamp (or the file's time) of `version`

  uint64_t records() const;
  // Forgets tombstones of files removed before `cutoff_ms` (their files are vacuumed, or
  // past the table's delta.deletedFileRetentionDuration); returns how many.
  size_t PruneTombstones(int64_t cutoff_ms);
  int64_t txn_version(const std::string& app_id) const;  // -1 when none
  // The partition columns of the metadata.
  std::vector<std::string> partition_columns() const;
};

// A commit as read back: its version and its text (one JSON action per line).
struct LogCommit {
  int64_t version = 0;
  std::string text;
  // Every action, parsed (for callers that need them all; Apply reads the text itself).
  std::vector<nlohmann::json> actions() const;
  // The commitInfo action's object, or null when the commit has none.
  nlohmann::json commit_info() const;
};

// The key of a commit file, relative to the table root.
std::string commit_key(int64_t version);
// Percent-encodes a relative path for the log ('/' kept), and back.
std::string encode_path(std::string_view path);
Result<std::string> decode_path(std::string_view path);

// Actions.
nlohmann::json protocol_action();
// `schema` is (name, Delta type) in order: string, integer, long, double, date, ...
nlohmann::json metadata_action(const std::vector<std::pair<std::string, std::string>>& schema,
                               const std::vector<std::string>& partition_columns);
nlohmann::json add_action(const DataFile& f, bool data_change);
nlohmann::json remove_action(const DataFile& f, int64_t deletion_timestamp, bool data_change);
nlohmann::json txn_action(const std::string& app_id, int64_t version);
nlohmann::json commit_info_action(std::string_view operation, const nlohmann::json& parameters,
                                  const nlohmann::json& extra = nlohmann::json::object());

class DeltaLog {
 public:
  // `table` is the table root's key prefix inside `store` ("orders"), without a '/';
  // empty when the store's root is the table.
  DeltaLog(store::ObjectStore* store, std::string table) : store_(store), table_(std::move(table)) {}

  // Reads the commits after s->version and applies them; `visit` (optional) sees each one
  // first. A missing log is an empty table (version -1).
  Status Update(Snapshot* s, const std::function<Status(const LogCommit&)>& visit = {});
  // The newest snapshot: from the last checkpoint (when there is one and use_checkpoint)
  // plus the commits after it, else from every commit.
  Result<Snapshot> Load(bool use_checkpoint = true);
  // Brings `s` to the newest version: Load() for an empty snapshot (from the checkpoint),
  // else Update().
  Status Refresh(Snapshot* s);

  // Writes a checkpoint of `s` (<version>.checkpoint.parquet: one row per action, columns
  // txn, add, remove, metaData, protocol, as the protocol's classic checkpoint has them),
  // then _last_checkpoint. Tombstones younger than `tombstone_retention_ms` are kept in it.
  Status WriteCheckpoint(const Snapshot& s, int64_t tombstone_retention_ms = 7LL * 24 * 3600 * 1000);
  // The version of the last checkpoint, -1 when there is none.
  Result<int64_t> LastCheckpoint();

  // Called when another writer committed first: the commits it missed (already applied to
  // the snapshot). An error aborts the commit with that error.
  using ConflictCheck = std::function<Status(const std::vector<LogCommit>& missed, const Snapshot& now)>;

  // Commits `actions` at s->version + 1 (with protocol and metaData first when the table
  // is new: `make_first` gives them), retrying after conflicts up to `max_attempts`
  // times. On success the snapshot is at the new version, and the version is returned.
  Result<int64_t> Commit(Snapshot* s, const std::vector<nlohmann::json>& actions, const ConflictCheck& check,
                         const std::function<std::vector<nlohmann::json>()>& make_first = {},
                         int max_attempts = 50);

  store::ObjectStore* store() const { return store_; }
  const std::string& table() const { return table_; }
  // The store key of `rel` (relative to the table root); the table may be the store's root.
  std::string key(std::string_view rel) const { return table_.empty() ? std::string(rel) : table_ + "/" + std::string(rel); }
  std::string log_prefix() const { return key("_delta_log/"); }

 private:
  Status Apply(Snapshot* s, const LogCommit& c, bool from_checkpoint = false);
  // The commits after `version`: by key in a local log when `by_key` (no listing of the
  // directory), else by one listing after it.
  Result<std::vector<LogCommit>> ReadAfter(int64_t version, bool by_key = false);
  Status Advance(Snapshot* s, const std::function<Status(const LogCommit&)>& visit, bool by_key);
  Status ReadCheckpoint(int64_t version, Snapshot* s);  // checkpoint.cpp
  // Whether log cleanup removed the commits after `version` (`next`: what ReadAfter found).
  Result<bool> CleanedPast(int64_t version, const std::vector<LogCommit>& next);

  store::ObjectStore* store_;
  std::string table_;
};

// The version a commit key names ("…/00000000000000000012.json" -> 12); -1 for other keys.
int64_t version_of_key(std::string_view key);
// The version any file of the log is named by: a commit or a checkpoint
// ("…/00000000000000000012.checkpoint.parquet" -> 12); -1 for _last_checkpoint and others.
int64_t version_of_log_file(std::string_view key);

}  // namespace orderlake::table
