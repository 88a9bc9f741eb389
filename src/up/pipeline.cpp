#include "up/pipeline.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include "agent/agent.h"
#include "agent/config.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/wakeup.h"
#include "dashboard/server.h"
#include "etl/job.h"
#include "firehose/server.h"
#include "firehose/service.h"
#include "generate/run.h"
#include "table/compact.h"
#include "up/monitor.h"

namespace orderlake::up {
namespace {
namespace stdfs = std::filesystem;
using json = nlohmann::json;

// The data directory's own key pair for the agent → firehose hop, made on first start.
Result<std::pair<std::string, std::string>> local_keys(const stdfs::path& data_dir) {
  const stdfs::path path = data_dir / "up" / "keys.json";
  std::error_code ec;
  if (stdfs::exists(path, ec)) {
    auto text = fs::read_file(path);
    if (!text.ok()) return text.status();
    json j = json::parse(text.value(), nullptr, false);
    if (j.is_object() && j.contains("access_key_id") && j.contains("secret_access_key"))
      return std::make_pair(j["access_key_id"].get<std::string>(), j["secret_access_key"].get<std::string>());
    return Status::Errorf("{} is damaged; remove it to make a new key pair", path.string());
  }
  std::random_device rd;
  static constexpr char kUpper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  static constexpr char kAny[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string id = "AKOL", secret;
  for (int i = 0; i < 16; ++i) id.push_back(kUpper[rd() % 32]);
  for (int i = 0; i < 40; ++i) secret.push_back(kAny[rd() % 64]);
  ORDERLAKE_RETURN_IF_ERROR(fs::write_file_atomic(path, json{{"access_key_id", id}, {"secret_access_key", secret}}.dump(2)));
  ::chmod(path.c_str(), 0600);
  return std::make_pair(id, secret);
}

Status ensure_stream(firehose::FirehoseService& service, const UpOptions& o) {
  const json name = {{"DeliveryStreamName", o.stream}};
  auto d = service.Handle("Firehose_20150804.DescribeDeliveryStream", name.dump());
  if (d.status != 200) {
    const json create = {
        {"DeliveryStreamName", o.stream},
        {"DeliveryStreamType", "DirectPut"},
        {"ExtendedS3DestinationConfiguration",
         {{"RoleARN", "arn:aws:iam::123456789012:role/orderlake-up"},
          {"BucketARN", "arn:aws:s3:::" + o.bucket},
          {"BufferingHints", {{"SizeInMBs", 1}, {"IntervalInSeconds", 0}}},
          {"CompressionFormat", "UNCOMPRESSED"}}}};
    auto c = service.Handle("Firehose_20150804.CreateDeliveryStream", create.dump());
    if (c.status != 200) return Status::Errorf("cannot create delivery stream {}: {}", o.stream, c.body);
  }
  for (int i = 0; i < 100; ++i) {
    auto r = service.Handle("Firehose_20150804.DescribeDeliveryStream", name.dump());
    json j = json::parse(r.body, nullptr, false);
    if (r.status == 200 && j.is_object() &&
        j["DeliveryStreamDescription"].value("DeliveryStreamStatus", "") == "ACTIVE")
      return Status::OK();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Status::Errorf("delivery stream {} did not become ACTIVE", o.stream);
}

}  // namespace

Status run_up(const UpOptions& o, const std::atomic<bool>& stop) {
  const stdfs::path data = stdfs::absolute(o.data_dir).lexically_normal();
  const stdfs::path logs = o.logs.empty() ? data / "logs" : stdfs::absolute(o.logs);
  const stdfs::path raw = data / "s3" / o.bucket, lake = data / "lake";
  for (const auto& d : {logs, raw, lake, data / "agent"}) ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(d));
  auto keys = local_keys(data);
  if (!keys.ok()) return keys.status();

  Monitor monitor;
  Wakeup etl_wakeup(std::chrono::milliseconds(o.etl_min_gap_ms));
  std::atomic<bool> stopping{false};

  // Firehose, on loopback, verifying the local key pair; every delivery wakes the etl.
  firehose::FirehoseOptions fo;
  fo.data_dir = data;
  fo.on_delivered = [&](const firehose::DeliveredObject& d) {
    monitor.ObjectDelivered(d.oldest_arrival_ms);
    etl_wakeup.Notify();
  };
  auto service = firehose::FirehoseService::Open(fo);
  if (!service.ok()) return service.status();
  firehose::ServerOptions so;
  so.host = "127.0.0.1";
  so.port = o.firehose_port;
  so.keys[keys->first] = keys->second;
  firehose::FirehoseServer fh_server(*service.value(), so);
  auto fh_port = fh_server.Bind();
  if (!fh_port.ok()) return fh_port.status();
  std::thread fh_thread([&] { fh_server.Run(); });
  if (Status st = ensure_stream(*service.value(), o); !st.ok()) {
    fh_server.Stop();
    fh_thread.join();
    return st;
  }

  // Dashboard over the lake; its port also serves up's /metrics and /health.
  dashboard::ServeOptions dopt;
  dopt.lake = lake;
  dopt.host = o.host;
  dopt.port = o.dashboard_port;
  std::atomic<bool> monitor_ready{false};  // the stages are added once they all exist
  dopt.more_metrics = [&] { return monitor_ready ? monitor.MetricsText() : std::string(); };
  dopt.health = [&] {
    return monitor_ready ? monitor.Health() : std::make_pair(503, json{{"status", "starting"}}.dump());
  };
  auto dash = dashboard::DashboardServer::Start(dopt);
  if (!dash.ok()) {
    fh_server.Stop();
    fh_thread.join();
    return dash.status();
  }
  std::atomic<bool> dash_running{true};
  std::thread dash_thread([&] {
    Status st = dash.value()->Run();
    if (!st.ok()) spdlog::error("dashboard: {}", st.message());
    dash_running = false;
  });

  // Agent: the Kinesis Agent configuration a user would write for this pipeline.
  const json agent_json = {
      {"firehose.endpoint", fmt::format("http://127.0.0.1:{}", fh_port.value())},
      {"awsAccessKeyId", keys->first},
      {"awsSecretAccessKey", keys->second},
      {"checkpointFile", (data / "agent" / "checkpoints").string()},
      {"cloudwatch.emitMetrics", false},
      {"flows",
       {{{"filePattern", (logs / "*.log").string()},
         {"deliveryStream", o.stream},
         {"initialPosition", "START_OF_FILE"},
         {"minTimeBetweenFilePollsMillis", o.agent_poll_ms},
         {"maxBufferAgeMillis", 1000}}}}};
  agent::Environment env;
  env.overrides = {{"AWS_REGION", "us-east-1"}};
  auto cfg = agent::parse_config(agent_json.dump(), env, "orderlake up's agent configuration");
  Status result;
  std::unique_ptr<agent::Agent> agent_ptr;
  if (cfg.ok()) {
    // In process only, below what agent.json may say (AWS documents 1000 ms as the least):
    // at low rates a batch waits this long for more lines before it is sent.
    for (auto& flow : cfg->flows) flow.max_buffer_age_ms = o.agent_buffer_ms;
    auto a = agent::Agent::Create(std::move(cfg).value(), agent::AgentOptions{});
    if (a.ok()) {
      agent_ptr = std::move(a).value();
      result = agent_ptr->Start();
    } else {
      result = a.status();
    }
  } else {
    result = cfg.status();
  }

  // The etl: a batch whenever the firehose delivered something, else every interval; each
  // commit makes the dashboard look at the table at once.
  std::atomic<bool> stop_stages{false}, stop_gen{false}, etl_running{true};
  etl::EtlOptions eo;
  eo.input = raw.string();
  eo.lake = lake.string();
  std::thread etl_thread([&] {
    etl::follow_etl(
        eo, o.etl_interval_ms, stop_stages,
        [&](const etl::RunSummary& s) {
          dash.value()->TableChanged();
          monitor.EtlRun(s);
        },
        [&](const Status& st) {
          spdlog::error("etl: {}", st.message());
          monitor.EtlError(st);
        },
        &etl_wakeup, [&](const etl::RunSummary& s) { monitor.EtlNothingNew(s); });
    etl_running = false;
  });

  // Compaction beside the etl: a partition's small files merged in one commit, removed
  // files deleted after the retention period, the log checkpointed (table/compact.h).
  std::thread compact_thread;
  if (o.compact_every_s > 0) {
    compact_thread = std::thread([&] {
      table::CompactOptions co;
      co.lake = lake.string();
      co.retention_ms = static_cast<int64_t>(o.retention_minutes * 60000);
      Status st = table::compact_loop(
          co, o.compact_every_s, stop_stages,
          [&](const table::CompactSummary& s) {
            if (s.files_removed || s.files_vacuumed || s.checkpoint >= 0) spdlog::debug("{}", s.to_text());
            if (s.files_removed) dash.value()->TableChanged();
          },
          [](const Status& e) { spdlog::warn("compact: {}", e.message()); });
      if (!st.ok()) spdlog::error("compact: {}", st.message());
    });
  }

  // The generator, unless the user brings their own logs.
  std::atomic<uint64_t> generated{0};
  std::atomic<bool> gen_running{false};
  std::string gen_error;  // set by the generator thread before gen_running goes false
  std::thread gen_thread;
  if (o.logs.empty() && result.ok()) {
    gen_running = true;
    gen_thread = std::thread([&] {
      generate::RunOptions go;
      go.out_dir = logs;
      go.rate = o.rate;
      go.rotate_size = 16 << 20;
      go.progress_interval_s = 0;
      // A new seed every run: a run that repeated an earlier one's lines would write files
      // the agent rightly takes for copies of the earlier ones.
      std::random_device rd;
      go.generator.seed = (static_cast<uint64_t>(rd()) << 32) ^ rd() ^
                          static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
      go.lines_written = &generated;
      auto r = generate::run_generate(go, &stop_gen);
      if (!r.ok()) {
        spdlog::error("generate: {}", r.status().message());
        gen_error = r.status().message();
      }
      gen_running = false;
    });
  }

  // What /health, /metrics and the status line say about each stage.
  const auto ended = [&](bool running) -> std::string { return running ? "running" : stopping ? "stopping" : "stopped"; };
  monitor.AddStage({"generate",
                    [&] {
                      StageHealth h;
                      h.enabled = o.logs.empty();
                      h.up = !h.enabled || gen_running || stopping;
                      h.state = !h.enabled ? "off (--logs)" : gen_running ? "running"
                                           : stopping                  ? "stopping"
                                                                       : "stopped: " + gen_error;
                      return h;
                    },
                    [&] {
                      return fmt::format("# HELP orderlake_generate_lines_total Order lines written to the log files\n"
                                         "# TYPE orderlake_generate_lines_total counter\n"
                                         "orderlake_generate_lines_total {}\n",
                                         generated.load());
                    },
                    [&] { return static_cast<double>(generated.load()); }});
  monitor.AddStage({"agent",
                    [&] {
                      StageHealth h;
                      const bool running = agent_ptr && !agent_ptr->Done();
                      h.up = running || stopping;
                      h.state = agent_ptr ? ended(running) : "not started: " + result.message();
                      h.lag = agent_ptr ? metric_value(agent_ptr->MetricsText(), "orderlake_agent_lag_bytes") : 0;
                      h.lag_unit = "bytes";
                      return h;
                    },
                    [&] { return agent_ptr ? agent_ptr->MetricsText() : std::string(); },
                    [&] {
                      return agent_ptr ? metric_value(agent_ptr->MetricsText(), "orderlake_agent_records_sent_total") : 0.0;
                    }});
  const int firehose_port = fh_port.value();
  monitor.AddStage({"firehose",
                    [&, firehose_port] {
                      StageHealth h;
                      // Asked over loopback, as the agent reaches it.
                      httplib::Client client("127.0.0.1", firehose_port);
                      client.set_connection_timeout(1, 0);
                      client.set_read_timeout(2, 0);
                      auto r = client.Get("/health");
                      const bool answers = r && r->status == 200;
                      h.up = answers || stopping;
                      h.state = answers ? "running" : stopping ? "stopping" : "not answering on its port";
                      h.lag = metric_value(service.value()->Metrics(), "orderlake_firehose_buffered_records");
                      h.lag_unit = "records";
                      return h;
                    },
                    [&] { return service.value()->Metrics(); },
                    [&] { return metric_value(service.value()->Metrics(), "orderlake_firehose_records_in_total"); }});
  monitor.AddStage({"etl",
                    [&] {
                      StageHealth h;
                      std::string why;
                      const bool failing = monitor.etl_failing(&why);
                      h.up = (etl_running && !failing) || stopping;
                      h.state = !etl_running ? ended(false) : failing ? "failing: " + why : "running";
                      h.lag = static_cast<double>(monitor.objects_waiting());
                      h.lag_unit = "objects";
                      return h;
                    },
                    nullptr, [&] { return static_cast<double>(monitor.etl_rows()); }});
  monitor.AddStage({"dashboard",
                    [&] {
                      StageHealth h;
                      h.up = dash_running || stopping;
                      h.state = ended(dash_running);
                      return h;
                    },
                    nullptr,  // the dashboard puts its own counters first on /metrics
                    [&] {
                      return metric_value(dash.value()->MetricsText(), "orderlake_dashboard_table_version");
                    }});

  monitor_ready = true;

  if (result.ok()) {
    const std::string url = dash.value()->url();
    const std::string base = url.substr(0, url.find('?'));
    std::printf("orderlake is up: dashboard at %s\n", url.c_str());
    std::printf("  metrics at %smetrics, health at %shealth\n", base.c_str(), base.c_str());
    std::printf("  logs %s -> agent -> firehose http://127.0.0.1:%d (stream %s) -> %s -> etl -> %s\n",
                logs.c_str(), fh_port.value(), o.stream.c_str(), raw.c_str(), lake.c_str());
    std::fflush(stdout);
  }
  const auto start = std::chrono::steady_clock::now();
  auto next_status = start;
  while (result.ok() && !stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    monitor.Sample();
    const auto now = std::chrono::steady_clock::now();
    if (o.duration_s > 0 && std::chrono::duration<double>(now - start).count() >= o.duration_s) break;
    if (o.status_interval_s > 0 && now >= next_status) {
      next_status = now + std::chrono::milliseconds(static_cast<int>(o.status_interval_s * 1000));
      std::fprintf(stderr, "%s\n", monitor.StatusLine().c_str());
    }
  }

  // Stop in flow order: no new lines, the agent drains, the firehose delivers, the etl
  // takes what arrived, then the page goes away.
  spdlog::info("up: stopping");
  stopping = true;
  stop_gen = true;
  if (gen_thread.joinable()) gen_thread.join();
  if (agent_ptr) {
    agent_ptr->RequestStop();
    Status st = agent_ptr->Wait();
    if (!st.ok()) spdlog::warn("agent: {}", st.message());
  }
  // Let the firehose deliver what it buffered (bounded), then one last etl batch.
  for (int i = 0; i < 100 && metric_value(service.value()->Metrics(), "orderlake_firehose_buffered_records") > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  stop_stages = true;
  etl_wakeup.Notify();
  etl_thread.join();
  if (compact_thread.joinable()) compact_thread.join();
  if (auto last = etl::run_etl(eo); !last.ok()) spdlog::warn("etl: {}", last.status().message());
  fh_server.Stop();
  fh_thread.join();
  service.value()->Stop();
  dash.value()->Stop();
  dash_thread.join();
  return result;
}

}  // namespace orderlake::up
