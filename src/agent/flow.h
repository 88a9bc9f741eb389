// One flow of the agent (private to src/agent/): a reader thread tails the files matching
// the flow's pattern and cuts their records into batches; a sender thread delivers the
// batches in order and advances the checkpoints. The class is one unit of state, and its
// code is split along the three seams of the work:
//   - tailing.cpp:  files, rotation, truncation, identities and checkpoints (the reader loop);
//   - batching.cpp: lines into records (multi-line, headers, footers, processing options)
//                   and records into batches;
//   - sending.cpp:  PutRecordBatch requests, retries with backoff, acknowledgements.
#pragma once
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "agent/agent.h"
#include "agent/checkpoint.h"
#include "agent/firehose_client.h"
#include "agent/processing.h"
#include "core/status.h"
#include "core/thread_name.h"

namespace orderlake::agent::internal {

using Clock = std::chrono::steady_clock;
constexpr size_t kChunkBytes = 1 << 20;     // read unit
constexpr uint32_t kFingerprintBytes = 1024;  // bytes hashed into a file's identity
constexpr size_t kFirehoseMaxRecord = 1'024'000;
constexpr auto kIdleClose = std::chrono::seconds(60);
// Bytes held in the open (not yet queued) batches of all files of a flow; past it, a batch is
// queued before it is full, so many files written at once cannot pile up memory.
constexpr size_t kOpenBatchBudget = 16u << 20;

struct Batch {
  FileIdentity id;
  std::string path;
  uint64_t start = 0, end = 0;
  std::string data;
  std::vector<uint32_t> ends;  // end of each Firehose record in data (several lines each with aggregation)
  Clock::time_point created;
  std::string token() const { return fmt::format("{};{};{}", id.source_id(), start, end); }
};

// A FIFO of batches with a capacity; push waits while full (the back-pressure on reading).
class BatchQueue {
 public:
  explicit BatchQueue(size_t cap) : cap_(cap) {}
  // False if the queue was aborted while waiting.
  bool push(Batch b) {
    std::unique_lock lk(mu_);
    not_full_.wait(lk, [&] { return q_.size() < cap_ || aborted_; });
    if (aborted_) return false;
    q_.push_back(std::move(b));
    not_empty_.notify_one();
    return true;
  }
  // Waits for a batch; false when closed and empty (or aborted).
  bool pop(Batch& out) {
    std::unique_lock lk(mu_);
    not_empty_.wait(lk, [&] { return !q_.empty() || closed_ || aborted_; });
    if (aborted_ || q_.empty()) return false;
    out = std::move(q_.front());
    q_.pop_front();
    not_full_.notify_one();
    return true;
  }
  void close() {
    std::lock_guard lk(mu_);
    closed_ = true;
    not_empty_.notify_all();
  }
  void abort() {
    std::lock_guard lk(mu_);
    aborted_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }
  size_t size() const {
    std::lock_guard lk(mu_);
    return q_.size();
  }

 private:
  size_t cap_;
  mutable std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<Batch> q_;
  bool closed_ = false, aborted_ = false;
};

struct TrackedFile {
  FileIdentity id;
  bool has_id = false;
  std::string path;
  int fd = -1;
  uint64_t pos = 0;         // next byte to read
  uint64_t size_seen = 0;
  int64_t mtime_ns = 0;
  uint64_t seq = 0;         // discovery order
  // The line being read (bytes after the last newline), capped at maxRecordSize + 1.
  std::string line;
  uint64_t line_start = 0;
  bool line_overflow = false;
  bool line_skipping = false;  // inside a line over maxLineBytes (from line_start): dropped
  // A multi-line record being assembled.
  std::string rec;
  uint64_t rec_start = 0, rec_end = 0;
  bool rec_open = false, rec_overflow = false;
  int64_t header_left = 0;
  bool footer_seen = false;
  bool in_glob = true;
  Clock::time_point not_in_glob_since{};
  Clock::time_point last_data = Clock::now();
  bool has_batch = false;
  Batch batch;
  bool warned_partial = false;
  std::deque<uint64_t> plan;  // batch ends sent by the last run beyond the checkpoint
};

struct Orphan {  // an identity whose file vanished or was truncated: a copy may resume it
  uint32_t fp_len;
  uint64_t fp_hash;
  uint64_t offset;
};
// The most recent orphans kept (one is added per copy-truncate rotation; each new file is
// compared with every orphan, so they must not accumulate over months).
inline constexpr size_t kMaxOrphans = 64;

// ---------------------------------------------------------------------------------------
// One flow: reader (tailing, records, batches) and sender (delivery, checkpoints).

class Flow {
 public:
  Flow(size_t index, const FlowConfig& cfg, const AgentConfig& agent_cfg, const AgentOptions& opt,
       CheckpointStore& cp);

