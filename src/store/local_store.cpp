#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include "core/fs.h"
#include "store/keys.h"
#include "store/object_store.h"

namespace orderlake::store {
namespace {
namespace stdfs = std::filesystem;

class LocalStore final : public ObjectStore {
 public:
  explicit LocalStore(std::string root) : root_(stdfs::absolute(root).lexically_normal()) {
    // Resolved once here, not at every operation; a root that cannot be resolved now keeps
    // its lexical form (ConfinedPath still resolves every key against it).
    auto real = ResolveRoot(root_);
    real_root_ = real.ok() ? *real : root_;
  }

  Result<std::vector<ObjectInfo>> List(std::string_view prefix, std::string_view start_after = {}) override {
    std::vector<ObjectInfo> out;
    ORDERLAKE_RETURN_IF_ERROR(CheckPrefix(prefix));
    std::error_code ec;
    // Start at the deepest directory the prefix names, then filter by the whole prefix.
    const std::string p(prefix);
    const size_t slash = p.rfind('/');
    const stdfs::path start = slash == std::string::npos ? root_ : root_ / p.substr(0, slash);
    if (!stdfs::exists(start, ec)) return out;
    auto it = stdfs::recursive_directory_iterator(start, stdfs::directory_options::skip_permission_denied, ec);
    if (ec) return Status::Errorf("cannot list {}: {}", start.string(), ec.message());
    for (; it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) return Status::Errorf("cannot list {}: {}", start.string(), ec.message());
      const std::string name = it->path().filename().string();
      if (name.starts_with('.')) {
        if (it->is_directory(ec)) it.disable_recursion_pending();
        continue;
      }
      if (it->is_directory(ec)) {
        // Every key below "<dir>/" sorts before start_after unless start_after lies inside
        // the directory: such a directory is not walked, so a listing after a mark costs
        // what lies after it (as S3's start-after does), not the whole tree.
        if (!start_after.empty()) {
          const std::string dir = it->path().lexically_relative(root_).generic_string() + "/";
          if (dir < start_after && !start_after.starts_with(dir)) it.disable_recursion_pending();
        }
        continue;
      }
      if (!it->is_regular_file(ec)) continue;
      std::string key = it->path().lexically_relative(root_).generic_string();
      if (!key.starts_with(p) || (!start_after.empty() && key <= start_after)) continue;
      struct stat st {};
      if (::stat(it->path().c_str(), &st) != 0) continue;  // vanished meanwhile
      out.push_back(ObjectInfo{std::move(key), static_cast<uint64_t>(st.st_size),
                               static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000, ""});
    }
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.key < b.key; });
    return out;
  }

  Result<std::optional<ObjectInfo>> Head(std::string_view key) override {
    struct stat st {};
    auto confined = ConfinedPath(real_root_, key);
    if (!confined.ok()) return confined.status();
    const stdfs::path& path = *confined;
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) return std::optional<ObjectInfo>();
      return Status::Errorf("cannot stat {}: {}", path.string(), std::strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) return std::optional<ObjectInfo>();
    return std::optional<ObjectInfo>(ObjectInfo{std::string(key), static_cast<uint64_t>(st.st_size),
                                                static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000,
                                                ""});
  }

  Result<std::string> Get(std::string_view key, uint64_t offset, std::optional<uint64_t> length) override {
    auto confined = ConfinedPath(real_root_, key);
    if (!confined.ok()) return confined.status();
    const stdfs::path& path = *confined;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::Errorf("cannot open {}: {}", path.string(), std::strerror(errno));
    struct stat st {};
    ::fstat(fd, &st);
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    const uint64_t from = std::min(offset, size);
    const uint64_t n = length ? std::min(*length, size - from) : size - from;
    std::string out(n, '\0');
    size_t done = 0;
    while (done < n) {
      ssize_t got = ::pread(fd, out.data() + done, n - done, static_cast<off_t>(from + done));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        int e = errno;
        ::close(fd);
        if (got == 0) {
          out.resize(done);
          return out;
        }
        return Status::Errorf("cannot read {}: {}", path.string(), std::strerror(e));
      }
      done += static_cast<size_t>(got);
    }
    ::close(fd);
    return out;
  }

  Status Put(std::string_view key, std::string_view data) override {
    auto path = ConfinedPath(real_root_, key);
    if (!path.ok()) return path.status();
    return fs::write_file_atomic(*path, data);
  }

  Result<bool> PutIfAbsent(std::string_view key, std::string_view data) override {
    // Write a temporary, then link() it to the key: link fails if the key exists.
    auto confined = ConfinedPath(real_root_, key);
    if (!confined.ok()) return confined.status();
    const stdfs::path& path = *confined;
    ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(path.parent_path()));
    thread_local std::mt19937_64 rng{std::random_device{}()};
    const stdfs::path tmp = path.parent_path() / fmt::format(".{}.{:x}.tmp", path.filename().string(), rng());
    ORDERLAKE_RETURN_IF_ERROR(fs::write_file_atomic(tmp, data));
    const int rc = ::link(tmp.c_str(), path.c_str());
    const int e = errno;
    ::unlink(tmp.c_str());
    if (rc == 0) {
      ORDERLAKE_RETURN_IF_ERROR(fs::fsync_path(path.parent_path()));
      return true;
    }
    if (e == EEXIST) return false;
    return Status::Errorf("cannot create {}: {}", path.string(), std::strerror(e));
  }

  Status Delete(std::string_view key) override {
    auto confined = ConfinedPath(real_root_, key);
    if (!confined.ok()) return confined.status();
    const stdfs::path& path = *confined;
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      return Status::Errorf("cannot delete {}: {}", path.string(), std::strerror(errno));
    return Status::OK();
  }

  std::string url() const override { return "file://" + root_.string(); }
  std::string local_root() const override { return root_.string(); }

 private:
  stdfs::path root_;
  stdfs::path real_root_;  // root_ with its symlinks resolved (for ConfinedPath)
};
}  // namespace

std::unique_ptr<ObjectStore> OpenLocal(const std::string& directory) {
  return std::make_unique<LocalStore>(directory);
}

Result<std::unique_ptr<ObjectStore>> Open(const std::string& location, const S3Options& s3) {
  if (location.rfind("s3://", 0) == 0) {
    std::string_view rest = std::string_view(location).substr(5);
    const size_t slash = rest.find('/');
    std::string_view bucket = rest.substr(0, slash);
    std::string_view prefix = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (bucket.empty()) return Status::Errorf("{}: no bucket name", location);
    return OpenS3(bucket, prefix, s3);
  }
  std::string path = location;
  if (path.rfind("file://", 0) == 0) path = path.substr(7);
  else if (path.find("://") != std::string::npos)
    return Status::Errorf("{}: unsupported location (use a path, file:// or s3://)", location);
  if (path.empty()) return Status::Errorf("empty location");
  return OpenLocal(path);
}

}  // namespace orderlake::store
