#include "etl/job.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <set>
#include <thread>

#include "core/clock.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/sha256.h"
#include "etl/job_internal.h"

namespace orderlake::etl {
namespace stdfs = std::filesystem;
using json = nlohmann::json;

uint64_t RunSummary::filtered_total() const {
  uint64_t n = 0;
  for (auto& [k, v] : filtered) n += v;
  return n;
}
uint64_t RunSummary::quarantined_total() const {
  uint64_t n = 0;
  for (auto& [k, v] : quarantined) n += v;
  return n;
}

json RunSummary::to_json() const {
  return json{{"run_id", run_id},
              {"input", input},
              {"lake", lake},
              {"table", table},
              {"seconds", seconds},
              {"objects", objects},
              {"objects_skipped", objects_skipped},
              {"objects_changed", objects_changed},
              {"objects_listed", objects_listed},
              {"discovery", discovery},
              {"events_read", events_read},
              {"raw_deleted", raw_deleted},
              {"input_bytes", input_bytes},
              {"records", records},
              {"empty_lines", empty_lines},
              {"kept", kept},
              {"filtered", filtered},
              {"filtered_total", filtered_total()},
              {"quarantined", quarantined},
              {"quarantined_total", quarantined_total()},
              {"files", files},
              {"partitions", partitions},
              {"version", version},
              {"quarantine_file", quarantine_file},
              {"warnings", warnings}};
}

std::string RunSummary::to_text() const {
  std::string s;
  if (run_id.empty()) {
    s += fmt::format("etl: nothing new in {} ({} objects already processed; {} listing, {} objects listed)\n",
                     input, objects_skipped, discovery, objects_listed);
  } else {
    s += fmt::format("etl run {}: {} objects ({}) in {:.2f} s, {:.0f} records/s\n", run_id, objects,
                     fs::human_bytes(static_cast<double>(input_bytes)), seconds,
                     seconds > 0 ? static_cast<double>(records) / seconds : 0.0);
    s += fmt::format("  records read  {:>12}\n", records);
    s += fmt::format("  kept          {:>12}  -> {} files in {} partitions of {}\n", kept, files, partitions, table);
    s += fmt::format("  filtered      {:>12}\n", filtered_total());
    for (auto& [k, v] : filtered) s += fmt::format("    {:<24}{:>10}\n", k, v);
    s += fmt::format("  quarantined   {:>12}{}\n", quarantined_total(),
                     quarantine_file.empty() ? "" : "  -> " + quarantine_file);
    for (auto& [k, v] : quarantined) s += fmt::format("    {:<24}{:>10}\n", k, v);
    if (objects_skipped) s += fmt::format("  already processed objects skipped: {}\n", objects_skipped);
    if (discovery == "notification")
      s += fmt::format("  discovery: notification, {} events read, {} objects named\n", events_read, objects_listed);
    else
      s += fmt::format("  discovery: {} listing, {} objects listed\n", discovery, objects_listed);
  }
  if (raw_deleted) s += fmt::format("  raw retention: {} raw objects deleted\n", raw_deleted);
  for (auto& w : warnings) s += fmt::format("  warning: {}\n", w);
  return s;
}

Result<std::string> local_path_of(const std::string& location, std::string_view what) {
  std::string p = location;
  if (p.rfind("file://", 0) == 0) p = p.substr(7);
  else if (p.find("://") != std::string::npos)
    return Status::Errorf("{} {}: only local directories (a path or file://) are supported here", what, location);
  if (p.empty()) return Status::Errorf("{} is empty", what);
  return p;
}

namespace internal {

void crash_point(std::string_view point) {
  static const char* at = std::getenv("ORDERLAKE_CRASH_AT");
  if (at && point == at) ::_exit(86);
}

json bookmark_to_json(const Bookmark& b) {
  json objs = json::object();
  for (auto& [k, e] : b) objs[k] = {{"size", e.size}, {"offset", e.offset}, {"lines", e.lines}, {"run", e.run}};
  return json{{"version", 1}, {"objects", objs}};
}

Result<Bookmark> bookmark_from_json(const json& j, const std::string& where) {
  Bookmark b;
  try {
    for (auto& [k, v] : j.at("objects").items())
      b[k] = BookmarkEntry{v.at("size").get<uint64_t>(), v.at("offset").get<uint64_t>(),
                           v.at("lines").get<uint64_t>(), v.value("run", "")};
  } catch (const std::exception& e) {
    return Status::Errorf("{} is damaged: {}", where, e.what());
  }
  return b;
}

// The run is done (committed, or nothing new): a failing raw cleanup is a warning, retried
// after the next run.
void Job::CleanRawAfterRun() {
  Status st = CleanRaw();
  if (st.ok()) return;
  sum_.warnings.push_back(st.message() + " (retried after the next run)");
  spdlog::warn("etl: {}", st.message());
}

Result<RunSummary> Job::Run() {
  start_ = std::chrono::steady_clock::now();
  auto in = store::Open(opt_.input);
  if (!in.ok()) return Status::Errorf("input {}: {}", opt_.input, in.status().message());
  input_store_ = std::move(in).value();
  auto lk = store::Open(opt_.lake);
  if (!lk.ok()) return Status::Errorf("lake {}: {}", opt_.lake, lk.status().message());
  lake_store_ = std::move(lk).value();
  input_ = stdfs::path(input_store_->local_root());
  sum_.input = opt_.input;
  sum_.lake = opt_.lake;
  sum_.table = opt_.table;

  std::error_code ec;
  if (!input_store_->local_root().empty() && !stdfs::is_directory(input_, ec))
    return Status::Errorf("input directory {} does not exist", opt_.input);
  // One etl per table: a lock file beside a local lake; for a lake in S3 a lock file in
  // this machine's cache (the commit protocol keeps etls on different machines from
  // committing one batch twice).
  stdfs::path lock_path;
  if (!lake_store_->local_root().empty()) {
    local_lake_ = stdfs::path(lake_store_->local_root());
    stage_ = local_lake_ / "_orderlake" / opt_.table / "staging";
    ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(local_lake_ / opt_.table));
    lock_path = local_lake_ / "_orderlake" / opt_.table / "lock";
  } else {
    const std::string id = sha256_hex(lake_store_->url() + "\n" + opt_.table).substr(0, 16);
    stage_ = fs::cache_dir() / "staging" / id;
    lock_path = fs::cache_dir() / "locks" / (id + ".lock");
  }
  ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(lock_path.parent_path()));
  auto lock = fs::FileLock::Acquire(lock_path, fmt::format("table {} in lake {}", opt_.table, opt_.lake));
  if (!lock.ok()) return lock.status();
  Bookmark bm;
  {
    Status st = LoadState(&bm);
    if (!st.ok()) return Status::Errorf("lake {}: {}", opt_.lake, st.message());
  }
  {
    Status st = Recover();
    if (!st.ok()) return Status::Errorf("lake {}: {}", opt_.lake, st.message());
  }
  ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(stage_));
  sum_.version = snap_.version;

  ORDERLAKE_RETURN_IF_ERROR(ListObjects(bm));
  if (objects_.empty()) {
    // What a full listing learnt (the layout, when it ran) is kept even when nothing is new.
    const int64_t txn = snap_.txn_version(AppId());
    // Events read that named nothing new: their cursor goes into bookmark.json.
    const bool events_moved = events_mode_ && events_cursor_ != disc_.events && snap_.version >= 0 && txn >= 0;
    if (events_moved) disc_.events = events_cursor_;
    if ((disc_dirty_ || events_moved) && snap_.version >= 0 && txn >= 0)
      ORDERLAKE_RETURN_IF_ERROR(SaveBookmark(bm, {}, txn));
    events_committed_ = events_moved;
    TrimEvents();
    CleanRawAfterRun();
    sum_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    return sum_;
  }
  sum_.run_id = clock::time_ordered_id();
  Status st = ProcessAll();
  if (!st.ok()) return st;
  for (auto& w : workers_) {
    const Counters& c = w->counts;
    sum_.records += c.records;
    sum_.empty_lines += c.empty;
    sum_.kept += c.kept;
    for (int i = 0; i < static_cast<int>(Filter::kCount); ++i)
      if (c.filtered[i]) sum_.filtered[std::string(filter_name(static_cast<Filter>(i)))] += c.filtered[i];
    for (int i = 0; i < static_cast<int>(Reject::kCount); ++i)
      if (c.rejected[i]) sum_.quarantined[std::string(reject_name(static_cast<Reject>(i)))] += c.rejected[i];
  }
  sum_.input_bytes = bytes_read_.load();
  sum_.files = staged_.size();
  std::set<std::string> dirs;
  for (auto& f : staged_) dirs.insert(stdfs::path(f.final).parent_path().string());
  sum_.partitions = dirs.size();
  sum_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  st = Publish(bm);
  if (!st.ok()) return st;
  if (local_lake_.empty()) stdfs::remove_all(stage_, ec);
  {
    // The mark follows what this run committed (for the raw retention below).
    Bookmark committed = RunBookmark();
    PruneBookmark(&committed, clock::unix_ms());
  }
  TrimEvents();
  CleanRawAfterRun();
  sum_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return sum_;
}

}  // namespace internal

