#include "agent/agent.h"

#include <chrono>

#include "agent/flow.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/metrics_server.h"

namespace orderlake::agent {

using internal::Clock;
using internal::Flow;

// ---------------------------------------------------------------------------------------

struct Agent::Impl {
  std::unique_ptr<CheckpointStore> cp;
  std::vector<std::unique_ptr<Flow>> flows;
  Clock::time_point started = Clock::now();
  Clock::time_point last_progress = Clock::now();
  uint64_t last_sent = 0;
  metrics::Registry registry;  // the flows' counters, read at scrape time
};

Status AgentOptions::Validate() const {
  if (config_file.empty()) return Status::Error("--config must name the agent.json file");
  if (max_attempts < 0 || max_attempts > 1'000'000)
    return Status::Errorf("--max-attempts must be between 0 and 1000000, got {}", max_attempts);
  return ValidateListenAddress(metrics_listen, "--metrics-listen");
}

Agent::Agent(AgentConfig cfg, AgentOptions opt) : cfg_(std::move(cfg)), opt_(opt), impl_(std::make_unique<Impl>()) {}

Agent::~Agent() {
  RequestStop();
  for (auto& f : impl_->flows) f->join();
}

Result<std::unique_ptr<Agent>> Agent::Create(AgentConfig cfg, AgentOptions opt) {
  ORDERLAKE_RETURN_IF_ERROR(opt.Validate());
  std::unique_ptr<Agent> a(new Agent(std::move(cfg), opt));
  auto cp = CheckpointStore::Open(a->cfg_.checkpoint_file);
  if (!cp.ok()) return cp.status();
  a->impl_->cp = std::move(cp).value();
  for (size_t i = 0; i < a->cfg_.flows.size(); ++i)
    a->impl_->flows.push_back(std::make_unique<Flow>(i, a->cfg_.flows[i], a->cfg_, a->opt_, *a->impl_->cp));
  a->RegisterMetrics();
  return a;
}

Status Agent::Start() {
  for (const auto& n : cfg_.notes) spdlog::info("agent: {}", n);
  if (cfg_.credentials.empty())
    spdlog::warn("agent: no AWS credentials (agent.json, AWS_ACCESS_KEY_ID or ~/.aws/credentials); requests go unsigned");
  else
    spdlog::info("agent: credentials from {}", cfg_.credentials.source);
  spdlog::info("agent: {} flow(s) to {} (region {}), checkpoints in {}", cfg_.flows.size(), cfg_.endpoint, cfg_.region,
               cfg_.checkpoint_file);
  for (auto& f : impl_->flows) f->start();
  return Status::OK();
}

void Agent::RequestStop() {
  auto deadline = Clock::now() + std::chrono::milliseconds(cfg_.shutdown_timeout_ms);
  for (auto& f : impl_->flows) f->request_stop(deadline);
}

bool Agent::Done() const {
  for (auto& f : impl_->flows)
    if (!f->done()) return false;
  return true;
}

Status Agent::FlushCheckpoints() { return impl_->cp->flush(); }

std::vector<CheckpointEntry> Agent::Acknowledged() const {
  std::vector<CheckpointEntry> out;
  for (const auto& f : impl_->flows) {
    auto e = impl_->cp->entries(f->config().id());
    out.insert(out.end(), std::make_move_iterator(e.begin()), std::make_move_iterator(e.end()));
  }
  return out;
}

Status Agent::Wait() {
  for (auto& f : impl_->flows) {
    f->join();
    f->refresh_lag_after_join();
  }
  Status st = impl_->cp->flush();
  for (auto& f : impl_->flows)
    if (!f->error().ok()) return f->error();
  return st;
}

// Every FlowCounters field is one family with a sample per flow, labelled flow (its index
// in agent.json), stream and pattern; the values are read when /metrics is scraped.
void Agent::RegisterMetrics() {
  struct Metric {
    const char* name;
    const char* help;
    metrics::Type type;
    std::atomic<uint64_t> FlowCounters::*field;
  };
  constexpr auto kC = metrics::Type::kCounter;
  constexpr auto kG = metrics::Type::kGauge;
  static const Metric kMetrics[] = {
      {"orderlake_agent_records_read_total", "Lines read from the flow's files", kC, &FlowCounters::records_read},
      {"orderlake_agent_bytes_read_total", "Bytes read from the flow's files", kC, &FlowCounters::bytes_read},
      {"orderlake_agent_records_sent_total", "Records acknowledged by the delivery stream", kC, &FlowCounters::records_sent},
      {"orderlake_agent_bytes_sent_total", "Record bytes acknowledged by the delivery stream", kC, &FlowCounters::bytes_sent},
      {"orderlake_agent_batches_sent_total", "PutRecordBatch calls fully acknowledged", kC, &FlowCounters::batches_sent},
      {"orderlake_agent_records_rejected_total", "Records skipped by a processing option", kC, &FlowCounters::records_rejected},
      {"orderlake_agent_records_truncated_total", "Records cut to maxRecordSize", kC, &FlowCounters::records_truncated},
      {"orderlake_agent_lines_skipped_total", "Lines longer than maxLineBytes, skipped", kC, &FlowCounters::lines_skipped},
      {"orderlake_agent_header_lines_skipped_total", "Lines skipped by skipHeaderLines", kC, &FlowCounters::header_lines_skipped},
      {"orderlake_agent_send_attempts_total", "PutRecordBatch calls", kC, &FlowCounters::send_attempts},
      {"orderlake_agent_send_failures_total", "PutRecordBatch calls with a failure", kC, &FlowCounters::send_failures},
      {"orderlake_agent_records_retried_total", "Records resent after a partial failure", kC, &FlowCounters::records_retried},
      {"orderlake_agent_rotations_total", "Tracked files seen under a new name", kC, &FlowCounters::rotations},
      {"orderlake_agent_truncations_total", "Tracked files found truncated", kC, &FlowCounters::truncations},
      {"orderlake_agent_files_unreadable_total", "Matching files that could not be opened", kC, &FlowCounters::files_unreadable},
      {"orderlake_agent_files_tracked", "Files being tailed", kG, &FlowCounters::files_tracked},
      {"orderlake_agent_lag_bytes", "Bytes in tracked files not yet acknowledged", kG, &FlowCounters::lag_bytes},
      {"orderlake_agent_directory_missing", "1 while the directory of the flow's filePattern does not exist", kG,
       &FlowCounters::directory_missing},
      {"orderlake_agent_queued_batches", "Batches read and waiting for the sender", kG, &FlowCounters::queued_batches},
  };
  std::vector<metrics::Labels> labels;
  for (size_t i = 0; i < impl_->flows.size(); ++i) {
    const FlowConfig& fc = impl_->flows[i]->config();
    labels.push_back({{"flow", std::to_string(i)}, {"stream", fc.delivery_stream}, {"pattern", fc.file_pattern}});
  }
  for (const Metric& m : kMetrics) {
    impl_->registry.collect(m.name, m.type, m.help, [this, labels, field = m.field](metrics::Emitter& e) {
      for (size_t i = 0; i < impl_->flows.size(); ++i)
        e.Sample(labels[i], static_cast<double>((impl_->flows[i]->counters().*field).load()));
    });
  }
}

const metrics::Registry& Agent::metrics() const { return impl_->registry; }

std::string Agent::MetricsText() const { return metrics().Text(); }

std::string Agent::ProgressLine() {
  uint64_t sent = 0, lag = 0, read = 0, tracked = 0;
  for (auto& f : impl_->flows) {
    sent += f->counters().records_sent;
    lag += f->counters().lag_bytes;
    read += f->counters().records_read;
    tracked += f->counters().files_tracked;
  }
  auto now = Clock::now();
  double secs = std::chrono::duration<double>(now - impl_->last_progress).count();
  double rate = secs > 0 ? static_cast<double>(sent - impl_->last_sent) / secs : 0;
  impl_->last_progress = now;
  impl_->last_sent = sent;
  return fmt::format("agent: {} lines read, {} records delivered ({:.0f}/s), {} files tracked, lag {}", read, sent,
                     rate, tracked, fs::human_bytes(static_cast<double>(lag)));
}

}  // namespace orderlake::agent
