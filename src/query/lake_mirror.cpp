#include "query/lake_mirror.h"

#include <cstdlib>

#include "core/fs.h"
#include "core/sha256.h"
#include "table/delta.h"

namespace orderlake::query {
namespace stdfs = std::filesystem;

namespace {
constexpr std::string_view kTablePrefix = "orders/";
}

Result<std::unique_ptr<LakeMirror>> LakeMirror::Open(const std::string& lake_url, const stdfs::path& cache_root) {
  auto store = store::Open(lake_url);
  if (!store.ok()) return store.status();
  stdfs::path root = cache_root;
  if (root.empty()) root = fs::cache_dir() / "lakes";
  const stdfs::path local = root / sha256_hex(store.value()->url()).substr(0, 16);
  ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(local / kTablePrefix));
  ORDERLAKE_RETURN_IF_ERROR(fs::write_file_atomic(local / "SOURCE", store.value()->url() + "\n"));
  return std::unique_ptr<LakeMirror>(new LakeMirror(std::move(store).value(), local));
}

Status LakeMirror::Sync() {
  std::map<std::string, std::string> want;
  std::vector<std::pair<int64_t, std::string>> new_commits;
  if (!log_) {
    // A Delta table? Then the mirror follows its log instead of the listing.
    auto log_listed = store_->List(std::string(kTablePrefix) + "_delta_log/");
    if (!log_listed.ok())
      return Status::Errorf("cannot list the lake {}: {}", store_->url(), log_listed.status().message());
    if (!log_listed->empty()) log_ = std::make_unique<table::DeltaLog>(store_.get(), "orders");
  }
  if (log_) {
    Status st = log_->Update(&snapshot_, [&](const table::LogCommit& c) {
      new_commits.emplace_back(c.version, c.text);
      return Status::OK();
    });
    if (!st.ok()) return Status::Errorf("cannot read the table's log in {}: {}", store_->url(), st.message());
    for (const auto& [path, f] : snapshot_.files) {
      auto rel = table::decode_path(path);
      if (!rel.ok()) return Status::Errorf("the table's log in {}: {}", store_->url(), rel.status().message());
      want[std::string(kTablePrefix) + rel.value()] = std::to_string(f.size);
    }
  } else {
    auto listed = store_->List(std::string(kTablePrefix));
    if (!listed.ok()) return Status::Errorf("cannot list the lake {}: {}", store_->url(), listed.status().message());
    for (const auto& o : listed.value())
      if (o.key.ends_with(".parquet")) want[o.key] = fmt::format("{}/{}", o.size, o.etag);
  }
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
  // Files left by an earlier process that the store no longer lists go too.
  std::error_code ec;
  for (auto it = stdfs::recursive_directory_iterator(local_ / kTablePrefix, ec);
       it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string key = it->path().lexically_relative(local_).generic_string();
    const int64_t v = table::version_of_key(key);
    if (v >= 0 && key.starts_with(std::string(kTablePrefix) + "_delta_log/") && v <= snapshot_.version &&
        v <= written_version_)
      continue;  // a commit already copied
    if (!have_.count(key)) stdfs::remove(it->path(), ec);
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
  // The commits last, once the files they name are here.
  for (const auto& [v, text] : new_commits) {
    ORDERLAKE_RETURN_IF_ERROR(fs::write_file_atomic(local_ / kTablePrefix / table::commit_key(v), text));
    written_version_ = v;
  }
  return Status::OK();
}

}  // namespace orderlake::query
