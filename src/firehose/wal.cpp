#include "firehose/wal.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/fs.h"
#include "core/log.h"
#include "core/thread_name.h"

namespace orderlake::firehose {
namespace stdfs = std::filesystem;

uint32_t wal_crc(std::string_view data) {
  uLong c = crc32(0L, Z_NULL, 0);
  const auto* p = reinterpret_cast<const Bytef*>(data.data());
  size_t left = data.size();
  while (left > 0) {
    auto n = static_cast<uInt>(std::min<size_t>(left, 1u << 30));
    c = crc32(c, p, n);
    p += n;
    left -= n;
  }
  return static_cast<uint32_t>(c);
}

namespace {
void put_u32(char* p, uint32_t v) { std::memcpy(p, &v, 4); }
uint32_t get_u32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
Status write_all(int fd, const char* p, size_t n, const stdfs::path& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::Errorf("cannot write {}: {}", path.string(), std::strerror(errno));
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Status::OK();
}
}  // namespace

Result<std::unique_ptr<Wal>> Wal::Open(const stdfs::path& dir, uint64_t segment_bytes, const ReplayFn& replay) {
  std::unique_ptr<Wal> w(new Wal());
  w->dir_ = dir;
  w->segment_bytes_ = std::max<uint64_t>(segment_bytes, 64 << 10);
  ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(dir));
  std::vector<std::pair<uint64_t, stdfs::path>> found;
  std::error_code ec;
  for (auto& e : stdfs::directory_iterator(dir, ec)) {
    auto name = e.path().filename().string();
    if (name.size() != 24 || name.substr(20) != ".wal") continue;
    found.emplace_back(std::stoull(name.substr(0, 20)), e.path());
  }
  if (ec) return Status::Errorf("cannot list {}: {}", dir.string(), ec.message());
  std::sort(found.begin(), found.end());
  for (auto& [number, path] : found) {
    auto data = fs::read_file(path);
    if (!data.ok()) return data.status();
    Segment seg{number, path, data->size(), {}};
    const std::string& d = *data;
    size_t pos = 0;
    while (pos + 8 <= d.size()) {
      uint32_t len = get_u32(d.data() + pos), crc = get_u32(d.data() + pos + 4);
      if (len == 0 || pos + 8 + len > d.size()) break;
      std::string_view payload(d.data() + pos + 8, len);
      if (wal_crc(payload) != crc) break;
      EntryInfo info = replay(payload);
      auto& m = seg.max_seq[info.stream_id];
      m = std::max(m, info.last_seq);
      pos += 8 + len;
    }
    if (pos != d.size())
      spdlog::warn("firehose WAL {}: ignoring {} bytes of torn or corrupt tail at offset {}", path.string(),
                   d.size() - pos, pos);
    w->segments_.push_back(std::move(seg));
  }
  ORDERLAKE_RETURN_IF_ERROR(w->OpenNewSegment());
  w->flusher_ = std::thread([p = w.get()] {
    SetThreadName("fh-wal");
    p->FlusherLoop();
  });
  return w;
}

Wal::~Wal() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  if (fd_ >= 0) ::close(fd_);
}

Status Wal::OpenNewSegment() {
  uint64_t number = segments_.empty() ? 1 : segments_.back().number + 1;
  auto path = dir_ / fmt::format("{:020}.wal", number);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Errorf("cannot create WAL segment {}: {}", path.string(), std::strerror(errno));
  ORDERLAKE_RETURN_IF_ERROR(fs::fsync_path(dir_));
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  segments_.push_back(Segment{number, path, 0, {}});
  return Status::OK();
}

uint64_t Wal::Append(uint64_t stream_id, uint64_t last_seq, const std::function<void(std::string&)>& encode) {
  std::lock_guard lk(mu_);
  size_t start = pending_.size();
  pending_.append(8, '\0');
  encode(pending_);
  size_t len = pending_.size() - start - 8;
  put_u32(pending_.data() + start, static_cast<uint32_t>(len));
  put_u32(pending_.data() + start + 4, wal_crc(std::string_view(pending_.data() + start + 8, len)));
  auto& m = pending_max_[stream_id];
  m = std::max(m, last_seq);
  appended_lsn_ += 8 + len;
  uint64_t lsn = appended_lsn_;
  work_cv_.notify_one();
  return lsn;
}

bool Wal::WaitDurable(uint64_t lsn) {
  std::unique_lock lk(mu_);
  const uint64_t failures = failures_;
  durable_cv_.wait(lk, [&] { return durable_lsn_ >= lsn || failed_ || failures_ != failures || (failing_ && !stop_); });
  return durable_lsn_ >= lsn;
}

