#include "query/lake_mirror.h"

#include <cstdlib>

#include "core/fs.h"
#include "core/sha256.h"
#include "table/delta.h"

namespace orderlake::query {
namespace stdfs = std::filesystem;

namespace {
constexpr std::string_view kSourceFile = "SOURCE";  // the mirrored URL, for a person looking at the cache
}

Result<std::unique_ptr<LakeMirror>> LakeMirror::Open(const std::string& location_url, const stdfs::path& cache_root) {
  auto store = store::Open(location_url);
  if (!store.ok()) return store.status();
  stdfs::path root = cache_root;
  if (root.empty()) root = fs::cache_dir() / "lakes";
  const stdfs::path local = root / sha256_hex(store.value()->url()).substr(0, 16);
  ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(local));
  ORDERLAKE_RETURN_IF_ERROR(fs::write_file_atomic(local / kSourceFile, store.value()->url() + "\n"));
  return std::unique_ptr<LakeMirror>(new LakeMirror(std::move(store).value(), local));
}

Status LakeMirror::Sync(std::string_view prefix, const std::function<bool(std::string_view key)>& want_key) {
  auto listed = store_->List(prefix);
  if (!listed.ok()) return Status::Errorf("cannot list {}: {}", store_->url(), listed.status().message());
  Want want;
  for (const auto& o : listed.value())
    if (!want_key || want_key(o.key)) want[o.key] = fmt::format("{}/{}", o.size, o.etag);
  return Reconcile(local_, {&want});
}

Status LakeMirror::Reconcile(const stdfs::path& scan, const std::vector<const Want*>& wants) {
  auto wanted = [&](const std::string& key) -> const std::string* {
    for (const Want* w : wants)
      if (auto it = w->find(key); it != w->end()) return &it->second;
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
  // Files left by an earlier process (or another filter) that are not wanted now go too.
  std::error_code ec;
  for (auto it = stdfs::recursive_directory_iterator(scan, ec); !ec && it != stdfs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string key = it->path().lexically_relative(local_).generic_string();
    if (key != kSourceFile && !have_.count(key)) stdfs::remove(it->path(), ec);
  }
  for (const Want* w : wants)
    for (const auto& [key, version] : *w)
      if (!have_.count(key)) ORDERLAKE_RETURN_IF_ERROR(Fetch(key, version));
  return Status::OK();
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

Result<bool> LakeMirror::IsDelta(std::string_view prefix) {
  auto listed = store_->List(std::string(prefix) + "_delta_log/");
  if (!listed.ok()) return Status::Errorf("cannot list {}: {}", store_->url(), listed.status().message());
  return !listed->empty();
}

Status LakeMirror::SyncTable(std::string_view prefix, const std::function<bool(std::string_view key)>& want) {
  if (!log_ || delta_prefix_ != prefix) {
    auto delta = IsDelta(prefix);
    if (!delta.ok()) return delta.status();
    if (!delta.value()) return Sync(prefix, want);
  }
  return SyncDelta(prefix);
}

Status LakeMirror::SyncDelta(std::string_view prefix_view) {
  const std::string prefix(prefix_view);
  std::string table = prefix;
  while (!table.empty() && table.back() == '/') table.pop_back();
  if (!log_ || delta_prefix_ != prefix) {
    log_ = std::make_unique<table::DeltaLog>(store_.get(), table);
    snapshot_ = table::Snapshot{};
    delta_prefix_ = prefix;
  }
  Status st = log_->Refresh(&snapshot_);
  if (!st.ok()) return Status::Errorf("cannot read the table's log in {}: {}", store_->url(), st.message());
  Want want_data, want_log;
  for (const auto& [path, f] : snapshot_.files) {
    auto rel = table::decode_path(path);
    if (!rel.ok()) return Status::Errorf("the table's log in {}: {}", store_->url(), rel.status().message());
    want_data[prefix + rel.value()] = std::to_string(f.size);
  }
  // The log's files up to the snapshot's version: commits and checkpoints are named by
  // version; _last_checkpoint only when it points at most there.
  const std::string log_prefix = prefix + "_delta_log/";
  auto listed = store_->List(log_prefix);
  if (!listed.ok()) return Status::Errorf("cannot list {}: {}", store_->url(), listed.status().message());
  for (const auto& o : listed.value()) {
    const std::string name = o.key.substr(log_prefix.size());
    const std::string tag = fmt::format("{}/{}", o.size, o.etag);
    if (name == "_last_checkpoint") {
      auto last = log_->LastCheckpoint();
      if (last.ok() && last.value() <= snapshot_.version) want_log[o.key] = tag;
      continue;
    }
    const int64_t v = table::version_of_log_file(name);
    if (v >= 0 && v <= snapshot_.version) want_log[o.key] = tag;
  }
  return Reconcile(local_ / prefix, {&want_data, &want_log});
}

}  // namespace orderlake::query
