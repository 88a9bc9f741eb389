// `orderlake up`: the whole pipeline in one process.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "core/duration.h"
#include "up/pipeline.h"

namespace orderlake::cli {

namespace {

// The duration flags (core/duration.h: 90s, 10m, 24h, 30d), parsed in the callback.
struct Durations {
  std::string log_retention, raw_retention, etl_lookback;
};

void add_duration_options(CLI::App* cmd, const up::UpOptions& o, Durations* d) {
  d->log_retention = FormatDuration(o.log_retention_ms);
  d->raw_retention = FormatDuration(o.raw_retention_ms);
  d->etl_lookback = FormatDuration(o.etl_lookback_ms);
  cmd->add_option("--log-retention", d->log_retention,
                  "How long the table's history is kept: Delta log commits and checkpoints "
                  "(delta.logRetentionDuration, set on the table), run records before they are rolled up into "
                  "totals. A duration: 90s, 10m, 24h, 30d")
      ->capture_default_str();
  cmd->add_option("--etl-lookback", d->etl_lookback,
                  "The etl lists raw objects keyed this long before the newest one it read again (late deliveries)")
      ->capture_default_str();
  cmd->add_option("--raw-retention", d->raw_retention,
                  "Raw objects the etl has committed, and generated logs the agent delivered whole, are deleted once "
                  "this old (an S3 lifecycle rule; 0 = keep forever). An object the etl has not taken is never deleted")
      ->capture_default_str();
}

Status parse_durations(const Durations& d, up::UpOptions* o) {
  return ParseDurationFlags({{d.log_retention, "--log-retention", &o->log_retention_ms},
                             {d.raw_retention, "--raw-retention", &o->raw_retention_ms},
                             {d.etl_lookback, "--etl-lookback", &o->etl_lookback_ms}});
}

}  // namespace

void add_up_command(CLI::App& app) {
  auto o = std::make_shared<up::UpOptions>();
  auto* cmd = app.add_subcommand("up", "Run the whole pipeline in one process and serve the live dashboard");
  cmd->footer(R"(
generate -> agent -> firehose -> raw store -> etl -> lake -> dashboard, all under --data-dir.
Each stage is the same code as its own subcommand and talks to the next the same way (log
files, the Firehose API over loopback HTTP with a key pair made for the data directory,
objects, table files). Ctrl-C stops it cleanly; running it again continues where it stopped.

Tuned for freshness (a line is visible to queries well within a second): the agent polls
every --agent-poll-ms and sends a batch once it is --agent-buffer-ms old (in process only;
agent.json keeps AWS's minimum of 1000 ms), the firehose delivers at once and wakes the etl,
which starts a batch at once unless the last one started less than --etl-min-gap-ms ago.
Every --compact-every seconds the table's small files are merged (orderlake compact).

Every AWS API orderlake has is on one endpoint, printed as "AWS endpoint at http://127.0.0.1:P"
(--aws-port, default 4566; LocalStack's convention): export AWS_ENDPOINT_URL=http://127.0.0.1:4566
and the AWS CLI, boto3 or an Athena driver reach Athena (the `orders` table), Glue (the
catalog, crawlers, the etl as a job), S3 (the raw bucket orderlake-raw and the lake
orderlake-lake, read-only; results in orderlake-athena-results) and the Firehose. On loopback
without keys: unsigned requests and any well-formed signature are accepted.

The dashboard's port also serves:
  GET /metrics   every stage's counters, Prometheus text (orderlake_<stage>_*, orderlake_up_*)
  GET /health    JSON: each stage up or down, its last activity and lag; HTTP 503 when one is down
The status line (stderr) gives orders/s in, rows/s to the table, each stage's lag and the
freshness (firehose arrival -> etl commit, an upper bound).

Examples:
  orderlake up                                  # 100 orders/s, dashboard on http://127.0.0.1:8080/
  orderlake up --rate 2000 --data-dir /tmp/ol   # faster, elsewhere
  orderlake up --logs /var/log/orders           # ship your own order logs instead of generated ones
  curl -s http://127.0.0.1:8080/health          # is every stage up?
  aws --endpoint-url http://127.0.0.1:4566 athena start-query-execution --query-string 'SELECT count(*) FROM orders')");
  cmd->add_option("--data-dir", o->data_dir, "Where everything lives")->capture_default_str();
  cmd->add_option("--rate", o->rate, "Generated order lines per second")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--duration", o->duration_s, "Stop after this many seconds (0 = until Ctrl-C)")->capture_default_str();
  cmd->add_option("--logs", o->logs, "Tail this directory's *.log files instead of generating orders");
  cmd->add_option("--listen-host", o->host, "Dashboard address")->capture_default_str();
  cmd->add_option("--port", o->dashboard_port, "Dashboard port (0 = any free port)")->capture_default_str();
  cmd->add_option("--firehose-port", o->firehose_port, "Firehose API port on 127.0.0.1 (0 = any free port)")
      ->capture_default_str();
  cmd->add_option("--aws-port", o->aws_port,
                  "Port of the AWS endpoint on 127.0.0.1: Athena, Glue, S3 and Firehose APIs (0 = any free port; "
                  "the default falls back to a free port when taken)")
      ->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->add_option("--tls-cert", o->tls.cert_file,
                  "PEM certificate chain: the dashboard, the firehose and the AWS endpoint speak HTTPS only "
                  "(the agent trusts it, or AWS_CA_BUNDLE)");
  cmd->add_option("--tls-key", o->tls.key_file, "PEM private key of --tls-cert");
  cmd->add_flag("--no-aws", [o](int64_t) { o->aws = false; }, "Do not serve the AWS endpoint");
  cmd->add_option("--etl-interval-ms", o->etl_interval_ms,
                  "The etl lists the raw store this often; it also runs at once whenever the firehose delivers")
      ->capture_default_str()->check(CLI::Range(10, 3600000));
  cmd->add_option("--etl-min-gap-ms", o->etl_min_gap_ms,
                  "Least time between the starts of two etl batches; deliveries in between are taken together")
      ->capture_default_str()->check(CLI::Range(0, 3600000));
  cmd->add_option("--agent-poll-ms", o->agent_poll_ms, "How often the agent looks at the log files")
      ->capture_default_str()->check(CLI::Range(1, 60000));
  cmd->add_option("--agent-buffer-ms", o->agent_buffer_ms,
                  "The agent sends a batch of fewer than 500 lines once it is this old (in process only: "
                  "agent.json's maxBufferAgeMillis is at least 1000)")
      ->capture_default_str()->check(CLI::Range(0, 900000));
  cmd->add_option("--compact-every", o->compact_every_s,
                  "Seconds between compactions of the table (small files merged, old ones vacuumed; 0 = never)")
      ->capture_default_str()->check(CLI::Range(0.0, 86400.0));
  cmd->add_option("--retention-minutes", o->retention_minutes, "Files compaction removed are deleted after this long")
      ->capture_default_str()->check(CLI::Range(0.0, 1e7));
  cmd->add_option("--status-interval", o->status_interval_s, "Seconds between status lines (0 = none)")
      ->capture_default_str();
  auto durations = std::make_shared<Durations>();
  add_duration_options(cmd, *o, durations.get());
  cmd->callback([o, durations] {
    if (Status d = parse_durations(*durations, o.get()); !d.ok()) {
      std::fprintf(stderr, "orderlake up: %s\n", d.message().c_str());
      exit_code() = 2;
      return;
    }
    static std::atomic<bool> stop{false};
    std::signal(SIGINT, [](int) { stop.store(true); });
    std::signal(SIGTERM, [](int) { stop.store(true); });
    if (Status v = o->Validate(); !v.ok()) {
      std::fprintf(stderr, "orderlake up: %s\n", v.message().c_str());
      exit_code() = 2;
      return;
    }
    Status st = up::run_up(*o, stop);
    if (!st.ok()) {
      std::fprintf(stderr, "orderlake up: %s\n", st.message().c_str());
      exit_code() = 1;
    }
  });
}

}  // namespace orderlake::cli
