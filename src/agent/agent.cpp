#include "agent/agent.h"

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <optional>
#include <regex>
#include <set>
#include <thread>

#include "agent/checkpoint.h"
#include "agent/firehose_client.h"
#include "agent/processing.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/sha256.h"

namespace orderlake::agent {
namespace {

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
  std::vector<uint32_t> ends;  // end of each record in data
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

uint64_t hash_prefix(std::string_view bytes) {
  uint8_t d[32];
  sha256(bytes.data(), bytes.size(), d);
  uint64_t h = 0;
  for (int i = 0; i < 8; ++i) h = (h << 8) | d[i];
  return h;
}

// Reads up to n bytes at off; returns the bytes read (short at end of file).
std::string pread_some(int fd, uint64_t off, size_t n) {
  std::string out(n, '\0');
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, out.data() + got, n - got, static_cast<off_t>(off + got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  out.resize(got);
  return out;
}

int64_t mtime_ns(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// One flow: reader (tailing, records, batches) and sender (delivery, checkpoints).

class Flow {
 public:
  Flow(size_t index, const FlowConfig& cfg, const AgentConfig& agent_cfg, const AgentOptions& opt,
       CheckpointStore& cp)
      : index_(index),
        cfg_(cfg),
        agent_cfg_(agent_cfg),
        opt_(opt),
        cp_(cp),
        id_(cfg.id()),
        processor_(cfg),
        queue_(static_cast<size_t>(cfg.publish_queue_capacity)),
        client_(agent_cfg) {
    if (!cfg.multi_line_start_pattern.empty())
      start_re_ = std::regex(cfg.multi_line_start_pattern, std::regex::ECMAScript | std::regex::optimize);
    if (!cfg.file_footer_pattern.empty())
      footer_re_ = std::regex(cfg.file_footer_pattern, std::regex::ECMAScript | std::regex::optimize);
    for (const auto& e : cp_.entries(id_)) checkpoints_.push_back(e);
    planned_ = cp_.planned_ends(id_);
    client_.set_abort_check([this] { return past_deadline(); });
  }

  void start() {
    reader_ = std::thread([this] { read_loop(); });
    sender_ = std::thread([this] { send_loop(); });
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
  // ----- reader -----
  void read_loop() {
    bool first = true;
    std::vector<char> chunk(kChunkBytes);
    auto poll = std::chrono::milliseconds(cfg_.min_time_between_file_polls_ms);
    while (!stop_) {
      scan(first);
      if (first) {
        // Checkpoints that matched no file: their file vanished or is unreadable for now;
        // a file holding the same first bytes (a copy, or the file once readable) resumes them.
        for (const auto& e : checkpoints_) {
          orphans_.push_back({e.id.fp_len, e.id.fp_hash, e.offset});
          cp_.forget(id_, e.id);
        }
        checkpoints_.clear();
      }
      first = false;
      for (TrackedFile* f : ordered()) {
        if (stop_) break;
        read_file(*f, chunk);
      }
      if (opt_.once) break;
      housekeeping();
      update_lag();
      auto until = Clock::now() + poll;
      while (!stop_ && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    // Hand over what was read: in --once mode every complete record, on a stop the open
    // batches (partial lines and unfinished multi-line records wait for the next run).
    for (TrackedFile* f : ordered()) {
      if (opt_.once) {
        emit_pending_rec(*f);
        if (!f->line.empty() && !f->warned_partial)
          spdlog::warn("agent: {}: {} bytes at the end without a newline are left for the next run", f->path,
                       f->line.size());
      }
      push_batch(*f);
    }
    update_lag();
    queue_.close();
    reader_done_ = true;
  }

  std::vector<TrackedFile*> ordered() {
    std::vector<TrackedFile*> v;
    for (auto& [k, f] : files_) v.push_back(f.get());
    std::sort(v.begin(), v.end(), [](const TrackedFile* a, const TrackedFile* b) {
      if (a->mtime_ns != b->mtime_ns) return a->mtime_ns < b->mtime_ns;
      return a->seq < b->seq;
    });
    return v;
  }

  std::vector<std::string> glob_paths() {
    std::vector<std::string> out;
    glob_t g{};
    int rc = ::glob(cfg_.file_pattern.c_str(), GLOB_NOSORT | GLOB_BRACE, nullptr, &g);
    if (rc == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
    }
    globfree(&g);
    return out;
  }

  static std::string dev_ino_key(uint64_t dev, uint64_t ino) { return fmt::format("{}:{}", dev, ino); }

  void scan(bool first) {
    for (auto& [k, f] : files_) f->in_glob = false;
    for (const std::string& path : glob_paths()) {
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      std::string k = dev_ino_key(st.st_dev, st.st_ino);
      auto it = files_.find(k);
      if (it == files_.end()) {
        discover(path, st, first);
        continue;
      }
      TrackedFile& f = *it->second;
      f.in_glob = true;
      f.not_in_glob_since = {};
      if (f.path != path) {
        spdlog::info("agent: {} is now {} (rotated); reading on", f.path, path);
        ++c_.rotations;
        f.path = path;
        if (f.has_id) cp_.track(id_, f.id, f.path, f.pos);
      }
      if (static_cast<uint64_t>(st.st_size) != f.size_seen || mtime_ns(st) != f.mtime_ns) {
        f.mtime_ns = mtime_ns(st);
        check_identity(f, st);
        f.size_seen = static_cast<uint64_t>(st.st_size);
      }
    }
    for (auto& [k, f] : files_) {
      if (!f->in_glob && f->not_in_glob_since == Clock::time_point{}) f->not_in_glob_since = Clock::now();
    }
    c_.files_tracked = files_.size();
  }

  bool open_file(TrackedFile& f) {
    if (f.fd >= 0) return true;
    int fd = ::open(f.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (!unreadable_.count(f.path)) {
        spdlog::warn("agent: cannot read {}: {} (will retry)", f.path, std::strerror(errno));
        unreadable_.insert(f.path);
        ++c_.files_unreadable;
      }
      return false;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || st.st_dev != f.id.dev || st.st_ino != f.id.ino) {
      ::close(fd);  // the name now holds another file (rotated while closed); scan finds it
      return false;
    }
    unreadable_.erase(f.path);
    f.fd = fd;
    return true;
  }

  void discover(const std::string& path, const struct stat& st, bool first) {
    auto f = std::make_unique<TrackedFile>();
    f->path = path;
    f->seq = next_seq_++;
    f->mtime_ns = mtime_ns(st);
    f->size_seen = static_cast<uint64_t>(st.st_size);
    f->id.dev = st.st_dev;
    f->id.ino = st.st_ino;
    f->in_glob = true;
    if (!open_file(*f)) return;  // retried at the next scan
    // END_OF_FILE applies to the files present at start; files that appear later are new data.
    f->pos = (!cfg_.start_of_file && first) ? static_cast<uint64_t>(st.st_size) : 0;
    if (f->pos > 0 && !told_end_of_file_) {
      spdlog::info("agent: flow {}: initialPosition END_OF_FILE: lines already in the files present at start are "
                   "not sent (START_OF_FILE sends them)", index_);
      told_end_of_file_ = true;
    }
    f->header_left = f->pos == 0 ? cfg_.skip_header_lines : 0;
    if (st.st_size > 0) identify(*f, static_cast<uint64_t>(st.st_size));
    spdlog::info("agent: flow {}: tracking {} from offset {}", index_, path, f->pos);
    files_[dev_ino_key(st.st_dev, st.st_ino)] = std::move(f);
  }

  // Fixes the identity of a non-empty file and finds where to resume it.
  void load_plan(TrackedFile& f) {
    auto it = planned_.find(f.id.source_id());
    if (it == planned_.end()) return;
    for (uint64_t e : it->second)
      if (e > f.pos) f.plan.push_back(e);
    planned_.erase(it);
  }

  void identify(TrackedFile& f, uint64_t size) {
    // A checkpoint of this inode whose first bytes still match: resume there.
    for (auto it = checkpoints_.begin(); it != checkpoints_.end(); ++it) {
      if (it->id.dev != f.id.dev || it->id.ino != f.id.ino || it->id.fp_len > size || it->id.fp_len == 0) continue;
      if (hash_prefix(pread_some(f.fd, 0, it->id.fp_len)) != it->id.fp_hash) continue;
      f.id = it->id;
      f.has_id = true;
      f.pos = std::min<uint64_t>(it->offset, size);
      f.header_left = f.pos == 0 ? cfg_.skip_header_lines : 0;
      spdlog::info("agent: {}: resuming at checkpoint offset {}", f.path, f.pos);
      checkpoints_.erase(it);
      cp_.track(id_, f.id, f.path, f.pos);
      load_plan(f);
      return;
    }
    // The same first bytes as a vanished or truncated file: a copy, resume where it stopped.
    // Matching on first bytes alone needs a full fingerprint: a short prefix ("2024-01-0")
    // is shared by unrelated files, and a false match would skip lines.
    for (auto it = orphans_.begin(); it != orphans_.end(); ++it) {
      if (it->fp_len > size || it->fp_len < kFingerprintBytes) continue;
      if (hash_prefix(pread_some(f.fd, 0, it->fp_len)) != it->fp_hash) continue;
      f.id.fp_len = it->fp_len;
      f.id.fp_hash = it->fp_hash;
      f.has_id = true;
      f.pos = std::min<uint64_t>(it->offset, size);
      f.header_left = f.pos == 0 ? cfg_.skip_header_lines : 0;
      spdlog::info("agent: {}: holds the first bytes of a file read up to {}; resuming there", f.path, f.pos);
      orphans_.erase(it);
      cp_.track(id_, f.id, f.path, f.pos);
      load_plan(f);
      return;
    }
    // The same first bytes as a file being read (copy-truncate seen before the truncation):
    // a copy; it resumes where the original's records end.
    for (auto& [k, other] : files_) {
      if (other.get() == &f || !other->has_id || other->id.fp_len > size || other->id.fp_len < kFingerprintBytes)
        continue;
      if (hash_prefix(pread_some(f.fd, 0, other->id.fp_len)) != other->id.fp_hash) continue;
      f.id.fp_len = other->id.fp_len;
      f.id.fp_hash = other->id.fp_hash;
      f.has_id = true;
      f.pos = std::min<uint64_t>(consumed_offset(*other), size);
      f.header_left = f.pos == 0 ? cfg_.skip_header_lines : 0;
      spdlog::info("agent: {} is a copy of {}; resuming at offset {}", f.path, other->path, f.pos);
      cp_.track(id_, f.id, f.path, f.pos);
      load_plan(f);
      return;
    }
    uint32_t len = static_cast<uint32_t>(std::min<uint64_t>(size, kFingerprintBytes));
    f.id.fp_len = len;
    f.id.fp_hash = hash_prefix(pread_some(f.fd, 0, len));
    f.has_id = true;
    cp_.track(id_, f.id, f.path, f.pos);
      load_plan(f);
  }

  // Notices a copy-truncate: the file shrank below what was read, or its first bytes changed.
  void check_identity(TrackedFile& f, const struct stat& st) {
    uint64_t size = static_cast<uint64_t>(st.st_size);
    if (!f.has_id) {
      if (size > 0 && open_file(f)) identify(f, size);
      return;
    }
    bool truncated = size < f.pos;
    if (!truncated && f.fd >= 0 && size >= f.id.fp_len)
      truncated = hash_prefix(pread_some(f.fd, 0, f.id.fp_len)) != f.id.fp_hash;
    if (!truncated) return;
    ++c_.truncations;
    uint64_t done_at = consumed_offset(f);
    spdlog::info("agent: {} was truncated (size {} < offset {} or new first bytes); reading it again from 0",
                 f.path, size, f.pos);
    push_batch(f);
    Orphan old{f.id.fp_len, f.id.fp_hash, done_at};
    cp_.retire(id_, f.id, end_of_batches(f, done_at));
    // Start over as a new file.
    f.line.clear();
    f.line_overflow = false;
    f.rec.clear();
    f.rec_open = false;
    f.pos = 0;
    f.header_left = cfg_.skip_header_lines;
    f.footer_seen = false;
    f.has_id = false;
    std::vector<CheckpointEntry> saved;
    saved.swap(checkpoints_);  // a truncated file never resumes an old checkpoint
    if (size > 0 && open_file(f)) identify(f, size);
    saved.swap(checkpoints_);
    orphans_.push_back(old);  // after identify: the truncated file must not resume itself
  }

  // The offset below which every byte was turned into records (or skipped).
  static uint64_t consumed_offset(const TrackedFile& f) {
    if (f.rec_open) return f.rec_start;
    if (!f.line.empty() || f.line_overflow) return f.line_start;
    return f.pos;
  }
  uint64_t end_of_batches(const TrackedFile& f, uint64_t fallback) {
    uint64_t last = last_pushed_end_[f.id.source_id()];
    return last ? last : std::min(fallback, cp_.acked(id_, f.id));
  }

  void read_file(TrackedFile& f, std::vector<char>& chunk) {
    if (!f.has_id || f.footer_seen) return;
    if (f.fd < 0 && !open_file(f)) return;
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) return;
    uint64_t size = static_cast<uint64_t>(st.st_size);
    while (f.pos < size && !stop_ && !f.footer_seen) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(chunk.size(), size - f.pos));
      ssize_t n = ::pread(f.fd, chunk.data(), want, static_cast<off_t>(f.pos));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      process_chunk(f, chunk.data(), static_cast<size_t>(n));
      f.pos += static_cast<uint64_t>(n);
      c_.bytes_read += static_cast<uint64_t>(n);
      f.last_data = Clock::now();
    }
  }

  void append_capped(TrackedFile& f, const char* p, size_t n) {
    size_t cap = static_cast<size_t>(cfg_.max_record_size) + 1;
    if (f.line.size() < cap) f.line.append(p, std::min(n, cap - f.line.size()));
    if (f.line.size() >= cap) f.line_overflow = true;
  }

  void process_chunk(TrackedFile& f, const char* buf, size_t n) {
    const char* p = buf;
    const char* e = buf + n;
    while (p < e && !f.footer_seen) {
      uint64_t off = f.pos + static_cast<uint64_t>(p - buf);
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(e - p)));
      if (f.line.empty() && !f.line_overflow) f.line_start = off;
      if (!nl) {
        append_capped(f, p, static_cast<size_t>(e - p));
        break;
      }
      size_t len = static_cast<size_t>(nl + 1 - p);
      uint64_t end = off + len;
      if (f.line.empty() && !f.line_overflow) {
        bool over = len > static_cast<size_t>(cfg_.max_record_size);
        on_line(f, std::string_view(p, len), f.line_start, end, over);
      } else {
        append_capped(f, p, len);
        on_line(f, f.line, f.line_start, end, f.line_overflow || f.line.size() > static_cast<size_t>(cfg_.max_record_size));
        f.line.clear();
        f.line_overflow = false;
      }
      p = nl + 1;
    }
  }

  void on_line(TrackedFile& f, std::string_view line, uint64_t start, uint64_t end, bool over) {
    ++c_.records_read;
    if (f.header_left > 0) {
      --f.header_left;
      ++c_.header_lines_skipped;
      return;
    }
    if (footer_re_) {
      std::string_view body = line;
      while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.remove_suffix(1);
      if (std::regex_search(body.begin(), body.end(), *footer_re_)) {
        spdlog::info("agent: {}: footer line at offset {}; the rest of the file is not read", f.path, start);
        f.footer_seen = true;
        return;
      }
    }
    if (!start_re_) {
      emit(f, line, start, end, over);
      return;
    }
    std::string_view body = line;
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.remove_suffix(1);
    bool is_start = std::regex_search(body.begin(), body.end(), *start_re_, std::regex_constants::match_continuous);
    if (is_start || !f.rec_open) {
      emit_pending_rec(f);
      f.rec.assign(line.substr(0, std::min<size_t>(line.size(), cfg_.max_record_size + 1)));
      f.rec_start = start;
      f.rec_end = end;
      f.rec_open = true;
      f.rec_overflow = over;
      return;
    }
    size_t cap = static_cast<size_t>(cfg_.max_record_size) + 1;
    if (f.rec.size() < cap) f.rec.append(line.substr(0, cap - f.rec.size()));
    if (f.rec.size() >= cap) f.rec_overflow = true;
    f.rec_end = end;
  }

  void emit_pending_rec(TrackedFile& f) {
    if (!f.rec_open) return;
    f.rec_open = false;
    emit(f, f.rec, f.rec_start, f.rec_end, f.rec_overflow || f.rec.size() > static_cast<size_t>(cfg_.max_record_size));
    f.rec.clear();
  }

  void emit(TrackedFile& f, std::string_view raw, uint64_t start, uint64_t end, bool over) {
    std::string_view out = raw;
    if (over) {
      scratch_.assign(raw);
      RecordProcessor::truncate(scratch_, static_cast<size_t>(cfg_.max_record_size), cfg_.truncated_record_terminator);
      ++c_.records_truncated;
      if (c_.records_truncated <= 10)
        spdlog::warn("agent: {}: record at offset {} is longer than {} bytes; truncated", f.path, start,
                     cfg_.max_record_size);
      out = scratch_;
    }
    if (processor_.transforms()) {
      if (!processor_.process(out, processed_)) {
        ++c_.records_rejected;
        if (c_.records_rejected <= 10)
          spdlog::warn("agent: {}: record at offset {} does not match the flow's processing options; skipped",
                       f.path, start);
        if (f.has_batch) f.batch.end = end;
        return;
      }
      if (RecordProcessor::truncate(processed_, std::min<size_t>(kFirehoseMaxRecord, cfg_.max_record_size),
                                    cfg_.truncated_record_terminator))
        ++c_.records_truncated;
      out = processed_;
    }
    // After a restart, cut at the ends the last run used (a replay the service can recognise).
    while (!f.plan.empty() && f.plan.front() <= start) f.plan.pop_front();
    if (f.has_batch && (f.batch.ends.size() + 1 > static_cast<size_t>(cfg_.max_buffer_size_records) ||
                        f.batch.data.size() + out.size() > static_cast<size_t>(cfg_.max_buffer_size_bytes)))
      push_batch(f);
    if (!f.has_batch) {
      f.has_batch = true;
      f.batch = Batch{};
      f.batch.id = f.id;
      f.batch.path = f.path;
      f.batch.start = start;
      f.batch.created = Clock::now();
      f.batch.data.reserve(std::min<size_t>(static_cast<size_t>(cfg_.max_buffer_size_bytes), 1 << 20));
    }
    f.batch.data.append(out);
    open_bytes_ += out.size();
    f.batch.ends.push_back(static_cast<uint32_t>(f.batch.data.size()));
    f.batch.end = end;
    if (open_bytes_ > kOpenBatchBudget) {
      push_batch(f);
      return;
    }
    if (!f.plan.empty() && f.plan.front() <= end) {
      bool exact = f.plan.front() == end;
      while (!f.plan.empty() && f.plan.front() <= end) f.plan.pop_front();
      if (exact) {
        push_batch(f);
        return;
      }
    }
    if (f.batch.ends.size() >= static_cast<size_t>(cfg_.max_buffer_size_records)) push_batch(f);
  }

  void push_batch(TrackedFile& f) {
    if (!f.has_batch) return;
    f.has_batch = false;
    open_bytes_ -= std::min(open_bytes_, f.batch.data.size());
    last_pushed_end_[f.batch.id.source_id()] = f.batch.end;
    ++c_.queued_batches;
    if (!queue_.push(std::move(f.batch))) --c_.queued_batches;
    f.batch = Batch{};
  }

  void housekeeping() {
    auto now = Clock::now();
    auto age = std::chrono::milliseconds(cfg_.max_buffer_age_ms);
    for (auto it = files_.begin(); it != files_.end();) {
      TrackedFile& f = *it->second;
      // A multi-line record with nothing after it for a buffer age is complete.
      if (f.rec_open && now - f.last_data >= age) emit_pending_rec(f);
      if (f.has_batch && now - f.batch.created >= age) push_batch(f);
      // A file that left the pattern (renamed away or deleted) and was read to its end.
      bool gone = !f.in_glob && now - f.not_in_glob_since >= std::chrono::seconds(1);
      struct stat st {};
      bool at_end = f.fd < 0 || (::fstat(f.fd, &st) == 0 && static_cast<uint64_t>(st.st_size) <= f.pos);
      if (gone && at_end) {
        if (!f.line.empty()) {  // the writer is done with it: its last line gets a newline
          std::string last = f.line + "\n";
          uint64_t start = f.line_start;
          f.line.clear();
          f.line_overflow = false;
          emit_pending_rec(f);
          emit(f, last, start, f.pos, last.size() > static_cast<size_t>(cfg_.max_record_size));
        }
        emit_pending_rec(f);
        push_batch(f);
        if (f.has_id) {
          uint64_t last = last_pushed_end_[f.id.source_id()];
          cp_.retire(id_, f.id, last ? last : cp_.acked(id_, f.id));
          last_pushed_end_.erase(f.id.source_id());
        }
        spdlog::info("agent: flow {}: finished {} at offset {}", index_, f.path, f.pos);
        if (f.fd >= 0) ::close(f.fd);
        it = files_.erase(it);
        continue;
      }
      // Close idle files to bound open descriptors; they reopen when they grow.
      if (f.in_glob && f.fd >= 0 && at_end && f.line.empty() && !f.rec_open && !f.has_batch &&
          now - f.last_data >= kIdleClose) {
        ::close(f.fd);
        f.fd = -1;
      }
      ++it;
    }
    c_.files_tracked = files_.size();
  }

  // Reader thread only, or after join().
  void update_lag() {
    uint64_t lag = 0;
    for (auto& [k, f] : files_) {
      if (!f->has_id) continue;
      uint64_t acked = cp_.acked(id_, f->id);
      if (f->size_seen > acked) lag += f->size_seen - acked;
    }
    c_.lag_bytes = lag;
  }

  // ----- sender -----
  void send_loop() {
    Batch b;
    std::mt19937_64 rng(std::random_device{}());
    while (queue_.pop(b)) {
      if (c_.queued_batches > 0) --c_.queued_batches;
      if (past_deadline()) {
        spdlog::warn("agent: flow {}: shutdown timeout reached; {} [{}, {}) and the batches after it are sent "
                     "at the next start", index_, b.path, b.start, b.end);
        queue_.abort();
        break;
      }
      if (!send(b, rng)) {
        queue_.abort();
        break;
      }
    }
    sender_done_ = true;
  }

  bool past_deadline() const {
    if (!stop_) return false;
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
    return now >= deadline_ms_;
  }

  bool send(const Batch& b, std::mt19937_64& rng) {
    std::vector<size_t> pending(b.ends.size());
    for (size_t i = 0; i < pending.size(); ++i) pending[i] = i;
    const std::string token = b.token();
    cp_.begin_send(id_, b.id, b.start, b.end);
    std::vector<std::string_view> views;
    for (int attempt = 1;; ++attempt) {
      views.clear();
      for (size_t i : pending) {
        size_t s = i == 0 ? 0 : b.ends[i - 1];
        views.emplace_back(b.data.data() + s, b.ends[i] - s);
      }
      ++c_.send_attempts;
      PutBatchResult r = client_.put_record_batch(cfg_.delivery_stream, views, token);
      if (r.ok()) break;
      ++c_.send_failures;
      if (r.transport_ok && r.http_status == 200) {
        // Resend only the failed records, in their order.
        std::vector<size_t> next;
        for (size_t k = 0; k < pending.size(); ++k)
          if (r.failed[k]) next.push_back(pending[k]);
        c_.records_retried += next.size();
        c_.records_sent += pending.size() - next.size();
        pending.swap(next);
      }
      bool last = opt_.max_attempts > 0 && attempt >= opt_.max_attempts;
      auto level = attempt <= 3 ? spdlog::level::warn : spdlog::level::err;
      spdlog::log(level, "agent: flow {} ({}): PutRecordBatch of {} records from {} [{}, {}) failed (attempt {}): {} {}",
                  index_, cfg_.delivery_stream, pending.size(), b.path, b.start, b.end, attempt, r.error_code,
                  r.error_message);
      if (last) {
        error_ = Status::Errorf("delivery to {} at {} failed after {} attempts: {} {}", cfg_.delivery_stream,
                                agent_cfg_.endpoint, attempt, r.error_code, r.error_message);
        return false;
      }
      // Exponential backoff with full jitter.
      double cap = std::min<double>(static_cast<double>(cfg_.retry_max_backoff_ms),
                                    static_cast<double>(cfg_.retry_initial_backoff_ms) * std::pow(2.0, std::min(attempt - 1, 30)));
      auto wait = std::chrono::milliseconds(static_cast<int64_t>(std::uniform_real_distribution<double>(0, cap)(rng)));
      auto until = Clock::now() + wait;
      while (!past_deadline() && Clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(20, wait.count() + 1)));
      if (past_deadline()) {
        spdlog::warn("agent: flow {}: shutdown timeout reached; {} [{}, {}) stays unacknowledged and is sent "
                     "again at the next start", index_, b.path, b.start, b.end);
        return false;
      }
    }
    c_.records_sent += pending.size();
    c_.bytes_sent += b.data.size();
    ++c_.batches_sent;
    cp_.ack(id_, b.id, b.path, b.end);
    return true;
  }

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
  size_t open_bytes_ = 0;
  std::string scratch_, processed_;

