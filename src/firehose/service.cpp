// FirehoseService: start-up (definitions, checkpoint, WAL replay), the checkpoint, stopping,
// the API entry point and the metrics registry. The API handlers are in api.cpp, delivery in
// delivery.cpp, the shared state in service_impl.h.
#include "firehose/service.h"

#include <algorithm>

#include "core/clock.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/thread_name.h"
#include "firehose/service_impl.h"

namespace orderlake::firehose {

namespace {

json stream_definition(const Stream& s) {
  return json{{"id", s.id},           {"name", s.name},         {"version", s.version},
              {"create_ts", s.create_ts}, {"destination", s.destination}, {"tags", s.tags},
              {"status", s.status}};
}

}  // namespace

Status FirehoseService::Impl::LoadDefinition(const json& d) {
  auto s = std::make_shared<Stream>();
  s->id = d.at("id").get<uint64_t>();
  s->name = d.at("name").get<std::string>();
  s->version = d.value("version", 1);
  s->create_ts = d.value("create_ts", 0.0);
  s->tags = d.value("tags", json::array());
  s->status = d.value("status", std::string("ACTIVE"));
  ORDERLAKE_RETURN_IF_ERROR(ApplyDestination(*s, d.at("destination")));
  last_id = std::max(last_id, s->id);
  streams[s->name] = s;
  by_id[s->id] = s;
  return Status::OK();
}

Status FirehoseService::Impl::ApplyDestination(Stream& s, const json& d) {
  s.destination = d;
  std::string arn = d.at("BucketARN").get<std::string>();
  auto p = arn.rfind(":::");
  s.bucket = p == std::string::npos ? arn : arn.substr(p + 3);
  auto pre = PrefixTemplate::Parse(d.value("Prefix", std::string()), false);
  if (!pre.ok()) return pre.status();
  s.prefix = *pre;
  std::string ep = d.value("ErrorOutputPrefix", std::string());
  if (ep.empty()) ep = "!{firehose:error-output-type}/";
  auto epre = PrefixTemplate::Parse(ep, true);
  if (!epre.ok()) return epre.status();
  s.error_prefix = *epre;
  s.gzip = d.value("CompressionFormat", std::string("UNCOMPRESSED")) == "GZIP";
  s.file_extension = d.value("FileExtension", std::string());
  auto& bh = d.at("BufferingHints");
  s.size_bytes = static_cast<uint64_t>(bh.value("SizeInMBs", 5)) << 20;
  s.interval_ms = static_cast<int64_t>(bh.value("IntervalInSeconds", 300)) * 1000;
  return Status::OK();
}

Status FirehoseService::Impl::SaveDefinition(const Stream& s) {
  return fs::write_file_atomic(streams_dir / (s.name + ".json"), stream_definition(s).dump(2));
}

std::string FirehoseService::Impl::Arn(const std::string& name) const {
  return fmt::format("arn:aws:firehose:{}:{}:deliverystream/{}", opt.region, opt.account_id, name);
}

Wal::EntryInfo FirehoseService::Impl::Replay(std::string_view p) {
  uint8_t type = 0;
  uint64_t id = 0, first = 0;
  int64_t arrival = 0;
  uint32_t count = 0;
  uint16_t src_len = 0;
  uint64_t end = 0;
  if (!get(p, type) || type != 1 || !get(p, id) || !get(p, first) || !get(p, arrival) || !get(p, count) ||
      !get(p, src_len) || p.size() < src_len)
    return {};
  std::string src(p.substr(0, src_len));
  p.remove_prefix(src_len);
  if (!get(p, end) || p.size() < size_t{count} * 4) return {};
  Wal::EntryInfo info{id, first + count - 1};
  auto it = by_id.find(id);
  if (it == by_id.end() || count == 0) return info;
  Stream& s = *it->second;
  if (!src.empty()) {
    auto& h = s.hwm[src];
    h.end = std::max(h.end, end);
    h.used_ms = std::max(h.used_ms, arrival);
  }
  s.next_seq = std::max(s.next_seq, first + count);
  if (first + count - 1 <= s.delivered_seq) return info;
  auto c = std::make_shared<Chunk>();
  c->first_seq = first;
  c->arrival_ms = arrival;
  c->ends.resize(count);
  std::memcpy(c->ends.data(), p.data(), size_t{count} * 4);
  p.remove_prefix(size_t{count} * 4);
  c->data.assign(p.data(), std::min<size_t>(p.size(), c->ends.back()));
  s.buffered_bytes += c->data.size();
  s.buffered_records += count;
  total_buffered += c->data.size();
  s.chunks.push_back(std::move(c));
  return info;
}

json FirehoseService::Impl::CheckpointJson() const {
  uint64_t durable = wal->durable_lsn();
  json j = json::object();
  for (auto& [id, s] : by_id) {
    json hw = json::object(), used = json::object();
    for (auto& [src, h] : s->hwm)
      if (h.lsn <= durable) {
        hw[src] = h.end;
        used[src] = h.used_ms;
      }
    json e{{"delivered", s->delivered_seq}, {"hwm", hw}, {"hwm_used", used}};
    if (s->intent) e["intent"] = json{{"first", s->intent->first}, {"last", s->intent->last}};
    j[std::to_string(id)] = e;
  }
  return json{{"streams", j}};
}

Status FirehoseService::Impl::SaveCheckpoint() {
  std::string text;
  {
    std::lock_guard lk(mu);
    const int64_t expired = clock::unix_ms() - kMarkTtlMs;
    for (auto& [id, st] : by_id) std::erase_if(st->hwm, [&](const auto& m) { return m.second.used_ms < expired; });
    text = CheckpointJson().dump();
  }
  return fs::write_file_atomic(checkpoint_path, text);
}

// ---------------------------------------------------------------------------------------

FirehoseService::FirehoseService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<FirehoseService>> FirehoseService::Open(const FirehoseOptions& options) {
  ORDERLAKE_RETURN_IF_ERROR(options.Validate());
  auto impl = std::make_unique<Impl>();
  Impl& m = *impl;
  m.opt = options;
  m.RegisterApi();
  m.RegisterMetrics();
  m.fh_dir = options.data_dir / "firehose";
  m.streams_dir = m.fh_dir / "streams";
  m.checkpoint_path = m.fh_dir / "checkpoint.json";
  m.id_salt = mix64(static_cast<uint64_t>(clock::unix_ms()));
  ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(m.streams_dir));
  ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(options.data_dir / "s3"));
  auto lock = fs::FileLock::Acquire(m.fh_dir / "lock", fmt::format("the firehose of {}", options.data_dir.string()));
  if (!lock.ok()) return lock.status();
  m.lock.emplace(std::move(lock).value());
  std::error_code ec;
  // Temporaries of checkpoint or definition writes interrupted by a crash.
  for (const auto& d : {m.fh_dir, m.streams_dir})
    for (auto& e : stdfs::directory_iterator(d, ec)) {
      std::string n = e.path().filename().string();
      if (n.size() > 5 && n[0] == '.' && n.ends_with(".tmp")) stdfs::remove(e.path(), ec);
    }
  for (auto& e : stdfs::directory_iterator(m.streams_dir, ec)) {
    if (e.path().extension() != ".json" || e.path().filename().string()[0] == '.') continue;
    auto text = fs::read_file(e.path());
    if (!text.ok()) return text.status();
    try {
      ORDERLAKE_RETURN_IF_ERROR(m.LoadDefinition(json::parse(*text)));
    } catch (const std::exception& ex) {
      return Status::Errorf("bad stream definition {}: {}", e.path().string(), ex.what());
    }
  }
  if (stdfs::exists(m.checkpoint_path)) {
    auto text = fs::read_file(m.checkpoint_path);
    if (!text.ok()) return text.status();
    try {
      json cp = json::parse(*text);
      for (auto& [k, v] : cp.at("streams").items()) {
        auto it = m.by_id.find(std::stoull(k));
        if (it == m.by_id.end()) continue;
        Stream& s = *it->second;
        s.delivered_seq = v.value("delivered", uint64_t{0});
        s.next_seq = s.delivered_seq + 1;
        if (v.contains("intent")) s.intent = Intent{v["intent"]["first"], v["intent"]["last"]};
        // A mark from before hwm_used was kept counts as used now.
        const json used = v.value("hwm_used", json::object());
        if (auto h = v.find("hwm"); h != v.end() && h->is_object())
          for (auto it2 = h->begin(); it2 != h->end(); ++it2)
            s.hwm[it2.key()] = Hwm{it2->get<uint64_t>(), 0, used.value(it2.key(), clock::unix_ms())};
      }
    } catch (const std::exception& ex) {
      return Status::Errorf("bad checkpoint {}: {}", m.checkpoint_path.string(), ex.what());
    }
  }
  auto wal = Wal::Open(m.fh_dir / "wal", options.wal_segment_bytes,
                       [&m](std::string_view p) { return m.Replay(p); });
  if (!wal.ok()) return wal.status();
  m.wal = std::move(wal).value();
  Impl* raw = impl.get();
  m.wal->set_on_durable([raw] { raw->cv.notify_all(); });
  for (auto& [id, s] : m.by_id) {
    if (s->intent && (s->chunks.empty() || s->chunks.front()->first_seq != s->intent->first)) {
      spdlog::warn("firehose: stream {}: the pending delivery intent [{}, {}] no longer matches the log; dropped",
                   s->name, s->intent->first, s->intent->last);
      s->intent.reset();
    }
    if (s->buffered_records)
      spdlog::info("firehose: stream {}: {} undelivered records recovered from the WAL", s->name, s->buffered_records);
  }
  m.delivery = std::thread([raw] {
    SetThreadName("fh-deliver");
    raw->DeliveryLoop();
  });
  return std::unique_ptr<FirehoseService>(new FirehoseService(std::move(impl)));
}

