#include "query/isolated.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <mutex>
#include <new>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "query/engine.h"
#include "query/format.h"

extern char** environ;

namespace orderlake::query {
namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// What the worker program itself needs beyond the statement (code data, DuckDB's set-up,
// thread stacks): part of RLIMIT_DATA, not of the statement's memory_mb.
constexpr size_t kProgramAllowanceMb = 256;
constexpr size_t kMaxRequestBytes = 1 << 20;
constexpr size_t kMaxErrorBytes = 4096;
constexpr auto kPollEvery = std::chrono::milliseconds(20);

std::string MemoryError(size_t mb) { return fmt::format("the statement used more than {} MB and was stopped", mb); }

void WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// Keeps rows as JSON, or streams CSV text to stdout (in 64 KB pieces, never kept whole), up
// to a number of rows and bytes; then stops the statement (reported as truncated, not failed).
class BoundedSink final : public RowSink {
 public:
  static constexpr std::string_view kStop = "\x01result limit reached";
  BoundedSink(bool csv, size_t max_rows, size_t max_bytes, bool athena = false, bool athena_text = false)
      : max_rows_(max_rows), max_bytes_(max_bytes) {
    if (csv) writer_ = athena ? MakeAthenaWriter(athena_text, text_) : MakeWriter(OutputFormat::kCsv, text_);
  }
  Status Begin(const std::vector<Column>& c) override {
    for (const auto& col : c) answer.columns.push_back({{"name", col.name}, {"type", col.type}, {"numeric", col.numeric}});
    return writer_ ? writer_->Begin(c) : Status::OK();
  }
  Status Row(const std::vector<Value>& row) override {
    if (answer.rows_returned >= max_rows_ || bytes_ > max_bytes_) return Stop();
    if (writer_) {
      ORDERLAKE_RETURN_IF_ERROR(writer_->Row(row));
      if (text_.tellp() > (64 << 10)) Flush();
    } else {
      json jr = json::array();
      for (const auto& v : row) jr.push_back(ToJson(v));
      bytes_ += jr.dump().size() + 1;
      answer.rows.push_back(std::move(jr));
    }
    ++answer.rows_returned;
    return Status::OK();
  }
  Status End() override { return writer_ ? writer_->End() : Status::OK(); }
  // The answer once the statement is done (the rest of the CSV text written).
  IsolatedAnswer Finish() {
    if (writer_ && answer.truncated) writer_->End().ok();
    Flush();
    return std::move(answer);
  }
  IsolatedAnswer answer;

 private:
  void Flush() {
    const std::string piece = text_.str();
    WriteAll(1, piece);
    bytes_ += piece.size();
    text_.str({});
  }
  Status Stop() {
    answer.truncated = true;
    return Status::Error(std::string(kStop));
  }
  size_t max_rows_, max_bytes_;
  size_t bytes_ = 0;
  std::ostringstream text_;
  std::unique_ptr<RowSink> writer_;
};

json AnswerJson(const IsolatedAnswer& a) {
  return {{"columns", a.columns},     {"rows", a.rows},
          {"rows_returned", a.rows_returned}, {"truncated", a.truncated}, {"seconds", a.seconds},
          {"notices", a.notices},     {"table_version", a.table_version}};
}

IsolatedAnswer AnswerFrom(const json& j) {
  IsolatedAnswer a;
  a.columns = j.at("columns");
  a.rows = j.at("rows");
  a.rows_returned = j.at("rows_returned").get<size_t>();
  a.truncated = j.at("truncated").get<bool>();
  a.seconds = j.at("seconds").get<double>();
  a.notices = j.at("notices").get<std::vector<std::string>>();
  a.table_version = j.at("table_version").get<int64_t>();
  return a;
}

// The worker's statement; the error is the answer's.
Result<IsolatedAnswer> WorkerRun(const json& req) {
  const size_t memory_mb = req.at("memory_mb").get<size_t>();
  EngineOptions eo;
  // DuckDB's own limit below the hard one, so most statements end with its clean error.
  eo.duckdb_memory_mb = std::max<size_t>(32, memory_mb * 3 / 4);
  eo.duckdb_threads = req.at("threads").get<int>();
  eo.duckdb_temp_mb = memory_mb;
  eo.catalog = req.value("catalog", std::string());
  eo.database = req.value("database", std::string("default"));
  eo.lake_optional = req.value("lake_optional", false);
  eo.buckets_only = req.value("buckets_only", false);
  eo.remote_s3 = req.value("remote_s3", false);
  if (req.contains("buckets"))
    for (const auto& [bucket, dir] : req["buckets"].items()) eo.local_buckets[bucket] = dir.get<std::string>();
  auto engine = Engine::Open(req.at("lake").get<std::string>(), eo);
  if (!engine.ok()) return engine.status();
  BoundedSink sink(req.at("csv").get<bool>(), req.at("max_rows").get<size_t>(), req.at("max_bytes").get<size_t>(),
                   req.value("athena", false), req.value("athena_text", false));
  auto r = (*engine)->Execute(req.at("sql").get<std::string>(), sink);
  if (!r.ok() && !(sink.answer.truncated && r.status().message() == BoundedSink::kStop)) {
    const std::string& m = r.status().message();
    if (m.find("Out of Memory") != std::string::npos || m.find("bad_alloc") != std::string::npos)
      return Status::Errorf("{} ({})", MemoryError(memory_mb), m.substr(0, 300));
    return r.status();
  }
  IsolatedAnswer a = sink.Finish();
  if (r.ok()) {
    a.seconds = r->seconds;
    a.notices = r->notices;
  }
  a.table_version = (*engine)->table_version();
  return a;
}


// Resident size of a process in MB (0 when it is gone).
size_t ResidentMb(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/statm", pid));
  size_t size = 0, resident = 0;
  if (!(in >> size >> resident)) return 0;
  return resident * static_cast<size_t>(::sysconf(_SC_PAGESIZE)) >> 20;
}

struct Pipe {
  int fd[2] = {-1, -1};
  ~Pipe() { Close(0), Close(1); }
  void Close(int i) {
    if (fd[i] >= 0) ::close(fd[i]);
    fd[i] = -1;
  }
};

}  // namespace

