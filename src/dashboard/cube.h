// The dashboard's aggregates (a cube), kept up to date from each Delta commit's added rows,
// so a visual's answer costs in proportion to the cube's grain, not to the table's rows.
//
// Promises:
// - Grain: one cell per (InvoiceDateOnly, Country, Region, InvoiceHour, OrderTag = 'High')
//   holding count(*), count(TotalAmountUSD) and sum(TotalAmountUSD) (compensated sum); and,
//   per (InvoiceDateOnly, Country, Region), the kTopK High orders with the largest
//   TotalAmountUSD (ties by OrderID), so a filtered top-N (N <= kTopK) is exact: the
//   filters (date range, countries, regions) select whole cells. NULL keys are cells of
//   their own, as SQL groups them. Memory grows with the grain (dates x countries x 24 x 2
//   cells, kTopK rows per date and country), never with the rows.
// - Maintenance follows the Delta log (table/delta.h): each commit's add actions with
//   dataChange=true are folded in by reading just those Parquet files (one GROUP BY and one
//   top-K query through a DuckDB confined to the lake, query/file_reader.h, over the same
//   SELECT the engine's table is made of: query/table_source.h); commits without data changes (compaction, checkpoints'
//   neighbours, txn only) change nothing. Anything else — a remove with dataChange=true, a
//   new metaData, a gap in the versions (old commits cleaned up while the cube was behind),
//   a failed fold — rebuilds the cube from the snapshot's files (one scan). The first Sync
//   builds it the same way, from the snapshot loaded through _last_checkpoint.
// - Every answer is that of one table version (the cube's, returned with it) and equals
//   the endpoint's SQL over the table at that version (tests/dashboard/cube_test.cpp checks
//   that on random filter sets, through commits and compactions). Floating sums may differ
//   from DuckDB's in the last bits (different summation order).
// - Thread-safe: Sync serialises with itself; answers read under a shared lock, so an answer
//   never waits for a fold's DuckDB read, only for the short update of the cells after it
//   (the server folds on a thread of its own: server.cpp).
// - A lake without a Delta log (written before the log existed) has no cube: available()
//   is false and the server answers from SQL.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "dashboard/filters.h"

namespace orderlake::dashboard {

class Cube {
 public:
  static constexpr int kTopK = 100;  // the top-orders endpoint's largest limit

  struct Stats {
    int64_t version = -1;      // the table version the cube holds (-1: none yet)
    uint64_t cells = 0;        // aggregate cells
    uint64_t top_rows = 0;     // rows kept for top-orders
    uint64_t rebuilds = 0;     // full builds from the table (the first one included)
    uint64_t folds = 0;        // commits folded in from their added files
    uint64_t folded_files = 0;  // files read by those folds
    double fold_seconds = 0;    // time spent folding, in all
    double last_build_seconds = 0;
  };

  // The cube of <lake>/<table>; nothing is read before the first Sync.
  explicit Cube(std::filesystem::path lake, std::string table = "orders");
  ~Cube();
  Cube(const Cube&) = delete;
  Cube& operator=(const Cube&) = delete;

  // True when the table has a Delta log (checked now).
  bool available() const;

  // Brings the cube to version `target` of the table (-1: the newest): the commits after
  // it are left for a later Sync, so the caller knows which version the cube holds (the
  // server names it in its answers). When the cube holds `target` (or a newer version) the
  // log is not read. A first build, or a reload after a gap in the log, reads the newest
  // snapshot and may so go past `target`.
  Status Sync(int64_t target = -1);

  // The table version the cube holds; -1 before the first build.
  int64_t version() const;

  // The answer of the visual `endpoint` (summary, daily, heatmap, hourly, top-orders,
  // aov-by-country, filters) at the cube's version (*version), shaped exactly as
  // endpoints.cpp's SQL answer. `limit` is top-orders' (1..kTopK).
  Result<nlohmann::json> Answer(std::string_view endpoint, const Filters& f, int limit, int64_t* version) const;

  // True for the endpoints Answer knows.
  static bool Answers(std::string_view endpoint);

  Stats stats() const;

  struct State;  // cube_state.h

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace orderlake::dashboard
