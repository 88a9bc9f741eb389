#include "generate/run.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <memory>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/log.h"
#include "generate/format.h"

namespace orderlake::generate {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0, Clock::time_point t) {
  return std::chrono::duration<double>(t - t0).count();
}

int64_t unix_now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec);
}

// The sequence of log files of one run.
class LogFiles {
 public:
  explicit LogFiles(std::filesystem::path dir) : dir_(std::move(dir)) {}
  ~LogFiles() { (void)close(); }

  Status open_next() {
    ORDERLAKE_RETURN_IF_ERROR(close());
    for (int attempt = 0; attempt < 1000000; ++attempt) {
      const std::string path = (dir_ / log_file_name(unix_now(), seq_++)).string();
      fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
      if (fd_ >= 0) {
        files_.push_back(path);
        file_bytes_ = 0;
        opened_ = Clock::now();
        return Status::OK();
      }
      if (errno != EEXIST)
        return Status::Errorf("cannot create log file '{}' in output directory '{}': {}", path, dir_.string(),
                              std::strerror(errno));
    }
    return Status::Errorf("output directory '{}': no free log file name", dir_.string());
  }

  Status write(const char* data, size_t n) {
    while (n > 0) {
      const ssize_t w = ::write(fd_, data, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        return Status::Errorf("cannot write log file '{}': {}", files_.back(), std::strerror(errno));
      }
      data += w;
      n -= static_cast<size_t>(w);
      file_bytes_ += static_cast<uint64_t>(w);
      total_bytes_ += static_cast<uint64_t>(w);
    }
    return Status::OK();
  }

  Status close() {
    if (fd_ < 0) return Status::OK();
    const int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return Status::Errorf("cannot close log file '{}': {}", files_.back(), std::strerror(errno));
    return Status::OK();
  }

  uint64_t file_bytes() const { return file_bytes_; }
  uint64_t total_bytes() const { return total_bytes_; }
  Clock::time_point opened() const { return opened_; }
  const std::vector<std::string>& files() const { return files_; }
  const std::string& current() const { return files_.back(); }

 private:
  std::filesystem::path dir_;
  int fd_ = -1;
  uint64_t seq_ = 0;
  uint64_t file_bytes_ = 0, total_bytes_ = 0;
  Clock::time_point opened_;
  std::vector<std::string> files_;
};

constexpr size_t kBufferBytes = 1 << 20;  // write in chunks of about 1 MiB

class Runner {
 public:
  Runner(const RunOptions& o, const std::atomic<bool>* stop, std::unique_ptr<OrderGenerator> gen)
      : o_(o),
        stop_(stop),
        gen_(std::move(gen)),
        files_(o.out_dir),
        buf_(new char[kBufferBytes + 2 * OrderGenerator::kMaxLineBytes]),
        backfill_(o.generator.backfill.has_value()) {
    report_.summary = std::make_shared<SummaryBuilder>(gen_->catalog());
    report_.seed = o.generator.seed;
  }

  Result<RunReport> run() {
    ORDERLAKE_RETURN_IF_ERROR(files_.open_next());
    t0_ = Clock::now();
    last_flush_ = last_progress_ = t0_;
    if (o_.rate > 0) run_paced();
    else run_fast();
    if (error_.ok()) error_ = flush();
    Status closed = files_.close();
    if (error_.ok()) error_ = closed;
    if (!error_.ok()) return error_;
    report_.lines = lines_;
    report_.bytes = files_.total_bytes();
    report_.files = files_.files();
    report_.elapsed_s = seconds_since(t0_, Clock::now());
    return std::move(report_);
  }

 private:
  bool stopped() {
    if (stop_ && stop_->load(std::memory_order_relaxed)) {
      report_.interrupted = true;
      return true;
    }
    return false;
  }

