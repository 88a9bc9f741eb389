// A private in-memory DuckDB for the table's own work (merging Parquet files, statistics,
// checkpoints): one connection, no extension loading, few threads so that it stays beside
// the pipeline rather than in its way.
#pragma once
#include <duckdb.h>

#include <memory>
#include <string>

#include "core/status.h"

namespace orderlake::table {

class Duck {
 public:
  static Result<std::unique_ptr<Duck>> Open(int threads = 1, const std::string& memory_limit = "512MB");
  ~Duck();
  Duck(const Duck&) = delete;
  Duck& operator=(const Duck&) = delete;

  // Runs `sql`; with `out`, the result is handed over (the caller destroys it).
  Status Sql(const std::string& sql, duckdb_result* out = nullptr);

 private:
  Duck() = default;
  duckdb_database db_ = nullptr;
  duckdb_connection con_ = nullptr;
};

}  // namespace orderlake::table
