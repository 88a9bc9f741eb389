// Helpers shared by the tests: temporary directories, running the orderlake binary.
#pragma once
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace orderlake::testing {

// True in a ThreadSanitizer build (scripts/test.sh --tsan), whose shadow memory multiplies a
// process's resident size: tests of a peak RSS bound skip there.
#if defined(__SANITIZE_THREAD__)
inline constexpr bool kThreadSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr bool kThreadSanitizer = true;
#else
inline constexpr bool kThreadSanitizer = false;
#endif
#else
inline constexpr bool kThreadSanitizer = false;
#endif

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
// `env` adds "NAME=value" entries to the child's environment; `input` is what the child
// reads on its standard input (a file, so not a terminal; empty input reads /dev/null).
CommandResult run_orderlake(const std::vector<std::string>& args, int timeout_s = 300,
                            const std::vector<std::string>& env = {}, const std::string& input = {});
// Runs the orderlake binary with `args` (its output to /dev/null, `env` added) and returns
// its peak resident set in KiB (ru_maxrss), or -1 when it did not exit with 0.
long orderlake_peak_rss_kib(const std::vector<std::string>& args, const std::vector<std::string>& env = {});
// Runs any program (found through PATH) the same way.
CommandResult run_process(const std::vector<std::string>& argv, int timeout_s = 300,
                          const std::vector<std::string>& env = {}, const std::string& input = {});

// A program running in the background for the length of a test; its stdout and stderr go
// to files. Stop() signals it and waits for it (SIGKILL after a grace period).
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;
  // Sends sig, waits up to grace_s seconds, then SIGKILL; returns the exit code (128+signal
  // when killed by one).
  int Stop(int sig = 15, int grace_s = 10);
  std::string out() const;
  std::string err() const;
  int pid() const { return pid_; }

 private:
  TempDir dir_;
  int pid_ = -1;
  int exit_code_ = -1;
};

// Polls pred every 50 ms for up to timeout_s seconds; true when it held.
bool wait_for(const std::function<bool()>& pred, double timeout_s);

// A TCP port on 127.0.0.1 that nothing listens on right now.
int free_port();

// moto's S3-protocol server (moto_server from the machine's Python), started on a free
// loopback port for one test and stopped with it. `env` adds environment entries.
class MotoServer {
 public:
  explicit MotoServer(const std::vector<std::string>& env = {});
  ~MotoServer();
  MotoServer(const MotoServer&) = delete;
  MotoServer& operator=(const MotoServer&) = delete;
  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int pid_ = -1;
  int port_ = 0;
};

// The AWS CLI (Debian's /usr/bin/aws when installed, else the one on PATH) against an
// endpoint, with dummy credentials and region us-east-1.
CommandResult aws_cli(const std::string& endpoint, const std::vector<std::string>& args);

// Runs one SQL statement on an in-memory DuckDB (the independent reader the tests check
// our files with) and returns every value as text ("NULL" for nulls). Throws on errors.
std::vector<std::vector<std::string>> duckdb_rows(const std::string& sql);
// The single value of a one-row, one-column query.
std::string duckdb_value(const std::string& sql);

std::string read_file(const std::filesystem::path& p);
void write_file(const std::filesystem::path& p, std::string_view data);

}  // namespace orderlake::testing
