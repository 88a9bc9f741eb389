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

std::string lag_text(const StageHealth& h) {
  if (h.lag_unit == "bytes") return fs::human_bytes(h.lag);
  return fmt::format("{:.0f} {}", h.lag, h.lag_unit);
}

}  // namespace

Monitor::Monitor()
    : objects_delivered_(registry_.counter("orderlake_up_objects_delivered_total",
                                           "Raw objects the firehose delivered (each one wakes the etl)")),
      freshness_(registry_.histogram(
          "orderlake_up_freshness_seconds",
          "From the firehose accepting an object's oldest record to the etl commit that made it visible (upper bound)",
          std::vector<double>(std::begin(kFreshnessBuckets), std::end(kFreshnessBuckets)))) {
  RegisterMetrics();
}

// Families read at scrape time. Stage health is what MetricsText() saw just before
// rendering (health checks may ask a stage over HTTP: once per scrape, not per family).
void Monitor::RegisterMetrics() {
  registry_.gauge_fn("orderlake_etl_objects_waiting",
                     "Raw objects delivered since start that no finished etl run has taken yet",
                     [this] { return static_cast<double>(objects_waiting()); });
  registry_.collect("orderlake_up_stage_up", metrics::Type::kGauge,
                    "1 when the stage is up (0: down; stages not in this pipeline are left out)",
                    [this](metrics::Emitter& e) {
                      std::lock_guard lock(mu_);
                      for (const auto& [name, h] : health_seen_)
                        if (h.enabled) e.Sample({{"stage", name}}, h.up ? 1 : 0);
                    });
  registry_.collect("orderlake_up_stage_lag", metrics::Type::kGauge, "The stage's backlog, in the unit of the label",
                    [this](metrics::Emitter& e) {
                      std::lock_guard lock(mu_);
                      for (const auto& [name, h] : health_seen_)
                        if (h.enabled && !h.lag_unit.empty()) e.Sample({{"stage", name}, {"unit", h.lag_unit}}, h.lag);
                    });
  registry_.collect("orderlake_up_stage_last_activity_timestamp_seconds", metrics::Type::kGauge,
                    "When the stage's work counter last moved (Unix time; 0 = not since start)",
                    [this](metrics::Emitter& e) {
                      std::lock_guard lock(mu_);
                      for (const auto& [name, a] : activity_)
                        e.Sample({{"stage", name}}, static_cast<double>(a.last_change_ms) / 1000.0);
                    });
}

void Monitor::AddStage(Stage stage) {
  std::lock_guard lock(mu_);
  activity_[stage.name];
  stages_.push_back(std::move(stage));
}

void Monitor::AddRegistry(const metrics::Registry* registry) { extra_.push_back(registry); }

std::vector<std::pair<std::string, StageHealth>> Monitor::StagesHealth() const {
  std::vector<std::pair<std::string, StageHealth>> health;
  for (const Stage& s : stages_) health.emplace_back(s.name, s.health());
  return health;
}

void Monitor::ObjectDelivered(int64_t oldest_arrival_ms) {
  objects_delivered_.Inc();
  std::lock_guard lock(mu_);
  waiting_.emplace_back(clock::unix_ms(), oldest_arrival_ms);
}

void Monitor::RecordFreshness(double seconds) {
  seconds = std::max(0.0, seconds);
  freshness_.Observe(seconds);
  freshness_last_ = seconds;
  freshness_window_max_ = std::max(freshness_window_max_, seconds);
}

void Monitor::EtlRun(const etl::RunSummary& s) {
  etl_.RunCommitted(s);
  const int64_t now = clock::unix_ms();
  const int64_t started = now - static_cast<int64_t>(s.seconds * 1000);
  std::lock_guard lock(mu_);
  while (!waiting_.empty() && waiting_.front().first <= started) {
    RecordFreshness(static_cast<double>(now - waiting_.front().second) / 1000.0);
    waiting_.pop_front();
  }
}

void Monitor::EtlNothingNew(const etl::RunSummary& s) {
  const int64_t last_commit_ms = etl_.last_commit_ms();
  etl_.NothingNew(s);
  const int64_t now = clock::unix_ms();
  const int64_t started = now - static_cast<int64_t>(s.seconds * 1000);
  std::lock_guard lock(mu_);
  // Delivered before this run started and not new to it: the previous commit took them.
  while (!waiting_.empty() && waiting_.front().first <= started) {
    const int64_t at = last_commit_ms >= waiting_.front().first ? last_commit_ms : now;
    RecordFreshness(static_cast<double>(at - waiting_.front().second) / 1000.0);
    waiting_.pop_front();
  }
}

void Monitor::EtlError(const Status& st) { etl_.RunFailed(st); }

bool Monitor::etl_failing(std::string* why) const { return etl_.failing(why); }

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
    if (s.registry) s.registry->AppendText(o);
  auto health = StagesHealth();
  {
    std::lock_guard lock(mu_);
    health_seen_ = std::move(health);
  }
  etl_.registry().AppendText(o);
  for (const metrics::Registry* r : extra_) r->AppendText(o);
  registry_.AppendText(o);
  return o;
}

std::pair<int, std::string> Monitor::Health() const {
  const auto health = StagesHealth();
  const int64_t now = clock::unix_ms();
  const int64_t last_commit_ms = etl_.last_commit_ms();
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
              {"last_commit", last_commit_ms ? json(iso_utc(last_commit_ms)) : json(nullptr)}};
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
  const int64_t last_commit_ms = etl_.last_commit_ms();
  const double rows = static_cast<double>(etl_.rows_kept());
  std::lock_guard lock(mu_);
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
                      : last_commit_ms          ? "no new rows"
                                                : "no commit yet";
  freshness_window_max_ = -1;
  std::string line = fmt::format("up: {:.0f} orders/s in, {:.0f} rows/s to the table | lag {} | {} | table +{} rows",
                                 in_rate, row_rate, lag, fresh, static_cast<uint64_t>(rows));
  if (!down.empty()) line += " | DOWN: " + down;
  return line;
}

}  // namespace orderlake::up
