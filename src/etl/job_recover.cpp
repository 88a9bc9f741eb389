// The etl's state in the lake: the bookmark (bookmark.json plus the entries the etl's
// commits carry) and the table's log as far as the etl needs it, and recovery of a run that
// died while publishing (rolled back, or only its summary written).
#include "core/clock.h"
#include "core/log.h"
#include "etl/job_internal.h"

namespace orderlake::etl::internal {

Status Job::LoadState(Bookmark* bm) {
  const std::string key = MetaKey("bookmark.json");
  auto head = lake_store_->Head(key);
  if (!head.ok()) return head.status();
  if (head.value()) {
    auto text = lake_store_->Get(key);
    if (!text.ok()) return text.status();
    json j = json::parse(text.value(), nullptr, false);
    if (j.is_discarded()) return Status::Errorf("{}/{} is damaged: not JSON", opt_.lake, key);
    auto b = bookmark_from_json(j, opt_.lake + "/" + key);
    if (!b.ok()) return b.status();
    *bm = std::move(b).value();
    if (j.contains("discovery")) {
      auto d = DiscoveryState::from_json(j.at("discovery"), opt_.lake + "/" + key);
      if (!d.ok()) return d.status();
      disc_ = std::move(d).value();
    }
    // An older format is rewritten (pruned) at the next chance.
    if (j.value("version", 0) < kBookmarkVersion) disc_dirty_ = true;
    if (j.contains("delta_version")) {
      snap_.version = cache_version_ = j.at("delta_version").get<int64_t>();
      if (j.contains("txn_version")) snap_.txn[AppId()] = j.at("txn_version").get<int64_t>();
    } else {
      legacy_bookmark_ = true;
    }
  }
  table::DeltaLog log(lake_store_.get(), opt_.table);
  const std::string app = AppId();
  Status st = log.Update(&snap_, [&](const table::LogCommit& c) -> Status {
    const json ci = c.commit_info();
    if (!ci.is_object()) return Status::OK();
    auto ol = ci.find("orderlake");
    if (ol == ci.end() || ol->value("app", "") != app || !ol->contains("bookmark")) return Status::OK();
    auto upd = bookmark_from_json(ol->at("bookmark"), fmt::format("{} commit {}", opt_.table, c.version));
    if (!upd.ok()) return upd.status();
    for (auto& [k, v] : upd.value()) (*bm)[k] = v;
    if (auto ev = ol->find("events"); ev != ol->end() && ev->is_object())  // notification cursor
      for (auto& [stream, key] : ev->items())
        if (key.is_string()) disc_.events[stream] = key.get<std::string>();
    return Status::OK();
  });
  if (!st.ok()) return st;
  PruneBookmark(bm, clock::unix_ms());
  return Status::OK();
}

// The mark follows every object read (bookmark.json's and the commits' entries); once the
// input is known to be in the Firehose layout the window closes behind it, and entries of
// closed objects are dropped: they are taken whatever the bookmark says.
void Job::PruneBookmark(Bookmark* bm, int64_t now_ms) {
  for (auto& [path, e] : *bm)
    if (auto k = parse_layout_key(path)) disc_.Raise(k->time_ms, now_ms);
  if (disc_.time_layout) disc_.Close(opt_.lookback_ms);
  if (disc_.closed_ms < 0) return;
  for (auto it = bm->begin(); it != bm->end();) {
    auto k = parse_layout_key(it->first);
    if (k && disc_.Closed(k->time_ms) && it->second.offset == it->second.size) it = bm->erase(it);
    else ++it;
  }
}

bool Job::BookmarkDue() const {
  // Also at the table's first commits: log cleanup keeps the commits after bookmark.json's
  // delta_version, and none before it exists (table/maintenance.h).
  return legacy_bookmark_ || disc_dirty_ || cache_version_ < 0 || snap_.version - cache_version_ >= kBookmarkEvery;
}

Status Job::SaveBookmark(const Bookmark& bm, const Bookmark& update, int64_t batch) {
  Bookmark merged = bm;
  for (auto& [k, v] : update) merged[k] = v;
  PruneBookmark(&merged, clock::unix_ms());
  json cache = bookmark_to_json(merged);
  cache["version"] = kBookmarkVersion;
  cache["delta_version"] = snap_.version;
  cache["txn_version"] = batch;
  cache["discovery"] = disc_.to_json();
  ORDERLAKE_RETURN_IF_ERROR(lake_store_->Put(MetaKey("bookmark.json"), cache.dump(1)));
  cache_version_ = snap_.version;
  legacy_bookmark_ = disc_dirty_ = false;
  return Status::OK();
}

// Deletes the published files of a run that has no commit (its staged ones go with the
// staging directory).
Status Job::RollBack(const json& journal) {
  for (auto& f : journal.at("files")) ORDERLAKE_RETURN_IF_ERROR(lake_store_->Delete(f.get<std::string>()));
  return Status::OK();
}

Status Job::Recover() {
  // A journal names the files of a run that began publishing. If the log has the run's
  // batch, the run is done (only its summary may be missing); otherwise its files are
  // removed and its input is read again by this run, since the bookmark never advanced.
  auto pending = lake_store_->List(MetaKey("pending/"));
  if (!pending.ok()) return pending.status();
  for (const auto& o : pending.value()) {
    // Compaction keeps its own journals here (table/compact.h).
    if (!o.key.ends_with(".json") || o.key.find("/pending/compact-") != std::string::npos) continue;
    auto text = lake_store_->Get(o.key);
    if (!text.ok()) return text.status();
    json j = json::parse(text.value(), nullptr, false);
    if (!j.is_object() || !j.contains("files") || !j.contains("txn_version"))
      return Status::Errorf("run journal {}/{} is damaged", opt_.lake, o.key);
    const std::string run = j.value("run_id", "?");
    if (snap_.txn_version(AppId()) >= j.at("txn_version").get<int64_t>()) {
      ORDERLAKE_RETURN_IF_ERROR(WriteRunRecord(lake_store_.get(), opt_.table, run, j.at("summary")));
    } else {
      spdlog::warn("etl: run {} stopped before its commit; removing its files (its input is read again)", run);
      ORDERLAKE_RETURN_IF_ERROR(RollBack(j));
    }
    ORDERLAKE_RETURN_IF_ERROR(lake_store_->Delete(o.key));
  }
  // Staged files of a run that died before its journal was written are not part of any
  // run: remove them.
  std::error_code ec;
  stdfs::remove_all(stage_, ec);
  if (ec) return Status::Errorf("cannot clear the staging directory {}: {}", stage_.string(), ec.message());
  return Status::OK();
}

}  // namespace orderlake::etl::internal
