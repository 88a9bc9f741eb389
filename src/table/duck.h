// A private in-memory DuckDB for the table's own work (merging Parquet files, statistics,
// checkpoints): one connection, no extension loading, few threads so that it stays beside
// the pipeline rather than in its way.
#pragma once
#include <duckdb.h>

#include <memory>
#include <string>

#include "core/status.h"

namespace orderlake::table {

// The settings every DuckDB this program opens starts from: no extension downloads or
// loading (what is built in, parquet, json and icu, is all), and no cache of file contents.
// DuckDB's external file cache (on by default) keeps the blocks of every file it reads
// until memory_limit (80% of RAM by default): a long-running process that reads each new
// Parquet file once (the dashboard's aggregates, the Athena endpoint) grew by gigabytes a
// day. memory_limit ("512MB") and threads are set when given.
Status BaseDuckConfig(duckdb_config config, const std::string& memory_limit = {}, int threads = 0);

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