Result<RunSummary> run_etl(const EtlOptions& options) {
  ORDERLAKE_RETURN_IF_ERROR(options.Validate());
  internal::Job job(options);
  return job.Run();
}

void follow_etl(const EtlOptions& options, int interval_ms, const std::atomic<bool>& stop,
                const std::function<void(const RunSummary&)>& on_run,
                const std::function<void(const Status&)>& on_error, Wakeup* wakeup,
                const std::function<void(const RunSummary&)>& on_nothing_new) {
  // The first run of a process lists the whole input (it catches stragglers the look-back
  // window missed); then every backfill interval.
  EtlOptions o = options;
  o.full_listing = true;
  o.raw_pass_every_ms = std::min<int64_t>(60'000, o.raw_retention_ms / 4);
  while (!stop.load()) {
    auto r = run_etl(o);
    if (r.ok()) o.full_listing = false;
    if (!r.ok()) on_error(r.status());
    else if (!r->run_id.empty()) on_run(r.value());
    else if (on_nothing_new) on_nothing_new(r.value());
    if (wakeup && r.ok()) {
      wakeup->WaitFor(std::chrono::milliseconds(interval_ms), stop);
    } else {
      for (int waited = 0; waited < interval_ms && !stop.load(); waited += 20)
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(20, interval_ms - waited)));
    }
  }
}

}  // namespace orderlake::etl
