#include "table/delta.h"

#include <fmt/format.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include "core/clock.h"

namespace orderlake::table {
using json = nlohmann::json;

namespace {

std::string new_uuid() {
  std::random_device rd;
  std::mt19937_64 rng((static_cast<uint64_t>(rd()) << 32) ^ rd() ^ static_cast<uint64_t>(clock::unix_ms()));
  uint64_t a = rng(), b = rng();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 1
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xffff, b >> 48,
                     b & 0xffffffffffffULL);
}

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~' || c == '/' || c == '=';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

json partition_values_json(const DataFile& f) {
  json pv = json::object();
  for (auto& [k, v] : f.partition_values) pv[k] = v ? json(*v) : json(nullptr);
  return pv;
}

}  // namespace

size_t Snapshot::PruneTombstones(int64_t cutoff_ms) {
  return std::erase_if(tombstones, [&](const auto& kv) { return kv.second.deletion_timestamp < cutoff_ms; });
}

uint64_t Snapshot::records() const {
  uint64_t n = 0;
  for (auto& [p, f] : files) n += f.records;
  return n;
}

int64_t Snapshot::txn_version(const std::string& app_id) const {
  auto it = txn.find(app_id);
  return it == txn.end() ? -1 : it->second;
}

std::vector<std::string> Snapshot::partition_columns() const {
  std::vector<std::string> out;
  if (metadata.is_object() && metadata.contains("partitionColumns"))
    for (auto& c : metadata["partitionColumns"]) out.push_back(c.get<std::string>());
  return out;
}

std::string commit_key(int64_t version) { return fmt::format("_delta_log/{:020d}.json", version); }

namespace {
std::string_view base_name(std::string_view key) {
  const size_t slash = key.rfind('/');
  return slash == std::string_view::npos ? key : key.substr(slash + 1);
}
}  // namespace

