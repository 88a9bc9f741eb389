// The etl's bookkeeping beside the table, kept bounded by retentions:
//
// - Run records: every run that commits writes <lake>/_orderlake/<table>/runs/<run-id>.json
//   (its data-quality summary). Records older than the runs retention are folded into one
//   roll-up, <lake>/_orderlake/<table>/runs_rollup.json (totals since the table began:
//   counts, filtered and quarantined by reason, runs, first and last run, and the same per
//   UTC day for the last kRollupDays days), and then deleted. The roll-up names the highest
//   run id it includes (`folded_through`); it is written atomically before any record it
//   folded is deleted, and every reader ignores a record at or below that id, so a crash
//   between the two neither loses a run nor counts one twice (the next pass deletes the
//   leftovers). Run ids sort by their start time (clock::time_ordered_id), and a pass only
//   folds records of whole seconds before now - retention, under the table's etl lock and
//   after the etl's recovery wrote any missing record, so no record can appear later below
//   `folded_through`.
// - Quarantine files: a run writes <lake>/_quarantine/<table>/<run-id>.jsonl. Once older
//   than the runs retention, a run's file is folded into its UTC hour's part,
//   <yyyymmddThh>0000Z-hour-<nnnn>.jsonl (the same lines, each with the run's id as its first
//   field "run_id"; a part holds up to quarantine_part_bytes, then the next one starts), so
//   a busy pipeline keeps a few files per hour, not one per run. A part is written before
//   the files it holds are deleted; a file at or below the last part's last run id is only
//   deleted, so a crash in between neither loses nor repeats a line. Files and parts older
//   than the quarantine retention (a part: its hour's end) are deleted; their counts stay
//   in the run records and the roll-up.
//
// A pass does at most kMaxPerPass reads and kMaxPerPass deletions, so its cost is bounded by
// the retention (what it lists) and a constant (what it reads), never by the history.
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "store/object_store.h"

namespace orderlake::etl {

inline constexpr int64_t kDefaultRunsRetentionMs = int64_t{3600} * 1000;             // 1h
inline constexpr int64_t kDefaultQuarantineRetentionMs = int64_t{7} * 86400 * 1000;  // 7d
inline constexpr size_t kMaxPerPass = 5000;
inline constexpr size_t kRollupDays = 90;

// Data-quality counts summed over runs (a run record's fields of the same names).
struct RunTotals {
  uint64_t runs = 0, records = 0, kept = 0, empty_lines = 0, objects = 0, input_bytes = 0, files = 0;
  uint64_t quarantine_files = 0;  // runs that wrote a quarantine file
  std::map<std::string, uint64_t> filtered, quarantined;  // by reason
  std::string first_run, last_run;

  uint64_t filtered_total() const;
  uint64_t quarantined_total() const;
  // Adds one run record (a RunSummary's JSON); an error when it is not one.
  Status Add(const nlohmann::json& run, const std::string& where);
  void Add(const RunTotals& other);
  nlohmann::json ToJson() const;
  static Result<RunTotals> FromJson(const nlohmann::json& j, const std::string& where);
};

// The key of a run's record (relative to the lake) and its writing (atomic Put).
std::string RunRecordKey(const std::string& table, const std::string& run_id);
Status WriteRunRecord(store::ObjectStore* lake, const std::string& table, const std::string& run_id,
                      const nlohmann::json& summary);
// The start of a run from its id ("20261125T104749Z-3d4d5d"), Unix ms; -1 when the id is
// not one clock::time_ordered_id makes.
int64_t RunIdTimeMs(const std::string& run_id);

struct BookkeepingOptions {
  int64_t runs_retention_ms = kDefaultRunsRetentionMs;
  int64_t quarantine_retention_ms = kDefaultQuarantineRetentionMs;
  size_t quarantine_part_bytes = size_t{16} << 20;  // an hour's quarantine part grows to this
};

struct BookkeepingResult {
  uint64_t runs_folded = 0;        // run records added to the roll-up by this pass
  uint64_t records_deleted = 0;    // run records deleted (folded by this pass or an earlier one)
  uint64_t quarantine_deleted = 0;  // quarantine files and parts deleted (past the retention)
  uint64_t quarantine_folded = 0;   // run quarantine files folded into hour parts
  uint64_t quarantine_parts_written = 0;
  bool more = false;               // the pass stopped at kMaxPerPass: work is left for the next
};

// One bookkeeping pass over `table` at time now_ms (Unix ms). The caller holds the table's
// etl lock (one etl at a time) and has recovered any unfinished run.
Result<BookkeepingResult> KeepBooks(store::ObjectStore* lake, const std::string& table,
                                    const BookkeepingOptions& options, int64_t now_ms);

// The roll-up (empty totals and folded_through "" when there is none yet).
struct Rollup {
  std::string folded_through;
  RunTotals totals;
  std::map<std::string, RunTotals> days;  // by UTC date "YYYY-MM-DD" of the run's start
};
Result<Rollup> ReadRollup(store::ObjectStore* lake, const std::string& table);

// Totals over every run the table ever committed: the roll-up plus the run records after it.
// A reader remembers the records it read (at most the runs retention's worth), so a call
// reads the roll-up, lists the run records and reads only the ones it has not seen: its cost
// is bounded by the retention, not by the history. Thread-safe.
class RunTotalsReader {
 public:
  explicit RunTotalsReader(std::string table) : table_(std::move(table)) {}
  Result<RunTotals> Totals(store::ObjectStore* lake);

 private:
  std::mutex mu_;
  std::string table_;
  std::map<std::string, RunTotals> recent_;  // by key: the run records after the roll-up
};

// The same once, without a reader kept.
Result<RunTotals> TotalsOfAllRuns(store::ObjectStore* lake, const std::string& table);

// What the dashboard's /api/quality answers (web/API.md): {"runs", "records", "kept",
// "empty_lines", "filtered_total", "quarantined_total", "filtered", "quarantined", "scope"}.
nlohmann::json QualityJson(const RunTotals& t);
Result<nlohmann::json> QualityTotals(store::ObjectStore* lake, const std::string& table);

}  // namespace orderlake::etl
