// The Glue job in batch mode: reads the raw objects under an input directory that earlier
// runs have not processed (a bookmark, as Glue's job bookmarks keep), applies SPEC §2 to
// every record, and publishes the curated rows as Parquet files in Hive partitions of the
// table (SPEC §3). Rejected records go to quarantine beside the table; a data-quality
// summary is returned and stored with the run.
//
// The table is a Delta Lake table (table/delta.h). A run publishes all of its rows or none:
// files are written to a staging directory (<lake>/_orderlake/<table>/staging/, or this
// machine's cache for a lake in S3), a journal naming them is made durable, they are moved
// (or uploaded) into their partitions, and then one commit to the log, put-if-absent, makes
// the batch visible: a txn action (application "orderlake-etl:<table>", batch number), an
// add per file with its statistics, and a commitInfo carrying the run's bookmark entries
// and summary. The bookmark is bookmark.json (rewritten every few commits) plus the
// bookmark entries of the commits after it, so it always advances with the commit; for an
// input in the Firehose layout it holds a high-water mark and the objects of a look-back
// window (etl/discovery.h), and a run lists only after the window's start. A run
// that died before its commit is rolled back by the next one (its files deleted, its input
// read again); one that died after it only needs its summary written. A crash never
// duplicates or loses rows. One etl at a time per table (a lock file says so to a second
// one); an etl that loses a commit to another writer of the same batch removes its files.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "core/wakeup.h"
#include "etl/record.h"
#include "etl/runs.h"

namespace orderlake::etl {

// One etl run's options; `orderlake etl` maps its flags here, and Validate() is the one
// check for the CLI, `up` and tests (run_etl refuses options that fail it). Errors name the
// flags: "--threads must be between 0 and 256, got 300".
struct EtlOptions {
  std::string input;             // --input: raw objects (a path, file:// or s3:// URL)
  std::string lake;              // --lake: lake root; the table lives in <lake>/<table>/
  std::string table = "orders";  // --table
  TransformConfig transform;     // --usd-rate, --high-threshold, --regions, --max-record-bytes
  int threads = 0;                        // --threads: parsing threads; 0 = one per core
  // --memory-mb: column buffers held at most (rows go out in row groups of up to 32 MiB well
  // before; small partitions wait while under half of it); a staged file holds half of it.
  size_t memory_budget = size_t{1} << 30;
  size_t chunk_bytes = size_t{4} << 20;    // input read unit
  size_t row_group_rows = 1 << 20;
  bool progress = false;  // --progress: progress lines on stderr every two seconds
  // Bookkeeping (etl/runs.h), done after a commit at most every minute (more often for
  // short retentions): run records older than --runs-retention are folded into
  // _orderlake/<table>/runs_rollup.json and deleted (the data-quality totals stay whole);
  // quarantine files older than --quarantine-retention are deleted (their counts stay).
  int64_t runs_retention_ms = kDefaultRunsRetentionMs;              // --runs-retention, default 1h
  int64_t quarantine_retention_ms = kDefaultQuarantineRetentionMs;  // --quarantine-retention, default 7d

  // Discovery (etl/discovery.h, etl/notifications.h). --discovery: "auto" reads the
  // input's event log (_orderlake/events/, written by `orderlake firehose`) when it has one
  // (notification), else lists only after the high-water mark when every key under the input
  // is in the Firehose layout (YYYY/MM/DD/HH/<name>) (incremental listing); either way with a
  // full listing every backfill interval; any other input is listed whole at every run.
  // "notification" and "listing" force one of the two; "full" lists the whole input at every run.
  std::string discovery = "auto";
  int64_t lookback_ms = 15 * 60'000;   // --lookback: objects keyed this long before the mark are still open
  int64_t backfill_ms = 60 * 60'000;   // --backfill-interval: time between full listings (0 = every run)
  bool full_listing = false;           // this run lists the whole input (follow_etl's first run sets it)
  // Raw retention passes at most this often in this process (0: after every run). A pass
  // lists the cursor's hour directory, up to an hour of deliveries: follow_etl sets a
  // quarter of the retention, at most a minute, so it is not paid at every run.
  int64_t raw_pass_every_ms = 0;
  // --raw-retention: raw objects in the Firehose layout older than this (by their time of
  // landing) and taken by a committed run are deleted after each run, with their empty hour
  // directories; 0 = keep everything (`up` passes 24h).
  int64_t raw_retention_ms = 0;

  static constexpr size_t kMinMemoryMb = 16, kMaxMemoryMb = size_t{1} << 20;
  Status Validate() const;
};

// Continuous mode (`etl --follow`): how often, the compactor beside it, and /metrics.
struct FollowOptions {
  int interval_ms = 1000;       // --interval-ms: time between runs, 10 .. 3600000
  double compact_every_s = 10;  // --compact-every: seconds between compactions, 0 (never) .. 86400
  std::string metrics_listen;   // --metrics-listen HOST:PORT; empty = no endpoint

  Status Validate() const;
};

struct RunSummary {
  std::string run_id;
  std::string input, lake, table;
  double seconds = 0;
  uint64_t objects = 0;          // objects read in this run
  uint64_t objects_skipped = 0;  // already processed (bookmark)
  uint64_t objects_changed = 0;  // processed before, changed since, not read again
  uint64_t objects_listed = 0;   // entries the run's listing returned
  std::string discovery;         // how the run found its objects: "notification" | "incremental" | "full"
  uint64_t events_read = 0;      // new events of the input's event log read (notification discovery)
  uint64_t raw_deleted = 0;      // raw objects deleted by the raw retention after the run
  uint64_t input_bytes = 0;      // raw bytes read
  uint64_t records = 0;          // records read = kept + filtered + quarantined
  uint64_t empty_lines = 0;      // not records
  uint64_t kept = 0;
  std::map<std::string, uint64_t> filtered;     // by reason
  std::map<std::string, uint64_t> quarantined;  // by reason
  uint64_t files = 0, partitions = 0;
  int64_t version = -1;         // the table's Delta log version after the run (-1: no table yet)
  std::string quarantine_file;  // relative to the lake, empty when nothing was quarantined
  std::vector<std::string> warnings;

  uint64_t filtered_total() const;
  uint64_t quarantined_total() const;
  nlohmann::json to_json() const;
  std::string to_text() const;  // the human data-quality report
};

// Runs one batch. Fails (with nothing published) when the options do not validate, the
// input is missing or unreadable as a whole, or the lake cannot be written; bad records
// never fail a run.
Result<RunSummary> run_etl(const EtlOptions& options);

// Continuous mode: runs a batch, then waits `interval_ms` (or, with a `wakeup`, until it is
// notified, whichever comes first: under `orderlake up` the firehose notifies it when it
// delivers an object, and the interval is only the fallback) and runs again, until *stop
// is set (checked between runs and while waiting). Calls on_run after each run that read
// something (on_nothing_new, when given, after each run that found nothing new). A failing
// run is reported through on_error and retried after interval_ms (wake-ups do not hurry a
// retry).
void follow_etl(const EtlOptions& options, int interval_ms, const std::atomic<bool>& stop,
                const std::function<void(const RunSummary&)>& on_run,
                const std::function<void(const Status&)>& on_error, Wakeup* wakeup = nullptr,
                const std::function<void(const RunSummary&)>& on_nothing_new = {});

// The local directory of a location given as a plain path or file:// URL; an error for
// other schemes.
Result<std::string> local_path_of(const std::string& location, std::string_view what);

}  // namespace orderlake::etl
