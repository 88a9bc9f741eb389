// `orderlake serve`: the dashboard and query service (QuickSight and the Athena console).
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "cli/commands.h"
#include "dashboard/server.h"

namespace orderlake::cli {
namespace {

struct ServeCliOptions {
  std::string lake;
  std::string data_dir = "./orderlake-data";
  std::string listen = "127.0.0.1:8080";
  std::string token;
  int engines = 2;
  int sql_timeout = 30;
  size_t sql_memory_mb = 1024;
  int sql_workers = 4;
  int sql_per_client = 3;
  int sql_threads = 1;
  size_t sql_result_mb = 128;
  int poll_ms = 250;
  std::string web_dir;
  std::string tls_cert, tls_key;
};

constexpr const char* kExamples = R"EX(Examples:
  orderlake serve --lake ./lake                          # http://127.0.0.1:8080/
  orderlake serve --data-dir ./orderlake-data --listen 127.0.0.1:9000
  orderlake serve --lake ./lake --listen 0.0.0.0:8080 --token "$(openssl rand -hex 16)"
  orderlake serve --lake ./lake --listen 127.0.0.1:0     # any free port (the URL is printed)
  orderlake serve --lake ./lake --tls-cert cert.pem --tls-key key.pem   # https://127.0.0.1:8080/

The page shows the daily order trend, the region x hour heatmap, orders by hour, headline
figures, the top high-value orders, average order value by country and data quality, with
filters kept in the URL, live updates on every table commit and a read-only SQL console.
The JSON API is described at /api.md. Beyond loopback, every /api/ request needs the token
(Authorization: Bearer <token>, or ?token=<token>; open the printed URL).
With --tls-cert/--tls-key the page, its API and /metrics are served over HTTPS only (a
self-signed certificate: `orderlake firehose --help` shows how to make one; browsers and
Prometheus must be told to trust it).)EX";

// "HOST:PORT", "[v6]:PORT" or ":PORT" (loopback).
bool SplitListen(const std::string& listen, std::string& host, int& port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  host = listen.substr(0, colon);
  if (host.empty()) host = "127.0.0.1";
  std::string p = listen.substr(colon + 1);
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) return false;
  port = std::stoi(p);
  return port <= 65535;
}

void Serve(const ServeCliOptions& o) {
  dashboard::ServeOptions opt;
  opt.lake = o.lake.empty() ? std::filesystem::path(o.data_dir) / "lake" : std::filesystem::path(o.lake);
  if (!SplitListen(o.listen, opt.host, opt.port)) {
    std::fprintf(stderr, "orderlake serve: --listen '%s' is not HOST:PORT (e.g. 127.0.0.1:8080)\n", o.listen.c_str());
    exit_code() = 2;
    return;
  }
  std::error_code ec;
  if (o.lake.empty() && !std::filesystem::exists(opt.lake, ec)) std::filesystem::create_directories(opt.lake, ec);
  opt.token = o.token;
  opt.engines = o.engines;
  opt.sql_timeout = std::chrono::seconds(o.sql_timeout);
  opt.sql_memory_mb = o.sql_memory_mb;
  opt.sql_workers = o.sql_workers;
  opt.sql_per_client = o.sql_per_client;
  opt.sql_threads = o.sql_threads;
  opt.sql_result_mb = o.sql_result_mb;
  opt.poll = std::chrono::milliseconds(o.poll_ms);
  opt.web_dir = o.web_dir;
  opt.tls.cert_file = o.tls_cert;
  opt.tls.key_file = o.tls_key;
  if (Status st = opt.Validate(); !st.ok()) {
    std::fprintf(stderr, "orderlake serve: %s\n", st.message().c_str());
    exit_code() = 1;
    return;
  }

  // SIGINT/SIGTERM are taken by one thread (sigwait), which stops the server; every other
  // thread, started below, inherits the blocked mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  auto server = dashboard::DashboardServer::Start(opt);
  if (!server.ok()) {
    std::fprintf(stderr, "orderlake serve: %s\n", server.status().message().c_str());
    exit_code() = 1;
    return;
  }
  dashboard::DashboardServer& s = *server.value();
  std::cout << "orderlake serve: dashboard at " << s.url() << "  (lake " << std::filesystem::absolute(opt.lake).string()
            << "; API at /api.md; Ctrl-C stops)" << std::endl;
  std::thread waiter([&s, set] {
    int sig = 0;
    sigwait(&set, &sig);
    if (sig != 0) s.Stop();
  });
  Status st = s.Run();
  // Wake the waiter if the server ended on its own.
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  if (!st.ok()) {
    std::fprintf(stderr, "orderlake serve: %s\n", st.message().c_str());
    exit_code() = 1;
  }
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto o = std::make_shared<ServeCliOptions>();
  CLI::App* cmd = app.add_subcommand("serve", "Serve the dashboard and SQL console over the lake (QuickSight and the Athena console)");
  cmd->footer(kExamples);
  cmd->add_option("--lake", o->lake, "lake directory (default: <data-dir>/lake)");
  cmd->add_option("--data-dir", o->data_dir, "root of the embedded defaults")->capture_default_str();
  cmd->add_option("--listen", o->listen, "HOST:PORT to listen on (port 0: any free port)")->capture_default_str();
  cmd->add_option("--token", o->token, "access token for /api/ (required beyond loopback)");
  cmd->add_option("--engines", o->engines, "queries run at the same time")->capture_default_str()->check(CLI::Range(1, 16));
  cmd->add_option("--sql-timeout", o->sql_timeout, "seconds a SQL console statement may run (then it is killed)")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  cmd->add_option("--sql-memory-mb", o->sql_memory_mb,
                  "memory one SQL console statement may use (MB; its worker process is killed beyond it)")
      ->capture_default_str();
  cmd->add_option("--sql-workers", o->sql_workers, "SQL console statements run at the same time (each in its own process)")
      ->capture_default_str();
  cmd->add_option("--sql-per-client", o->sql_per_client,
                  "SQL console statements one client (remote address) may run at once; more get 429")
      ->capture_default_str();
  cmd->add_option("--sql-threads", o->sql_threads, "DuckDB threads of one SQL console statement")->capture_default_str();
  cmd->add_option("--sql-result-mb", o->sql_result_mb, "bytes of rows one SQL console answer may hold (MB; more is cut off)")
      ->capture_default_str();
  cmd->add_option("--poll-ms", o->poll_ms, "how often the table's runs are listed (ms)")
      ->capture_default_str()
      ->check(CLI::Range(20, 60000));
  cmd->add_option("--tls-cert", o->tls_cert, "PEM certificate (then its chain): serve HTTPS only; needs --tls-key");
  cmd->add_option("--tls-key", o->tls_key, "PEM private key (unencrypted) of --tls-cert");
  cmd->add_option("--web-dir", o->web_dir, "serve the page files from this directory instead of the built-in copies (development)");
  cmd->callback([o] { Serve(*o); });
}

}  // namespace orderlake::cli