int RunIsolatedWorker() {
  // Ends with the thread that started it (which waits for it): no statement outlives its server.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() == 1) return 1;
  std::string input;
  input.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  json out;
  try {
    json req = json::parse(input.substr(0, kMaxRequestBytes));
    const size_t memory_mb = req.at("memory_mb").get<size_t>();
    ::setpriority(PRIO_PROCESS, 0, req.at("nice").get<int>());
    const rlim_t data = static_cast<rlim_t>(memory_mb + kProgramAllowanceMb) << 20;
    struct rlimit lim = {data, data};
    if (::setrlimit(RLIMIT_DATA, &lim) != 0) throw std::runtime_error(std::string("setrlimit: ") + std::strerror(errno));
    auto r = WorkerRun(req);
    out = r.ok() ? json{{"answer", AnswerJson(*r)}} : json{{"error", r.status().message()}};
  } catch (const std::bad_alloc&) {
    out = {{"error", "\x01memory"}};
  } catch (const std::exception& e) {
    out = {{"error", fmt::format("the statement's worker failed: {}", e.what())}};
  }
  std::string text = out.dump(-1, ' ', false, json::error_handler_t::replace);
  WriteAll(3, text);
  return 0;
}

Status IsolatedOptions::Validate() const {
  if (lake.empty()) return Status::Error("the isolated executor needs the lake directory");
  if (timeout.count() < 1 || timeout.count() > 3600)
    return Status::Errorf("--sql-timeout must be between 1 and 3600 seconds, got {}", timeout.count());
  if (memory_mb < 64 || memory_mb > (size_t{1} << 20))
    return Status::Errorf("--sql-memory-mb must be between 64 and 1048576, got {}", memory_mb);
  if (workers < 1 || workers > 64) return Status::Errorf("--sql-workers must be between 1 and 64, got {}", workers);
  if (threads < 1 || threads > 64) return Status::Errorf("--sql-threads must be between 1 and 64, got {}", threads);
  if (nice < 0 || nice > 19) return Status::Errorf("the SQL workers' nice value must be between 0 and 19, got {}", nice);
  if (max_result_bytes < 1024) return Status::Error("--sql-result-mb must be at least 1");
  return Status::OK();
}

// The worker slots: at most `workers` statements at a time.
struct IsolatedExecutor::Slots {
  std::mutex mu;
  std::condition_variable cv;
  int free = 0, running = 0;
  bool Acquire(Clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mu);
    if (!cv.wait_until(lock, deadline, [&] { return free > 0; })) return false;
    --free;
    ++running;
    return true;
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu);
      ++free;
      --running;
    }
    cv.notify_one();
  }
};

