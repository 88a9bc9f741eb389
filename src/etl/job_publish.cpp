// Publishing a run, all or nothing: 1. staged files durable (the quarantine file staged
// beside the data files); 2. a journal naming them durable; 3. the files moved (or
// uploaded) into their partitions; 4. one commit to the log (the moment the batch becomes
// visible, with its bookmark entries); 5. the run's summary and the bookmark cache; 6. when
// due, a bookkeeping pass (etl/runs.h).
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <set>

#include "core/clock.h"
#include "core/fs.h"
#include "core/hive.h"
#include "core/log.h"
#include "core/parquet_writer.h"
#include "etl/job_internal.h"
#include "table/maintenance.h"

namespace orderlake::etl::internal {

// The quarantine file (staged like the data files as the run went: SpillQuarantine; not
// part of the table), made durable.
Status Job::StageQuarantine(std::vector<StagedFile>* all) {
  ORDERLAKE_RETURN_IF_ERROR(SpillQuarantine());
  if (!quarantine_spilled_) return Status::OK();
  StagedFile q;
  q.final = QuarantineKey();
  ORDERLAKE_RETURN_IF_ERROR(fs::fsync_path(stage_ / q.final));
  all->push_back(q);
  sum_.quarantine_file = q.final;
  return Status::OK();
}

// The bookmark entries of this run: how far each object it read was read.
Bookmark Job::RunBookmark() const {
  Bookmark update;
  for (size_t i = 0; i < objects_.size(); ++i) {
    if (!done_[i]) continue;
    BookmarkEntry e = *done_[i];
    e.run = sum_.run_id;
    update[objects_[i].path] = e;
  }
  return update;
}

// Moves (or uploads) the staged files to their places in the lake; for a local lake, makes
// the renames durable.
Status Job::MoveIntoPlace(const std::vector<StagedFile>& all) {
  bool first = true;
  for (auto& f : all) {
    if (!first) crash_point("mid_publish");
    first = false;
    if (!local_lake_.empty()) {
      ORDERLAKE_RETURN_IF_ERROR(fs::create_directories((local_lake_ / f.final).parent_path()));
      if (::rename((stage_ / f.final).c_str(), (local_lake_ / f.final).c_str()) != 0)
        return Status::Errorf("cannot publish {}: {} (the next run rolls this one back)",
                              (local_lake_ / f.final).string(), std::strerror(errno));
    } else {
      auto data = fs::read_file(stage_ / f.final);
      if (!data.ok()) return data.status();
      Status st = lake_store_->Put(f.final, data.value());
      if (!st.ok())
        return Status::Errorf("cannot publish {}/{}: {} (the next run rolls this one back)", opt_.lake, f.final,
                              st.message());
    }
  }
  if (local_lake_.empty()) return Status::OK();
  // The renames durable: every directory that gained an entry (a partition's directory,
  // and its parents up to the lake, which may be new themselves).
  std::set<stdfs::path> dirs;
  for (auto& f : all)
    for (stdfs::path d = (local_lake_ / f.final).parent_path(); d != local_lake_ && d.has_relative_path();
         d = d.parent_path())
      if (!dirs.insert(d).second) break;
  dirs.insert(local_lake_);
  for (const auto& d : dirs) ORDERLAKE_RETURN_IF_ERROR(fs::fsync_path(d));
  return Status::OK();
}

// The first commit creates the table; a lake written before the table had a log brings its
// files along (all but `ours`, this run's).
Result<std::vector<json>> Job::FirstCommitActions(const std::set<std::string>& ours) {
  const std::string table_prefix = opt_.table + "/";
  std::vector<json> first_actions = {table::protocol_action(),
                                     table::metadata_action(delta_schema(), {"Country", "InvoiceDateOnly"})};
  auto existing = lake_store_->List(table_prefix);
  if (!existing.ok()) return Status::Errorf("cannot list {}/{}: {}", opt_.lake, table_prefix, existing.status().message());
  for (const auto& o : existing.value()) {
    if (!o.key.ends_with(".parquet") || ours.count(o.key) || has_hidden_part(o.key)) continue;
    const std::string rel = o.key.substr(table_prefix.size());
    table::DataFile d;
    d.path = table::encode_path(rel);
    d.partition_values = {{"Country", hive::value_in_path(rel, "Country")},
                          {"InvoiceDateOnly", hive::value_in_path(rel, "InvoiceDateOnly")}};
    d.size = o.size;
    d.modification_time = o.mtime_ms;
    first_actions.push_back(table::add_action(d, true));
  }
  return first_actions;
}

// One commit: the txn action of `batch`, an add per data file, and the commitInfo with the
// run's bookmark entries and summary. A commit lost to another writer of the same batch
// removes this run's files.
Status Job::Commit(const std::vector<StagedFile>& all, const Bookmark& update, int64_t batch, const json& journal,
                   const std::string& journal_key) {
  const std::string app = AppId();
  const int64_t now = clock::unix_ms();
  std::vector<json> actions;
  actions.push_back(table::txn_action(app, batch));
  std::set<std::string> ours;
  const std::string table_prefix = opt_.table + "/";
  for (auto& f : all) {
    if (!f.final.starts_with(table_prefix)) continue;  // the quarantine file
    table::DataFile d;
    d.path = table::encode_path(f.final.substr(table_prefix.size()));
    d.partition_values = {{"Country", f.country}, {"InvoiceDateOnly", f.date}};
    d.size = f.size;
    d.modification_time = now;
    d.stats = f.stats;
    ours.insert(f.final);
    actions.push_back(table::add_action(d, true));
  }
  json ol = {{"app", app}, {"run_id", sum_.run_id}, {"bookmark", bookmark_to_json(update)}, {"summary", sum_.to_json()}};
  const auto events = EventsToCommit();  // the notification cursor commits with the run
  if (events) ol["events"] = *events;
  actions.push_back(table::commit_info_action(
      "STREAMING UPDATE", {{"outputMode", "Append"}, {"queryId", app}, {"epochId", std::to_string(batch)}},
      {{"orderlake", std::move(ol)}}));
  std::vector<json> first_actions;
  if (snap_.version < 0) {
    auto fa = FirstCommitActions(ours);
    if (!fa.ok()) return fa.status();
    first_actions = std::move(fa).value();
  }
  table::DeltaLog log(lake_store_.get(), opt_.table);
  auto committed = log.Commit(
      &snap_, actions,
      [&](const std::vector<table::LogCommit>&, const table::Snapshot& now_snap) -> Status {
        if (now_snap.txn_version(app) >= batch)
          return Status::Errorf("another etl committed batch {} of table {} first", batch, opt_.table);
        return Status::OK();
      },
      [&] { return first_actions; });
  if (!committed.ok()) {
    if (snap_.txn_version(app) >= batch) {
      // Lost to another writer of the same batch: this run's files must go.
      ORDERLAKE_RETURN_IF_ERROR(RollBack(journal));
      ORDERLAKE_RETURN_IF_ERROR(lake_store_->Delete(journal_key));
    }
    return Status::Errorf("cannot commit to {}/{}: {}", opt_.lake, opt_.table, committed.status().message());
  }
  sum_.version = committed.value();
  if (events) {
    disc_.events = events_cursor_;
    events_committed_ = true;
  }
  return Status::OK();
}

Status Job::Publish(const Bookmark& bm) {
  std::vector<StagedFile> all = staged_;
  ORDERLAKE_RETURN_IF_ERROR(StageQuarantine(&all));
  const Bookmark update = RunBookmark();
  spdlog::debug("etl: staged files synced at {:.3f} s", Elapsed());
  crash_point("before_journal");
  const int64_t batch = snap_.txn_version(AppId()) + 1;
  json files = json::array();
  for (auto& f : all) files.push_back(f.final);
  json journal = {{"run_id", sum_.run_id}, {"txn_version", batch}, {"files", files}, {"summary", sum_.to_json()}};
  const std::string jkey = MetaKey("pending/" + sum_.run_id + ".json");
  ORDERLAKE_RETURN_IF_ERROR(lake_store_->Put(jkey, journal.dump(1)));
  crash_point("after_journal");
  ORDERLAKE_RETURN_IF_ERROR(MoveIntoPlace(all));
  spdlog::debug("etl: published at {:.3f} s", Elapsed());
  crash_point("before_commit");
  ORDERLAKE_RETURN_IF_ERROR(Commit(all, update, batch, journal, jkey));
  spdlog::debug("etl: committed version {} at {:.3f} s", sum_.version, Elapsed());
  crash_point("before_bookmark");
  ORDERLAKE_RETURN_IF_ERROR(WriteRunRecord(lake_store_.get(), opt_.table, sum_.run_id, sum_.to_json()));
  if (BookmarkDue()) ORDERLAKE_RETURN_IF_ERROR(SaveBookmark(bm, update, batch));
  ORDERLAKE_RETURN_IF_ERROR(lake_store_->Delete(jkey));
  // A checkpoint (and log cleanup) when the table's delta.checkpointInterval asks for one.
  // The run is complete: a failure is logged, and the next checkpoint tries again.
  auto kept = table::AfterCommit(lake_store_.get(), opt_.table, sum_.version);
  if (!kept.ok()) spdlog::warn("etl: checkpoint of {}/{}: {}", opt_.lake, opt_.table, kept.status().message());
  KeepBooks();
  return Status::OK();
}

namespace {

// When each table's next bookkeeping pass is due in this process (steady clock), by the
// lake's URL and the table.
std::mutex g_due_mu;
std::map<std::string, std::chrono::steady_clock::time_point> g_due;

}  // namespace

// After a commit (the lock held, recovery done): a bookkeeping pass when one is due, every
// quarter of the shorter retention but at most once a minute (at once again while a pass
// leaves work over). A failing pass warns; the run stays committed.
void Job::KeepBooks() {
  const auto now = std::chrono::steady_clock::now();
  const std::string key = lake_store_->url() + "\n" + opt_.table;
  {
    std::lock_guard lock(g_due_mu);
    auto it = g_due.find(key);
    if (it != g_due.end() && now < it->second) return;
  }
  BookkeepingOptions bo;
  bo.runs_retention_ms = opt_.runs_retention_ms;
  bo.quarantine_retention_ms = opt_.quarantine_retention_ms;
  auto r = etl::KeepBooks(lake_store_.get(), opt_.table, bo, clock::unix_ms());
  const int64_t every_ms = std::min<int64_t>(60'000, std::min(bo.runs_retention_ms, bo.quarantine_retention_ms) / 4);
  {
    std::lock_guard lock(g_due_mu);
    g_due[key] = (r.ok() && r->more) ? now : now + std::chrono::milliseconds(every_ms);
  }
  if (!r.ok()) {
    spdlog::warn("etl: bookkeeping of {}/{}: {}", opt_.lake, opt_.table, r.status().message());
    sum_.warnings.push_back("bookkeeping: " + r.status().message());
    return;
  }
  if (r->runs_folded || r->records_deleted || r->quarantine_deleted || r->quarantine_folded)
    spdlog::debug("etl: bookkeeping: {} run records rolled up, {} deleted; quarantine: {} files folded into {} "
                  "hour parts, {} expired",
                  r->runs_folded, r->records_deleted, r->quarantine_folded, r->quarantine_parts_written,
                  r->quarantine_deleted);
}

}  // namespace orderlake::etl::internal
