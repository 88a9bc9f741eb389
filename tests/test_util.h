// Helpers shared by the tests: temporary directories, running the orderlake binary.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace orderlake::testing {

// A fresh directory under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs the orderlake binary with the given arguments (no shell), capturing stdout and
// stderr; kills it after timeout_s seconds.
// `env` adds "NAME=value" entries to the child's environment.
CommandResult run_orderlake(const std::vector<std::string>& args, int timeout_s = 300,
                            const std::vector<std::string>& env = {});

// Runs one SQL statement on an in-memory DuckDB (the independent reader the tests check
// our files with) and returns every value as text ("NULL" for nulls). Throws on errors.
std::vector<std::vector<std::string>> duckdb_rows(const std::string& sql);
// The single value of a one-row, one-column query.
std::string duckdb_value(const std::string& sql);

std::string read_file(const std::filesystem::path& p);
void write_file(const std::filesystem::path& p, std::string_view data);

}  // namespace orderlake::testing
