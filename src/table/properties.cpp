#include "table/properties.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <charconv>
#include <vector>

#include "table/delta.h"

namespace orderlake::table {
using json = nlohmann::json;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    size_t j = i;
    while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

int64_t unit_ms(const std::string& u) {
  static const std::pair<const char*, int64_t> kUnits[] = {
      {"millisecond", 1},        {"second", 1000},           {"minute", 60'000},
      {"hour", 3'600'000},       {"day", 86'400'000},        {"week", 7 * 86'400'000LL}};
  for (auto& [name, ms] : kUnits)
    if (u == name || u == std::string(name) + "s") return ms;
  return 0;
}

Result<int64_t> parse_int(std::string_view key, std::string_view value) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || p != value.data() + value.size() || v < 1 || v > 1'000'000'000)
    return Status::Errorf("{} must be a whole number of commits from 1 to 1000000000, got '{}'", key, value);
  return v;
}

}  // namespace

Result<int64_t> ParseDeltaInterval(std::string_view text, std::string_view key) {
  auto w = words(text);
  const std::string expected =
      fmt::format("{} must be an interval such as 'interval 30 days' or 'interval 1 hours' (units: seconds, "
                  "minutes, hours, days, weeks), got '{}'",
                  key, text);
  size_t i = 0;
  if (!w.empty() && lower(w[0]) == "interval") i = 1;
  if (i >= w.size() || (w.size() - i) % 2 != 0) return Status::Error(expected);
  int64_t total = 0;
  for (; i < w.size(); i += 2) {
    int64_t n = 0;
    auto [p, ec] = std::from_chars(w[i].data(), w[i].data() + w[i].size(), n);
    if (ec != std::errc() || p != w[i].data() + w[i].size() || n < 0 || n > 1'000'000'000)
      return Status::Error(expected);
    const int64_t ms = unit_ms(lower(w[i + 1]));
    if (ms == 0) return Status::Error(expected);
    total += n * ms;
    if (total > 100LL * 365 * 86'400'000) return Status::Errorf("{} is longer than 100 years: '{}'", key, text);
  }
  return total;
}

std::string FormatDeltaInterval(int64_t ms) {
  static const std::pair<const char*, int64_t> kUnits[] = {
      {"weeks", 7 * 86'400'000LL}, {"days", 86'400'000}, {"hours", 3'600'000},
      {"minutes", 60'000},         {"seconds", 1000}};
  for (auto& [name, unit] : kUnits)
    if (ms > 0 && ms % unit == 0) return fmt::format("interval {} {}", ms / unit, name);
  return fmt::format("interval {} milliseconds", ms);
}

Status ValidateTableProperty(std::string_view key, std::string_view value) {
  if (key == kCheckpointInterval) return parse_int(key, value).status();
  if (key == kLogRetention || key == kDeletedFileRetention) return ParseDeltaInterval(value, key).status();
  if (lower(key).starts_with("delta."))
    return Status::Errorf("unknown Delta table property '{}' (orderlake sets {}, {} and {}; other keys without the "
                          "'delta.' prefix are kept as user properties)",
                          key, kCheckpointInterval, kLogRetention, kDeletedFileRetention);
  if (key.empty()) return Status::Error("a table property needs a name");
  return Status::OK();
}

TableProperties TableProperties::Of(const Snapshot& s) {
  TableProperties p;
  if (!s.metadata.is_object()) return p;
  auto cfg = s.metadata.find("configuration");
  if (cfg == s.metadata.end() || !cfg->is_object()) return p;
  auto get = [&](const char* key) -> std::optional<std::string> {
    auto it = cfg->find(key);
    if (it == cfg->end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  if (auto v = get(kCheckpointInterval)) {
    auto n = parse_int(kCheckpointInterval, *v);
    if (n.ok()) p.checkpoint_interval = n.value();
    else spdlog::warn("{}; using {}", n.status().message(), p.checkpoint_interval);
  }
  auto interval = [&](const char* key, int64_t* out) {
    if (auto v = get(key)) {
      auto ms = ParseDeltaInterval(*v, key);
      if (ms.ok()) *out = ms.value();
      else spdlog::warn("{}; using {}", ms.status().message(), FormatDeltaInterval(*out));
    }
  };
  interval(kLogRetention, &p.log_retention_ms);
  interval(kDeletedFileRetention, &p.deleted_file_retention_ms);
  return p;
}

Result<std::map<std::string, std::string>> GetTableProperties(store::ObjectStore* store, const std::string& table) {
  DeltaLog log(store, table);
  auto snap = log.Load();
  if (!snap.ok()) return snap.status();
  if (snap->version < 0) return Status::Errorf("{}: the table has no commit yet", table);
  std::map<std::string, std::string> out;
  auto cfg = snap->metadata.value("configuration", json::object());
  for (auto& [k, v] : cfg.items()) out[k] = v.is_string() ? v.get<std::string>() : v.dump();
  return out;
}

Result<int64_t> SetTableProperties(store::ObjectStore* store, const std::string& table,
                                   const std::map<std::string, std::string>& props) {
  for (auto& [k, v] : props) ORDERLAKE_RETURN_IF_ERROR(ValidateTableProperty(k, v));
  DeltaLog log(store, table);
  auto loaded = log.Load();
  if (!loaded.ok()) return loaded.status();
  Snapshot snap = std::move(loaded).value();
  if (snap.version < 0) return Status::Errorf("{}: the table has no commit yet (the etl creates it)", table);
  for (int attempt = 0; attempt < 50; ++attempt) {
    json md = snap.metadata;
    if (!md.contains("configuration") || !md["configuration"].is_object()) md["configuration"] = json::object();
    bool changed = false;
    for (auto& [k, v] : props) {
      if (md["configuration"].value(k, std::string()) == v && md["configuration"].contains(k)) continue;
      md["configuration"][k] = v;
      changed = true;
    }
    if (!changed) return snap.version;
    json params = json::object();
    params["properties"] = json(props).dump();
    const std::vector<json> actions = {json{{"metaData", md}}, commit_info_action("SET TBLPROPERTIES", params)};
    // A metaData commit conflicts with any other metaData change: recompute on top of it.
    bool other_metadata = false;
    auto committed = log.Commit(&snap, actions, [&](const std::vector<LogCommit>& missed, const Snapshot&) -> Status {
      for (const auto& c : missed)
        if (c.text.find("\"metaData\"") != std::string::npos) other_metadata = true;
      return other_metadata ? Status::Error("the table's metadata changed meanwhile") : Status::OK();
    });
    if (committed.ok()) return committed.value();
    if (!other_metadata) return committed.status();
  }
  return Status::Errorf("{}: gave up setting table properties after 50 concurrent metadata changes", table);
}

}  // namespace orderlake::table
