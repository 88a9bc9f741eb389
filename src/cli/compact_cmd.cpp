// `orderlake compact`: Delta Lake's OPTIMIZE and VACUUM for the curated table.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "core/log.h"
#include "core/metrics_server.h"
#include "table/compact.h"

namespace orderlake::cli {
namespace {

struct Args {
  std::string data_dir = "./orderlake-data";
  std::string lake;
  table::CompactOptions opt;
  uint64_t small_mb = 32, target_mb = 128;
  double retention_minutes = 10;
  bool no_vacuum = false, json = false;
  http::TlsOptions tls;  // of --metrics-listen
};

int fail(const std::string& why, int code) {
  std::fprintf(stderr, "orderlake compact: %s\n", why.c_str());
  return code;
}

void print(const table::CompactSummary& s, bool every, bool json) {
  if (!every || s.files_removed || s.files_vacuumed || s.checkpoint >= 0) std::fputs(s.to_text().c_str(), stderr);
  if (json) {
    std::printf("%s\n", s.to_json().dump().c_str());
    std::fflush(stdout);
  }
}

int run_once(const table::CompactOptions& opt, bool json) {
  auto c = table::Compactor::Open(opt);
  if (!c.ok()) return fail(c.status().message(), 1);
  auto s = c.value()->RunOnce();
  if (!s.ok()) return fail(s.status().message(), 1);
  print(s.value(), false, json);
  return 0;
}

// --every: a pass every so often until a signal, with /metrics and /health on
// --metrics-listen.
int run_every(const table::CompactOptions& opt, bool json, const http::TlsOptions& tls) {
  static std::atomic<bool> stop{false};
  std::signal(SIGINT, [](int) { stop.store(true); });
  std::signal(SIGTERM, [](int) { stop.store(true); });
  table::CompactMetrics metrics;
  std::unique_ptr<MetricsServer> server;
  if (!opt.metrics_listen.empty()) {
    auto m = MetricsServer::Start(opt.metrics_listen, metrics.registry(), [&metrics] { return metrics.Health(); }, tls);
    if (!m.ok()) return fail(m.status().message(), 2);
    server = std::move(m).value();
    std::fprintf(stderr, "orderlake compact: metrics on %s://%s/metrics, health on %s://%s/health\n", server->scheme(),
                 server->address().c_str(), server->scheme(), server->address().c_str());
  }
  Status st = table::compact_loop(
      opt, opt.every_s, stop,
      [&](const table::CompactSummary& s) {
        metrics.Pass(s);
        print(s, true, json);
      },
      [&](const Status& e) {
        metrics.Failed(e);
        std::fprintf(stderr, "orderlake compact: %s (retrying)\n", e.message().c_str());
      });
  if (!st.ok()) return fail(st.message(), 1);
  return 0;
}

}  // namespace

void add_compact_command(CLI::App& app) {
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("compact", "Merge the table's small files and delete files past retention (OPTIMIZE, VACUUM)");
  cmd->footer(R"(
In each partition of the Delta table, the files smaller than --small-mb fall into tiers by
size (each tier --min-files times smaller than the one above); a tier with --min-files files
is merged into files of up to --target-mb, in one commit that removes the old files and adds
the new ones: readers of any version see the same rows. A partition so keeps fewer than
--min-files small files per tier however long it lives. Then deletes files removed more
than --retention-minutes ago (a reader of an older snapshot finds its files until then).
Checkpoints of the log (<version>.checkpoint.parquet and _last_checkpoint, from which
readers start) are written by every writer at each multiple of the table's
delta.checkpointInterval (default 10), each followed by log cleanup: commits older than the
table's delta.logRetentionDuration (default 30 days) are deleted. Set them with
  orderlake query --lake DIR "ALTER TABLE orders SET TBLPROPERTIES ('delta.logRetentionDuration'='interval 1 hours');"
The etl can run meanwhile; a second compactor of the same table is
refused. Engines reading the plain Hive layout (not the Delta log) see both the old and the
merged files until they are deleted: give them --retention-minutes 0, or read the log.

Examples:
  orderlake compact --lake ./orderlake-data/lake
  orderlake compact --lake s3://my-lake/curated --every 30 --retention-minutes 60
  orderlake compact --lake ./orderlake-data/lake --every 60 --metrics-listen 127.0.0.1:9104)");
  cmd->add_option("--data-dir", a->data_dir, "Root of the defaults: lake <data-dir>/lake")->capture_default_str();
  cmd->add_option("--lake", a->lake, "Lake root (path, file:// or s3://)");
  cmd->add_option("--table", a->opt.table, "Table name")->capture_default_str();
  cmd->add_option("--min-files", a->opt.min_files, "Merge a partition's small files when it has this many")
      ->capture_default_str()->check(CLI::Range(size_t{2}, size_t{1} << 20));
  cmd->add_option("--small-mb", a->small_mb, "Files smaller than this (MiB) are small")->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 20));
  cmd->add_option("--target-mb", a->target_mb, "Size of the merged files (MiB)")->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 20));
  cmd->add_option("--retention-minutes", a->retention_minutes, "Removed files are deleted after this long")
      ->capture_default_str()->check(CLI::Range(0.0, 1e7));
  cmd->add_flag("--no-vacuum", a->no_vacuum, "Do not delete removed files");
  cmd->add_option("--checkpoint-interval", a->opt.checkpoint_interval,
                  "Also write a checkpoint when the last one is this many commits behind (-1 = twice the "
                  "table's delta.checkpointInterval, 0 = never)")
      ->capture_default_str()->check(CLI::Range(int64_t{-1}, int64_t{1} << 40));
  cmd->add_option("--every", a->opt.every_s, "Keep running: compact every SECS seconds until Ctrl-C")
      ->check(CLI::Range(0.1, 86400.0));
  cmd->add_option("--metrics-listen", a->opt.metrics_listen,
                  "With --every: serve Prometheus metrics on HOST:PORT at /metrics, and /health (port 0: any free "
                  "port, printed on stderr)");
  add_metrics_tls_options(cmd, a->tls);
  cmd->add_flag("--json", a->json, "Print each summary as one JSON line on stdout");

  cmd->callback([a] {
    table::CompactOptions opt = a->opt;
    opt.lake = a->lake.empty() ? a->data_dir + "/lake" : a->lake;
    opt.small_file_bytes = a->small_mb << 20;
    opt.target_file_bytes = a->target_mb << 20;
    opt.retention_ms = static_cast<int64_t>(a->retention_minutes * 60000);
    opt.vacuum = !a->no_vacuum;
    if (Status v = opt.Validate(); !v.ok()) {
      exit_code() = fail(v.message(), 2);
      return;
    }
    exit_code() = opt.every_s > 0 ? run_every(opt, a->json, a->tls) : run_once(opt, a->json);
  });
}

}  // namespace orderlake::cli
