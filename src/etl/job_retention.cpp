// Raw-store retention, as an S3 lifecycle rule would expire objects: after a run, raw
// objects in the Firehose layout that landed more than raw_retention_ms ago AND are taken
// (keyed before the window start, which only ever covers committed objects) are deleted,
// hour directory by hour directory from a cursor, with the directories they leave empty.
// An object the window does not cover is never deleted, whatever its age. Work per pass is
// bounded (kRawHoursPerRun directories), under --follow a pass runs at most every quarter
// of the retention (and once a minute); a crash midway only leaves objects for the next pass.
#include <map>
#include <mutex>

#include "core/clock.h"
#include "core/log.h"
#include "etl/job_internal.h"

namespace orderlake::etl::internal {
namespace {

// The cursor of each (input, lake, table) in this process: bookmark.json carries it too,
// but is not rewritten after every run.
std::mutex g_cursor_mu;
std::map<std::string, int64_t> g_cursor;
// When the next pass is due (Unix ms; EtlOptions::raw_pass_every_ms).
std::map<std::string, int64_t> g_next_pass;

}  // namespace

Status Job::CleanRaw() {
  if (opt_.raw_retention_ms <= 0 || disc_.closed_ms < 0 || disc_.prefixes.empty()) return Status::OK();
  const std::string memo_key = input_store_->url() + "\n" + opt_.lake + "\n" + opt_.table;
  int64_t from = disc_.raw_cleaned_ms;
  {
    std::lock_guard lk(g_cursor_mu);
    auto it = g_cursor.find(memo_key);
    if (it != g_cursor.end()) from = std::max(from, it->second);
  }
  if (from < 0) return Status::OK();  // set by the first full listing that saw the layout
  const int64_t now = clock::unix_ms();
  {
    std::lock_guard lk(g_cursor_mu);
    int64_t& next = g_next_pass[memo_key];
    if (now < next) return Status::OK();
    next = now + opt_.raw_pass_every_ms;
  }
  const int64_t landed_before = now - opt_.raw_retention_ms;
  const int64_t limit = std::min(landed_before, disc_.closed_ms);
  int64_t h = hour_floor(from);
  for (int n = 0; n < kRawHoursPerRun && h < limit; ++n, h += kHourMs) {
    bool all_gone = true;
    for (const auto& p : disc_.prefixes) {
      const std::string dir = p + hour_dir(h) + "/";
      auto listed = input_store_->List(dir);
      if (!listed.ok()) return Status::Errorf("raw retention: cannot list {}: {}", dir, listed.status().message());
      for (const auto& o : listed.value()) {
        auto k = parse_layout_key(o.key);
        if (!k || has_hidden_part(o.key) || !disc_.Closed(k->time_ms) || o.mtime_ms >= landed_before) {
          all_gone = false;
          continue;
        }
        ORDERLAKE_RETURN_IF_ERROR(input_store_->Delete(o.key));
        sum_.raw_deleted++;
        crash_point("mid_raw_cleanup");
      }
      if (!input_.empty()) {
        // The hour, day, month and year directories, once empty (remove() leaves a
        // directory that is not).
        std::error_code ec;
        stdfs::path d = input_ / (p + hour_dir(h));
        for (int up = 0; up < 4 && stdfs::remove(d, ec); ++up) d = d.parent_path();
      }
    }
    if (!all_gone || h + kHourMs > disc_.closed_ms) break;
    disc_.raw_cleaned_ms = h + kHourMs;
  }
  if (disc_.raw_cleaned_ms >= 0) {
    std::lock_guard lk(g_cursor_mu);
    g_cursor[memo_key] = std::max(g_cursor[memo_key], disc_.raw_cleaned_ms);
  }
  if (sum_.raw_deleted) spdlog::debug("etl: raw retention deleted {} objects", sum_.raw_deleted);
  return Status::OK();
}

}  // namespace orderlake::etl::internal
