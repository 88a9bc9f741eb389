#include "up/monitor.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

#include "core/clock.h"
#include "core/fs.h"

namespace orderlake::up {
namespace {
using json = nlohmann::json;

std::string iso_utc(int64_t ms) {
  const time_t t = static_cast<time_t>(ms / 1000);
  struct tm tm {};
  gmtime_r(&t, &tm);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
}

std::string label_escape(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

void family(std::string& o, std::string_view name, std::string_view type, std::string_view help) {
  o += fmt::format("# HELP {0} {1}\n# TYPE {0} {2}\n", name, help, type);
}

template <typename T>
void one(std::string& o, std::string_view name, std::string_view type, std::string_view help, T value) {
  family(o, name, type, help);
  o += fmt::format("{} {}\n", name, value);
}

std::string lag_text(const StageHealth& h) {
  if (h.lag_unit == "bytes") return fs::human_bytes(h.lag);
  return fmt::format("{:.0f} {}", h.lag, h.lag_unit);
}

}  // namespace

double metric_value(const std::string& text, std::string_view name) {
  double sum = 0;
  size_t pos = 0;
  while ((pos = text.find(name, pos)) != std::string::npos) {
    const bool line_start = pos == 0 || text[pos - 1] == '\n';
    const size_t after = pos + name.size();
    const char next = after < text.size() ? text[after] : '\0';
    if (line_start && (next == ' ' || next == '{')) {
      size_t sp = next == '{' ? text.find('}', after) : after;
      if (sp != std::string::npos) sp = text.find(' ', sp);
      if (sp != std::string::npos) sum += std::strtod(text.c_str() + sp + 1, nullptr);
    }
    pos = after;
  }
  return sum;
}

Monitor::Monitor() : freshness_counts_(std::size(kFreshnessBuckets) + 1, 0) {}

void Monitor::AddStage(Stage stage) {
  std::lock_guard lock(mu_);
  activity_[stage.name];
  stages_.push_back(std::move(stage));
}

void Monitor::ObjectDelivered(int64_t oldest_arrival_ms) {
  std::lock_guard lock(mu_);
  waiting_.emplace_back(clock::unix_ms(), oldest_arrival_ms);
  ++objects_delivered_;
}

void Monitor::RecordFreshness(double seconds) {
  seconds = std::max(0.0, seconds);
  size_t b = 0;
  while (b < std::size(kFreshnessBuckets) && seconds > kFreshnessBuckets[b]) ++b;
  ++freshness_counts_[b];
  freshness_sum_ += seconds;
  ++freshness_n_;
  freshness_last_ = seconds;
  freshness_window_max_ = std::max(freshness_window_max_, seconds);
}

void Monitor::EtlRun(const etl::RunSummary& s) {
  const int64_t now = clock::unix_ms();
  const int64_t started = now - static_cast<int64_t>(s.seconds * 1000);
  std::lock_guard lock(mu_);
  while (!waiting_.empty() && waiting_.front().first <= started) {
    RecordFreshness(static_cast<double>(now - waiting_.front().second) / 1000.0);
    waiting_.pop_front();
  }
  ++etl_runs_;
  etl_objects_ += s.objects;
  etl_bytes_ += s.input_bytes;
  etl_records_ += s.records;
  etl_kept_ += s.kept;
  etl_files_ += s.files;
  for (const auto& [k, v] : s.filtered) etl_filtered_[k] += v;
  for (const auto& [k, v] : s.quarantined) etl_quarantined_[k] += v;
  etl_last_run_seconds_ = s.seconds;
  etl_last_commit_ms_ = etl_last_ok_ms_ = now;
  etl_last_run_id_ = s.run_id;
}

void Monitor::EtlNothingNew(const etl::RunSummary& s) {
  const int64_t now = clock::unix_ms();
  const int64_t started = now - static_cast<int64_t>(s.seconds * 1000);
  std::lock_guard lock(mu_);
  // Delivered before this run started and not new to it: the previous commit took them.
  while (!waiting_.empty() && waiting_.front().first <= started) {
    const int64_t at = etl_last_commit_ms_ >= waiting_.front().first ? etl_last_commit_ms_ : now;
    RecordFreshness(static_cast<double>(at - waiting_.front().second) / 1000.0);
    waiting_.pop_front();
  }
  ++etl_runs_nothing_new_;
  etl_last_ok_ms_ = now;
}

void Monitor::EtlError(const Status& st) {
  std::lock_guard lock(mu_);
  ++etl_errors_;
  etl_last_error_ms_ = clock::unix_ms();
  etl_last_error_ = st.message();
}

bool Monitor::etl_failing(std::string* why) const {
  std::lock_guard lock(mu_);
  if (etl_last_error_ms_ == 0 || etl_last_error_ms_ < etl_last_ok_ms_) return false;
  if (why) *why = etl_last_error_;
  return true;
}

uint64_t Monitor::objects_waiting() const {
  std::lock_guard lock(mu_);
  return waiting_.size();
}

void Monitor::Sample() {
  // Stages are fixed once the pipeline runs; their counters take their own locks.
  std::vector<std::pair<std::string, double>> values;
  for (const Stage& s : stages_)
    if (s.progress) values.emplace_back(s.name, s.progress());
  const int64_t now = clock::unix_ms();
  std::lock_guard lock(mu_);
  for (const auto& [name, v] : values) {
    Activity& a = activity_[name];
    if (a.last_value >= 0 && v != a.last_value) a.last_change_ms = now;
    a.last_value = v;
  }
}

std::string Monitor::MetricsText() const {
  std::string o;
  for (const Stage& s : stages_)
    if (s.metrics) o += s.metrics();
  std::vector<std::pair<std::string, StageHealth>> health;
  for (const Stage& s : stages_) health.emplace_back(s.name, s.health());

  std::lock_guard lock(mu_);
  one(o, "orderlake_etl_runs_total", "counter", "etl runs that committed a batch", etl_runs_);
  one(o, "orderlake_etl_runs_nothing_new_total", "counter", "etl runs that found no new raw object",
      etl_runs_nothing_new_);
  one(o, "orderlake_etl_run_errors_total", "counter", "etl runs that failed (retried)", etl_errors_);
  one(o, "orderlake_etl_objects_read_total", "counter", "Raw objects read", etl_objects_);
  one(o, "orderlake_etl_bytes_read_total", "counter", "Raw bytes read", etl_bytes_);
  one(o, "orderlake_etl_records_read_total", "counter", "Records read (kept + filtered + quarantined)", etl_records_);
  one(o, "orderlake_etl_records_kept_total", "counter", "Records written to the table", etl_kept_.load());
  family(o, "orderlake_etl_records_filtered_total", "counter", "Records left out by the cleaning rules, by reason");
  for (const auto& [k, v] : etl_filtered_)
    o += fmt::format("orderlake_etl_records_filtered_total{{reason=\"{}\"}} {}\n", label_escape(k), v);
  family(o, "orderlake_etl_records_quarantined_total", "counter", "Records that could not be parsed, by reason");
  for (const auto& [k, v] : etl_quarantined_)
    o += fmt::format("orderlake_etl_records_quarantined_total{{reason=\"{}\"}} {}\n", label_escape(k), v);
  one(o, "orderlake_etl_files_written_total", "counter", "Table files written", etl_files_);
  one(o, "orderlake_etl_last_run_seconds", "gauge", "Wall time of the last committed run", etl_last_run_seconds_);
  one(o, "orderlake_etl_last_commit_timestamp_seconds", "gauge", "When the last run committed (Unix time; 0 = none)",
      static_cast<double>(etl_last_commit_ms_) / 1000.0);
  if (!etl_last_run_id_.empty()) {
    family(o, "orderlake_etl_last_run_info", "gauge", "The last committed run");
    o += fmt::format("orderlake_etl_last_run_info{{run_id=\"{}\"}} 1\n", label_escape(etl_last_run_id_));
  }
  one(o, "orderlake_etl_objects_waiting", "gauge",
      "Raw objects delivered since start that no finished etl run has taken yet", waiting_.size());

  one(o, "orderlake_up_objects_delivered_total", "counter",
      "Raw objects the firehose delivered (each one wakes the etl)", objects_delivered_);
  family(o, "orderlake_up_freshness_seconds", "histogram",
         "From the firehose accepting an object's oldest record to the etl commit that made it visible (upper bound)");
  uint64_t cum = 0;
  for (size_t b = 0; b < std::size(kFreshnessBuckets); ++b) {
    cum += freshness_counts_[b];
    o += fmt::format("orderlake_up_freshness_seconds_bucket{{le=\"{}\"}} {}\n", kFreshnessBuckets[b], cum);
  }
  cum += freshness_counts_.back();
  o += fmt::format("orderlake_up_freshness_seconds_bucket{{le=\"+Inf\"}} {}\n", cum);
  o += fmt::format("orderlake_up_freshness_seconds_sum {}\norderlake_up_freshness_seconds_count {}\n", freshness_sum_,
                   freshness_n_);
  family(o, "orderlake_up_stage_up", "gauge", "1 when the stage is up (0: down; stages not in this pipeline are left out)");
  for (const auto& [name, h] : health)
    if (h.enabled) o += fmt::format("orderlake_up_stage_up{{stage=\"{}\"}} {}\n", name, h.up ? 1 : 0);
  family(o, "orderlake_up_stage_lag", "gauge", "The stage's backlog, in the unit of the label");
  for (const auto& [name, h] : health)
    if (h.enabled && !h.lag_unit.empty())
      o += fmt::format("orderlake_up_stage_lag{{stage=\"{}\",unit=\"{}\"}} {}\n", name, h.lag_unit, h.lag);
  family(o, "orderlake_up_stage_last_activity_timestamp_seconds", "gauge",
         "When the stage's work counter last moved (Unix time; 0 = not since start)");
  for (const auto& [name, a] : activity_)
    o += fmt::format("orderlake_up_stage_last_activity_timestamp_seconds{{stage=\"{}\"}} {}\n", name,
                     static_cast<double>(a.last_change_ms) / 1000.0);
  return o;
}

std::pair<int, std::string> Monitor::Health() const {
  std::vector<std::pair<std::string, StageHealth>> health;
  for (const Stage& s : stages_) health.emplace_back(s.name, s.health());
  const int64_t now = clock::unix_ms();
  std::lock_guard lock(mu_);
  bool all_up = true;
  json stages = json::object();
  for (const auto& [name, h] : health) {
    json j = {{"up", h.up}, {"state", h.state}};
    if (!h.enabled) j["up"] = nullptr;
    if (h.enabled && !h.up) all_up = false;
    auto it = activity_.find(name);
    if (it != activity_.end() && it->second.last_change_ms > 0) {
      j["last_activity"] = iso_utc(it->second.last_change_ms);
      j["idle_seconds"] = static_cast<double>(now - it->second.last_change_ms) / 1000.0;
    } else {
      j["last_activity"] = nullptr;
      j["idle_seconds"] = nullptr;
    }
    if (!h.lag_unit.empty()) {
      j["lag"] = h.lag;
      j["lag_unit"] = h.lag_unit;
    }
    stages[name] = std::move(j);
  }
  json out = {{"status", all_up ? "up" : "down"},
              {"stages", std::move(stages)},
              {"objects_waiting", waiting_.size()},
              {"freshness_seconds", freshness_last_ < 0 ? json(nullptr) : json(freshness_last_)},
              {"last_commit", etl_last_commit_ms_ ? json(iso_utc(etl_last_commit_ms_)) : json(nullptr)}};
  return {all_up ? 200 : 503, out.dump(2)};
}

std::string Monitor::StatusLine() {
  std::vector<std::pair<std::string, StageHealth>> health;
  double in = 0;
  for (const Stage& s : stages_) {
    health.emplace_back(s.name, s.health());
    if (s.name == "firehose" && s.progress) in = s.progress();
  }
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  const double rows = static_cast<double>(etl_kept_.load());
  const double dt = last_status_ == std::chrono::steady_clock::time_point{}
                        ? 0
                        : std::chrono::duration<double>(now - last_status_).count();
  const double in_rate = dt > 0 ? (in - last_in_) / dt : 0, row_rate = dt > 0 ? (rows - last_rows_) / dt : 0;
  last_status_ = now;
  last_in_ = in;
  last_rows_ = rows;
  std::string lag, down;
  for (const auto& [name, h] : health) {
    if (!h.enabled) continue;
    if (!h.lag_unit.empty()) lag += fmt::format("{}{} {}", lag.empty() ? "" : ", ", name, lag_text(h));
    if (!h.up) down += fmt::format("{}{} {}", down.empty() ? "" : ", ", name, h.state);
  }
  std::string fresh = freshness_window_max_ >= 0 ? fmt::format("freshness <= {:.2f} s", freshness_window_max_)
                      : etl_last_commit_ms_     ? "no new rows"
                                                : "no commit yet";
  freshness_window_max_ = -1;
  std::string line = fmt::format("up: {:.0f} orders/s in, {:.0f} rows/s to the table | lag {} | {} | table +{} rows",
                                 in_rate, row_rate, lag, fresh, static_cast<uint64_t>(rows));
  if (!down.empty()) line += " | DOWN: " + down;
  return line;
}

}  // namespace orderlake::up