FirehoseService::~FirehoseService() { Stop(); }

void FirehoseService::Stop() {
  if (!impl_) return;
  {
    std::lock_guard lk(impl_->mu);
    impl_->stop = true;
  }
  impl_->cv.notify_all();
  if (impl_->delivery.joinable()) impl_->delivery.join();
}

ApiResponse FirehoseService::Handle(std::string_view target, std::string_view body, std::string_view batch_key) {
  aws::JsonCall call;
  call.body = body;
  if (!batch_key.empty()) call.headers.emplace_back("X-Orderlake-Batch", batch_key);
  return impl_->api.Dispatch(target, call);
}

const aws::JsonService& FirehoseService::api() const { return impl_->api; }
const metrics::Registry& FirehoseService::metrics() const { return impl_->registry; }
std::string FirehoseService::Metrics() const { return metrics().Text(); }

// The families and HELP texts /metrics has always had, per stream, read under mu at scrape time.
void FirehoseService::Impl::RegisterMetrics() {
  auto family = [this](const char* name, metrics::Type type, const char* help, auto value) {
    registry.collect(fmt::format("orderlake_firehose_{}", name), type, help, [this, value](metrics::Emitter& e) {
      std::lock_guard lk(mu);
      const int64_t now = clock::unix_ms();
      for (auto& [n, s] : streams) e.Sample({{"stream", n}}, static_cast<double>(value(*s, now)));
    });
  };
  using metrics::Type;
  family("records_in_total", Type::kCounter, "Records accepted (durable in the WAL)",
         [](const Stream& s, int64_t) { return s.records_in; });
  family("bytes_in_total", Type::kCounter, "Record bytes accepted", [](const Stream& s, int64_t) { return s.bytes_in; });
  family("records_delivered_total", Type::kCounter, "Records written to the raw store",
         [](const Stream& s, int64_t) { return s.records_delivered; });
  family("objects_delivered_total", Type::kCounter, "Objects written",
         [](const Stream& s, int64_t) { return s.objects_delivered; });
  family("delivery_failures_total", Type::kCounter, "Records written to the error output after failed deliveries",
         [](const Stream& s, int64_t) { return s.delivery_failures; });
  family("backpressure_rejections_total", Type::kCounter, "Puts refused with ServiceUnavailableException",
         [](const Stream& s, int64_t) { return s.rejections; });
  family("buffered_records", Type::kGauge, "Accepted records not yet delivered",
         [](const Stream& s, int64_t) { return s.buffered_records; });
  family("buffered_bytes", Type::kGauge, "Accepted bytes not yet delivered",
         [](const Stream& s, int64_t) { return s.buffered_bytes; });
  family("buffer_age_seconds", Type::kGauge, "Age of the oldest undelivered record", [](const Stream& s, int64_t now) {
    return s.chunks.empty() ? 0.0 : static_cast<double>(now - s.chunks.front()->arrival_ms) / 1000.0;
  });
  registry.gauge_fn("orderlake_firehose_wal_bytes", "Bytes in WAL segments on disk",
                    [this] { return static_cast<double>(wal->disk_bytes()); });
  registry.counter_fn("orderlake_firehose_backpressure_rejections", "Puts refused for back-pressure, all streams",
                      [this] { return static_cast<double>(backpressure_rejections.load()); });
}

