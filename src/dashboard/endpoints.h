// The dashboard's visual endpoints (GET /api/summary, daily, heatmap, hourly, top-orders,
// aov-by-country, filters, quality; see web/API.md): each one's name, the parameters it
// takes beyond the filters, whether the filters apply, and how it computes its data on a
// read-only Engine. The server (server.h) adds caching, consistency and HTTP.
#pragma once
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "dashboard/filters.h"
#include "query/engine.h"
#include "query/value.h"

namespace orderlake::dashboard {

struct Endpoint {
  std::string name;
  std::set<std::string> extra;  // parameters beyond the filters (e.g. "limit")
  bool filtered = true;         // false: the filters do not apply (and are not part of the cache key)
  // The answer by SQL over the table (the `orders` view of a read-only Engine).
  std::function<Result<nlohmann::json>(query::Engine&, const Filters&, const Params&)> run;
  // True when the dashboard's aggregates (cube.h) give the same answer; such endpoints take
  // `source=cube|table` (default cube; table: `run`, the SQL path, for checks and benchmarks).
  bool cube = false;
};

// The endpoints over the lake directory `lake`.
std::vector<Endpoint> MakeEndpoints(const std::filesystem::path& lake);

// The "source" parameter of endpoints with a cube: true for the SQL path ("table"), false
// for the aggregates ("cube", or absent).
Result<bool> ParseSourceIsTable(const Params& p);

// The "limit" parameter: `def` when absent, else a whole number from 1 to `max`.
Result<int> ParseLimit(const Params& p, int def, int max);

}  // namespace orderlake::dashboard
