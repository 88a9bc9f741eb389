// `orderlake agent`: the Kinesis Agent (tails log files, ships lines to a delivery stream).
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "agent/agent.h"
#include "agent/config.h"
#include "cli/commands.h"
#include "core/log.h"
#include "core/metrics_server.h"

namespace orderlake::cli {
namespace {

std::atomic<int> g_signal{0};
void on_signal(int sig) { g_signal = sig; }

// Until the agent is done: stops it on SIGINT/SIGTERM, flushes its checkpoints, and logs
// its progress every log.statusReportingPeriodSeconds.
void watch(agent::Agent& agent) {
  auto period = std::chrono::seconds(agent.config().log_status_reporting_period_s);
  auto next_progress = std::chrono::steady_clock::now() + period;
  bool stopping = false;
  while (!agent.Done()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (g_signal && !stopping) {
      spdlog::info("agent: signal {}: stopping (delivering what was read, at most {} ms)", g_signal.load(),
                   agent.config().shutdown_timeout_ms);
      agent.RequestStop();
      stopping = true;
    }
    Status cs = agent.FlushCheckpoints();
    if (!cs.ok()) spdlog::error("agent: {}", cs.message());
    if (std::chrono::steady_clock::now() >= next_progress) {
      spdlog::info("{}", agent.ProgressLine());
      next_progress += period;
    }
  }
}

}  // namespace

void add_agent_command(CLI::App& app) {
  struct Args {
    agent::AgentOptions opt;
    int max_attempts = -1;  // -1: not given (unlimited, or AgentOptions::kOnceMaxAttempts with --once)
    http::TlsOptions tls;   // of --metrics-listen
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("agent", "Tail log files and ship every line to a delivery stream (the Kinesis Agent)");
  cmd->footer(R"(
Reads the Kinesis Agent's agent.json unchanged: flows[] with filePattern and deliveryStream,
initialPosition, buffering (maxBufferAgeMillis, maxBufferSizeRecords, maxBufferSizeBytes),
skipHeaderLines, multiLineStartPattern, truncatedRecordTerminator, maxRecordSize and
dataProcessingOptions (SINGLELINE, CSVTOJSON, LOGTOJSON, ADDMETADATA); firehose.endpoint,
credentials (awsAccessKeyId/awsSecretAccessKey, else AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/
AWS_SESSION_TOKEN, else ~/.aws/credentials with AWS_PROFILE), checkpointFile and
shutdownTimeoutMillis. Options it cannot honour (Kinesis Data Streams, assumeRoleARN) are
refused by name. A filePattern naming a directory is refused; one whose directory does not
exist yet is waited for. orderlake's own flow key maxLineBytes (default 64 MiB): a longer
line is skipped up to its newline, never held, counted and logged. Files are followed
across rename and copy-truncate rotation; checkpoints advance only after the delivery
stream acknowledged the lines before them, so a crash loses nothing. SIGINT/SIGTERM stop cleanly within shutdownTimeoutMillis.

Examples:
  orderlake agent --config /etc/aws-kinesis/agent.json
  orderlake agent --config config/agent.json --metrics-listen 127.0.0.1:9102
  orderlake agent --config backfill.json --once        # send what the files hold, then exit)");
  cmd->add_option("--config,-c", a->opt.config_file, "agent.json (the Kinesis Agent's format)")->capture_default_str();
  cmd->add_option("--metrics-listen", a->opt.metrics_listen,
                  "Serve Prometheus metrics on HOST:PORT at /metrics (and /health)");
  add_metrics_tls_options(cmd, a->tls);
  cmd->add_flag("--once", a->opt.once, "Send every complete line the files hold now, then exit (backfills, tests)");
  cmd->add_option("--max-attempts", a->max_attempts,
                  "Attempts per batch before giving up (default: unlimited, 8 with --once)")
      ->check(CLI::Range(0, 1'000'000));

  cmd->callback([a] {
    agent::AgentOptions opt = a->opt;
    if (a->max_attempts >= 0) opt.max_attempts = a->max_attempts;
    else opt.max_attempts = opt.once ? agent::AgentOptions::kOnceMaxAttempts : 0;
    if (Status v = opt.Validate(); !v.ok()) {
      std::fprintf(stderr, "orderlake agent: %s\n", v.message().c_str());
      exit_code() = 2;
      return;
    }
    auto cfg = agent::load_config(opt.config_file);
    if (!cfg.ok()) {
      std::fprintf(stderr, "orderlake agent: %s\n", cfg.status().message().c_str());
      exit_code() = 2;
      return;
    }
    auto ag = agent::Agent::Create(std::move(cfg).value(), opt);
    if (!ag.ok()) {
      std::fprintf(stderr, "orderlake agent: %s\n", ag.status().message().c_str());
      exit_code() = 1;
      return;
    }
    agent::Agent& agent = *ag.value();
    std::unique_ptr<MetricsServer> metrics;
    if (!opt.metrics_listen.empty()) {
      auto m = MetricsServer::Start(opt.metrics_listen, agent.metrics(), {}, a->tls);
      if (!m.ok()) {
        std::fprintf(stderr, "orderlake agent: %s\n", m.status().message().c_str());
        exit_code() = 2;
        return;
      }
      metrics = std::move(m).value();
      spdlog::info("agent: metrics on {}://{}/metrics (port {})", metrics->scheme(), opt.metrics_listen, metrics->port());
    }
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    Status st = agent.Start();
    if (!st.ok()) {
      std::fprintf(stderr, "orderlake agent: %s\n", st.message().c_str());
      exit_code() = 1;
      return;
    }
    watch(agent);
    st = agent.Wait();
    spdlog::info("{}", agent.ProgressLine());
    if (!st.ok()) {
      std::fprintf(stderr, "orderlake agent: %s\n", st.message().c_str());
      exit_code() = 1;
    }
  });
}

}  // namespace orderlake::cli
