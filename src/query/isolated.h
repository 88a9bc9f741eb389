// Running a user's SQL statement in isolation, with hard bounds (the dashboard's console,
// and the coming Athena API).
//
// Design: every statement runs in a child process, `orderlake query --isolated-worker`
// started by posix_spawn from the executable given in IsolatedOptions (the running one by
// default), which opens its own read-only Engine over the lake and answers one statement.
// A thread cannot be stopped inside one DuckDB function call (repeat('x', 2000000000) never
// looks at the interrupt flag), and DuckDB's memory_limit does not cover every allocation
// (string heaps), so only a process gives bounds that hold for every statement:
//   - time: the child is killed (SIGKILL) at `timeout`, whatever it is doing;
//   - memory: the child limits its own data segment (RLIMIT_DATA, which counts the heap
//     and the anonymous mappings libduckdb's allocator uses; RLIMIT_AS would also count
//     reserved address space and fail at start) to memory_mb plus a fixed allowance for the
//     program itself, sets DuckDB's memory_limit below it (so most statements fail with
//     DuckDB's own clean error), and the parent also kills it when its resident size
//     passes memory_mb (checked every 20 ms);
//   - CPU: the child lowers its priority (nice) and uses `threads` DuckDB threads, so the
//     visuals served by the parent keep the CPU;
//   - result: at most max_rows rows and max_result_bytes bytes come back (more is cut off,
//     reported as truncated); the parent never reads more than that from the pipe;
//   - concurrency: at most `workers` children at a time (Run waits for a slot, up to the
//     timeout); per-client limits are the caller's (see dashboard/console.h).
// A fresh process per statement costs ~50 ms of start-up, shares nothing with the parent
// or with other statements, and can always be killed; nothing is left behind.
// Errors say which bound was hit ("the statement used more than 1024 MB and was stopped").
#pragma once
#include <chrono>
#include <functional>
#include <cstddef>
#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace orderlake::query {

// The bounds of one statement, and how many run at once. Defaults in one place.
struct IsolatedOptions {
  std::filesystem::path lake;                  // the lake directory (must exist unless lake_optional)
  std::filesystem::path executable;            // the orderlake binary; "" = the running one (/proc/self/exe)
  std::chrono::seconds timeout{30};            // killed after this (1-3600 s)
  size_t memory_mb = 1024;                     // per statement (64 MB to 1 TB)
  int workers = 4;                             // statements at once (1-64)
  int threads = 1;                             // DuckDB threads per statement (1-64)
  int nice = 10;                               // priority of the statements (0-19; higher is nicer)
  size_t max_result_bytes = 128 << 20;         // bytes of rows a result holds at most (at least 1 KB)
  // The Data Catalog file whose tables are queryable and which Athena DDL changes (the
  // Athena API's); empty: none, statements that would change a catalog are refused (the console).
  std::filesystem::path catalog;
  // The lake need not exist (the catalog alone serves; `orders` is then absent).
  bool lake_optional = false;
  // The data directory's buckets, bucket -> directory (store::Buckets::LocalDirs()): s3://
  // locations of them are read there. With buckets_only, locations outside them are
  // refused (see EngineOptions).
  std::map<std::string, std::filesystem::path> local_buckets;
  bool buckets_only = false;
  bool remote_s3 = false;  // with buckets_only: s3:// of other buckets too (a remote S3 endpoint)

  // Each field in its range; the flag names are the dashboard's (--sql-timeout, ...).
  Status Validate() const;
};

// How Run's error begins when no worker became free within the timeout (an HTTP 503).
inline constexpr std::string_view kBusyPrefix = "the SQL console is busy";

// One statement's answer. JSON: columns [{name, type, numeric}] and rows [[...]] with
// numbers as numbers; CSV: csv (RFC 4180 with a header line).
struct IsolatedAnswer {
  nlohmann::json columns = nlohmann::json::array();
  nlohmann::json rows = nlohmann::json::array();
  std::string csv;
  size_t rows_returned = 0;
  bool truncated = false;  // max_rows or max_result_bytes cut it short
  double seconds = 0;
  std::vector<std::string> notices;
  int64_t table_version = -1;  // the Delta version of the lake's table the statement read
};

// How Run's error begins when the statement was cancelled (IsolatedRun::cancel).
inline constexpr std::string_view kCancelledPrefix = "the statement was cancelled";

// One statement's request beyond the SQL.
struct IsolatedRun {
  size_t max_rows = 1000;
  bool csv = false;                 // the rows as CSV text (IsolatedAnswer::csv), not JSON
  // With csv: Athena's result formats instead (format.h MakeAthenaWriter): the quoted .csv,
  // or with athena_text the .txt of DDL.
  bool athena = false;
  bool athena_text = false;
  // With csv: the text goes to this file (created or truncated), never into memory; its
  // size is bounded by max_result_bytes (the result is then truncated).
  std::filesystem::path csv_file;
  std::string database = "default";  // of unqualified table names (lower case)
  // The buckets now (IsolatedOptions::local_buckets when null): buckets made since count.
  const std::map<std::string, std::filesystem::path>* local_buckets = nullptr;
  // When it becomes true the worker is killed and Run fails with kCancelledPrefix.
  const std::atomic<bool>* cancel = nullptr;
  // Set by Run when the worker started (slot acquired): the time spent waiting for a slot ends.
  std::function<void()> on_start;
};

class IsolatedExecutor {
 public:
  // Checks the options, the lake and the executable.
  static Result<std::unique_ptr<IsolatedExecutor>> Create(const IsolatedOptions& options);

  // Runs one statement in a worker process; at most max_rows rows come back.
  Result<IsolatedAnswer> Run(const std::string& sql, size_t max_rows, bool csv);
  Result<IsolatedAnswer> Run(const std::string& sql, const IsolatedRun& run);

  // Statements running now.
  int running() const;
  const IsolatedOptions& options() const { return opt_; }

 private:
  explicit IsolatedExecutor(IsolatedOptions opt) : opt_(std::move(opt)) {}
  IsolatedOptions opt_;
  struct Slots;
  std::shared_ptr<Slots> slots_;
};

// The worker's side (`orderlake query --isolated-worker`): reads one request (JSON) from
// stdin, applies the bounds to itself, runs the statement, streams CSV text to stdout and
// writes the answer or the error (JSON) to fd 3. Returns the exit code.
int RunIsolatedWorker();

}  // namespace orderlake::query
