#include "query/lake_mirror.h"

#include <cstdlib>

#include "core/fs.h"
#include "core/sha256.h"

namespace orderlake::query {
namespace stdfs = std::filesystem;

namespace {
constexpr std::string_view kSourceFile = "SOURCE";  // the mirrored URL, for a person looking at the cache
}

Result<std::unique_ptr<LakeMirror>> LakeMirror::Open(const std::string& location_url, const stdfs::path& cache_root) {
  auto store = store::Open(location_url);
  if (!store.ok()) return store.status();
  stdfs::path root = cache_root;
  if (root.empty()) {
    const char* xdg = std::getenv("XDG_CACHE_HOME");
    const char* home = std::getenv("HOME");
    root = xdg && *xdg ? stdfs::path(xdg) : stdfs::path(home ? home : "/tmp") / ".cache";
    root /= "orderlake/lakes";
  }
  const stdfs::path local = root / sha256_hex(store.value()->url()).substr(0, 16);
  ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(local));
  ORDERLAKE_RETURN_IF_ERROR(fs::write_file_atomic(local / kSourceFile, store.value()->url() + "\n"));
  return std::unique_ptr<LakeMirror>(new LakeMirror(std::move(store).value(), local));
}

Status LakeMirror::Sync(std::string_view prefix, const std::function<bool(std::string_view key)>& want_key) {
  auto listed = store_->List(prefix);
  if (!listed.ok()) return Status::Errorf("cannot list {}: {}", store_->url(), listed.status().message());
  std::map<std::string, std::string> want;
  for (const auto& o : listed.value())
    if (!want_key || want_key(o.key)) want[o.key] = fmt::format("{}/{}", o.size, o.etag);
  // Remove what the store no longer has (or has changed), then fetch what is missing.
  for (auto it = have_.begin(); it != have_.end();) {
    auto w = want.find(it->first);
    if (w == want.end() || w->second != it->second) {
      std::error_code ec;
      stdfs::remove(local_ / it->first, ec);
      it = have_.erase(it);
    } else {
      ++it;
    }
  }
  // Files left by an earlier process (or another filter) that are not wanted now go too.
  std::error_code ec;
  for (auto it = stdfs::recursive_directory_iterator(local_, ec); !ec && it != stdfs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string key = it->path().lexically_relative(local_).generic_string();
    if (key != kSourceFile && !have_.count(key)) stdfs::remove(it->path(), ec);
  }
  for (const auto& [key, version] : want) {
    if (have_.count(key)) continue;
    auto bytes = store_->Get(key);
    if (!bytes.ok()) return Status::Errorf("cannot read {}/{}: {}", store_->url(), key, bytes.status().message());
    const stdfs::path path = local_ / key;
    ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(path.parent_path()));
    const stdfs::path tmp = path.parent_path() / ("." + path.filename().string() + ".download");
    {
      std::FILE* f = std::fopen(tmp.c_str(), "wb");
      if (!f) return Status::Errorf("cannot write {}", tmp.string());
      const bool ok = std::fwrite(bytes->data(), 1, bytes->size(), f) == bytes->size();
      if (std::fclose(f) != 0 || !ok) return Status::Errorf("cannot write {}", tmp.string());
    }
    stdfs::rename(tmp, path, ec);
    if (ec) return Status::Errorf("cannot rename {}: {}", tmp.string(), ec.message());
    have_[key] = version;
    ++downloads_;
  }
  return Status::OK();
}

}  // namespace orderlake::query
