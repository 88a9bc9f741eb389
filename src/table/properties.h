// The Delta table properties orderlake honours (metaData.configuration), with Delta's
// defaults when the table does not set them:
//   delta.checkpointInterval            a checkpoint every N commits (default 10)
//   delta.logRetentionDuration          how long commits and checkpoints are kept
//                                       (default "interval 30 days")
//   delta.deletedFileRetentionDuration  how long checkpoints keep tombstones (removed
//                                       files, for vacuum); default "interval 1 hours" here
//                                       (Delta's is a week: see TableProperties)
// Values are validated when set: an unknown `delta.*` key is refused, a value that does not
// parse is refused with the expected form; other keys are kept as user properties.
// SetTableProperties commits a metaData action with the merged configuration (Athena's
// ALTER TABLE … SET TBLPROPERTIES, and `up --log-retention`).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "store/object_store.h"

namespace orderlake::table {

struct Snapshot;

inline constexpr const char* kCheckpointInterval = "delta.checkpointInterval";
inline constexpr const char* kLogRetention = "delta.logRetentionDuration";
inline constexpr const char* kDeletedFileRetention = "delta.deletedFileRetentionDuration";

// The properties of one snapshot, defaults filled in.
struct TableProperties {
  int64_t checkpoint_interval = 10;                     // Delta's default
  int64_t log_retention_ms = 30LL * 24 * 3600 * 1000;  // Delta's default: 30 days
  // Delta's default is 1 week, for other engines' VACUUM; our checkpoints are written every
  // few commits and would carry a week of compaction's tombstones, so orderlake keeps them
  // for an hour (6x the compactor's default vacuum retention) unless the table says more.
  int64_t deleted_file_retention_ms = 3600LL * 1000;

  // From a snapshot's metaData.configuration; a value that does not parse keeps the
  // default (with a warning): a table written by another engine stays readable.
  static TableProperties Of(const Snapshot& s);
};

// Delta's CalendarInterval: "interval 30 days", "interval 1 hours", "interval 2 weeks 3
// days" (units: milliseconds, seconds, minutes, hours, days, weeks; singular or plural);
// the leading "interval" may be left out. Months and years are refused (not a fixed length).
Result<int64_t> ParseDeltaInterval(std::string_view text, std::string_view key);
// The interval of `ms` as Delta writes it ("interval 1 hours", "interval 90 seconds").
std::string FormatDeltaInterval(int64_t ms);

// Checks one property to be set: known delta.* keys parse, unknown delta.* keys are refused,
// others (user properties) are accepted. Returns the value to store (unchanged).
Status ValidateTableProperty(std::string_view key, std::string_view value);

// Sets `props` on the table `table` of `store` (a Delta table that exists): one commit with
// a metaData action whose configuration is the old one with `props` merged in (every value
// validated first); no commit when nothing changes. Returns the table's version afterwards.
Result<int64_t> SetTableProperties(store::ObjectStore* store, const std::string& table,
                                   const std::map<std::string, std::string>& props);

// The table's configuration (user and delta.* properties as set; defaults not added).
Result<std::map<std::string, std::string>> GetTableProperties(store::ObjectStore* store, const std::string& table);

}  // namespace orderlake::table
