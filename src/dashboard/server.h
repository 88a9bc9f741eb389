// The dashboard service (QuickSight and the Athena console): `orderlake serve`.
//
// An HTTP server (core/http_server.h) with the page and its JSON API over one lake; the endpoints
// are documented in web/API.md (also served at /api.md). Every visual answer is computed
// against one table version (see snapshot.h) and cached by (version, endpoint, filters);
// the version is pushed to open pages over server-sent events (/api/events).
//
// The visuals the aggregates answer (dashboard/cube.h) are answered at once from the newest
// version they hold: a thread of the server folds each new commit into them (several
// commits seen at once in one pass), so no request waits for a fold, only for their first
// build. Those answers, /api/version and the events name that version, so the live view's
// freshness is commit -> fold done. Other answers (quality, source=table) follow the table.
//
// Queries run on a small pool of read-only Engines (query/engine.h), one statement per
// engine at a time. The SQL endpoint (dashboard/console.h) runs a user's statement in a
// worker process of its own, through the same read-only Engine, so it can only read, and
// only the lake; it is killed after sql_timeout or beyond sql_memory_mb.
//
// GET /metrics (Prometheus text) and GET /health (JSON) describe the service itself.
//
// Access: with a token set, every /api/ request (and /metrics, /health) must carry it (`Authorization: Bearer T`
// or `?token=T`); the page itself holds no data. Binding beyond loopback needs a token.
#pragma once
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "core/status.h"
#include "core/tls.h"

namespace orderlake::metrics {
class Registry;
}

namespace orderlake::dashboard {

// The service's options, defaults in one place. Validate() is the one rule (Start runs it;
// `orderlake serve` and `up` only fill the struct); its errors name the serve flag.
struct ServeOptions {
  std::filesystem::path lake;          // the lake directory (must exist)
  std::string host = "127.0.0.1";      // listen address
  int port = 8080;                     // 0: any free port (see DashboardServer::port)
  std::string token;                   // required for /api/ when non-empty
  int engines = 2;                     // concurrent queries
  std::chrono::milliseconds poll{250};  // how often the runs directory is listed
  std::chrono::seconds sql_timeout{30};  // SQL console statements are killed after this
  // The SQL console's bounds (see dashboard/console.h, query/isolated.h): each statement
  // runs in a worker process of at most sql_memory_mb, with sql_threads DuckDB threads and
  // a result of at most sql_result_mb; sql_workers statements at once, sql_per_client of
  // them from one client (remote address).
  size_t sql_memory_mb = 1024;
  int sql_workers = 4;
  int sql_per_client = 3;
  int sql_threads = 1;
  size_t sql_result_mb = 128;
  std::filesystem::path sql_worker;    // the worker program (orderlake); "" = the running one
  size_t sql_max_rows = 10000;         // rows a SQL console answer shows (JSON)
  size_t csv_max_rows = 1000000;       // rows a CSV download holds
  std::filesystem::path web_dir;       // serve the page files from here (development); "" = built in
  http::TlsOptions tls;                // --tls-cert/--tls-key: HTTPS only (page, API, /metrics); none: HTTP
  // GET /metrics answers the dashboard's own counters (Prometheus text) followed by what
  // more_metrics returns; GET /health answers what `health` returns (HTTP status and a JSON
  // body), or {"status": "up"} when unset. `orderlake up` adds every stage through these.
  std::function<std::string()> more_metrics;
  std::function<std::pair<int, std::string>()> health;
  // Tests only: called on the fold thread before it brings the visuals' aggregates to a
  // Delta version (the argument), e.g. to hold a fold back and see that no request waits.
  std::function<void(int64_t)> before_fold;

  // The lake is named; port 0-65535; a token beyond loopback; engines 1-16; sql_timeout
  // 1-3600 s; sql_memory_mb 64 to 1048576; sql_workers 1-64; sql_per_client 1-64
  // (beyond sql_workers, a client's statements wait for a worker); sql_threads 1-64; sql_result_mb 1-4096; poll 20 ms to 1 h; row limits at least 1;
  // tls: both files or neither (TlsOptions::Validate).
  Status Validate() const;
};

// True for addresses that only this machine can reach (127.0.0.0/8, ::1, localhost).
bool IsLoopback(const std::string& host);

class DashboardServer {
 public:
  // Checks the options (ServeOptions::Validate), opens the engines and binds the socket (so port() is known).
  static Result<std::unique_ptr<DashboardServer>> Start(const ServeOptions& options);
  ~DashboardServer();
  DashboardServer(const DashboardServer&) = delete;
  DashboardServer& operator=(const DashboardServer&) = delete;

  // Serves until Stop() (from another thread or a signal handler thread).
  Status Run();
  void Stop();

  // Looks at the table now instead of at the next poll: a writer in the same process (the
  // etl under `orderlake up`) calls this after each commit, so answers move on at once.
  void TableChanged();

  // The dashboard's own metrics (table version, cache, SQL console), as GET /metrics
  // starts with; MetricsText() is their text.
  const metrics::Registry& metrics() const;
  std::string MetricsText() const;

  int port() const;
  // "http://HOST:PORT/" ("https://" with TLS; with "?token=…" when a token is set).
  std::string url() const;

 private:
  struct Impl;
  explicit DashboardServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace orderlake::dashboard