uint64_t Wal::durable_lsn() const {
  std::lock_guard lk(mu_);
  return durable_lsn_;
}

uint64_t Wal::disk_bytes() const {
  std::lock_guard lk(mu_);
  uint64_t n = 0;
  for (auto& s : segments_) n += s.bytes;
  return n;
}

size_t Wal::segment_count() const {
  std::lock_guard lk(mu_);
  return segments_.size();
}

void Wal::FlusherLoop() {
  std::string buf;
  std::map<uint64_t, uint64_t> maxes;
  for (;;) {
    uint64_t target;
    int fd;
    stdfs::path path;
    {
      std::unique_lock lk(mu_);
      work_cv_.wait(lk, [&] { return stop_ || !pending_.empty(); });
      if (pending_.empty() && stop_) return;
      buf.clear();
      buf.swap(pending_);
      maxes.clear();
      maxes.swap(pending_max_);
      target = appended_lsn_;
      fd = fd_;
      path = segments_.back().path;
    }
    Status st = write_all(fd, buf.data(), buf.size(), path);
    if (st.ok() && ::fdatasync(fd) != 0)
      st = Status::Errorf("fdatasync {} failed: {}", path.string(), std::strerror(errno));
    if (!st.ok()) {
      if (!Recover(st, buf, maxes)) return;
      continue;
    }
    {
      std::lock_guard lk(mu_);
      auto& seg = segments_.back();
      seg.bytes += buf.size();
      for (auto& [s, q] : maxes) seg.max_seq[s] = std::max(seg.max_seq[s], q);
      durable_lsn_ = target;
      if (failing_) spdlog::warn("firehose WAL: writing again after {} failed attempts", failures_);
      failing_ = false;
      if (seg.bytes >= segment_bytes_) {
        Status r = OpenNewSegment();
        if (!r.ok()) spdlog::error("firehose WAL: {}", r.message());
      }
    }
    durable_cv_.notify_all();
    if (on_durable_) on_durable_();
    if (buf.capacity() > (16u << 20)) std::string().swap(buf);
  }
}

// A failed write or sync (a full disk, an I/O error): nothing of `buf` is acknowledged. The
// segment is cut back to its durable length (so no torn entry sits before later ones), the
// waiters are told (their puts fail with ServiceUnavailable and are retried by the client),
// and the same bytes are written again after a pause, ahead of anything appended since: the
// log heals by itself once there is space. Only a segment that cannot be cut back stops it.
bool Wal::Recover(const Status& error, std::string& buf, std::map<uint64_t, uint64_t>& maxes) {
  std::unique_lock lk(mu_);
  const auto& seg = segments_.back();
  if (::ftruncate(fd_, static_cast<off_t>(seg.bytes)) != 0) {
    spdlog::critical("firehose WAL: {}; and cannot cut {} back to {} bytes ({}): refusing further writes",
                     error.message(), seg.path.string(), seg.bytes, std::strerror(errno));
    failed_ = true;
    durable_cv_.notify_all();
    return false;
  }
  if (!failing_) spdlog::error("firehose WAL: {}; puts fail until a write succeeds again", error.message());
  failing_ = true;
  ++failures_;
  durable_cv_.notify_all();
  // The failed bytes go back in front of what was appended meanwhile, in log order.
  buf.append(pending_);
  pending_.swap(buf);
  for (auto& [s, q] : maxes) pending_max_[s] = std::max(pending_max_[s], q);
  work_cv_.wait_for(lk, std::chrono::milliseconds(200), [&] { return stop_; });
  return !stop_;
}

void Wal::Release(const std::function<bool(uint64_t, uint64_t)>& delivered) {
  std::vector<stdfs::path> remove;
  {
    std::lock_guard lk(mu_);
    for (size_t i = 0; i + 1 < segments_.size();) {
      bool all = true;
      for (auto& [s, q] : segments_[i].max_seq)
        if (!delivered(s, q)) {
          all = false;
          break;
        }
      if (all) {
        remove.push_back(segments_[i].path);
        segments_.erase(segments_.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        ++i;
      }
    }
  }
  for (auto& p : remove) {
    if (::unlink(p.c_str()) != 0) spdlog::warn("firehose WAL: cannot delete {}: {}", p.string(), std::strerror(errno));
    else spdlog::debug("firehose WAL: deleted delivered segment {}", p.string());
  }
}

}  // namespace orderlake::firehose
