// `orderlake etl`: the Glue job (batch mode).
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <thread>

#include "cli/commands.h"
#include "core/duration.h"
#include "core/log.h"
#include "core/region.h"
#include "core/metrics_server.h"
#include "core/thread_name.h"
#include "etl/job.h"
#include "etl/metrics.h"
#include "table/compact.h"

namespace orderlake::cli {
namespace {

void fail(const std::string& why, int code) {
  std::fprintf(stderr, "orderlake etl: %s\n", why.c_str());
  exit_code() = code;
}

// The compactor beside `etl --follow`: micro-batches make small files.
std::thread start_compactor(const etl::EtlOptions& opt, const etl::FollowOptions& fo, const std::atomic<bool>& stop,
                            table::CompactMetrics& metrics) {
  if (fo.compact_every_s <= 0) return {};
  table::CompactOptions co;
  co.lake = opt.lake;
  co.table = opt.table;
  return std::thread([co, every = fo.compact_every_s, &stop, &metrics] {
    SetThreadName("compact");
    Status st = table::compact_loop(
        co, every, stop,
        [&](const table::CompactSummary& s) {
          metrics.Pass(s);
          if (s.files_removed || s.files_vacuumed || s.checkpoint >= 0) spdlog::info("{}", s.to_text());
        },
        [&](const Status& e) {
          metrics.Failed(e);
          spdlog::warn("compact: {}", e.message());
        });
    if (!st.ok()) spdlog::warn("compact: {}; the table is not compacted", st.message());
  });
}

// `etl --follow`: a run every --interval-ms until a signal, the compactor beside it, and
// /metrics and /health on --metrics-listen. Returns the exit code.
int follow(const etl::EtlOptions& opt, const etl::FollowOptions& fo, bool json, const http::TlsOptions& tls) {
  static std::atomic<bool> stop{false};
  std::signal(SIGINT, [](int) { stop.store(true); });
  std::signal(SIGTERM, [](int) { stop.store(true); });
  etl::EtlMetrics etl_metrics;
  table::CompactMetrics compact_metrics;
  std::unique_ptr<MetricsServer> server;
  if (!fo.metrics_listen.empty()) {
    auto m = MetricsServer::Start(
        fo.metrics_listen, [&] { return metrics::Gather({&etl_metrics.registry(), &compact_metrics.registry()}); },
        [&] {
          HealthReport h = etl_metrics.Health();
          return h.ok ? compact_metrics.Health() : h;
        },
        tls);
    if (!m.ok()) {
      std::fprintf(stderr, "orderlake etl: %s\n", m.status().message().c_str());
      return 2;
    }
    server = std::move(m).value();
    std::fprintf(stderr, "orderlake etl: metrics on %s://%s/metrics, health on %s://%s/health\n", server->scheme(),
                 server->address().c_str(), server->scheme(), server->address().c_str());
  }
  spdlog::info("etl: following {} every {} ms (Ctrl-C stops after the current run)", opt.input, fo.interval_ms);
  std::thread compactor = start_compactor(opt, fo, stop, compact_metrics);
  etl::follow_etl(
      opt, fo.interval_ms, stop,
      [&](const etl::RunSummary& s) {
        etl_metrics.RunCommitted(s);
        spdlog::info("etl run {}: {} records, {} kept, {} filtered, {} quarantined, {} files, {:.2f} s", s.run_id,
                     s.records, s.kept, s.filtered_total(), s.quarantined_total(), s.files, s.seconds);
        if (json) {
          std::printf("%s\n", s.to_json().dump().c_str());
          std::fflush(stdout);
        }
      },
      [&](const Status& st) {
        etl_metrics.RunFailed(st);
        spdlog::error("etl: {} (retrying)", st.message());
      },
      nullptr, [&](const etl::RunSummary& s) { etl_metrics.NothingNew(s); });
  if (compactor.joinable()) compactor.join();
  return 0;
}

// Discovery and raw retention: durations as strings, parsed (core/duration.h) in the callback.
void add_discovery_options(CLI::App* cmd, std::string* discovery, std::string* lookback, std::string* backfill,
                           std::string* raw_retention) {
  cmd->add_option("--discovery", *discovery,
                  "auto: when the input holds the event log of `orderlake firehose` (_orderlake/events/), read "
                  "only its new events (notification); else, when every key is in the Firehose layout "
                  "(YYYY/MM/DD/HH/<name>), list only after the high-water mark (listing); either with a full "
                  "listing every --backfill-interval. notification, listing: force one; full: list the whole "
                  "input every run")
      ->capture_default_str()->check(CLI::IsMember({"auto", "notification", "listing", "full"}));
  cmd->add_option("--lookback", *lookback,
                  "Firehose layout: objects keyed this long before the latest one read are still looked for "
                  "(late deliveries; Firehose buffers up to 15m); older ones unread are taken as read")
      ->capture_default_str();
  cmd->add_option("--backfill-interval", *backfill,
                  "Firehose layout: time between full listings, which catch objects an incremental listing "
                  "missed (0 = every run; --follow also lists fully at its first run)")
      ->capture_default_str();
  cmd->add_option("--raw-retention", *raw_retention,
                  "Delete raw objects in the Firehose layout that landed longer ago than this and that a committed "
                  "run took, with their empty hour directories, like an S3 lifecycle rule (0 = keep everything)")
      ->capture_default_str();
}

}  // namespace

constexpr const char* kEtlFooter = R"(
Reads every raw object under --input that earlier runs have not processed (CSV or JSON
lines, plain or gzip), applies the order transformation (OrderID, TotalAmountUSD, date and
hour, OrderTag, Region; records without CustomerID or with non-positive Quantity or
UnitPrice are filtered), and publishes Parquet files partitioned by Country and
InvoiceDateOnly under <lake>/<table>/, committed to the table's Delta Lake log
(<lake>/<table>/_delta_log/) in one atomic commit per run. Unparseable records go to
<lake>/_quarantine/<table>/<run>.jsonl with their reason and source position; the
data-quality summary of each run is kept in <lake>/_orderlake/<table>/runs/ for
--runs-retention, then folded into <lake>/_orderlake/<table>/runs_rollup.json (totals since
the first run, and per day); a run's quarantine file is then folded into its UTC hour's part
(<yyyymmddThh>0000Z-hour-<n>.jsonl, each line with its run_id), and quarantine files and
parts are deleted after --quarantine-retention.

An input in the Firehose layout (YYYY/MM/DD/HH/<stream>-<n>-<time>-<uuid>) is listed only
after its high-water mark, so a run costs what is new, not the history; any other input is
listed whole at every run, and grown files are read from where the last run stopped.

Examples:
  orderlake etl --input ./orderlake-data/logs --lake ./orderlake-data/lake
  orderlake etl --data-dir /srv/orderlake --json > run.json
  orderlake etl --input raw/ --lake lake/ --usd-rate 0.0125 --high-threshold 250
  orderlake etl --data-dir /srv/orderlake --follow --metrics-listen 127.0.0.1:9103)";

