// The SQL console of the dashboard (the Athena console): POST /api/sql.
//
// Every statement runs in its own worker process (query/isolated.h), never on the engines
// that answer the visuals: the visuals keep their latency while the console is busy, and
// every statement is bounded in time (ServeOptions::sql_timeout, then SIGKILL), memory
// (sql_memory_mb), CPU (one DuckDB thread, lowered priority) and result size (sql_max_rows
// or csv_max_rows rows, sql_result_mb bytes). At most sql_workers statements run at once
// (more wait for a free worker, up to the timeout, then 503); one client (its remote
// address) runs at most sql_per_client statements at once, more get 429 with Retry-After.
// The worker opens a read-only Engine over the lake, so a statement can only read, and only
// the lake. Nothing is cached: identical statements each run (and count) on their own.
// web/API.md documents it.
#pragma once
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/status.h"
#include "dashboard/server.h"
#include "dashboard/snapshot.h"
#include "query/isolated.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace orderlake::metrics {
class Counter;
}

namespace orderlake::dashboard {

// The longest statement the console takes (bytes).
inline constexpr size_t kMaxSqlBytes = 100 * 1024;

class SqlConsole {
 public:
  // `current` is the table version now (reported with each answer).
  static Result<std::unique_ptr<SqlConsole>> Create(const ServeOptions& opt, std::function<TableVersion()> current,
                                                    metrics::Counter* statements,
                                                    metrics::Counter* errors);

  // Answers POST /api/sql.
  void Handle(const httplib::Request& req, httplib::Response& res);

  // Statements running now.
  int running() const { return executor_->running(); }

 private:
  SqlConsole(const ServeOptions& opt, std::function<TableVersion()> current, metrics::Counter* statements, metrics::Counter* errors);
  // The statement's answer (or error) as an HTTP answer: JSON, or the CSV text.
  struct Reply {
    int status = 200;
    std::string body;
    bool truncated = false;
  };
  Reply Answered(const std::string& sql, const std::string& format, size_t limit);
  // Counts a client's statement in; false when it has sql_per_client running already.
  bool Enter(const std::string& client);
  void Leave(const std::string& client);

  const ServeOptions& opt_;
  std::function<TableVersion()> current_;
  metrics::Counter* statements_;
  metrics::Counter* errors_;
  std::unique_ptr<query::IsolatedExecutor> executor_;
  std::mutex clients_mu_;
  std::map<std::string, int> clients_;  // statements running, by client
};

}  // namespace orderlake::dashboard