Status FirehoseOptions::Validate() const {
  if (data_dir.empty()) return Status::Error("--data-dir must not be empty");
  if (region.empty()) return Status::Error("--region must not be empty");
  if (account_id.size() != 12 || account_id.find_first_not_of("0123456789") != std::string::npos)
    return Status::Errorf("the account id must be 12 digits, got '{}'", account_id);
  if (max_buffer_bytes < (uint64_t{1} << 20) || max_buffer_bytes > (uint64_t{1} << 40))
    return Status::Errorf("--max-buffer-mb must be between 1 and 1048576, got {} bytes ({} MiB)", max_buffer_bytes,
                          max_buffer_bytes >> 20);
  if (wal_segment_bytes < (uint64_t{64} << 10) || wal_segment_bytes > (uint64_t{4096} << 20))
    return Status::Errorf("--wal-segment-mb must give a WAL segment of 64 KiB to 4096 MiB, got {} bytes",
                          wal_segment_bytes);
  if (!(delivery_retry_seconds >= 0 && delivery_retry_seconds <= 86400))
    return Status::Errorf("--delivery-retry-seconds must be between 0 and 86400, got {}", delivery_retry_seconds);
  if (event_retention_ms < 0 || event_retention_ms > int64_t{366} * 86400 * 1000)
    return Status::Errorf("--event-retention must be between 0 (no event log) and 366d, got {} ms", event_retention_ms);
  if (!bucket_store.empty() && bucket_store != "local" && bucket_store != "s3")
    return Status::Errorf("--buckets must be 'local' or 's3', got '{}'", bucket_store);
  return Status::OK();
}

}  // namespace orderlake::firehose