  // Fraction of the run done, for back-filled timestamps.
  double progress() const {
    double u;
    if (o_.count > 0) u = static_cast<double>(lines_) / static_cast<double>(o_.count);
    else if (o_.duration_s > 0 && o_.rate > 0) u = static_cast<double>(lines_) / (o_.rate * o_.duration_s);
    else if (o_.duration_s > 0) u = seconds_since(t0_, Clock::now()) / o_.duration_s;
    else u = 0;
    return std::clamp(u, 0.0, 1.0);
  }

  // Appends one line to the buffer; rotates by size at a line boundary. False on error.
  bool emit() {
    if (backfill_ && gen_->at_invoice_start()) gen_->set_progress(progress());
    LineInfo info;
    char* at = buf_.get() + pos_;
    const size_t len = gen_->next_line(at, &info);
    if (o_.rotate_size > 0 && files_.file_bytes() + pos_ + len > o_.rotate_size && files_.file_bytes() + pos_ > 0) {
      if (!(error_ = flush()).ok() || !(error_ = files_.open_next()).ok()) return false;
      std::memmove(buf_.get(), at, len);
    }
    pos_ += len;
    ++lines_;
    report_.summary->add(info);
    if (pos_ >= kBufferBytes && !(error_ = flush()).ok()) return false;
    return true;
  }

  Status flush() {
    if (pos_ == 0) return Status::OK();
    Status st = files_.write(buf_.get(), pos_);
    pos_ = 0;
    if (st.ok() && o_.lines_written) o_.lines_written->store(lines_, std::memory_order_relaxed);
    last_flush_ = Clock::now();
    return st;
  }

  // Time-based work between batches: duration, rotation by time, progress. False = stop.
  bool housekeeping(Clock::time_point now) {
    const double elapsed = seconds_since(t0_, now);
    if (o_.duration_s > 0 && elapsed >= o_.duration_s) return false;
    if (o_.rotate_interval_s > 0 && seconds_since(files_.opened(), now) >= o_.rotate_interval_s &&
        files_.file_bytes() + pos_ > 0) {
      if (!(error_ = flush()).ok() || !(error_ = files_.open_next()).ok()) return false;
    }
    if (o_.progress_interval_s > 0 && seconds_since(last_progress_, now) >= o_.progress_interval_s) {
      const double dt = seconds_since(last_progress_, now);
      spdlog::info("generate: {} lines written, {:.0f} lines/s, now writing {}", lines_,
                   static_cast<double>(lines_ - lines_at_progress_) / dt, files_.current());
      last_progress_ = now;
      lines_at_progress_ = lines_;
    }
    return true;
  }

  void run_fast() {
    constexpr uint64_t kBatch = 4096;  // lines between clock reads
    for (;;) {
      uint64_t end = lines_ + kBatch;
      if (o_.count > 0) end = std::min(end, o_.count);
      while (lines_ < end) {
        if (stopped() || !emit()) return;
      }
      if (o_.count > 0 && lines_ >= o_.count) return;
      if (!housekeeping(Clock::now())) return;
    }
  }

  void run_paced() {
    using namespace std::chrono;
    const auto quantum = milliseconds(1);      // shortest sleep: bursts of rate/1000 lines
    const auto flush_every = milliseconds(10); // a tailer sees lines within ~10 ms
    const auto longest_sleep = milliseconds(50);
    for (;;) {
      const auto now = Clock::now();
      const double elapsed = seconds_since(t0_, now);
      if (o_.duration_s > 0 && elapsed >= o_.duration_s) return;
      // Line i is due at t0 + i/rate.
      uint64_t due = static_cast<uint64_t>(std::floor(o_.rate * elapsed)) + 1;
      if (o_.count > 0) due = std::min(due, o_.count);
      while (lines_ < due) {
        if (stopped() || !emit()) return;
      }
      if (o_.count > 0 && lines_ >= o_.count) return;
      if (stopped() || !housekeeping(now)) return;

      auto wake = t0_ + duration_cast<Clock::duration>(duration<double>(static_cast<double>(lines_) / o_.rate));
      wake = std::clamp(wake, now + quantum, now + longest_sleep);
      if (o_.duration_s > 0)
        wake = std::min(wake, t0_ + duration_cast<Clock::duration>(duration<double>(o_.duration_s)));
      if (pos_ > 0 && (now - last_flush_ >= flush_every || wake - now >= flush_every)) {
        if (!(error_ = flush()).ok()) return;
      }
      std::this_thread::sleep_until(wake);
    }
  }