  std::atomic<bool> stop_{false};
  std::atomic<int64_t> deadline_ms_{0};
  std::atomic<bool> reader_done_{false}, sender_done_{false};
  std::thread reader_, sender_;
};

// ---------------------------------------------------------------------------------------

struct Agent::Impl {
  std::unique_ptr<CheckpointStore> cp;
  std::vector<std::unique_ptr<Flow>> flows;
  Clock::time_point started = Clock::now();
  Clock::time_point last_progress = Clock::now();
  uint64_t last_sent = 0;
};

Agent::Agent(AgentConfig cfg, AgentOptions opt) : cfg_(std::move(cfg)), opt_(opt), impl_(std::make_unique<Impl>()) {}

Agent::~Agent() {
  RequestStop();
  for (auto& f : impl_->flows) f->join();
}

Result<std::unique_ptr<Agent>> Agent::Create(AgentConfig cfg, AgentOptions opt) {
  std::unique_ptr<Agent> a(new Agent(std::move(cfg), opt));
  auto cp = CheckpointStore::Open(a->cfg_.checkpoint_file);
  if (!cp.ok()) return cp.status();
  a->impl_->cp = std::move(cp).value();
  for (size_t i = 0; i < a->cfg_.flows.size(); ++i)
    a->impl_->flows.push_back(std::make_unique<Flow>(i, a->cfg_.flows[i], a->cfg_, a->opt_, *a->impl_->cp));
  return a;
}

Status Agent::Start() {
  for (const auto& n : cfg_.notes) spdlog::info("agent: {}", n);
  if (cfg_.credentials.empty())
    spdlog::warn("agent: no AWS credentials (agent.json, AWS_ACCESS_KEY_ID or ~/.aws/credentials); requests go unsigned");
  else
    spdlog::info("agent: credentials from {}", cfg_.credentials.source);
  spdlog::info("agent: {} flow(s) to {} (region {}), checkpoints in {}", cfg_.flows.size(), cfg_.endpoint, cfg_.region,
               cfg_.checkpoint_file);
  for (auto& f : impl_->flows) f->start();
  return Status::OK();
}

void Agent::RequestStop() {
  auto deadline = Clock::now() + std::chrono::milliseconds(cfg_.shutdown_timeout_ms);
  for (auto& f : impl_->flows) f->request_stop(deadline);
}

bool Agent::Done() const {
  for (auto& f : impl_->flows)
    if (!f->done()) return false;
  return true;
}

Status Agent::FlushCheckpoints() { return impl_->cp->flush(); }

Status Agent::Wait() {
  for (auto& f : impl_->flows) {
    f->join();
    f->refresh_lag_after_join();
  }
  Status st = impl_->cp->flush();
  for (auto& f : impl_->flows)
    if (!f->error().ok()) return f->error();
  return st;
}

std::string Agent::MetricsText() const {
  std::string out;
  struct Metric {
    const char* name;
    const char* help;
    const char* type;
    std::atomic<uint64_t> FlowCounters::*field;
  };
  static const Metric kMetrics[] = {
      {"orderlake_agent_records_read_total", "Lines read from the flow's files", "counter", &FlowCounters::records_read},
      {"orderlake_agent_bytes_read_total", "Bytes read from the flow's files", "counter", &FlowCounters::bytes_read},
      {"orderlake_agent_records_sent_total", "Records acknowledged by the delivery stream", "counter", &FlowCounters::records_sent},
      {"orderlake_agent_bytes_sent_total", "Record bytes acknowledged by the delivery stream", "counter", &FlowCounters::bytes_sent},
      {"orderlake_agent_batches_sent_total", "PutRecordBatch calls fully acknowledged", "counter", &FlowCounters::batches_sent},
      {"orderlake_agent_records_rejected_total", "Records skipped by a processing option", "counter", &FlowCounters::records_rejected},
      {"orderlake_agent_records_truncated_total", "Records cut to maxRecordSize", "counter", &FlowCounters::records_truncated},
      {"orderlake_agent_header_lines_skipped_total", "Lines skipped by skipHeaderLines", "counter", &FlowCounters::header_lines_skipped},
      {"orderlake_agent_send_attempts_total", "PutRecordBatch calls", "counter", &FlowCounters::send_attempts},
      {"orderlake_agent_send_failures_total", "PutRecordBatch calls with a failure", "counter", &FlowCounters::send_failures},
      {"orderlake_agent_records_retried_total", "Records resent after a partial failure", "counter", &FlowCounters::records_retried},
      {"orderlake_agent_rotations_total", "Tracked files seen under a new name", "counter", &FlowCounters::rotations},
      {"orderlake_agent_truncations_total", "Tracked files found truncated", "counter", &FlowCounters::truncations},
      {"orderlake_agent_files_unreadable_total", "Matching files that could not be opened", "counter", &FlowCounters::files_unreadable},
      {"orderlake_agent_files_tracked", "Files being tailed", "gauge", &FlowCounters::files_tracked},
      {"orderlake_agent_lag_bytes", "Bytes in tracked files not yet acknowledged", "gauge", &FlowCounters::lag_bytes},
      {"orderlake_agent_queued_batches", "Batches read and waiting for the sender", "gauge", &FlowCounters::queued_batches},
  };
  for (const Metric& m : kMetrics) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", m.name, m.help, m.name, m.type);
    for (size_t i = 0; i < impl_->flows.size(); ++i) {
      const FlowConfig& fc = impl_->flows[i]->config();
      std::string pattern;
      for (char ch : fc.file_pattern) {
        if (ch == '"' || ch == '\\') pattern.push_back('\\');
        pattern.push_back(ch);
      }
      out += fmt::format("{}{{flow=\"{}\",stream=\"{}\",pattern=\"{}\"}} {}\n", m.name, i, fc.delivery_stream, pattern,
                         (impl_->flows[i]->counters().*(m.field)).load());
    }
  }
  return out;
}

std::string Agent::ProgressLine() {
  uint64_t sent = 0, lag = 0, read = 0, tracked = 0;
  for (auto& f : impl_->flows) {
    sent += f->counters().records_sent;
    lag += f->counters().lag_bytes;
    read += f->counters().records_read;
    tracked += f->counters().files_tracked;
  }
  auto now = Clock::now();
  double secs = std::chrono::duration<double>(now - impl_->last_progress).count();
  double rate = secs > 0 ? static_cast<double>(sent - impl_->last_sent) / secs : 0;
  impl_->last_progress = now;
  impl_->last_sent = sent;
  return fmt::format("agent: {} lines read, {} records delivered ({:.0f}/s), {} files tracked, lag {}", read, sent,
                     rate, tracked, fs::human_bytes(static_cast<double>(lag)));
}

}  // namespace orderlake::agent
