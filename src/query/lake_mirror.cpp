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

Status LakeMirror::Fetch(const std::string& key, const std::string& version) {
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
  std::error_code ec;
  stdfs::rename(tmp, path, ec);
  if (ec) return Status::Errorf("cannot rename {}: {}", tmp.string(), ec.message());
  have_[key] = version;
  ++downloads_;
  return Status::OK();
}

Status LakeMirror::Sync() {
  // What the copy must hold: data files, then (for a Delta table) the log files that
  // describe them, fetched last so the copy's log never names a file it lacks.
  std::map<std::string, std::string> want_data, want_log;
  const std::string log_prefix = std::string(kTablePrefix) + "_delta_log/";
  if (!log_) {
    // A Delta table? Then the mirror follows its log instead of the listing.
    auto log_listed = store_->List(log_prefix);
    if (!log_listed.ok())
      return Status::Errorf("cannot list the lake {}: {}", store_->url(), log_listed.status().message());
    if (!log_listed->empty()) log_ = std::make_unique<table::DeltaLog>(store_.get(), "orders");
  }
  if (log_) {
    Status st;
    if (snapshot_.version < 0) {
      auto loaded = log_->Load();  // from the last checkpoint
      if (loaded.ok()) snapshot_ = std::move(loaded).value();
      else st = loaded.status();
    } else {
      st = log_->Update(&snapshot_);
    }
    if (!st.ok()) return Status::Errorf("cannot read the table's log in {}: {}", store_->url(), st.message());
    for (const auto& [path, f] : snapshot_.files) {
      auto rel = table::decode_path(path);
      if (!rel.ok()) return Status::Errorf("the table's log in {}: {}", store_->url(), rel.status().message());
      want_data[std::string(kTablePrefix) + rel.value()] = std::to_string(f.size);
    }
    // The log's files up to the snapshot's version (commits and checkpoints are named by
    // version; _last_checkpoint only when it points at most there).
    auto listed = store_->List(log_prefix);
    if (!listed.ok()) return Status::Errorf("cannot list the lake {}: {}", store_->url(), listed.status().message());
    for (const auto& o : listed.value()) {
      const std::string name = o.key.substr(log_prefix.size());
      const std::string tag = fmt::format("{}/{}", o.size, o.etag);
      if (name == "_last_checkpoint") {
        auto last = log_->LastCheckpoint();
        if (last.ok() && last.value() <= snapshot_.version) want_log[o.key] = tag;
        continue;
      }
      if (name.size() < 21 || name.find_first_not_of("0123456789") != 20) continue;
      if (std::stoll(name.substr(0, 20)) <= snapshot_.version) want_log[o.key] = tag;
    }
  } else {
    auto listed = store_->List(std::string(kTablePrefix));
    if (!listed.ok()) return Status::Errorf("cannot list the lake {}: {}", store_->url(), listed.status().message());
    for (const auto& o : listed.value())
      if (o.key.ends_with(".parquet")) want_data[o.key] = fmt::format("{}/{}", o.size, o.etag);
  }
  auto wanted = [&](const std::string& key) -> const std::string* {
    if (auto w = want_data.find(key); w != want_data.end()) return &w->second;
    if (auto w = want_log.find(key); w != want_log.end()) return &w->second;
    return nullptr;
  };
  // Remove what the store no longer has (or has changed), then fetch what is missing.
  for (auto it = have_.begin(); it != have_.end();) {
    const std::string* w = wanted(it->first);
    if (!w || *w != it->second) {
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
    if (!have_.count(key)) stdfs::remove(it->path(), ec);
  }
  for (const auto* want : {&want_data, &want_log})
    for (const auto& [key, version] : *want)
      if (!have_.count(key)) ORDERLAKE_RETURN_IF_ERROR(Fetch(key, version));
  return Status::OK();
}

}  // namespace orderlake::query
