// The SQL console of the dashboard (the Athena console): POST /api/sql.
//
// A user's statement runs through a read-only query::Engine (so it can only read, and only
// the lake); it is interrupted after ServeOptions::sql_timeout. JSON answers show at most
// sql_max_rows rows (or ?limit=), CSV downloads csv_max_rows; the endpoint is described in
// web/API.md.
#pragma once
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "dashboard/server.h"
#include "dashboard/snapshot.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace orderlake::metrics {
class Counter;
}

namespace orderlake::query {
class Engine;
}

namespace orderlake::dashboard {

// The longest statement the console takes (bytes).
inline constexpr size_t kMaxSqlBytes = 100 * 1024;

class SqlConsole {
 public:
  using RunFn = std::function<Result<nlohmann::json>(query::Engine&)>;
  using WrapFn = std::function<nlohmann::json(const TableVersion&, nlohmann::json)>;
  // The server's way to compute an answer against one consistent table version (and cache it).
  using ConsistentFn = std::function<std::shared_ptr<const Answer>(const std::string& key, const RunFn& run,
                                                                   const WrapFn& wrap, bool cacheable, bool* hit)>;

  SqlConsole(const ServeOptions& opt, ConsistentFn consistent, metrics::Counter* statements, metrics::Counter* errors);

  // Answers POST /api/sql.
  void Handle(const httplib::Request& req, httplib::Response& res);

 private:
  const ServeOptions& opt;
  ConsistentFn Consistent;
  metrics::Counter* sql_statements;
  metrics::Counter* sql_errors;
};

}  // namespace orderlake::dashboard
