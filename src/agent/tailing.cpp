// The reader side of a flow: which files match, who they are (device, inode, first bytes),
// where to resume them, rotation and copy-truncate, and reading them in chunks.
#include <fcntl.h>
#include <glob.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "agent/flow.h"
#include "core/log.h"
#include "core/sha256.h"

namespace orderlake::agent::internal {
namespace {

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

Flow::Flow(size_t index, const FlowConfig& cfg, const AgentConfig& agent_cfg, const AgentOptions& opt,
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

void Flow::read_loop() {
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
      if (orphans_.size() > kMaxOrphans)
        orphans_.erase(orphans_.begin(), orphans_.end() - static_cast<std::ptrdiff_t>(kMaxOrphans));
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
      if (f->line_skipping)
        spdlog::warn("agent: {}: the line at offset {} has {} bytes and no newline yet (over maxLineBytes): skipped",
                     f->path, f->line_start, f->pos - f->line_start);
      else if (!f->line.empty() && !f->warned_partial)
        spdlog::warn("agent: {}: {} bytes at the end without a newline are left for the next run", f->path,
                     f->pos - f->line_start);
    }
    push_batch(*f);
  }
  update_lag();
  queue_.close();
  reader_done_ = true;
}

std::vector<TrackedFile*> Flow::ordered() {
  std::vector<TrackedFile*> v;
  for (auto& [k, f] : files_) v.push_back(f.get());
  std::sort(v.begin(), v.end(), [](const TrackedFile* a, const TrackedFile* b) {
    if (a->mtime_ns != b->mtime_ns) return a->mtime_ns < b->mtime_ns;
    return a->seq < b->seq;
  });
  return v;
}

std::vector<std::string> Flow::glob_paths() {
  std::vector<std::string> out;
  glob_t g{};
  int rc = ::glob(cfg_.file_pattern.c_str(), GLOB_NOSORT | GLOB_BRACE, nullptr, &g);
  if (rc == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  globfree(&g);
  return out;
}

std::string Flow::dev_ino_key(uint64_t dev, uint64_t ino) { return fmt::format("{}:{}", dev, ino); }

// The directory part of the pattern before its first wildcard ("/var/log" for
// "/var/log/*/app*.log").
std::string Flow::pattern_directory() const {
  const std::string& pat = cfg_.file_pattern;
  const size_t wild = pat.find_first_of("*?[");
  const size_t slash = pat.rfind('/', wild == std::string::npos ? std::string::npos : wild);
  return slash == 0 ? "/" : pat.substr(0, slash);
}

// As the Kinesis Agent does, a flow whose directory does not exist waits for it: one warning
// (again only after it existed), and the directory_missing gauge meanwhile.
void Flow::check_directory() {
  const std::string dir = pattern_directory();
  struct stat st {};
  const bool missing = ::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode);
  if (missing && !directory_missing_)
    spdlog::warn("agent: flow {}: directory {} of filePattern {} does not exist; waiting for it to appear", index_,
                 dir, cfg_.file_pattern);
  else if (!missing && directory_missing_)
    spdlog::info("agent: flow {}: directory {} appeared", index_, dir);
  directory_missing_ = missing;
  c_.directory_missing = missing ? 1 : 0;
}

void Flow::scan(bool first) {
  check_directory();
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

bool Flow::open_file(TrackedFile& f) {
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

void Flow::discover(const std::string& path, const struct stat& st, bool first) {
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
void Flow::load_plan(TrackedFile& f) {
  auto it = planned_.find(f.id.source_id());
  if (it == planned_.end()) return;
  for (uint64_t e : it->second)
    if (e > f.pos) f.plan.push_back(e);
  planned_.erase(it);
}

// f, identified as the continuation of a file read up to `offset`, resumes there (at most
// at its size) and is tracked; `what` says why, with {} for the offset.
void Flow::resume(TrackedFile& f, uint64_t offset, uint64_t size, std::string_view what) {
  f.has_id = true;
  f.pos = std::min<uint64_t>(offset, size);
  f.header_left = f.pos == 0 ? cfg_.skip_header_lines : 0;
  spdlog::info("agent: {}: {}", f.path, fmt::format(fmt::runtime(what), f.pos));
  cp_.track(id_, f.id, f.path, f.pos);
  load_plan(f);
}

void Flow::identify(TrackedFile& f, uint64_t size) {
  // A checkpoint of this inode whose first bytes still match: resume there.
  for (auto it = checkpoints_.begin(); it != checkpoints_.end(); ++it) {
    if (it->id.dev != f.id.dev || it->id.ino != f.id.ino || it->id.fp_len > size || it->id.fp_len == 0) continue;
    if (hash_prefix(pread_some(f.fd, 0, it->id.fp_len)) != it->id.fp_hash) continue;
    f.id = it->id;
    const uint64_t offset = it->offset;
    checkpoints_.erase(it);
    resume(f, offset, size, "resuming at checkpoint offset {}");
    return;
  }
  // No checkpoint, but the last run sent batches of this inode under an identity whose first
  // bytes still match (it was killed before its checkpoint named the file, which happens
  // when a new file is seen with fewer than kFingerprintBytes): keep that identity, so the
  // batches it sends again carry the same source id and are cut at the same ends, and the
  // delivery stream recognises what it already holds.
  for (const auto& [sid, ends] : planned_) {
    auto id = FileIdentity::FromSourceId(sid);
    if (!id || id->dev != f.id.dev || id->ino != f.id.ino || id->fp_len == 0 || id->fp_len > size) continue;
    if (hash_prefix(pread_some(f.fd, 0, id->fp_len)) != id->fp_hash) continue;
    f.id = *id;
    f.has_id = true;
    spdlog::info("agent: {}: sent by the last run before its checkpoint named it; resending from offset {}",
                 f.path, f.pos);
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
    const uint64_t offset = it->offset;
    orphans_.erase(it);
    resume(f, offset, size, "holds the first bytes of a file read up to {}; resuming there");
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
void Flow::check_identity(TrackedFile& f, const struct stat& st) {
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
  f.line_skipping = false;
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
  if (orphans_.size() > kMaxOrphans) orphans_.erase(orphans_.begin());
}

// The offset below which every byte was turned into records (or skipped).
uint64_t Flow::consumed_offset(const TrackedFile& f) {
  if (f.rec_open) return f.rec_start;
  if (f.line_skipping) return f.pos;  // the skipped bytes are consumed
  if (!f.line.empty() || f.line_overflow) return f.line_start;
  return f.pos;
}

uint64_t Flow::end_of_batches(const TrackedFile& f, uint64_t fallback) {
  uint64_t last = last_pushed_end_[f.id.source_id()];
  return last ? last : std::min(fallback, cp_.acked(id_, f.id));
}

void Flow::read_file(TrackedFile& f, std::vector<char>& chunk) {
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

void Flow::housekeeping() {
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
      if (f.line_skipping) end_skip(f, f.pos);
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
void Flow::update_lag() {
  uint64_t lag = 0;
  for (auto& [k, f] : files_) {
    if (!f->has_id) continue;
    uint64_t acked = cp_.acked(id_, f->id);
    if (f->size_seen > acked) lag += f->size_seen - acked;
  }
  c_.lag_bytes = lag;
}

}  // namespace orderlake::agent::internal