void add_etl_command(CLI::App& app) {
  struct Args {
    std::string data_dir = "./orderlake-data";
    std::string input, lake, regions;
    etl::EtlOptions opt;
    size_t memory_mb = 1024;
    std::string runs_retention = "1h", quarantine_retention = "7d";
    bool progress = false, no_progress = false, json = false, follow = false;
    std::string lookback = "15m", backfill = "1h", raw_retention = "0";
    etl::FollowOptions follow_opt;
    http::TlsOptions tls;  // of --metrics-listen
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("etl", "Transform raw order records into the curated Parquet table (the Glue job)");
  cmd->footer(kEtlFooter);
  cmd->add_option("--data-dir", a->data_dir, "Root of the defaults: input <data-dir>/logs, lake <data-dir>/lake")
      ->capture_default_str();
  cmd->add_option("--input", a->input, "Raw objects: a directory (path or file://) or s3://bucket/prefix");
  cmd->add_option("--lake", a->lake, "Lake root (path, file:// or s3://bucket/prefix); the table is <lake>/<table>");
  cmd->add_option("--table", a->opt.table, "Table name")->capture_default_str();
  cmd->add_option("--usd-rate", a->opt.transform.usd_rate, "TotalAmountUSD = TotalAmount * rate")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--high-threshold", a->opt.transform.high_threshold,
                  "OrderTag is High when TotalAmount is above this")->capture_default_str();
  cmd->add_option("--regions", a->regions, "CSV file of country,region lines replacing the built-in mapping")
      ->check(CLI::ExistingFile);
  cmd->add_option("--max-record-bytes", a->opt.transform.max_record_bytes, "Longer records are quarantined")
      ->capture_default_str()->check(CLI::Range(size_t{64}, size_t{1} << 30));
  cmd->add_option("--threads", a->opt.threads, "Parsing and writing threads (0 = one per core)")
      ->capture_default_str()->check(CLI::Range(0, 256));
  cmd->add_option("--memory-mb", a->memory_mb, "Rows buffered before files are written, in MiB")
      ->capture_default_str()->check(CLI::Range(size_t{16}, size_t{1} << 20));
  cmd->add_option("--runs-retention", a->runs_retention,
                  "Keep run records this long (90s, 10m, 24h, 30d), then fold them into "
                  "_orderlake/<table>/runs_rollup.json")
      ->capture_default_str();
  cmd->add_option("--quarantine-retention", a->quarantine_retention,
                  "Keep quarantine files (the rejected lines) this long, then delete them; their counts stay")
      ->capture_default_str();
  cmd->add_flag("--progress", a->progress, "Print progress every two seconds (default when stderr is a terminal)");
  cmd->add_flag("--no-progress", a->no_progress, "Never print progress");
  cmd->add_flag("--json", a->json, "Print the run summary as JSON on stdout (one line per run with --follow)");
  cmd->add_flag("--follow", a->follow,
                "Keep running: process new raw objects every --interval-ms until Ctrl-C (each run as above)");
  cmd->add_option("--interval-ms", a->follow_opt.interval_ms, "With --follow: time between runs")
      ->capture_default_str()->check(CLI::Range(10, 3600000));
  cmd->add_option("--compact-every", a->follow_opt.compact_every_s,
                  "With --follow: compact the table this often, in seconds (as orderlake compact; 0 = never)")
      ->capture_default_str()->check(CLI::Range(0.0, 86400.0));
  cmd->add_option("--metrics-listen", a->follow_opt.metrics_listen,
                  "With --follow: serve Prometheus metrics on HOST:PORT at /metrics, and /health (port 0: any free "
                  "port, printed on stderr)");
  add_discovery_options(cmd, &a->opt.discovery, &a->lookback, &a->backfill, &a->raw_retention);
  add_metrics_tls_options(cmd, a->tls);

  cmd->callback([a] {
    etl::EtlOptions opt = a->opt;
    opt.input = a->input.empty() ? a->data_dir + "/logs" : a->input;
    opt.lake = a->lake.empty() ? a->data_dir + "/lake" : a->lake;
    opt.memory_budget = a->memory_mb << 20;
    opt.progress = !a->no_progress && (a->progress || ::isatty(2));
    if (Status st = ParseDurationFlags({{a->lookback, "--lookback", &opt.lookback_ms},
                                        {a->backfill, "--backfill-interval", &opt.backfill_ms},
                                        {a->raw_retention, "--raw-retention", &opt.raw_retention_ms},
                                        {a->runs_retention, "--runs-retention", &opt.runs_retention_ms},
                                        {a->quarantine_retention, "--quarantine-retention",
                                         &opt.quarantine_retention_ms}});
        !st.ok())
      return fail(st.message(), 2);
    std::unique_ptr<RegionMap> regions;
    if (!a->regions.empty()) {
      auto r = RegionMap::FromFile(a->regions);
      if (!r.ok()) return fail(r.status().message(), 2);
      regions = std::make_unique<RegionMap>(std::move(r).value());
      opt.transform.regions = regions.get();
    }
    if (Status v = opt.Validate(); !v.ok()) return fail(v.message(), 2);
    if (a->follow) {
      if (Status v = a->follow_opt.Validate(); !v.ok()) return fail(v.message(), 2);
      opt.progress = false;
      exit_code() = follow(opt, a->follow_opt, a->json, a->tls);
      return;
    }
    if (!a->follow_opt.metrics_listen.empty()) return fail("--metrics-listen needs --follow", 2);
    auto res = etl::run_etl(opt);
    if (!res.ok()) return fail(res.status().message(), 1);
    std::fputs(res->to_text().c_str(), stderr);
    if (a->json) std::printf("%s\n", res->to_json().dump(2).c_str());
  });
}

}  // namespace orderlake::cli
