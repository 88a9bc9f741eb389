#include "etl/discovery.h"

#include <fmt/format.h>

#include <vector>

namespace orderlake::etl::internal {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date, and back.
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t z, int64_t* y, int64_t* m, int64_t* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp + (mp < 10 ? 3 : -9);
  *y = yoe + era * 400 + (*m <= 2);
}

// The number of `n` digits at s[at], or -1.
int64_t digits(std::string_view s, size_t at, size_t n) {
  if (at + n > s.size()) return -1;
  int64_t v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < 36; ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<LayoutKey> parse_layout_key(std::string_view key) {
  // The last five segments: YYYY MM DD HH name.
  std::vector<size_t> slashes;
  for (size_t i = key.size(); i-- > 0 && slashes.size() < 5;)
    if (key[i] == '/') slashes.push_back(i);
  if (slashes.size() < 4) return std::nullopt;
  const size_t ystart = slashes.size() == 5 ? slashes[4] + 1 : 0;
  if (slashes[3] != ystart + 4 || slashes[2] != ystart + 7 || slashes[1] != ystart + 10 ||
      slashes[0] != ystart + 13)
    return std::nullopt;
  const int64_t y = digits(key, ystart, 4), mo = digits(key, ystart + 5, 2), d = digits(key, ystart + 8, 2),
                h = digits(key, ystart + 11, 2);
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23) return std::nullopt;
  const std::string_view name = key.substr(ystart + 14);
  // <stream>-<version>-yyyy-MM-dd-HH-mm-ss-<uuid>[.ext]: the time must be the directory's hour.
  const std::string stamp = fmt::format("-{:04}-{:02}-{:02}-{:02}-", y, mo, d, h);
  const size_t at = name.rfind(stamp);
  if (at == std::string_view::npos || at == 0) return std::nullopt;
  const int64_t mi = digits(name, at + stamp.size(), 2), se = digits(name, at + stamp.size() + 3, 2);
  if (mi < 0 || mi > 59 || se < 0 || se > 59 || name.size() < at + stamp.size() + 6 + 36 ||
      name[at + stamp.size() + 2] != '-' || name[at + stamp.size() + 5] != '-')
    return std::nullopt;
  if (!is_uuid(name.substr(at + stamp.size() + 6, 36))) return std::nullopt;
  const std::string_view ext = name.substr(at + stamp.size() + 42);
  if (!ext.empty() && (ext.front() != '.' || ext.find('/') != std::string_view::npos)) return std::nullopt;
  // The stream's version: digits after the stream name's last '-'.
  const size_t dash = name.rfind('-', at - 1);
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == at) return std::nullopt;
  for (size_t i = dash + 1; i < at; ++i)
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
  LayoutKey k;
  k.prefix = std::string(key.substr(0, ystart));
  k.name = std::string(name.substr(0, at + 1));
  k.time_ms = ((days_from_civil(y, mo, d) * 24 + h) * 3600 + mi * 60 + se) * 1000;
  return k;
}

std::string hour_dir(int64_t ms) {
  const int64_t hours = hour_floor(ms) / kHourMs;
  const int64_t days = hours >= 0 ? hours / 24 : (hours - 23) / 24;
  int64_t y = 0, m = 0, d = 0;
  civil_from_days(days, &y, &m, &d);
  return fmt::format("{:04}/{:02}/{:02}/{:02}", y, m, d, hours - days * 24);
}

std::string name_time(int64_t ms) {
  const std::string h = hour_dir(ms);  // YYYY/MM/DD/HH
  const int64_t in_hour = (ms - hour_floor(ms)) / 1000;
  return fmt::format("{}-{}-{}-{}-{:02}-{:02}", h.substr(0, 4), h.substr(5, 2), h.substr(8, 2), h.substr(11, 2),
                     in_hour / 60, in_hour % 60);
}

bool DiscoveryState::Learn(const LayoutKey& k) {
  if (too_many_names) return false;
  auto& set = names[k.prefix];
  if (set.count(k.name)) return false;
  size_t total = 0;
  for (const auto& [p, n] : names) total += n.size();
  if (total >= kMaxNames) {  // a partial set would hide the others' objects: use none
    names.clear();
    too_many_names = true;
    return true;
  }
  set.insert(k.name);
  return true;
}

void DiscoveryState::Raise(int64_t t, int64_t now_ms) {
  if (t <= now_ms + kHourMs && t > mark_ms) mark_ms = t;
}

void DiscoveryState::Close(int64_t lookback_ms) {
  if (mark_ms >= 0 && mark_ms - lookback_ms > closed_ms) closed_ms = mark_ms - lookback_ms;
}

nlohmann::json DiscoveryState::to_json() const {
  return nlohmann::json{{"mark_ms", mark_ms},           {"closed_ms", closed_ms},
                        {"layout", time_layout ? "firehose" : ""}, {"prefixes", prefixes},
                        {"last_full_ms", last_full_ms}, {"raw_cleaned_ms", raw_cleaned_ms},
                        {"names", names}, {"too_many_names", too_many_names}, {"events", events}};
}

Result<DiscoveryState> DiscoveryState::from_json(const nlohmann::json& j, const std::string& where) {
  DiscoveryState s;
  try {
    s.mark_ms = j.value("mark_ms", int64_t{-1});
    s.closed_ms = j.value("closed_ms", int64_t{-1});
    s.time_layout = j.value("layout", "") == "firehose";
    if (j.contains("prefixes")) s.prefixes = j.at("prefixes").get<std::set<std::string>>();
    s.last_full_ms = j.value("last_full_ms", int64_t{0});
    s.raw_cleaned_ms = j.value("raw_cleaned_ms", int64_t{-1});
    s.too_many_names = j.value("too_many_names", false);
    if (j.contains("events")) s.events = j.at("events").get<std::map<std::string, std::string>>();
    if (j.contains("names")) s.names = j.at("names").get<std::map<std::string, std::set<std::string>>>();
  } catch (const std::exception& e) {
    return Status::Errorf("{} is damaged (discovery): {}", where, e.what());
  }
  return s;
}

}  // namespace orderlake::etl::internal
