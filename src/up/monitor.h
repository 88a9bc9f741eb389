// What `orderlake up` knows about its stages while they run, and how it tells: one
// aggregated Prometheus /metrics, a /health document, and the live status line.
//
// Each stage keeps its own counters: a stage passes its metrics::Registry (the agent, the
// generator), or its metrics text where it has no registry yet (the firehose); the Monitor
// keeps the etl's (an etl::EtlMetrics, fed by the etl thread of `up`) and two things only
// `up` can see across stages:
// - objects waiting: raw objects the firehose delivered since start that no finished etl
//   run has taken yet (the etl's lag);
// - freshness: for each delivered object, the time from the firehose accepting its oldest
//   record to the etl commit that took it (under `up` a commit is visible to queries at
//   once). An object delivered before a run started is counted as taken by that run (or,
//   when the run found nothing new, by the commit before it), so this is an upper bound;
//   the agent's share (its poll and buffer age, before the firehose has a line) is not in it.
//
// A stage is down when its thread ended while `up` runs, its last attempt failed (the etl),
// or it does not answer (the firehose's own /health over loopback).
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "core/metrics.h"
#include "etl/job.h"
#include "etl/metrics.h"

namespace orderlake::up {

// One stage's state for /health.
struct StageHealth {
  bool enabled = true;     // false: not part of this pipeline (the generator with --logs)
  bool up = true;
  std::string state;       // "running", "failing: <why>", "stopped", "not answering", "off"
  double lag = 0;          // the stage's backlog, in lag_unit
  std::string lag_unit;
};

struct Stage {
  Stage() = default;
  Stage(std::string n, std::function<StageHealth()> h, std::function<double()> p, const metrics::Registry* r = nullptr)
      : name(std::move(n)), health(std::move(h)), progress(std::move(p)), registry(r) {}

  std::string name;                  // generate, agent, firehose, etl, dashboard
  std::function<StageHealth()> health;
  std::function<double()> progress;  // a counter that moves when the stage works
  const metrics::Registry* registry = nullptr;  // the stage's counters on /metrics; null = none there
};

class Monitor {
 public:
  static constexpr double kFreshnessBuckets[] = {0.1, 0.25, 0.5, 1, 2, 5, 10, 30};

  Monitor();

  // Adds a stage (before the pipeline runs; stages are not added while it runs).
  void AddStage(Stage stage);
  // Adds a registry rendered after the etl's (the compactor's); it must outlive the Monitor's use.
  void AddRegistry(const metrics::Registry* registry);

  // Called by the firehose's delivery thread for every object it delivered.
  void ObjectDelivered(int64_t oldest_arrival_ms);
  // Called by the etl thread after each run that committed, each run that found nothing
  // new, and each failed run.
  void EtlRun(const etl::RunSummary& s);
  void EtlNothingNew(const etl::RunSummary& s);
  void EtlError(const Status& st);
  // The etl's view for its StageHealth: the last run failed (and why).
  bool etl_failing(std::string* why) const;
  // Objects delivered and not yet taken by a finished run.
  uint64_t objects_waiting() const;
  uint64_t etl_rows() const { return etl_.rows_kept(); }
  const etl::EtlMetrics& etl_metrics() const { return etl_; }
  // up's own families (orderlake_etl_objects_waiting, orderlake_up_*).
  const metrics::Registry& registry() const { return registry_; }

  // Looks at every stage's progress counter and notes when it moved (call it often).
  void Sample();

  // Every stage's metrics, then the etl's, the added registries', and up's own (orderlake_up_*).
  std::string MetricsText() const;
  // {"status": "up"|"down", "stages": {name: {up, state, last_activity, idle_seconds, lag,
  // lag_unit}}, "freshness_seconds", "objects_waiting"}; HTTP 200 when every enabled stage
  // is up, else 503.
  std::pair<int, std::string> Health() const;
  // "up: 99812 orders/s in, ... | lag agent 220 KiB, firehose 1500 records, etl 2 objects |
  // freshness 0.41 s | table 1431191 rows"; rates since the previous call.
  std::string StatusLine();

 private:
  struct Activity {
    double last_value = -1;
    int64_t last_change_ms = 0;  // 0 = never
  };

  void RecordFreshness(double seconds);  // under mu_
  void RegisterMetrics();
  std::vector<std::pair<std::string, StageHealth>> StagesHealth() const;

  std::vector<Stage> stages_;
  std::vector<const metrics::Registry*> extra_;
  etl::EtlMetrics etl_;
  mutable std::mutex mu_;
  std::map<std::string, Activity> activity_;
  std::deque<std::pair<int64_t, int64_t>> waiting_;  // (delivered at, oldest arrival), ms
  // What /metrics last saw of each stage's health (orderlake_up_stage_up and _lag).
  mutable std::vector<std::pair<std::string, StageHealth>> health_seen_;
  // freshness
  double freshness_last_ = -1;
  double freshness_window_max_ = -1;  // worst since the previous status line
  metrics::Registry registry_;
  metrics::Counter& objects_delivered_;
  metrics::Histogram& freshness_;
  // status line rates
  std::chrono::steady_clock::time_point last_status_{};
  double last_in_ = 0, last_rows_ = 0;
};

}  // namespace orderlake::up