Result<std::unique_ptr<IsolatedExecutor>> IsolatedExecutor::Create(const IsolatedOptions& options) {
  ORDERLAKE_RETURN_IF_ERROR(options.Validate());
  IsolatedOptions opt = options;
  std::error_code ec;
  if (opt.executable.empty()) opt.executable = fs::read_symlink("/proc/self/exe", ec);
  if (ec || ::access(opt.executable.c_str(), X_OK) != 0)
    return Status::Errorf("cannot run the SQL worker program '{}': {}", opt.executable.string(),
                          ec ? ec.message() : std::strerror(errno));
  if (!opt.lake_optional && !fs::is_directory(opt.lake, ec)) return Status::Errorf("lake '{}' is not a directory", opt.lake.string());
  // A worker that dies before reading its request must not kill this process.
  struct sigaction old {};
  if (::sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) ::signal(SIGPIPE, SIG_IGN);
  std::unique_ptr<IsolatedExecutor> ex(new IsolatedExecutor(std::move(opt)));
  ex->slots_ = std::make_shared<Slots>();
  ex->slots_->free = ex->opt_.workers;
  return ex;
}

int IsolatedExecutor::running() const {
  std::lock_guard<std::mutex> lock(slots_->mu);
  return slots_->running;
}

namespace {

// How a worker ended, and what it said: its CSV text (stdout), its log (stderr, the last
// bytes) and its answer (fd 3).
struct Outcome {
  std::string out, err, answer;
  bool timed_out = false, too_big = false, too_much_memory = false, cancelled = false;
  int status = 0;
};

// Feeds the request to the worker and reads its answer, killing it at the first bound hit.
// size: the loop of one child's whole life (poll, bounds, reaping) reads best in one place.
Outcome Supervise(pid_t pid, int in, const int (&fd)[3], const std::string& request, const IsolatedOptions& opt,
                  Clock::time_point deadline, const std::atomic<bool>* cancel) {
  Outcome o;
  WriteAll(in, request);
  ::close(in);
  const size_t max_out = opt.max_result_bytes * 2 + (1 << 20);  // JSON quoting may double it
  bool open[3] = {fd[0] >= 0, fd[1] >= 0, fd[2] >= 0}, killed = false;
  std::string* into[3] = {&o.out, &o.err, &o.answer};
  char buf[65536];
  auto kill = [&](bool& why) {
    why = true;
    if (!killed) ::kill(pid, SIGKILL);
    killed = true;
  };
  while (open[0] || open[1] || open[2]) {
    struct pollfd fds[3];
    for (int i = 0; i < 3; ++i) fds[i] = {open[i] ? fd[i] : -1, POLLIN, 0};
    int n = ::poll(fds, 3, static_cast<int>(kPollEvery.count()));
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < 3 && n > 0; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got <= 0) {
        open[i] = false;
        continue;
      }
      if (i == 1 && o.err.size() > kMaxErrorBytes) o.err.erase(0, o.err.size() - kMaxErrorBytes);
      into[i]->append(buf, static_cast<size_t>(got));
    }
    if (!killed && std::max(o.out.size(), o.answer.size()) > max_out) kill(o.too_big);
    if (!killed && ResidentMb(pid) > opt.memory_mb) kill(o.too_much_memory);
    if (!killed && Clock::now() >= deadline) kill(o.timed_out);
    if (!killed && cancel && cancel->load()) kill(o.cancelled);
  }
  // Both pipes closed: the worker is ending; it may still be unwinding.
  for (;;) {
    pid_t w = ::waitpid(pid, &o.status, killed ? 0 : WNOHANG);
    if (w == pid || (w < 0 && errno != EINTR)) break;
    if (w == 0) {
      if (Clock::now() >= deadline) kill(o.timed_out);
      else std::this_thread::sleep_for(kPollEvery);
    }
  }
  return o;
}

}  // namespace

Result<IsolatedAnswer> IsolatedExecutor::Run(const std::string& sql, size_t max_rows, bool csv) {
  IsolatedRun run;
  run.max_rows = max_rows;
  run.csv = csv;
  return Run(sql, run);
}

