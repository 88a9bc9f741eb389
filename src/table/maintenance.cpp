#include "table/maintenance.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>

#include "core/clock.h"
#include "table/properties.h"

namespace orderlake::table {
using json = nlohmann::json;

namespace {

// Fault injection for the crash tests (ORDERLAKE_CRASH_AT=<point>, as the etl's).
void crash_point(std::string_view point) {
  static const char* at = std::getenv("ORDERLAKE_CRASH_AT");
  if (at && point == at) ::_exit(86);
}

std::string checkpoint_key(int64_t v) { return fmt::format("_delta_log/{:020d}.checkpoint.parquet", v); }

// The newest version cleanup must keep for the etl's bookmark: commits after the
// bookmark's delta_version stay. nullopt: no constraint; -1: keep everything.
Result<std::optional<int64_t>> bookmark_floor(DeltaLog& log) {
  if (log.table().empty()) return std::optional<int64_t>();
  const std::string key = fmt::format("_orderlake/{}/bookmark.json", log.table());
  auto head = log.store()->Head(key);
  if (!head.ok()) return head.status();
  if (!head.value()) return std::optional<int64_t>();
  auto text = log.store()->Get(key);
  if (!text.ok()) return text.status();
  json j = json::parse(text.value(), nullptr, false);
  if (!j.is_object() || !j.contains("delta_version") || !j["delta_version"].is_number_integer())
    return std::optional<int64_t>(-1);
  return std::optional<int64_t>(j["delta_version"].get<int64_t>());
}

Result<bool> commit_exists(DeltaLog& log, int64_t v) {
  auto head = log.store()->Head(log.key(commit_key(v)));
  if (!head.ok()) return head.status();
  return head.value().has_value();
}

}  // namespace

Result<LogMaintenance> CleanupLog(DeltaLog& log, int64_t checkpoint, int64_t retention_ms, int64_t now_ms) {
  LogMaintenance m;
  if (checkpoint <= 0) return m;
  int64_t keep_from = checkpoint;  // versions >= keep_from stay
  auto floor = bookmark_floor(log);
  if (!floor.ok()) return floor.status();
  if (floor->has_value()) keep_from = std::min(keep_from, **floor + 1);
  if (keep_from <= 0) return m;
  // The oldest commit: the commits are a contiguous range ending after keep_from - 1.
  auto last_gone = commit_exists(log, keep_from - 1);
  if (!last_gone.ok()) return last_gone.status();
  if (!last_gone.value()) {
    m.oldest_version = keep_from;
    return m;
  }
  int64_t lo = 0, hi = keep_from - 1;  // hi exists
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    auto e = commit_exists(log, mid);
    if (!e.ok()) return e.status();
    if (e.value()) hi = mid;
    else lo = mid + 1;
  }
  const int64_t cutoff = now_ms - retention_ms;
  int64_t v = lo;
  for (; v < keep_from && m.log_files_deleted < kMaxDeletesPerPass; ++v) {
    auto head = log.store()->Head(log.key(commit_key(v)));
    if (!head.ok()) return head.status();
    if (head.value() && head.value()->mtime_ms >= cutoff) break;  // younger than the retention
    // The checkpoint of v first: the commits stay contiguous whenever this stops.
    ORDERLAKE_RETURN_IF_ERROR(log.store()->Delete(log.key(checkpoint_key(v))));
    if (m.log_files_deleted == 2) crash_point("mid_log_cleanup");  // some deleted, some not
    ORDERLAKE_RETURN_IF_ERROR(log.store()->Delete(log.key(commit_key(v))));
    m.log_files_deleted += 1;
  }
  m.oldest_version = v;
  if (m.log_files_deleted)
    spdlog::debug("{}: log cleanup deleted versions {}..{} (kept from {})", log.table(), lo, v - 1, v);
  return m;
}

Result<LogMaintenance> MaybeCheckpoint(DeltaLog& log, const Snapshot& s, int64_t committed, int64_t* last_checkpoint,
                                       int64_t backstop, int64_t min_tombstone_ms) {
  LogMaintenance m;
  if (s.version < 0) return m;
  const TableProperties props = TableProperties::Of(s);
  bool due = committed > 0 && committed % props.checkpoint_interval == 0;
  if (!due && backstop > 0) {
    if (*last_checkpoint == -2) {
      auto last = log.LastCheckpoint();
      if (!last.ok()) return last.status();
      *last_checkpoint = last.value();
    }
    due = s.version - std::max<int64_t>(*last_checkpoint, 0) >= backstop;
  }
  if (!due || s.version <= *last_checkpoint) return m;
  const int64_t previous = *last_checkpoint;
  ORDERLAKE_RETURN_IF_ERROR(
      log.WriteCheckpoint(s, std::max(props.deleted_file_retention_ms, min_tombstone_ms)));
  *last_checkpoint = m.checkpoint = s.version;
  crash_point("after_checkpoint");
  // The previous checkpoint is not needed (no reader time-travels): a reader that read
  // _last_checkpoint just before finds it gone and starts again from the new one.
  if (previous >= 0) ORDERLAKE_RETURN_IF_ERROR(log.store()->Delete(log.key(checkpoint_key(previous))));
  auto cleaned = CleanupLog(log, s.version, props.log_retention_ms, clock::unix_ms());
  if (!cleaned.ok()) return cleaned.status();
  m.log_files_deleted = cleaned->log_files_deleted;
  m.oldest_version = cleaned->oldest_version;
  return m;
}

namespace {

struct Cached {
  std::mutex mu;
  Snapshot snap;
  int64_t last_checkpoint = -2;
};

std::shared_ptr<Cached> cached_for(const std::string& id) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<Cached>> cache;
  std::lock_guard lock(mu);
  auto& c = cache[id];
  if (!c) c = std::make_shared<Cached>();
  return c;
}

}  // namespace

Result<LogMaintenance> AfterCommit(store::ObjectStore* store, const std::string& table, int64_t committed) {
  auto c = cached_for(store->url() + "\n" + table);
  std::lock_guard lock(c->mu);
  DeltaLog log(store, table);
  Status st = log.Refresh(&c->snap);
  if (!st.ok()) {
    c->snap = Snapshot{};  // read again from the checkpoint next time
    return st;
  }
  const TableProperties props = TableProperties::Of(c->snap);
  c->snap.PruneTombstones(clock::unix_ms() - props.deleted_file_retention_ms);
  return MaybeCheckpoint(log, c->snap, committed, &c->last_checkpoint);
}

}  // namespace orderlake::table
