#include "up/pipeline.h"

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
#include "dashboard/server.h"
#include "etl/job.h"
#include "firehose/server.h"
#include "firehose/service.h"
#include "generate/run.h"

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

// A value of a Prometheus text exposition ("name value" or "name{...} value"), summed
// over label sets; 0 when absent.
double metric(const std::string& text, std::string_view name) {
  double sum = 0;
  size_t pos = 0;
  while ((pos = text.find(name, pos)) != std::string::npos) {
    const bool line_start = pos == 0 || text[pos - 1] == '\n';
    const char next = pos + name.size() < text.size() ? text[pos + name.size()] : '\0';
    if (line_start && (next == ' ' || next == '{')) {
      const size_t sp = text.find(' ', text[pos + name.size()] == '{' ? text.find('}', pos) : pos);
      sum += std::strtod(text.c_str() + sp + 1, nullptr);
    }
    pos += name.size();
  }
  return sum;
}

}  // namespace

Status run_up(const UpOptions& o, const std::atomic<bool>& stop) {
  const stdfs::path data = stdfs::absolute(o.data_dir).lexically_normal();
  const stdfs::path logs = o.logs.empty() ? data / "logs" : stdfs::absolute(o.logs);
  const stdfs::path raw = data / "s3" / o.bucket, lake = data / "lake";
  for (const auto& d : {logs, raw, lake, data / "agent"}) ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(d));
  auto keys = local_keys(data);
  if (!keys.ok()) return keys.status();

  // Firehose, on loopback, verifying the local key pair.
  firehose::FirehoseOptions fo;
  fo.data_dir = data;
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
  ORDERLAKE_RETURN_IF_ERROR(ensure_stream(*service.value(), o));

  // Dashboard over the lake.
  dashboard::ServeOptions dopt;
  dopt.lake = lake;
  dopt.host = o.host;
  dopt.port = o.dashboard_port;
  auto dash = dashboard::DashboardServer::Start(dopt);
  if (!dash.ok()) {
    fh_server.Stop();
    fh_thread.join();
    return dash.status();
  }
  std::thread dash_thread([&] { (void)dash.value()->Run(); });

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
         {"maxBufferAgeMillis", 1000}}}}};
  agent::Environment env;
  env.overrides = {{"AWS_REGION", "us-east-1"}};
  auto cfg = agent::parse_config(agent_json.dump(), env, "orderlake up's agent configuration");
  Status result;
  std::unique_ptr<agent::Agent> agent_ptr;
  if (cfg.ok()) {
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

  // The etl, a batch every interval.
  std::atomic<bool> stop_stages{false}, stop_gen{false};
  std::atomic<uint64_t> etl_rows{0};
  std::atomic<int64_t> last_commit_ms{0};
  etl::EtlOptions eo;
  eo.input = raw.string();
  eo.lake = lake.string();
  std::thread etl_thread([&] {
    etl::follow_etl(
        eo, o.etl_interval_ms, stop_stages,
        [&](const etl::RunSummary& s) {
          etl_rows += s.kept;
          last_commit_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
        },
        [](const Status& st) { spdlog::error("etl: {}", st.message()); });
  });

  // The generator, unless the user brings their own logs.
  std::atomic<uint64_t> generated{0};
  std::thread gen_thread;
  if (o.logs.empty() && result.ok()) {
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
      auto r = generate::run_generate(go, &stop_gen);
      if (!r.ok()) spdlog::error("generate: {}", r.status().message());
      else generated = r->lines;
    });
  }

  if (result.ok()) {
    std::printf("orderlake is up: dashboard at %s\n", dash.value()->url().c_str());
    std::printf("  logs %s -> agent -> firehose http://127.0.0.1:%d (stream %s) -> %s -> etl -> %s\n",
                logs.c_str(), fh_port.value(), o.stream.c_str(), raw.c_str(), lake.c_str());
    std::fflush(stdout);
  }
  const auto start = std::chrono::steady_clock::now();
  auto next_status = start;
  double last_in = 0;
  auto last_t = start;
  while (result.ok() && !stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto now = std::chrono::steady_clock::now();
    if (o.duration_s > 0 && std::chrono::duration<double>(now - start).count() >= o.duration_s) break;
    if (o.status_interval_s > 0 && now >= next_status) {
      next_status = now + std::chrono::milliseconds(static_cast<int>(o.status_interval_s * 1000));
      const std::string fm = service.value()->Metrics(), am = agent_ptr ? agent_ptr->MetricsText() : "";
      const double in = metric(fm, "orderlake_firehose_records_in_total");
      const double dt = std::chrono::duration<double>(now - last_t).count();
      const double rate = dt > 0 ? (in - last_in) / dt : 0;
      last_in = in;
      last_t = now;
      const int64_t commit = last_commit_ms.load();
      const int64_t age_ms = commit ? std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                              .count() - commit
                                    : -1;
      std::fprintf(stderr, "up: %.0f records/s into firehose | agent lag %s | undelivered %.0f | lake +%llu rows | %s\n",
                   rate, fs::human_bytes(metric(am, "orderlake_agent_lag_bytes")).c_str(),
                   metric(fm, "orderlake_firehose_buffered_records"),
                   static_cast<unsigned long long>(etl_rows.load()),
                   age_ms < 0 ? "no commit yet" : fmt::format("last commit {:.1f} s ago", age_ms / 1000.0).c_str());
    }
  }

  // Stop in flow order: no new lines, the agent drains, the firehose delivers, the etl
  // takes what arrived, then the page goes away.
  spdlog::info("up: stopping");
  stop_gen = true;
  if (gen_thread.joinable()) gen_thread.join();
  if (agent_ptr) {
    agent_ptr->RequestStop();
    Status st = agent_ptr->Wait();
    if (!st.ok()) spdlog::warn("agent: {}", st.message());
  }
  // Let the firehose deliver what it buffered (bounded), then one last etl batch.
  for (int i = 0; i < 100 && metric(service.value()->Metrics(), "orderlake_firehose_buffered_records") > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  stop_stages = true;
  etl_thread.join();
  if (auto last = etl::run_etl(eo); !last.ok()) spdlog::warn("etl: {}", last.status().message());
  fh_server.Stop();
  fh_thread.join();
  service.value()->Stop();
  dash.value()->Stop();
  dash_thread.join();
  return result;
}

}  // namespace orderlake::up
