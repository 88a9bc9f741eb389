// `up`'s pipeline while it runs (private to src/up/): the stages' objects and threads, and
// the order they start and stop in. pipeline.cpp wires the stages to each other;
// pipeline_monitor.cpp registers them with the Monitor (/metrics, /health, status line).
#pragma once
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "agent/agent.h"
#include "core/metrics.h"
#include "core/wakeup.h"
#include "dashboard/server.h"
#include "etl/job.h"
#include "firehose/server.h"
#include "firehose/service.h"
#include "generate/run.h"
#include "endpoint/edge.h"
#include "table/compact.h"
#include "up/monitor.h"
#include "up/pipeline.h"

namespace orderlake::up::internal {

// The options of every stage, built from UpOptions and checked by the stages' own
// Validate() before anything starts.
struct StageOptions {
  etl::EtlOptions etl;
  table::CompactOptions compact;
  agent::AgentOptions agent;
  generate::RunOptions generate;  // used unless --logs
};
Result<StageOptions> BuildStageOptions(const UpOptions& o, const std::filesystem::path& data,
                                       const std::filesystem::path& logs);

class Pipeline {
 public:
  explicit Pipeline(const UpOptions& o);
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;
  // Starts every stage, runs until the duration passed or *stop, stops in flow order.
  Status Run(const std::atomic<bool>& stop);

 private:
  Status Prepare();
  Status StartFirehose();
  void StopFirehose();
  Status StartDashboard();
  Status StartAws();
  void StartAgent();  // its failure goes to result_
  void StartEtl();
  void ApplyLogRetention();  // the etl thread's
  void StartCompactor();
  void StartGenerator();
  void RegisterStages();  // pipeline_monitor.cpp
  void PrintBanner();
  void Loop(const std::atomic<bool>& stop);
  void Shutdown();

  const UpOptions& o_;
  std::filesystem::path data_, logs_, raw_, lake_;
  std::pair<std::string, std::string> keys_;
  StageOptions so_;
  Monitor monitor_;
  Wakeup etl_wakeup_;
  std::atomic<bool> stopping_{false};
  Status result_;

  std::unique_ptr<firehose::FirehoseService> service_;
  std::unique_ptr<firehose::FirehoseServer> fh_server_;
  int fh_port_ = 0;
  std::thread fh_thread_;

  std::unique_ptr<endpoint::Edge> aws_;
  int aws_port_ = 0;

  std::atomic<bool> monitor_ready_{false};  // the stages are added once they all exist
  std::unique_ptr<dashboard::DashboardServer> dash_;
  std::atomic<bool> dash_running_{true};
  std::thread dash_thread_;

  std::unique_ptr<agent::Agent> agent_;

  std::atomic<bool> stop_stages_{false}, stop_gen_{false}, etl_running_{true};
  bool log_retention_set_ = false;  // the table's delta.logRetentionDuration is --log-retention
  std::thread etl_thread_, compact_thread_;
  table::CompactMetrics compact_metrics_;

  metrics::Registry generate_metrics_;  // orderlake_generate_lines_total
  std::atomic<uint64_t> generated_{0};
  std::atomic<bool> gen_running_{false};
  std::string gen_error_;  // set by the generator thread before gen_running_ goes false
  std::thread gen_thread_;
};

}  // namespace orderlake::up::internal
