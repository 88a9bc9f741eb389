#include "test_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <duckdb.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace orderlake::testing {

TempDir::TempDir() {
  std::random_device rd;
  auto base = std::filesystem::temp_directory_path();
  for (;;) {
    path_ = base / ("orderlake-test-" + std::to_string(rd()));
    if (std::filesystem::create_directory(path_)) break;
  }
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

long orderlake_peak_rss_kib(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  pid_t pid = fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    dup2(null, 1);
    for (const auto& e : env) putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> argv = {const_cast<char*>(ORDERLAKE_BINARY)};
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  struct rusage ru {};
  if (pid < 0 || wait4(pid, &status, 0, &ru) != pid) return -1;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
  return ru.ru_maxrss;
}

CommandResult run_orderlake(const std::vector<std::string>& args, int timeout_s,
                            const std::vector<std::string>& env, const std::string& input) {
  std::vector<std::string> argv = {ORDERLAKE_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, timeout_s, env, input);
}

CommandResult run_process(const std::vector<std::string>& args, int timeout_s,
                          const std::vector<std::string>& env, const std::string& input) {
  TempDir stdin_dir;
  const std::string stdin_path = input.empty() ? "/dev/null" : (stdin_dir.path() / "stdin").string();
  if (!input.empty()) write_file(stdin_path, input);
  int out_pipe[2], err_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    close(out_pipe[0]);
    close(err_pipe[0]);
    int in = open(stdin_path.c_str(), O_RDONLY);
    if (in >= 0) dup2(in, 0);
    for (const auto& e : env) {
      auto eq = e.find('=');
      setenv(e.substr(0, eq).c_str(), e.substr(eq + 1).c_str(), 1);
    }
    std::vector<char*> argv;
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  CommandResult r;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[65536];
  bool killed = false;
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      kill(pid, SIGKILL);
      killed = true;
      break;
    }
    int n = poll(fds, 2, static_cast<int>(left));
    if (n <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t got = read(fds[i].fd, buf, sizeof buf);
      if (got <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(got));
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);
  int status = 0;
  waitpid(pid, &status, 0);
  if (killed) {
    r.exit_code = -1;
    r.err += "\n[test: killed after timeout]";
  } else {
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  return r;
}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  write_file(dir_.path() / "out", "");
  write_file(dir_.path() / "err", "");
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int out = open((dir_.path() / "out").c_str(), O_WRONLY | O_APPEND);
    int err = open((dir_.path() / "err").c_str(), O_WRONLY | O_APPEND);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(out, 1);
    dup2(err, 2);
    for (const auto& e : env) {
      auto eq = e.find('=');
      setenv(e.substr(0, eq).c_str(), e.substr(eq + 1).c_str(), 1);
    }
    std::vector<std::string> copy = args;
    std::vector<char*> argv;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
}

int BackgroundProcess::Stop(int sig, int grace_s) {
  if (pid_ <= 0) return exit_code_;
  kill(pid_, sig);
  int status = 0;
  bool done = false;
  for (int i = 0; i < grace_s * 20; ++i) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      done = true;
      break;
    }
    usleep(50000);
  }
  if (!done) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
  }
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  pid_ = -1;
  return exit_code_;
}

BackgroundProcess::~BackgroundProcess() { Stop(SIGKILL, 1); }

std::string BackgroundProcess::out() const { return read_file(dir_.path() / "out"); }
std::string BackgroundProcess::err() const { return read_file(dir_.path() / "err"); }

bool wait_for(const std::function<bool()>& pred, double timeout_s) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int>(timeout_s * 1000));
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    usleep(50000);
  }
}

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind failed");
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

namespace {
bool http_ok(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  if (ok) {
    const char req[] = "GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    ok = write(fd, req, sizeof req - 1) == static_cast<ssize_t>(sizeof req - 1);
    char buf[64] = {};
    ok = ok && read(fd, buf, sizeof buf - 1) > 0 && std::string_view(buf).starts_with("HTTP/");
  }
  close(fd);
  return ok;
}
}  // namespace

MotoServer::MotoServer(const std::vector<std::string>& env) {
  port_ = free_port();
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, 0);
    dup2(devnull, 1);
    dup2(devnull, 2);
    for (const auto& e : env) {
      auto eq = e.find('=');
      setenv(e.substr(0, eq).c_str(), e.substr(eq + 1).c_str(), 1);
    }
    setpgid(0, 0);
    std::string port = std::to_string(port_);
    execlp("moto_server", "moto_server", "-H", "127.0.0.1", "-p", port.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!http_ok(port_)) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) throw std::runtime_error("moto_server exited at start");
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("moto_server did not start in 30 s");
    usleep(100000);
  }
}

MotoServer::~MotoServer() {
  if (pid_ > 0) {
    kill(-pid_, SIGTERM);
    kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 50 && waitpid(pid_, &status, WNOHANG) == 0; ++i) usleep(100000);
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
  }
}

CommandResult aws_cli(const std::string& endpoint, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {access("/usr/bin/aws", X_OK) == 0 ? "/usr/bin/aws" : "aws", "--endpoint-url",
                                   endpoint};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, 120,
                     {"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_DEFAULT_REGION=us-east-1",
                      "AWS_REGION=us-east-1", "AWS_PAGER=", "AWS_CONFIG_FILE=/dev/null",
                      "AWS_SHARED_CREDENTIALS_FILE=/dev/null"});
}

std::vector<std::vector<std::string>> duckdb_rows(const std::string& sql) {
  duckdb_database db;
  duckdb_connection con;
  if (duckdb_open(nullptr, &db) != DuckDBSuccess) throw std::runtime_error("duckdb_open failed");
  if (duckdb_connect(db, &con) != DuckDBSuccess) {
    duckdb_close(&db);
    throw std::runtime_error("duckdb_connect failed");
  }
  duckdb_result res;
  std::vector<std::vector<std::string>> rows;
  std::string error;
  if (duckdb_query(con, sql.c_str(), &res) != DuckDBSuccess) {
    error = duckdb_result_error(&res);
  } else {
    const idx_t ncols = duckdb_column_count(&res);
    const idx_t nrows = duckdb_row_count(&res);
    for (idx_t r = 0; r < nrows; ++r) {
      std::vector<std::string> row;
      for (idx_t c = 0; c < ncols; ++c) {
        if (duckdb_value_is_null(&res, c, r)) {
          row.emplace_back("NULL");
          continue;
        }
        char* v = duckdb_value_varchar(&res, c, r);
        row.emplace_back(v ? v : "");
        duckdb_free(v);
      }
      rows.push_back(std::move(row));
    }
  }
  duckdb_destroy_result(&res);
  duckdb_disconnect(&con);
  duckdb_close(&db);
  if (!error.empty()) throw std::runtime_error("DuckDB: " + error + " in: " + sql);
  return rows;
}

std::string duckdb_value(const std::string& sql) {
  auto rows = duckdb_rows(sql);
  if (rows.size() != 1 || rows[0].size() != 1)
    throw std::runtime_error("expected one value from: " + sql);
  return rows[0][0];
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::filesystem::path& p, std::string_view data) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

}  // namespace orderlake::testing
