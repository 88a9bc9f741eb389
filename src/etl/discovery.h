// The Firehose key layout and the etl's discovery state. Firehose names an object
//   [prefix]YYYY/MM/DD/HH/<stream>-<version>-yyyy-MM-dd-HH-mm-ss-<uuid>[extension]
// after the arrival time of its oldest record (UTC), so keys under one prefix sort by hour,
// and a listing that starts after an hour directory returns only what came after it. The
// etl keeps a high-water mark (the latest key time it read) and a window start (the mark
// less the look-back): an object keyed before the window start is taken, whatever the
// bookmark says, so the bookmark names only the objects of the window (plus any object
// outside the layout, which keeps today's per-object bookkeeping).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace orderlake::etl::internal {

struct LayoutKey {
  std::string prefix;   // what comes before YYYY/ ("" or ending with '/')
  int64_t time_ms = 0;  // the time in the object's name (UTC, whole seconds)
  std::string name;     // the name before its time: "<stream>-<version>-"
};

// The layout of `key` (a key or any path ending in one: only its last five segments are
// read), or nullopt when it is not a Firehose key: the hour directory must agree with the
// time in the name, the name must end with a UUID and an optional ".extension".
std::optional<LayoutKey> parse_layout_key(std::string_view key);

// "YYYY/MM/DD/HH" of the hour holding `ms`.
std::string hour_dir(int64_t ms);
// "yyyy-MM-dd-HH-mm-ss" of `ms`: the time as an object's name carries it.
std::string name_time(int64_t ms);
constexpr int64_t kHourMs = 3'600'000;
inline int64_t hour_floor(int64_t ms) { return ms - ((ms % kHourMs) + kHourMs) % kHourMs; }

// What the bookmark keeps about discovery (bookmark.json "discovery").
struct DiscoveryState {
  int64_t mark_ms = -1;    // the latest key time read (Firehose layout); -1: none yet
  int64_t closed_ms = -1;  // objects keyed before this are taken; never decreases; -1: none
  bool time_layout = false;        // the last full listing found only Firehose keys
  std::set<std::string> prefixes;  // their prefixes (before YYYY/)
  // Per prefix, the names ("<stream>-<version>-") its objects were seen with: inside the
  // window start's hour, objects of one name sort by time, so an incremental listing starts
  // there at the window start, per name, instead of at the hour. Capped at kMaxNames.
  std::map<std::string, std::set<std::string>> names;
  bool too_many_names = false;  // more than kMaxNames: listings start at the hour
  static constexpr size_t kMaxNames = 64;
  bool Learn(const LayoutKey& k);  // true when the name is new
  int64_t last_full_ms = 0;        // when the last full listing ran (Unix ms)
  int64_t raw_cleaned_ms = -1;     // raw retention: hour directories before this are gone
  // Notification discovery (etl/notifications.h): per stream, the last event key taken
  // (store/events.h); committed with each run (commitInfo "events") and in bookmark.json.
  std::map<std::string, std::string> events;

  // Raises the mark to `t` (a key time read) unless `t` lies more than an hour in the
  // future of `now_ms` (a clock gone wrong must not close what is still open).
  void Raise(int64_t t, int64_t now_ms);
  // The window start for a look-back of `lookback_ms`: closed_ms, raised to mark - lookback.
  void Close(int64_t lookback_ms);
  // True when an object keyed at `t` is taken whatever the bookmark says.
  bool Closed(int64_t t) const { return closed_ms >= 0 && t < closed_ms; }

  nlohmann::json to_json() const;
  static Result<DiscoveryState> from_json(const nlohmann::json& j, const std::string& where);
};

}  // namespace orderlake::etl::internal