// size: one worker's whole start (request, pipes, spawn attributes) and its outcome's reading.
Result<IsolatedAnswer> IsolatedExecutor::Run(const std::string& sql, const IsolatedRun& run) {
  const size_t max_rows = run.max_rows;
  const bool csv = run.csv;
  const auto start = Clock::now();
  if (!slots_->Acquire(start + opt_.timeout))
    return Status::Errorf("{}: all {} workers ran statements for {} s; try again later", kBusyPrefix, opt_.workers,
                          opt_.timeout.count());
  std::shared_ptr<void> release(nullptr, [s = slots_](void*) { s->Release(); });
  if (run.on_start) run.on_start();
  if (run.cancel && run.cancel->load()) return Status::Errorf("{} before it started", kCancelledPrefix);
  json req = {{"lake", opt_.lake.string()}, {"sql", sql},       {"max_rows", max_rows},
              {"max_bytes", opt_.max_result_bytes}, {"csv", csv}, {"memory_mb", opt_.memory_mb},
              {"threads", opt_.threads}, {"nice", opt_.nice}, {"athena", run.athena}, {"athena_text", run.athena_text},
              {"catalog", opt_.catalog.string()}, {"database", run.database}, {"lake_optional", opt_.lake_optional},
              {"buckets_only", opt_.buckets_only}, {"remote_s3", opt_.remote_s3}};
  for (const auto& [bucket, dir] : run.local_buckets ? *run.local_buckets : opt_.local_buckets)
    req["buckets"][bucket] = dir.string();
  int file = -1;
  if (!run.csv_file.empty()) {
    file = ::open(run.csv_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (file < 0) return Status::Errorf("cannot write the result file {}: {}", run.csv_file.string(), std::strerror(errno));
  }
  std::shared_ptr<void> close_file(nullptr, [file](void*) { if (file >= 0) ::close(file); });
  Pipe in, out, err, answer;
  if (::pipe2(in.fd, O_CLOEXEC) || ::pipe2(out.fd, O_CLOEXEC) || ::pipe2(err.fd, O_CLOEXEC) ||
      ::pipe2(answer.fd, O_CLOEXEC))
    return Status::Errorf("cannot start a SQL worker: pipe: {}", std::strerror(errno));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in.fd[0], 0);
  posix_spawn_file_actions_adddup2(&fa, file >= 0 ? file : out.fd[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err.fd[1], 2);
  posix_spawn_file_actions_adddup2(&fa, answer.fd[1], 3);
  std::string exe = opt_.executable.string();
  std::vector<char*> argv = {exe.data(), const_cast<char*>("query"), const_cast<char*>("--isolated-worker"), nullptr};
  // The worker starts with no signal blocked and SIGPIPE at its default (this process may
  // block SIGTERM for a signal thread and ignore SIGPIPE).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, pipe;
  sigemptyset(&none);
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &pipe);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, exe.c_str(), &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Status::Errorf("cannot start a SQL worker ({}): {}", exe, std::strerror(rc));
  in.Close(0), out.Close(1), err.Close(1), answer.Close(1);
  if (file >= 0) out.Close(0);  // the text goes to the file
  const int fds[3] = {out.fd[0], err.fd[0], answer.fd[0]};
  Outcome o = Supervise(pid, in.fd[1], fds, req.dump(), opt_, start + opt_.timeout, run.cancel);
  in.fd[1] = -1;  // closed by Supervise
  if (o.cancelled) return Status::Errorf("{} (StopQueryExecution)", kCancelledPrefix);
  if (o.timed_out) return Status::Errorf("the statement ran longer than {} s and was stopped", opt_.timeout.count());
  if (o.too_much_memory) return Status::Error(MemoryError(opt_.memory_mb));
  if (o.too_big)
    return Status::Errorf("the statement's result is larger than {} MB: select fewer columns or rows",
                          opt_.max_result_bytes >> 20);
  json j = json::parse(o.answer, nullptr, false);
  if (j.is_object() && j.contains("error")) {
    std::string m = j["error"].get<std::string>();
    if (m == "\x01memory") m = MemoryError(opt_.memory_mb) + " (an allocation failed)";
    return Status::Error(m);
  }
  if (j.is_object() && j.contains("answer")) {
    IsolatedAnswer a = AnswerFrom(j["answer"]);
    a.csv = std::move(o.out);
    return a;
  }
  // No answer: the worker died. Out of memory (an allocation it could not survive) is the
  // usual reason under the limit; say so, with what it printed.
  std::string how = WIFSIGNALED(o.status) ? fmt::format("signal {}", WTERMSIG(o.status))
                                          : fmt::format("exit code {}", WEXITSTATUS(o.status));
  while (!o.err.empty() && std::isspace(static_cast<unsigned char>(o.err.back()))) o.err.pop_back();
  if (o.err.find("bad_alloc") != std::string::npos || o.err.find("memory") != std::string::npos)
    return Status::Errorf("{} ({})", MemoryError(opt_.memory_mb), how);
  return Status::Errorf("the statement's worker process ended without an answer ({}){}{}", how,
                        o.err.empty() ? "" : ": ", o.err.substr(o.err.size() > 300 ? o.err.size() - 300 : 0));
}

}  // namespace orderlake::query
