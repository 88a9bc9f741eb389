#include "core/fs.h"

#include <cstdlib>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

namespace orderlake::fs {

Result<std::string> read_file(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::Errorf("cannot open {}: {}", path.string(), std::strerror(errno));
  std::string out;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return Status::Errorf("cannot read {}: {}", path.string(), std::strerror(e));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

namespace {
// Opens path read-only, applies sync (fsync or syncfs) to it, closes it.
Status sync_with(const std::filesystem::path& path, int (*sync)(int), const char* what) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::Errorf("cannot open {} to sync it: {}", path.string(), std::strerror(errno));
  int rc = sync(fd);
  int e = errno;
  ::close(fd);
  if (rc != 0) return Status::Errorf("{} {} failed: {}", what, path.string(), std::strerror(e));
  return Status::OK();
}
}  // namespace

Status fsync_path(const std::filesystem::path& path) { return sync_with(path, ::fsync, "fsync"); }

Status sync_filesystem(const std::filesystem::path& path) { return sync_with(path, ::syncfs, "syncfs"); }

Status create_directories(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return Status::Errorf("cannot create directory {}: {}", path.string(), ec.message());
  return Status::OK();
}

Status write_file_atomic(const std::filesystem::path& path, std::string_view data, TempName temp) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  auto dir = path.parent_path();
  if (dir.empty()) dir = ".";
  // The deepest directory that exists already: the ones below it are created here, and
  // each new entry must be synced in its parent as well.
  std::filesystem::path existing = dir;
  std::error_code ec;
  while (!existing.empty() && !std::filesystem::exists(existing, ec)) existing = existing.parent_path();
  ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(dir));
  const bool fixed = temp == TempName::kFixed;
  auto tmp = dir / (fixed ? fmt::format(".{}.tmp", path.filename().string())
                          : fmt::format(".{}.{:x}.tmp", path.filename().string(), rng()));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | (fixed ? O_TRUNC : O_EXCL) | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Errorf("cannot create {}: {}", tmp.string(), std::strerror(errno));
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status::Errorf("cannot write {}: {}", tmp.string(), std::strerror(e));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int e = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return Status::Errorf("fsync {} failed: {}", tmp.string(), std::strerror(e));
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return Status::Errorf("cannot rename {} to {}: {}", tmp.string(), path.string(), std::strerror(e));
  }
  for (std::filesystem::path d = dir;; d = d.parent_path()) {
    ORDERLAKE_RETURN_IF_ERROR(fsync_path(d));
    if (d == existing || d.empty() || d == d.parent_path()) break;
  }
  return Status::OK();
}

std::filesystem::path cache_dir() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  const std::filesystem::path root =
      xdg && *xdg ? std::filesystem::path(xdg) : std::filesystem::path(home && *home ? home : "/tmp") / ".cache";
  return root / "orderlake";
}

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} B", b) : fmt::format("{:.1f} {}", b, units[u]);
}

Result<FileLock> FileLock::Acquire(const std::filesystem::path& path, std::string_view what) {
  ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(path.parent_path()));
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Errorf("cannot open lock file {}: {}", path.string(), std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    ::close(fd);
    if (e == EWOULDBLOCK)
      return Status::Errorf("{} is in use by another process (lock {})", what, path.string());
    return Status::Errorf("cannot lock {}: {}", path.string(), std::strerror(e));
  }
  return FileLock(fd);
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace orderlake::fs
