// Run records, their roll-up and the quarantine's retention (etl/runs.h).
#include "etl/runs.h"

#include <ctime>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "core/clock.h"
#include "core/log.h"
#include "etl/job_internal.h"

namespace orderlake::etl {
using json = nlohmann::json;

namespace {

std::string MetaPrefix(const std::string& table) { return fmt::format("_orderlake/{}/", table); }
std::string RunsPrefix(const std::string& table) { return MetaPrefix(table) + "runs/"; }
std::string RollupKey(const std::string& table) { return MetaPrefix(table) + "runs_rollup.json"; }
std::string QuarantinePrefix(const std::string& table) { return fmt::format("_quarantine/{}/", table); }

uint64_t Sum(const std::map<std::string, uint64_t>& m) {
  uint64_t n = 0;
  for (const auto& [k, v] : m) n += v;
  return n;
}

// The run id of a key "<prefix><id><suffix>" directly under prefix; empty when it is not one.
std::string IdOf(std::string_view key, std::string_view prefix, std::string_view suffix) {
  if (!key.starts_with(prefix) || !key.ends_with(suffix)) return {};
  std::string_view id = key.substr(prefix.size(), key.size() - prefix.size() - suffix.size());
  if (id.empty() || id.find('/') != std::string_view::npos) return {};
  return std::string(id);
}

// True when the whole second a run started in lies before cutoff_ms: every run that starts
// at or after cutoff_ms then has a greater id.
bool StartedBefore(int64_t start_ms, int64_t cutoff_ms) { return start_ms >= 0 && start_ms + 1000 <= cutoff_ms; }

std::string UtcDate(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

Result<json> GetJson(store::ObjectStore* lake, const std::string& key) {
  auto text = lake->Get(key);
  if (!text.ok()) return Status::Errorf("cannot read {}/{}: {}", lake->url(), key, text.status().message());
  json j = json::parse(text.value(), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Status::Errorf("{}/{} is damaged (not a JSON object): move it away; run records are not rolled up "
                          "until then",
                          lake->url(), key);
  return j;
}

Status WriteRollup(store::ObjectStore* lake, const std::string& table, const Rollup& r) {
  json days = json::object();
  for (const auto& [d, t] : r.days) days[d] = t.ToJson();
  json j = {{"version", 1},
            {"table", table},
            {"folded_through", r.folded_through},
            {"updated_at_ms", clock::unix_ms()},
            {"totals", r.totals.ToJson()},
            {"days", days}};
  return lake->Put(RollupKey(table), j.dump(1));
}

// A quarantine key's run id ("<id>.jsonl") or hour part ("<hour>-hour-<n>.jsonl", id
// "<yyyymmddThh>0000Z-hour-<n>"); the time it covers up to: a run's start, a part's hour end.
struct QuarantineFile {
  std::string key, id;
  int64_t start_ms = -1;  // -1: not one of ours (a user's file, left alone)
  bool part = false;
  int64_t end_ms() const { return part ? start_ms + internal::kHourMs : start_ms; }
};

QuarantineFile ParseQuarantineKey(const std::string& key, const std::string& prefix) {
  QuarantineFile q{key, IdOf(key, prefix, ".jsonl")};
  if (q.id.empty()) return q;
  q.start_ms = RunIdTimeMs(q.id);
  q.part = q.id.size() > 17 && q.id.compare(16, 6, "-hour-") == 0;
  return q;
}

std::string PartKey(const std::string& table, int64_t hour_ms, int n) {
  std::time_t t = static_cast<std::time_t>(hour_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{}{:04}{:02}{:02}T{:02}0000Z-hour-{:04}.jsonl", QuarantinePrefix(table), tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, n);
}

// The run id a part's line starts with ({"run_id":"<id>",...); empty when it does not.
std::string_view LineRunId(std::string_view line) {
  constexpr std::string_view head = "{\"run_id\":\"";
  if (!line.starts_with(head)) return {};
  line.remove_prefix(head.size());
  return line.substr(0, line.find('"'));
}

// Folds the quarantine files of one UTC hour (ascending run ids) into the hour's parts:
// each line gains the run's id as its first field, a part grows to options.quarantine_part_bytes
// and the next one starts. A file whose id is at or below the last part's last run id was
// folded by a pass that stopped before deleting it: it is only deleted. Parts are written
// (atomically) before any file they hold is deleted, so a crash between loses nothing and
// the next pass does not fold a file twice.
Status FoldQuarantineHour(store::ObjectStore* lake, const std::string& table, int64_t hour_ms,
                          const std::vector<QuarantineFile>& files, int last_part, const BookkeepingOptions& options,
                          BookkeepingResult* res) {
  int n = std::max(last_part, 1);
  std::string part, folded_through;
  if (last_part > 0) {
    auto text = lake->Get(PartKey(table, hour_ms, n));
    if (!text.ok()) return text.status();
    part = std::move(text).value();
    std::string_view body(part);
    while (body.ends_with('\n')) body.remove_suffix(1);
    folded_through = LineRunId(body.substr(body.rfind('\n') == std::string_view::npos ? 0 : body.rfind('\n') + 1));
  }
  std::vector<std::string> done;
  bool dirty = false;
  for (const auto& f : files) {
    if (!folded_through.empty() && f.id <= folded_through) {
      done.push_back(f.key);
      continue;
    }
    auto text = lake->Get(f.key);
    if (!text.ok()) return text.status();
    std::string add;
    std::string_view body(text.value());
    while (!body.empty()) {
      const size_t nl = body.find('\n');
      std::string_view line = body.substr(0, nl);
      body.remove_prefix(nl == std::string_view::npos ? body.size() : nl + 1);
      if (line.empty()) continue;
      const bool object = line.starts_with('{') && line.ends_with('}');
      add += fmt::format("{{\"run_id\":\"{}\"", f.id);
      if (object) add += line.size() > 2 ? fmt::format(",{}\n", line.substr(1)) : "}\n";
      else add += fmt::format(",\"line\":{}}}\n", json(std::string(line)).dump());
    }
    if (!part.empty() && part.size() + add.size() > options.quarantine_part_bytes) {
      if (dirty) {  // this part is full: the next one starts
        ORDERLAKE_RETURN_IF_ERROR(lake->Put(PartKey(table, hour_ms, n), part));
        ++res->quarantine_parts_written;
      }
      part.clear();
      dirty = false;
      ++n;
    }
    part += add;
    dirty = true;
    done.push_back(f.key);
    ++res->quarantine_folded;
  }
  if (dirty) {
    ORDERLAKE_RETURN_IF_ERROR(lake->Put(PartKey(table, hour_ms, n), part));
    ++res->quarantine_parts_written;
    internal::crash_point("quarantine_part_written");
  }
  for (const auto& key : done) ORDERLAKE_RETURN_IF_ERROR(lake->Delete(key));
  return Status::OK();
}

// The quarantine's bookkeeping: files past the quarantine retention are deleted; the run
// files older than the runs retention (and not yet expired) are folded into hour parts.
// At most kMaxPerPass of each per pass.
Status KeepQuarantine(store::ObjectStore* lake, const std::string& table, const BookkeepingOptions& options,
                      int64_t now_ms, BookkeepingResult* res) {
  const std::string prefix = QuarantinePrefix(table);
  auto listed = lake->List(prefix);
  if (!listed.ok()) return listed.status();
  const int64_t expire_before = now_ms - options.quarantine_retention_ms;
  const int64_t fold_before = now_ms - options.runs_retention_ms;
  std::map<int64_t, std::vector<QuarantineFile>> fold;  // by hour
  std::map<int64_t, int> last_part;                     // by hour
  size_t folding = 0;
  for (const auto& o : listed.value()) {
    QuarantineFile q = ParseQuarantineKey(o.key, prefix);
    if (q.id.empty()) continue;
    const bool expired = q.start_ms >= 0 ? StartedBefore(q.end_ms(), expire_before) : o.mtime_ms < expire_before;
    if (expired) {
      if (res->quarantine_deleted >= kMaxPerPass) {
        res->more = true;
        continue;
      }
      ORDERLAKE_RETURN_IF_ERROR(lake->Delete(o.key));
      ++res->quarantine_deleted;
    } else if (q.part) {
      int& last = last_part[internal::hour_floor(q.start_ms)];
      last = std::max(last, std::atoi(q.id.c_str() + 22));
    } else if (q.start_ms >= 0 && StartedBefore(q.start_ms, fold_before)) {
      if (folding++ >= kMaxPerPass) res->more = true;
      else fold[internal::hour_floor(q.start_ms)].push_back(std::move(q));
    }
  }
  for (const auto& [hour, files] : fold)
    ORDERLAKE_RETURN_IF_ERROR(FoldQuarantineHour(lake, table, hour, files, last_part[hour], options, res));
  return Status::OK();
}

}  // namespace

uint64_t RunTotals::filtered_total() const { return Sum(filtered); }
uint64_t RunTotals::quarantined_total() const { return Sum(quarantined); }

Status RunTotals::Add(const json& run, const std::string& where) {
  if (!run.is_object()) return Status::Errorf("{} is not a run record", where);
  try {
    const std::pair<const char*, uint64_t*> counts[] = {{"records", &records},         {"kept", &kept},
                                                        {"empty_lines", &empty_lines}, {"objects", &objects},
                                                        {"input_bytes", &input_bytes}, {"files", &files}};
    for (const auto& [field, slot] : counts)
      if (run.contains(field)) *slot += run.at(field).get<uint64_t>();
    const std::pair<const char*, std::map<std::string, uint64_t>*> by_reason[] = {{"filtered", &filtered},
                                                                                  {"quarantined", &quarantined}};
    for (const auto& [field, m] : by_reason)
      if (run.contains(field))
        for (const auto& [reason, n] : run.at(field).items()) (*m)[reason] += n.get<uint64_t>();
    if (!run.value("quarantine_file", std::string()).empty()) ++quarantine_files;
    const std::string id = run.value("run_id", std::string());
    if (!id.empty() && (first_run.empty() || id < first_run)) first_run = id;
    if (id > last_run) last_run = id;
  } catch (const std::exception& e) {
    return Status::Errorf("{} is not a run record: {}", where, e.what());
  }
  ++runs;
  return Status::OK();
}

void RunTotals::Add(const RunTotals& o) {
  runs += o.runs;
  records += o.records;
  kept += o.kept;
  empty_lines += o.empty_lines;
  objects += o.objects;
  input_bytes += o.input_bytes;
  files += o.files;
  quarantine_files += o.quarantine_files;
  for (const auto& [k, v] : o.filtered) filtered[k] += v;
  for (const auto& [k, v] : o.quarantined) quarantined[k] += v;
  if (!o.first_run.empty() && (first_run.empty() || o.first_run < first_run)) first_run = o.first_run;
  if (o.last_run > last_run) last_run = o.last_run;
}

json RunTotals::ToJson() const {
  return {{"runs", runs},
          {"records", records},
          {"kept", kept},
          {"empty_lines", empty_lines},
          {"filtered_total", filtered_total()},
          {"quarantined_total", quarantined_total()},
          {"filtered", filtered},
          {"quarantined", quarantined},
          {"objects", objects},
          {"input_bytes", input_bytes},
          {"files", files},
          {"quarantine_files", quarantine_files},
          {"first_run", first_run},
          {"last_run", last_run}};
}

Result<RunTotals> RunTotals::FromJson(const json& j, const std::string& where) {
  RunTotals t;
  ORDERLAKE_RETURN_IF_ERROR(t.Add(j, where));
  try {
    t.runs = j.at("runs").get<uint64_t>();
    t.quarantine_files = j.value("quarantine_files", uint64_t{0});
    t.first_run = j.value("first_run", std::string());
    t.last_run = j.value("last_run", std::string());
  } catch (const std::exception& e) {
    return Status::Errorf("{} is damaged: {}", where, e.what());
  }
  return t;
}

std::string RunRecordKey(const std::string& table, const std::string& run_id) {
  return RunsPrefix(table) + run_id + ".json";
}

Status WriteRunRecord(store::ObjectStore* lake, const std::string& table, const std::string& run_id,
                      const json& summary) {
  return lake->Put(RunRecordKey(table, run_id), summary.dump(2));
}

int64_t RunIdTimeMs(const std::string& id) {
  // yyyymmddThhmmssZ-xxxxxx
  if (id.size() < 17 || id[8] != 'T' || id[15] != 'Z') return -1;
  for (size_t i : {0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14})
    if (id[i] < '0' || id[i] > '9') return -1;
  auto num = [&](size_t at, size_t n) { return std::stoi(id.substr(at, n)); };
  std::tm tm{};
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(4, 2) - 1;
  tm.tm_mday = num(6, 2);
  tm.tm_hour = num(9, 2);
  tm.tm_min = num(11, 2);
  tm.tm_sec = num(13, 2);
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31) return -1;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

Result<Rollup> ReadRollup(store::ObjectStore* lake, const std::string& table) {
  Rollup r;
  const std::string key = RollupKey(table);
  auto head = lake->Head(key);
  if (!head.ok()) return head.status();
  if (!head.value()) return r;
  auto j = GetJson(lake, key);
  if (!j.ok()) return j.status();
  const std::string where = lake->url() + "/" + key;
  r.folded_through = j->value("folded_through", std::string());
  if (!j->contains("totals")) return Status::Errorf("{} is damaged: no totals", where);
  auto totals = RunTotals::FromJson(j->at("totals"), where);
  if (!totals.ok()) return totals.status();
  r.totals = std::move(totals).value();
  if (j->contains("days") && j->at("days").is_object())
    for (const auto& [d, v] : j->at("days").items()) {
      auto t = RunTotals::FromJson(v, where + " day " + d);
      if (!t.ok()) return t.status();
      r.days[d] = std::move(t).value();
    }
  return r;
}

Result<BookkeepingResult> KeepBooks(store::ObjectStore* lake, const std::string& table,
                                    const BookkeepingOptions& options, int64_t now_ms) {
  BookkeepingResult res;
  auto rollup = ReadRollup(lake, table);
  if (!rollup.ok()) return rollup.status();
  Rollup r = std::move(rollup).value();
  const std::string prefix = RunsPrefix(table);
  auto listed = lake->List(prefix);
  if (!listed.ok()) return listed.status();
  std::vector<std::string> leftovers, fold;  // keys
  const int64_t cutoff = now_ms - options.runs_retention_ms;
  for (const auto& o : listed.value()) {
    const std::string id = IdOf(o.key, prefix, ".json");
    const int64_t t = id.empty() ? -1 : RunIdTimeMs(id);
    if (t < 0) continue;  // not a run record of ours: left alone (and counted by readers)
    if (id <= r.folded_through) {
      leftovers.push_back(o.key);  // folded by a pass that stopped before deleting it
    } else if (StartedBefore(t, cutoff) && fold.size() < kMaxPerPass) {
      fold.push_back(o.key);  // keys sort as their ids, so these are the oldest ones
    } else if (StartedBefore(t, cutoff)) {
      res.more = true;
    }
  }
  for (const auto& key : fold) {
    auto j = GetJson(lake, key);
    if (!j.ok()) return j.status();
    const std::string id = IdOf(key, prefix, ".json");
    json run = std::move(j).value();
    if (!run.contains("run_id")) run["run_id"] = id;
    ORDERLAKE_RETURN_IF_ERROR(r.totals.Add(run, lake->url() + "/" + key));
    ORDERLAKE_RETURN_IF_ERROR(r.days[UtcDate(RunIdTimeMs(id))].Add(run, lake->url() + "/" + key));
    r.folded_through = id;
  }
  if (!fold.empty()) {
    while (r.days.size() > kRollupDays) r.days.erase(r.days.begin());
    ORDERLAKE_RETURN_IF_ERROR(WriteRollup(lake, table, r));
    res.runs_folded = fold.size();
    internal::crash_point("rollup_written");
  }
  leftovers.insert(leftovers.end(), fold.begin(), fold.end());
  for (const auto& key : leftovers) {
    if (res.records_deleted >= kMaxPerPass) {
      res.more = true;
      break;
    }
    ORDERLAKE_RETURN_IF_ERROR(lake->Delete(key));
    if (++res.records_deleted == 1) internal::crash_point("rollup_mid_delete");
  }
  ORDERLAKE_RETURN_IF_ERROR(KeepQuarantine(lake, table, options, now_ms, &res));
  return res;
}

Result<RunTotals> RunTotalsReader::Totals(store::ObjectStore* lake) {
  std::lock_guard lock(mu_);
  auto rollup = ReadRollup(lake, table_);
  if (!rollup.ok()) return rollup.status();
  RunTotals t = std::move(rollup->totals);
  const std::string prefix = RunsPrefix(table_);
  auto listed = lake->List(prefix);
  if (!listed.ok()) return listed.status();
  std::map<std::string, RunTotals> now;
  for (const auto& o : listed.value()) {
    const std::string id = IdOf(o.key, prefix, ".json");
    if (id.empty()) continue;
    if (RunIdTimeMs(id) >= 0 && id <= rollup->folded_through) continue;  // in the roll-up
    if (auto seen = recent_.find(o.key); seen != recent_.end()) {
      now.insert(recent_.extract(seen));
      continue;
    }
    auto j = GetJson(lake, o.key);
    if (!j.ok()) return j.status();
    RunTotals one;
    ORDERLAKE_RETURN_IF_ERROR(one.Add(j.value(), lake->url() + "/" + o.key));
    now.emplace(o.key, std::move(one));
  }
  recent_ = std::move(now);
  for (const auto& [k, one] : recent_) t.Add(one);
  return t;
}

Result<RunTotals> TotalsOfAllRuns(store::ObjectStore* lake, const std::string& table) {
  RunTotalsReader reader(table);
  return reader.Totals(lake);
}

json QualityJson(const RunTotals& t) {
  return json{{"runs", t.runs},
              {"records", t.records},
              {"kept", t.kept},
              {"empty_lines", t.empty_lines},
              {"filtered_total", t.filtered_total()},
              {"quarantined_total", t.quarantined_total()},
              {"filtered", t.filtered},
              {"quarantined", t.quarantined},
              {"scope", "every published run of the table (not affected by the filters)"}};
}

Result<json> QualityTotals(store::ObjectStore* lake, const std::string& table) {
  auto t = TotalsOfAllRuns(lake, table);
  if (!t.ok()) return t.status();
  return QualityJson(t.value());
}

}  // namespace orderlake::etl