  void start() {
    reader_ = std::thread([this] {
      SetThreadName("agent-read");
      read_loop();
    });
    sender_ = std::thread([this] {
      SetThreadName("agent-send");
      send_loop();
    });
  }
  void request_stop(Clock::time_point deadline) {
    deadline_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(deadline.time_since_epoch()).count();
    stop_ = true;
  }
  void join() {
    if (reader_.joinable()) reader_.join();
    if (sender_.joinable()) sender_.join();
  }
  bool done() const { return reader_done_ && sender_done_; }
  const Status& error() const { return error_; }
  FlowCounters& counters() { return c_; }
  void refresh_lag_after_join() { update_lag(); }
  const FlowConfig& config() const { return cfg_; }

 private:
  // ----- reader (tailing.cpp) -----
  void read_loop();
  std::vector<TrackedFile*> ordered();
  std::vector<std::string> glob_paths();
  static std::string dev_ino_key(uint64_t dev, uint64_t ino);
  void scan(bool first);
  bool open_file(TrackedFile& f);
  void discover(const std::string& path, const struct stat& st, bool first);
  void load_plan(TrackedFile& f);
  void identify(TrackedFile& f, uint64_t size);
  void resume(TrackedFile& f, uint64_t offset, uint64_t size, std::string_view what);
  void check_identity(TrackedFile& f, const struct stat& st);
  static uint64_t consumed_offset(const TrackedFile& f);
  uint64_t end_of_batches(const TrackedFile& f, uint64_t fallback);
  void read_file(TrackedFile& f, std::vector<char>& chunk);
  void housekeeping();
  void update_lag();

  // ----- records and batches (batching.cpp) -----
  void append_capped(TrackedFile& f, const char* p, size_t n);
  void start_skip(TrackedFile& f);
  void end_skip(TrackedFile& f, uint64_t end);
  std::string pattern_directory() const;
  void check_directory();
  void process_chunk(TrackedFile& f, const char* buf, size_t n);
  void on_line(TrackedFile& f, std::string_view line, uint64_t start, uint64_t end, bool over);
  void emit_pending_rec(TrackedFile& f);
  void emit(TrackedFile& f, std::string_view raw, uint64_t start, uint64_t end, bool over);
  void push_batch(TrackedFile& f);

  // ----- sender (sending.cpp) -----
  void send_loop();
  bool past_deadline() const;
  bool send(const Batch& b, std::mt19937_64& rng);

  size_t index_;
  FlowConfig cfg_;
  const AgentConfig& agent_cfg_;
  AgentOptions opt_;
  CheckpointStore& cp_;
  std::string id_;
  RecordProcessor processor_;
  std::optional<std::regex> start_re_, footer_re_;
  BatchQueue queue_;
  FirehoseClient client_;
  FlowCounters c_;
  Status error_;

  std::map<std::string, std::unique_ptr<TrackedFile>> files_;  // by dev:inode
  std::vector<CheckpointEntry> checkpoints_;  // entries not yet matched to a file
  std::vector<Orphan> orphans_;
  std::map<std::string, uint64_t> last_pushed_end_;
  std::map<std::string, std::vector<uint64_t>> planned_;  // by source id, until a file claims it
  std::set<std::string> unreadable_;
  uint64_t next_seq_ = 0;
  bool told_end_of_file_ = false;
  bool directory_missing_ = false;
  size_t open_bytes_ = 0;
  std::string scratch_, processed_;

  std::atomic<bool> stop_{false};
  std::atomic<int64_t> deadline_ms_{0};
  std::atomic<bool> reader_done_{false}, sender_done_{false};
  std::thread reader_, sender_;
};

}  // namespace orderlake::agent::internal