  const RunOptions& o_;
  const std::atomic<bool>* stop_;
  std::unique_ptr<OrderGenerator> gen_;
  LogFiles files_;
  std::unique_ptr<char[]> buf_;
  size_t pos_ = 0;
  bool backfill_;
  uint64_t lines_ = 0, lines_at_progress_ = 0;
  Clock::time_point t0_, last_flush_, last_progress_;
  Status error_;
  RunReport report_;
};

}  // namespace

std::string log_file_name(int64_t unix_seconds, uint64_t seq) {
  const time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  gmtime_r(&t, &tm);
  return fmt::format("orders-{:04d}{:02d}{:02d}-{:02d}{:02d}{:02d}-{:06d}.log", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, seq);
}

Status RunOptions::Validate() const {
  if (out_dir.empty()) return Status::Error("--out must name a directory for the log files");
  if (!(rate >= 0) || std::isinf(rate))
    return Status::Errorf("--rate must be a number of lines per second >= 0, not {}", rate);
  if (!(duration_s >= 0) || std::isinf(duration_s)) return Status::Error("--duration must be >= 0 seconds");
  if (!(rotate_interval_s >= 0)) return Status::Error("--rotate-interval must be >= 0 seconds");
  if (!(progress_interval_s >= 0)) return Status::Error("--progress-interval must be >= 0 seconds");
  if (generator.backfill && count == 0 && duration_s <= 0)
    return Status::Error("back-filled timestamps (--start) need --count or --duration to spread orders over the range");
  return generator.Validate();
}

Result<RunReport> run_generate(const RunOptions& options, const std::atomic<bool>* stop) {
  ORDERLAKE_RETURN_IF_ERROR(options.Validate());

  std::error_code ec;
  std::filesystem::create_directories(options.out_dir, ec);
  if (ec) return Status::Errorf("cannot create output directory '{}': {}", options.out_dir.string(), ec.message());
  if (!std::filesystem::is_directory(options.out_dir, ec))
    return Status::Errorf("output directory '{}' is not a directory", options.out_dir.string());

  auto gen = OrderGenerator::Create(options.generator);
  if (!gen.ok()) return gen.status();
  Runner runner(options, stop, std::move(gen.value()));
  auto report = runner.run();
  return report;
}

nlohmann::ordered_json RunReport::to_json() const {
  nlohmann::ordered_json j;
  j["lines"] = lines;
  j["files"] = files;
  j["kinds"] = summary ? summary->kinds_json() : nlohmann::ordered_json::object();
  j["expected"] = summary ? summary->expected_json() : nlohmann::ordered_json::object();
  j["seed"] = seed;
  return j;
}

std::string RunReport::human_line() const {
  auto n = [&](LineKind k) { return summary ? summary->count(k) : 0; };
  const double speed = elapsed_s > 0 ? static_cast<double>(lines) / elapsed_s : 0;
  return fmt::format(
      "wrote {} lines ({} valid, {} missing_customer_id, {} non_positive_quantity, {} non_positive_price, "
      "{} malformed; {:.1f} MiB) to {} file{} in {:.2f} s ({:.0f} lines/s), seed {}{}",
      lines, n(LineKind::kValid), n(LineKind::kMissingCustomerId), n(LineKind::kNonPositiveQuantity),
      n(LineKind::kNonPositivePrice), n(LineKind::kMalformed), static_cast<double>(bytes) / (1 << 20), files.size(),
      files.size() == 1 ? "" : "s", elapsed_s, speed, seed, interrupted ? ", interrupted" : "");
}

}  // namespace orderlake::generate
