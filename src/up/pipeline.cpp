#include "up/pipeline.h"

#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <regex>
#include <thread>

#include "agent/config.h"
#include "core/clock.h"
#include "core/duration.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/thread_name.h"
#include "store/object_store.h"
#include "table/properties.h"
#include "up/log_cleanup.h"
#include "up/pipeline_internal.h"

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

Status UpOptions::Validate() const {
  if (data_dir.empty()) return Status::Error("--data-dir must name a directory");
  if (!(rate > 0) || !std::isfinite(rate)) return Status::Errorf("--rate must be a number above 0, got {}", rate);
  if (!(duration_s >= 0) || !std::isfinite(duration_s))
    return Status::Errorf("--duration must be 0 (until Ctrl-C) or more seconds, got {}", duration_s);
  if (host.empty()) return Status::Error("--listen-host must name an address");
  if (dashboard_port < 0 || dashboard_port > 65535)
    return Status::Errorf("--port must be between 0 and 65535, got {}", dashboard_port);
  if (firehose_port < 0 || firehose_port > 65535)
    return Status::Errorf("--firehose-port must be between 0 and 65535, got {}", firehose_port);
  if (aws_port < 0 || aws_port > 65535) return Status::Errorf("--aws-port must be between 0 and 65535, got {}", aws_port);
  ORDERLAKE_RETURN_IF_ERROR(tls.Validate());
  if (etl_interval_ms < 10 || etl_interval_ms > 3'600'000)
    return Status::Errorf("--etl-interval-ms must be between 10 and 3600000, got {}", etl_interval_ms);
  if (etl_min_gap_ms < 0 || etl_min_gap_ms > 3'600'000)
    return Status::Errorf("--etl-min-gap-ms must be between 0 and 3600000, got {}", etl_min_gap_ms);
  if (agent_poll_ms < 1 || agent_poll_ms > 60'000)
    return Status::Errorf("--agent-poll-ms must be between 1 and 60000, got {}", agent_poll_ms);
  if (agent_buffer_ms < 0 || agent_buffer_ms > 900'000)
    return Status::Errorf("--agent-buffer-ms must be between 0 and 900000, got {}", agent_buffer_ms);
  if (!(status_interval_s >= 0)) return Status::Errorf("--status-interval must be 0 or more seconds, got {}", status_interval_s);
  if (!(compact_every_s >= 0 && compact_every_s <= 86400))
    return Status::Errorf("--compact-every must be between 0 and 86400 seconds, got {}", compact_every_s);
  if (!(retention_minutes >= 0 && retention_minutes <= 1e7))
    return Status::Errorf("--retention-minutes must be between 0 and 10000000, got {}", retention_minutes);
  if (log_retention_ms < 60'000 || log_retention_ms > kMaxDurationMs)
    return Status::Errorf("--log-retention must be at least 1m, got {}", FormatDuration(log_retention_ms));
  if (etl_lookback_ms < 1000 || etl_lookback_ms > 24 * 3'600'000LL)
    return Status::Errorf("--etl-lookback must be between 1s and 24h, got {}", FormatDuration(etl_lookback_ms));
  if (raw_retention_ms < 0 || raw_retention_ms > kMaxDurationMs)
    return Status::Errorf("--raw-retention must be 0 (keep forever) or a duration, got {}",
                          FormatDuration(raw_retention_ms));
  static const std::regex kStream("[a-zA-Z0-9_.-]{1,64}");
  if (!std::regex_match(stream, kStream))
    return Status::Errorf("the delivery stream name must be 1 to 64 of a-z, A-Z, 0-9, '_', '.', '-', got \"{}\"", stream);
  if (bucket.empty()) return Status::Error("the raw bucket name must not be empty");
  return Status::OK();
}

namespace internal {

Result<StageOptions> BuildStageOptions(const UpOptions& o, const stdfs::path& data, const stdfs::path& logs) {
  StageOptions s;
  const stdfs::path raw = data / "s3" / o.bucket, lake = data / "lake";
  s.etl.input = raw.string();
  s.etl.lake = lake.string();
  s.compact.lake = lake.string();
  s.compact.retention_ms = static_cast<int64_t>(o.retention_minutes * 60000);
  // Retention (steady state): committed raw objects go after --raw-retention, run records
  // are rolled up after --log-retention (the table's own log is kept that long too).
  s.etl.raw_retention_ms = o.raw_retention_ms;
  s.etl.runs_retention_ms = o.log_retention_ms;
  s.etl.lookback_ms = o.etl_lookback_ms;
  s.generate.out_dir = logs;
  s.generate.rate = o.rate;
  s.generate.rotate_size = 16 << 20;
  s.generate.progress_interval_s = 0;
  // A new seed every run: a run that repeated an earlier one's lines would write files
  // the agent rightly takes for copies of the earlier ones.
  std::random_device rd;
  s.generate.generator.seed = (static_cast<uint64_t>(rd()) << 32) ^ rd() ^
                              static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  ORDERLAKE_RETURN_IF_ERROR(s.etl.Validate());
  ORDERLAKE_RETURN_IF_ERROR(s.compact.Validate());
  ORDERLAKE_RETURN_IF_ERROR(s.agent.Validate());
  if (o.logs.empty()) ORDERLAKE_RETURN_IF_ERROR(s.generate.Validate());
  return s;
}

Pipeline::Pipeline(const UpOptions& o) : o_(o), etl_wakeup_(std::chrono::milliseconds(o.etl_min_gap_ms)) {}

Status Pipeline::Prepare() {
  ORDERLAKE_RETURN_IF_ERROR(o_.Validate());
  data_ = stdfs::absolute(o_.data_dir).lexically_normal();
  logs_ = o_.logs.empty() ? data_ / "logs" : stdfs::absolute(o_.logs);
  raw_ = data_ / "s3" / o_.bucket;
  lake_ = data_ / "lake";
  auto so = BuildStageOptions(o_, data_, logs_);
  if (!so.ok()) return so.status();
  so_ = std::move(so).value();
  for (const auto& d : {logs_, raw_, lake_, data_ / "agent"}) ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(d));
  auto keys = local_keys(data_);
  if (!keys.ok()) return keys.status();
  keys_ = std::move(keys).value();
  return Status::OK();
}

// Firehose, on loopback, verifying the local key pair; every delivery wakes the etl.
Status Pipeline::StartFirehose() {
  firehose::FirehoseOptions fo;
  fo.data_dir = data_;
  fo.on_delivered = [this](const firehose::DeliveredObject& d) {
    monitor_.ObjectDelivered(d.oldest_arrival_ms);
    etl_wakeup_.Notify();
  };
  auto service = firehose::FirehoseService::Open(fo);
  if (!service.ok()) return service.status();
  service_ = std::move(service).value();
  firehose::ServerOptions so;
  so.host = "127.0.0.1";
  so.port = o_.firehose_port;
  so.keys[keys_.first] = keys_.second;
  so.tls = o_.tls;
  fh_server_ = std::make_unique<firehose::FirehoseServer>(*service_, so);
  auto fh_port = fh_server_->Bind();
  if (!fh_port.ok()) return fh_port.status();
  fh_port_ = fh_port.value();
  fh_thread_ = std::thread([this] {
    SetThreadName("firehose");
    fh_server_->Run();
  });
  if (Status st = ensure_stream(*service_, o_); !st.ok()) {
    StopFirehose();
    return st;
  }
  return Status::OK();
}

void Pipeline::StopFirehose() {
  fh_server_->Stop();
  if (fh_thread_.joinable()) fh_thread_.join();
}

// Dashboard over the lake; its port also serves up's /metrics and /health.
Status Pipeline::StartDashboard() {
  dashboard::ServeOptions dopt;
  dopt.lake = lake_;
  dopt.host = o_.host;
  dopt.port = o_.dashboard_port;
  dopt.tls = o_.tls;
  dopt.more_metrics = [this] { return monitor_ready_ ? monitor_.MetricsText() : std::string(); };
  dopt.health = [this] {
    return monitor_ready_ ? monitor_.Health() : std::make_pair(503, json{{"status", "starting"}}.dump());
  };
  auto dash = dashboard::DashboardServer::Start(dopt);
  if (!dash.ok()) return dash.status();
  dash_ = std::move(dash).value();
  dash_thread_ = std::thread([this] {
    SetThreadName("dashboard");
    Status st = dash_->Run();
    if (!st.ok()) spdlog::error("dashboard: {}", st.message());
    dash_running_ = false;
  });
  return Status::OK();
}

// Every AWS API on one loopback port, over the same data directory and firehose.
Status Pipeline::StartAws() {
  if (!o_.aws) return Status::OK();
  endpoint::EdgeOptions eo;
  eo.data_dir = data_;
  eo.host = "127.0.0.1";
  eo.port = o_.aws_port;
  eo.firehose = service_.get();
  eo.read_only_buckets = {o_.bucket};
  eo.http.tls = o_.tls;
  eo.sql.lake = lake_;
  auto edge = endpoint::Edge::Create(eo);
  if (!edge.ok()) return edge.status();
  auto port = (*edge)->Bind();
  if (!port.ok() && o_.aws_port == UpOptions{}.aws_port) {
    spdlog::warn("up: {}; the AWS endpoint takes a free port instead (--aws-port chooses one)", port.status().message());
    eo.port = 0;
    edge = endpoint::Edge::Create(eo);
    if (!edge.ok()) return edge.status();
    port = (*edge)->Bind();
  }
  if (!port.ok()) return Status::Errorf("--aws-port: {}", port.status().message());
  aws_port_ = *port;
  aws_ = std::move(edge).value();
  aws_->Start();
  return Status::OK();
}

// Agent: the Kinesis Agent configuration a user would write for this pipeline.
void Pipeline::StartAgent() {
  const json agent_json = {
      {"firehose.endpoint", fmt::format("{}://127.0.0.1:{}", fh_server_->scheme(), fh_port_)},
      {"awsAccessKeyId", keys_.first},
      {"awsSecretAccessKey", keys_.second},
      {"checkpointFile", (data_ / "agent" / "checkpoints").string()},
      {"cloudwatch.emitMetrics", false},
      {"flows",
       {{{"filePattern", (logs_ / "*.log").string()},
         {"deliveryStream", o_.stream},
         {"initialPosition", "START_OF_FILE"},
         {"minTimeBetweenFilePollsMillis", o_.agent_poll_ms},
         {"maxBufferAgeMillis", 1000}}}}};
  agent::Environment env;
  env.overrides = {{"AWS_REGION", "us-east-1"}};
  if (!o_.tls.cert_file.empty()) {
    const char* ca = std::getenv("AWS_CA_BUNDLE");
    env.overrides.emplace_back("AWS_CA_BUNDLE", ca && *ca ? std::string(ca) : o_.tls.cert_file);
  }
  auto cfg = agent::parse_config(agent_json.dump(), env, "orderlake up's agent configuration");
  if (!cfg.ok()) {
    result_ = cfg.status();
    return;
  }
  // In process only, below what agent.json may say (AWS documents 1000 ms as the least):
  // at low rates a batch waits this long for more lines before it is sent.
  for (auto& flow : cfg->flows) flow.max_buffer_age_ms = o_.agent_buffer_ms;
  auto a = agent::Agent::Create(std::move(cfg).value(), so_.agent);
  if (!a.ok()) {
    result_ = a.status();
    return;
  }
  agent_ = std::move(a).value();
  result_ = agent_->Start();
}

// The etl: a batch whenever the firehose delivered something, else every interval; each
// commit makes the dashboard look at the table at once.
// --log-retention is the table's own delta.logRetentionDuration (every writer of the table
// honours it, and `orderlake query` shows it): set once the table exists, on the etl's thread.
void Pipeline::ApplyLogRetention() {
  if (log_retention_set_) return;
  std::error_code ec;
  if (!stdfs::exists(lake_ / "orders" / "_delta_log", ec)) return;
  auto store = store::OpenLocal(lake_.string());
  auto v = table::SetTableProperties(store.get(), "orders",
                                     {{table::kLogRetention, table::FormatDeltaInterval(o_.log_retention_ms)}});
  if (!v.ok()) {
    spdlog::warn("up: cannot set the table's log retention: {}", v.status().message());
    return;
  }
  log_retention_set_ = true;
}

void Pipeline::StartEtl() {
  etl_thread_ = std::thread([this] {
    SetThreadName("etl");
    ApplyLogRetention();
    etl::follow_etl(
        so_.etl, o_.etl_interval_ms, stop_stages_,
        [this](const etl::RunSummary& s) {
          ApplyLogRetention();
          dash_->TableChanged();
          monitor_.EtlRun(s);
        },
        [this](const Status& st) {
          spdlog::error("etl: {}", st.message());
          monitor_.EtlError(st);
        },
        &etl_wakeup_, [this](const etl::RunSummary& s) { monitor_.EtlNothingNew(s); });
    etl_running_ = false;
  });
}

// Compaction beside the etl: a partition's small files merged in one commit, removed
// files deleted after the retention period, the log checkpointed (table/compact.h).
void Pipeline::StartCompactor() {
  if (o_.compact_every_s <= 0) return;
  compact_thread_ = std::thread([this] {
    SetThreadName("compact");
    Status st = table::compact_loop(
        so_.compact, o_.compact_every_s, stop_stages_,
        [this](const table::CompactSummary& s) {
          compact_metrics_.Pass(s);
          if (s.files_removed || s.files_vacuumed || s.checkpoint >= 0) spdlog::debug("{}", s.to_text());
          if (s.files_removed) dash_->TableChanged();
        },
        [this](const Status& e) {
          compact_metrics_.Failed(e);
          spdlog::warn("compact: {}", e.message());
        });
    if (!st.ok()) spdlog::error("compact: {}", st.message());
  });
}

// The generator, unless the user brings their own logs.
void Pipeline::StartGenerator() {
  generate_metrics_.counter_fn("orderlake_generate_lines_total", "Order lines written to the log files",
                               [this] { return static_cast<double>(generated_.load()); });
  if (!o_.logs.empty() || !result_.ok()) return;
  gen_running_ = true;
  gen_thread_ = std::thread([this] {
    SetThreadName("generate");
    generate::RunOptions go = so_.generate;
    go.lines_written = &generated_;
    auto r = generate::run_generate(go, &stop_gen_);
    if (!r.ok()) {
      spdlog::error("generate: {}", r.status().message());
      gen_error_ = r.status().message();
    }
    gen_running_ = false;
  });
}

void Pipeline::PrintBanner() {
  const std::string url = dash_->url();
  const std::string base = url.substr(0, url.find('?'));
  std::printf("orderlake is up: dashboard at %s\n", url.c_str());
  std::printf("  metrics at %smetrics, health at %shealth\n", base.c_str(), base.c_str());
  if (aws_)
    std::printf("  AWS endpoint at %s://127.0.0.1:%d (Athena, Glue, S3, Firehose: AWS_ENDPOINT_URL=%s://127.0.0.1:%d)\n",
                aws_->scheme(), aws_port_, aws_->scheme(), aws_port_);
  std::printf("  logs %s -> agent -> firehose %s://127.0.0.1:%d (stream %s) -> %s -> etl -> %s\n", logs_.c_str(),
              fh_server_->scheme(), fh_port_, o_.stream.c_str(), raw_.c_str(), lake_.c_str());
  std::fflush(stdout);
}

void Pipeline::Loop(const std::atomic<bool>& stop) {
  const auto start = std::chrono::steady_clock::now();
  auto next_status = start, next_log_cleanup = start;
  while (result_.ok() && !stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    monitor_.Sample();
    // As `orderlake agent` does: the acknowledged offsets reach disk every pass, so a
    // killed `up` resends only what was in flight, not everything since its last clean stop.
    if (agent_) {
      Status cs = agent_->FlushCheckpoints();
      if (!cs.ok()) spdlog::error("agent: {}", cs.message());
    }
    const auto now = std::chrono::steady_clock::now();
    if (agent_ && o_.logs.empty() && now >= next_log_cleanup) {
      next_log_cleanup = now + std::chrono::seconds(10);
      clean_delivered_logs(logs_, agent_->Acknowledged(), o_.raw_retention_ms, clock::unix_ms());
    }
    if (o_.duration_s > 0 && std::chrono::duration<double>(now - start).count() >= o_.duration_s) break;
    if (o_.status_interval_s > 0 && now >= next_status) {
      next_status = now + std::chrono::milliseconds(static_cast<int>(o_.status_interval_s * 1000));
      std::fprintf(stderr, "%s\n", monitor_.StatusLine().c_str());
    }
  }
}

// Stop in flow order: no new lines, the agent drains, the firehose delivers, the etl
// takes what arrived, then the page goes away.
void Pipeline::Shutdown() {
  spdlog::info("up: stopping");
  stopping_ = true;
  stop_gen_ = true;
  if (gen_thread_.joinable()) gen_thread_.join();
  if (agent_) {
    agent_->RequestStop();
    Status st = agent_->Wait();
    if (!st.ok()) spdlog::warn("agent: {}", st.message());
  }
  // Let the firehose deliver what it buffered (bounded), then one last etl batch.
  for (int i = 0; i < 100 && service_->metrics().Value("orderlake_firehose_buffered_records") > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  stop_stages_ = true;
  etl_wakeup_.Notify();
  etl_thread_.join();
  if (compact_thread_.joinable()) compact_thread_.join();
  if (auto last = etl::run_etl(so_.etl); !last.ok()) spdlog::warn("etl: {}", last.status().message());
  if (aws_) aws_->Stop();
  StopFirehose();
  service_->Stop();
  dash_->Stop();
  dash_thread_.join();
}

Status Pipeline::Run(const std::atomic<bool>& stop) {
  ORDERLAKE_RETURN_IF_ERROR(Prepare());
  ORDERLAKE_RETURN_IF_ERROR(StartFirehose());
  if (Status st = StartDashboard(); !st.ok()) {
    StopFirehose();
    return st;
  }
  if (Status st = StartAws(); !st.ok()) {
    StopFirehose();
    dash_->Stop();
    dash_thread_.join();
    return st;
  }
  StartAgent();
  StartEtl();
  StartCompactor();
  StartGenerator();
  RegisterStages();
  monitor_ready_ = true;
  if (result_.ok()) PrintBanner();
  Loop(stop);
  Shutdown();
  return result_;
}

}  // namespace internal

Status run_up(const UpOptions& options, const std::atomic<bool>& stop) {
  internal::Pipeline pipeline(options);
  return pipeline.Run(stop);
}

}  // namespace orderlake::up
