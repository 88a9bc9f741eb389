// Read-only SQL over files its caller names, without the Engine's tables: an in-memory
// DuckDB that may read only under one directory (allowed_directories, no other external
// access, no extensions loaded or installed, configuration locked), one connection.
// For code that runs its own SQL over a few known files and must not pay the Engine's
// per-statement work (re-reading the table's log, listing its files, redefining views):
// the dashboard's aggregates read each commit's added files through it.
//
// Use from one thread at a time.
#pragma once
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "query/value.h"

namespace orderlake::query {

class FileReader {
 public:
  // `dir` must exist; `threads` 0 = DuckDB's default.
  static Result<std::unique_ptr<FileReader>> Open(const std::filesystem::path& dir, int threads = 0);
  ~FileReader();
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  // Runs one statement of the caller's own SQL and keeps its whole result.
  Result<QueryResult> Execute(const std::string& sql);
  // The column names of a Parquet file, in file order.
  Result<std::vector<std::string>> ParquetColumns(const std::filesystem::path& file);

 private:
  struct Impl;
  explicit FileReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace orderlake::query