int64_t version_of_log_file(std::string_view key) {
  const std::string_view name = base_name(key);
  if (name.size() < 21 || name[20] != '.') return -1;
  int64_t v = 0;
  for (char c : name.substr(0, 20)) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

int64_t version_of_key(std::string_view key) {
  const std::string_view name = base_name(key);
  return name.size() == 25 && name.ends_with(".json") ? version_of_log_file(name) : -1;
}

std::string encode_path(std::string_view path) {
  std::string out;
  out.reserve(path.size() + 16);
  for (unsigned char c : path) {
    if (unreserved(c)) out += static_cast<char>(c);
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

Result<std::string> decode_path(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] != '%') {
      out += path[i];
      continue;
    }
    const int hi = i + 2 < path.size() ? hex_value(path[i + 1]) : -1;
    const int lo = i + 2 < path.size() ? hex_value(path[i + 2]) : -1;
    if (hi < 0 || lo < 0) return Status::Errorf("bad escape in path {}", path);
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

json protocol_action() { return json{{"protocol", {{"minReaderVersion", 1}, {"minWriterVersion", 2}}}}; }

json metadata_action(const std::vector<std::pair<std::string, std::string>>& schema,
                     const std::vector<std::string>& partition_columns) {
  json fields = json::array();
  for (auto& [name, type] : schema)
    fields.push_back({{"name", name}, {"type", type}, {"nullable", true}, {"metadata", json::object()}});
  const json struct_type = {{"type", "struct"}, {"fields", fields}};
  return json{{"metaData",
               {{"id", new_uuid()},
                {"format", {{"provider", "parquet"}, {"options", json::object()}}},
                {"schemaString", struct_type.dump()},
                {"partitionColumns", partition_columns},
                {"configuration", json::object()},
                {"createdTime", clock::unix_ms()}}}};
}

json add_action(const DataFile& f, bool data_change) {
  json a = {{"path", f.path},
            {"partitionValues", partition_values_json(f)},
            {"size", f.size},
            {"modificationTime", f.modification_time},
            {"dataChange", data_change}};
  if (!f.stats.empty()) a["stats"] = f.stats;
  return json{{"add", a}};
}

json remove_action(const DataFile& f, int64_t deletion_timestamp, bool data_change) {
  return json{{"remove",
               {{"path", f.path},
                {"deletionTimestamp", deletion_timestamp},
                {"dataChange", data_change},
                {"extendedFileMetadata", true},
                {"partitionValues", partition_values_json(f)},
                {"size", f.size}}}};
}

json txn_action(const std::string& app_id, int64_t version) {
  return json{{"txn", {{"appId", app_id}, {"version", version}, {"lastUpdated", clock::unix_ms()}}}};
}

json commit_info_action(std::string_view operation, const json& parameters, const json& extra) {
  json ci = {{"timestamp", clock::unix_ms()},
             {"operation", operation},
             {"operationParameters", parameters},
             {"isBlindAppend", operation == "STREAMING UPDATE" || operation == "WRITE"},
             {"engineInfo", "orderlake"}};
  for (auto& [k, v] : extra.items()) ci[k] = v;
  return json{{"commitInfo", ci}};
}

namespace {

// Calls f(line) for every non-blank line of a commit's text.
template <typename F>
Status for_each_line(std::string_view t, F&& f) {
  size_t pos = 0;
  while (pos < t.size()) {
    size_t nl = t.find('\n', pos);
    if (nl == std::string_view::npos) nl = t.size();
    std::string_view line = t.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    ORDERLAKE_RETURN_IF_ERROR(f(line));
  }
  return Status::OK();
}

std::optional<std::string> optional_string(simdjson::dom::element e) {
  std::string_view v;
  if (e.get_string().get(v) != simdjson::SUCCESS) return std::nullopt;
  return std::string(v);
}

}  // namespace

std::vector<json> LogCommit::actions() const {
  std::vector<json> out;
  (void)for_each_line(text, [&](std::string_view line) {
    out.push_back(json::parse(line, nullptr, false));
    return Status::OK();
  });
  return out;
}

json LogCommit::commit_info() const {
  json out;
  (void)for_each_line(text, [&](std::string_view line) {
    // Only a line whose (single) key is commitInfo is parsed.
    const size_t k = line.find_first_not_of(" \t{");
    if (k != std::string_view::npos && line.substr(k).starts_with("\"commitInfo\"")) {
      json a = json::parse(line, nullptr, false);
      if (a.is_object() && a.contains("commitInfo")) out = a["commitInfo"];
    }
    return Status::OK();
  });
  return out;
}

Status DeltaLog::Apply(Snapshot* s, const LogCommit& c, bool from_checkpoint) {
  if (!from_checkpoint && c.version != s->version + 1)
    return Status::Errorf("{}/_delta_log: version {} follows {}: the log has a gap", table_, c.version, s->version);
  thread_local simdjson::dom::parser parser;
  std::vector<std::string> pcols = s->partition_columns();
  Status st = for_each_line(c.text, [&](std::string_view line) -> Status {
    simdjson::dom::object action;
    if (parser.parse(line.data(), line.size()).get_object().get(action) != simdjson::SUCCESS)
      return Status::Errorf("{}/{}: a line is not a JSON action", table_, commit_key(c.version));
    for (auto [key, value] : action) {
      if (key == "add") {
        DataFile f;
        std::string_view path;
        if (value["path"].get_string().get(path) != simdjson::SUCCESS)
          return Status::Errorf("{}/{}: an add without a path", table_, commit_key(c.version));
        f.path = std::string(path);
        simdjson::dom::object pv;
        if (value["partitionValues"].get_object().get(pv) == simdjson::SUCCESS) {
          for (const auto& k : pcols) {
            simdjson::dom::element e;
            f.partition_values.emplace_back(k, pv[k].get(e) == simdjson::SUCCESS ? optional_string(e) : std::nullopt);
          }
          for (auto [k, v] : pv)
            if (std::find(pcols.begin(), pcols.end(), k) == pcols.end())
              f.partition_values.emplace_back(std::string(k), optional_string(v));
        }
        uint64_t u = 0;
        int64_t i = 0;
        if (value["size"].get_uint64().get(u) == simdjson::SUCCESS) f.size = u;
        if (value["modificationTime"].get_int64().get(i) == simdjson::SUCCESS) f.modification_time = i;
        std::string_view stats;
        if (value["stats"].get_string().get(stats) == simdjson::SUCCESS) {
          f.stats = std::string(stats);
          // Only numRecords is needed here: found without parsing the whole document.
          const size_t at = stats.find("\"numRecords\":");
          if (at != std::string_view::npos) f.records = std::strtoull(f.stats.c_str() + at + 13, nullptr, 10);
        }
        f.added_in = c.version;
        s->tombstones.erase(f.path);
        s->files[f.path] = std::move(f);
      } else if (key == "remove") {
        Tombstone t;
        std::string_view path;
        if (value["path"].get_string().get(path) != simdjson::SUCCESS)
          return Status::Errorf("{}/{}: a remove without a path", table_, commit_key(c.version));
        t.path = std::string(path);
        int64_t ts = 0;
        if (value["deletionTimestamp"].get_int64().get(ts) == simdjson::SUCCESS) t.deletion_timestamp = ts;
        t.removed_in = c.version;
        s->files.erase(t.path);
        s->tombstones[t.path] = std::move(t);
      } else if (key == "txn") {
        std::string_view app;
        int64_t v = 0;
        if (value["appId"].get_string().get(app) != simdjson::SUCCESS ||
            value["version"].get_int64().get(v) != simdjson::SUCCESS)
          return Status::Errorf("{}/{}: a txn without appId or version", table_, commit_key(c.version));
        s->txn[std::string(app)] = v;
      } else if (key == "metaData") {
        s->metadata = json::parse(simdjson::to_string(value), nullptr, false);
        pcols = s->partition_columns();
      } else if (key == "protocol") {
        s->protocol = json::parse(simdjson::to_string(value), nullptr, false);
        const int reader = s->protocol.value("minReaderVersion", 1);
        if (reader > 1)
          return Status::Errorf("{}: the table needs a Delta reader of version {} (this one reads version 1)", table_,
                                reader);
      } else if (key == "commitInfo") {
        int64_t ts = 0;
        if (value["timestamp"].get_int64().get(ts) == simdjson::SUCCESS) s->last_commit_ms = ts;
      }
    }
    return Status::OK();
  });
  ORDERLAKE_RETURN_IF_ERROR(st);
  s->version = c.version;
  return Status::OK();
}

Result<std::vector<LogCommit>> DeltaLog::ReadAfter(int64_t version, bool by_key) {
  std::vector<LogCommit> out;
  if (by_key && !store_->local_root().empty()) {
    // A local log: the next commits by key, never a listing of the directory (whose size
    // is the retention's worth of commits).
    for (int64_t v = version + 1;; ++v) {
      auto head = store_->Head(key(commit_key(v)));
      if (!head.ok()) return head.status();
      if (!head.value()) break;
      auto text = store_->Get(key(commit_key(v)));
      if (!text.ok()) return text.status();
      out.push_back(LogCommit{v, std::move(text).value()});
    }
    return out;
  }
  // One listing after the snapshot's commit (S3's start-after), which also shows a gap.
  const std::string prefix = log_prefix();
  const std::string after = version >= 0 ? key(commit_key(version)) : std::string();
  auto listed = store_->List(prefix, after);
  if (!listed.ok()) return listed.status();
  for (auto& o : listed.value()) {
    const int64_t v = version_of_key(o.key);
    if (v <= version) continue;
    auto text = store_->Get(o.key);
    if (!text.ok()) return text.status();
    out.push_back(LogCommit{v, std::move(text).value()});
  }
  return out;
}

Result<bool> DeltaLog::CleanedPast(int64_t version, const std::vector<LogCommit>& next) {
  if (!next.empty()) return next.front().version != version + 1;
  // Nothing after `version`: either the snapshot is the newest, or the commits after it
  // (and its own) were removed by log cleanup, which removes the oldest commits first and
  // never the newest checkpoint's.
  if (version >= 0) {
    auto head = store_->Head(key(commit_key(version)));
    if (!head.ok()) return head.status();
    if (head.value()) return false;
  }
  auto last = LastCheckpoint();
  if (!last.ok()) return last.status();
  return last.value() > version;
}

Status DeltaLog::Update(Snapshot* s, const std::function<Status(const LogCommit&)>& visit) {
  return Advance(s, visit, /*by_key=*/true);
}

Status DeltaLog::Advance(Snapshot* s, const std::function<Status(const LogCommit&)>& visit, bool by_key) {
  auto commits = ReadAfter(s->version, by_key);
  if (!commits.ok()) return commits.status();
  auto cleaned = CleanedPast(s->version, commits.value());
  if (!cleaned.ok()) return cleaned.status();
  if (cleaned.value()) {
    // The commits after the snapshot are gone (older than delta.logRetentionDuration): start
    // again from the newest checkpoint. A caller that must see every commit cannot.
    auto last = LastCheckpoint();
    if (!last.ok()) return last.status();
    if (visit || last.value() < 0)
      return Status::Errorf(
          "{}/_delta_log: the commits after version {} were removed by log cleanup (older than the table's "
          "delta.logRetentionDuration); the oldest state still readable is the checkpoint at version {}",
          table_, s->version, last.value());
    Snapshot fresh;
    ORDERLAKE_RETURN_IF_ERROR(ReadCheckpoint(last.value(), &fresh));
    *s = std::move(fresh);
    commits = ReadAfter(s->version, by_key);
    if (!commits.ok()) return commits.status();
  }
  for (const LogCommit& c : commits.value()) {
    if (visit) ORDERLAKE_RETURN_IF_ERROR(visit(c));
    ORDERLAKE_RETURN_IF_ERROR(Apply(s, c));
  }
  return Status::OK();
}

Result<Snapshot> DeltaLog::Load(bool use_checkpoint) {
  Snapshot s;
  if (use_checkpoint) {
    auto last = LastCheckpoint();
    if (last.ok() && last.value() >= 0) {
      Status st = ReadCheckpoint(last.value(), &s);
      if (!st.ok()) {
        spdlog::warn("{}: cannot read checkpoint {} ({}); reading every commit instead", table_, last.value(),
                     st.message());
        s = Snapshot{};
      }
    }
  }
  // The commits after the checkpoint by one listing after it (which also shows a gap).
  ORDERLAKE_RETURN_IF_ERROR(Advance(&s, {}, /*by_key=*/false));
  return s;
}

Status DeltaLog::Refresh(Snapshot* s) {
  if (s->version >= 0) return Update(s);
  auto loaded = Load();
  if (!loaded.ok()) return loaded.status();
  *s = std::move(loaded).value();
  return Status::OK();
}

Result<int64_t> DeltaLog::Commit(Snapshot* s, const std::vector<json>& actions, const ConflictCheck& check,
                                 const std::function<std::vector<json>()>& make_first, int max_attempts) {
  std::mt19937 rng(std::random_device{}());
  for (int attempt = 1;; ++attempt) {
    // A writer whose snapshot is older than log cleanup must not re-create a removed
    // version: it catches up from the newest checkpoint first (put-if-absent alone cannot
    // tell a removed version from a free one).
    auto behind = CleanedPast(s->version, {});
    if (!behind.ok()) return behind.status();
    if (behind.value()) {
      ORDERLAKE_RETURN_IF_ERROR(Update(s));
      if (check) ORDERLAKE_RETURN_IF_ERROR(check({}, *s));
    }
    const int64_t v = s->version + 1;
    LogCommit c;
    c.version = v;
    if (v == 0 && make_first)
      for (const json& a : make_first()) c.text += a.dump() + "\n";
    for (const json& a : actions) c.text += a.dump() + "\n";
    auto put = store_->PutIfAbsent(key(commit_key(v)), c.text);
    if (!put.ok()) return put.status();
    if (put.value()) {
      ORDERLAKE_RETURN_IF_ERROR(Apply(s, c));
      return v;
    }
    // Another writer has version v: catch up, let the caller decide, try the next one.
    if (attempt >= max_attempts)
      return Status::Errorf("{}: gave up committing after {} conflicting writers", table_, attempt);
    auto missed = ReadAfter(s->version);
    if (!missed.ok()) return missed.status();
    for (const auto& m : missed.value()) ORDERLAKE_RETURN_IF_ERROR(Apply(s, m));
    if (check) ORDERLAKE_RETURN_IF_ERROR(check(missed.value(), *s));
    spdlog::debug("{}: version {} was taken by another writer; retrying at {}", table_, v, s->version + 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % (5 * attempt) + 1));
  }
}

}  // namespace orderlake::table
