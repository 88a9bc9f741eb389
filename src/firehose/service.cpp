#include "firehose/service.h"

#include <fcntl.h>
#include <simdjson.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <vector>

#include "core/base64.h"
#include "core/clock.h"
#include "core/fs.h"
#include "core/log.h"
#include "firehose/base64_fast.h"
#include "firehose/prefix.h"
#include "firehose/wal.h"
#include "store/object_store.h"

namespace orderlake::firehose {
namespace stdfs = std::filesystem;
using json = nlohmann::json;

ApiResponse api_error(int status, std::string_view type, std::string_view message) {
  json j{{"__type", type}, {"message", message}};
  return ApiResponse{status, j.dump()};
}

namespace {

constexpr size_t kMaxRecordBytes = 1024000;
constexpr size_t kMaxRequestBytes = 4u << 20;
constexpr size_t kMaxRecords = 500;

ApiResponse invalid(std::string_view msg) { return api_error(400, "InvalidArgumentException", msg); }
ApiResponse not_found(std::string_view msg) { return api_error(400, "ResourceNotFoundException", msg); }
ApiResponse serialization(std::string_view msg) { return api_error(400, "SerializationException", msg); }
ApiResponse unavailable(std::string_view msg) { return api_error(503, "ServiceUnavailableException", msg); }

bool valid_name(std::string_view n) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) return false;
  return true;
}

void put_u64(std::string& o, uint64_t v) { o.append(reinterpret_cast<const char*>(&v), 8); }
void put_u32(std::string& o, uint32_t v) { o.append(reinterpret_cast<const char*>(&v), 4); }
template <typename T>
bool get(std::string_view& in, T& v) {
  if (in.size() < sizeof(T)) return false;
  std::memcpy(&v, in.data(), sizeof(T));
  in.remove_prefix(sizeof(T));
  return true;
}

// One accepted request's records, contiguous.
struct Chunk {
  uint64_t first_seq = 0;
  int64_t arrival_ms = 0;
  uint64_t lsn = 0;  // WAL position; durable when <= the WAL's durable lsn
  std::string data;
  std::vector<uint32_t> ends;  // end offset of each record in data
  uint64_t last_seq() const { return first_seq + ends.size() - 1; }
};

struct Hwm {
  uint64_t end = 0;
  uint64_t lsn = 0;
};

struct Intent {
  uint64_t first = 0, last = 0;
};

struct Stream {
  // Definition (immutable after creation, except status).
  uint64_t id = 0;
  std::string name;
  int version = 1;
  double create_ts = 0;
  json destination;  // the ExtendedS3DestinationDescription as stored
  json tags = json::array();
  std::string status = "ACTIVE";
  std::string bucket;
  PrefixTemplate prefix, error_prefix;
  bool gzip = false;
  std::string file_extension;
  uint64_t size_bytes = 5u << 20;
  int64_t interval_ms = 300000;
  // State (under Impl::mu).
  uint64_t next_seq = 1, delivered_seq = 0;
  std::deque<std::shared_ptr<Chunk>> chunks;
  uint64_t buffered_bytes = 0, buffered_records = 0;
  std::optional<Intent> intent;
  std::map<std::string, Hwm> hwm;
  int attempts = 0;
  int64_t next_attempt_ms = 0, first_failure_ms = 0;
  std::string last_error;
  // Counters.
  uint64_t records_in = 0, bytes_in = 0, records_delivered = 0, objects_delivered = 0, delivery_failures = 0,
           rejections = 0;
};

json stream_definition(const Stream& s) {
  return json{{"id", s.id},           {"name", s.name},         {"version", s.version},
              {"create_ts", s.create_ts}, {"destination", s.destination}, {"tags", s.tags},
              {"status", s.status}};
}

std::string object_time(int64_t ms) {
  auto r = format_timestamp("yyyy-MM-dd-HH-mm-ss", ms);
  return r.ok() ? *r : "";
}

std::string uuid_for(uint64_t id, int version, uint64_t first) {
  uint64_t a = mix64(id * 0x100000001b3ULL ^ mix64(static_cast<uint64_t>(version) + (first << 8)));
  uint64_t b = mix64(a ^ first);
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xffff, b >> 48,
                     b & 0xffffffffffffULL);
}

Result<std::string> gzip_bytes(std::string_view in) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return Status::Error("deflateInit2 failed");
  std::string out;
  out.resize(deflateBound(&z, in.size()) + 32);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  size_t n = z.total_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return Status::Error("gzip compression failed");
  out.resize(n);
  return out;
}

// Publishes an object: a temporary ".<name>.tmp" beside it (a fixed name, so a delivery
// redone after a crash reuses and replaces it), fsync, rename, fsync of the directory and of
// every directory created on the way, so a delivered object survives a crash.
Status write_object(const stdfs::path& path, std::string_view data) {
  stdfs::path dir = path.parent_path();
  stdfs::path existing = dir;
  while (!existing.empty() && !stdfs::exists(existing)) existing = existing.parent_path();
  ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(dir));
  stdfs::path tmp = dir / ("." + path.filename().string() + ".tmp");
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Errorf("cannot create {}: {}", tmp.string(), std::strerror(errno));
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      return Status::Errorf("cannot write {}: {}", tmp.string(), std::strerror(e));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int e = errno;
    ::close(fd);
    return Status::Errorf("fsync {} failed: {}", tmp.string(), std::strerror(e));
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return Status::Errorf("cannot rename {} to {}: {}", tmp.string(), path.string(), std::strerror(errno));
  for (stdfs::path d = dir;; d = d.parent_path()) {
    ORDERLAKE_RETURN_IF_ERROR(fs::fsync_path(d));
    if (d == existing || d.empty() || d == d.parent_path()) break;
  }
  return Status::OK();
}

const std::set<std::string> kUnsupportedTop = {
    "KinesisStreamSourceConfiguration",       "MSKSourceConfiguration",
    "DatabaseSourceConfiguration",            "RedshiftDestinationConfiguration",
    "ElasticsearchDestinationConfiguration",  "AmazonopensearchserviceDestinationConfiguration",
    "SplunkDestinationConfiguration",         "HttpEndpointDestinationConfiguration",
    "AmazonOpenSearchServerlessDestinationConfiguration", "SnowflakeDestinationConfiguration",
    "IcebergDestinationConfiguration"};

bool enabled(const json& j) {
  if (!j.is_object()) return false;
  auto it = j.find("Enabled");
  return it == j.end() || (it->is_boolean() && it->get<bool>());
}

}  // namespace

struct FirehoseService::Impl {
  FirehoseOptions opt;
  std::map<std::string, std::unique_ptr<store::ObjectStore>> buckets;  // bucket_store "s3" (delivery thread)
  stdfs::path fh_dir, streams_dir, checkpoint_path;
  std::unique_ptr<Wal> wal;
  mutable std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, std::shared_ptr<Stream>> streams;   // by name
  std::map<uint64_t, std::shared_ptr<Stream>> by_id;
  uint64_t total_buffered = 0;
  uint64_t last_id = 0;
  bool stop = false;
  std::thread delivery;
  std::atomic<uint64_t> request_counter{0};
  uint64_t id_salt = 0;
  std::atomic<uint64_t> backpressure_rejections{0};

  // ---- definitions ----
  Status LoadDefinition(const json& d) {
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

  // Fills the derived fields from a stored ExtendedS3DestinationDescription.
  static Status ApplyDestination(Stream& s, const json& d) {
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

  Status SaveDefinition(const Stream& s) {
    return fs::write_file_atomic(streams_dir / (s.name + ".json"), stream_definition(s).dump(2));
  }

  std::string Arn(const std::string& name) const {
    return fmt::format("arn:aws:firehose:{}:{}:deliverystream/{}", opt.region, opt.account_id, name);
  }

  // ---- WAL replay ----
  Wal::EntryInfo Replay(std::string_view p) {
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

  // ---- checkpoint ----
  json CheckpointJson() const {  // under mu
    uint64_t durable = wal->durable_lsn();
    json j = json::object();
    for (auto& [id, s] : by_id) {
      json hw = json::object();
      for (auto& [src, h] : s->hwm)
        if (h.lsn <= durable) hw[src] = h.end;
      json e{{"delivered", s->delivered_seq}, {"hwm", hw}};
      if (s->intent) e["intent"] = json{{"first", s->intent->first}, {"last", s->intent->last}};
      j[std::to_string(id)] = e;
    }
    return json{{"streams", j}};
  }
  Status SaveCheckpoint() {
    std::string text;
    {
      std::lock_guard lk(mu);
      text = CheckpointJson().dump();
    }
    return fs::write_file_atomic(checkpoint_path, text);
  }

  // ---- delivery ----
  struct Batch {
    std::shared_ptr<Stream> stream;
    Intent intent;
    bool new_intent = false;
    std::vector<std::shared_ptr<Chunk>> chunks;
    bool to_error = false;
    bool finish_delete = false;
  };

  // Picks the next due stream and cuts its batch (under mu). Returns the wait time otherwise.
  std::optional<Batch> NextBatch(int64_t now, int64_t& wait_ms) {
    uint64_t durable = wal->durable_lsn();
    wait_ms = 1000;
    bool pressure = total_buffered * 2 > opt.max_buffer_bytes;
    std::shared_ptr<Stream> largest;
    for (auto& [id, sp] : by_id) {
      Stream& s = *sp;
      if (s.status == "DELETING" && s.chunks.empty()) {
        Batch b;
        b.stream = sp;
        b.finish_delete = true;
        return b;
      }
      if (s.chunks.empty() || s.chunks.front()->lsn > durable) continue;
      if (now < s.next_attempt_ms) {
        wait_ms = std::min(wait_ms, s.next_attempt_ms - now);
        continue;
      }
      uint64_t dbytes = 0;
      for (auto& c : s.chunks) {
        if (c->lsn > durable) break;
        dbytes += c->data.size();
        if (dbytes >= s.size_bytes) break;
      }
      int64_t age = now - s.chunks.front()->arrival_ms;
      bool due = s.intent || dbytes >= s.size_bytes || age >= s.interval_ms || s.status == "DELETING";
      if (!due) {
        wait_ms = std::min(wait_ms, s.interval_ms - age);
        if (!largest || s.buffered_bytes > largest->buffered_bytes) largest = sp;
        continue;
      }
      return Cut(sp, durable, now);
    }
    if (pressure && largest) return Cut(largest, durable, now);
    return std::nullopt;
  }

  Batch Cut(const std::shared_ptr<Stream>& sp, uint64_t durable, int64_t now) {
    Stream& s = *sp;
    Batch b;
    b.stream = sp;
    if (s.intent) {
      b.intent = *s.intent;
      for (auto& c : s.chunks) {
        if (c->first_seq > b.intent.last) break;
        b.chunks.push_back(c);
      }
    } else {
      uint64_t bytes = 0;
      for (auto& c : s.chunks) {
        if (c->lsn > durable) break;
        if (!b.chunks.empty() && bytes + c->data.size() > s.size_bytes) break;
        b.chunks.push_back(c);
        bytes += c->data.size();
      }
      b.intent = {b.chunks.front()->first_seq, b.chunks.back()->last_seq()};
      s.intent = b.intent;
      b.new_intent = true;
    }
    b.to_error = s.first_failure_ms > 0 && now - s.first_failure_ms >= static_cast<int64_t>(opt.delivery_retry_seconds * 1000);
    return b;
  }

  Status WriteObject(const Batch& b, std::string& key_out) {
    const Stream& s = *b.stream;
    const Chunk& first = *b.chunks.front();
    uint64_t seed = mix64(s.id ^ mix64(b.intent.first));
    std::string name = fmt::format("{}-{}-{}-{}", s.name, s.version, object_time(first.arrival_ms),
                                   uuid_for(s.id, s.version, b.intent.first));
    std::string body;
    std::string key;
    if (!b.to_error) {
      key = s.prefix.Evaluate(first.arrival_ms, seed) + name;
      size_t total = 0;
      for (auto& c : b.chunks) total += c->data.size();
      body.reserve(total);
      for (auto& c : b.chunks) body += c->data;
    } else {
      key = s.error_prefix.Evaluate(first.arrival_ms, seed, "delivery-failed") + name;
      for (auto& c : b.chunks) {
        uint32_t start = 0;
        for (uint32_t e : c->ends) {
          json doc{{"attemptsMade", s.attempts},
                   {"arrivalTimestamp", c->arrival_ms},
                   {"lastErrorCode", "S3.WriteFailed"},
                   {"lastErrorMessage", s.last_error},
                   {"rawData", base64_encode(std::string_view(c->data).substr(start, e - start))}};
          body += doc.dump();
          body += '\n';
          start = e;
        }
      }
    }
    if (s.gzip) {
      auto z = gzip_bytes(body);
      if (!z.ok()) return z.status();
      body = std::move(z).value();
    }
    if (!s.file_extension.empty()) key += s.file_extension;
    else if (s.gzip) key += ".gz";
    if (key.size() > 1024) return Status::Errorf("object key longer than 1024 characters: {}", key);
    key_out = key;
    if (opt.bucket_store == "s3") {
      auto it = buckets.find(s.bucket);
      if (it == buckets.end()) {
        auto st = store::Open("s3://" + s.bucket);
        if (!st.ok()) return st.status();
        it = buckets.emplace(s.bucket, std::move(st).value()).first;
      }
      return it->second->Put(key, body);
    }
    return write_object(opt.data_dir / "s3" / s.bucket / key, body);
  }

  void DeliveryLoop() {
    for (;;) {
      std::optional<Batch> b;
      {
        std::unique_lock lk(mu);
        for (;;) {
          if (stop) return;
          int64_t wait_ms = 1000;
          b = NextBatch(clock::unix_ms(), wait_ms);
          if (b) break;
          cv.wait_for(lk, std::chrono::milliseconds(std::clamp<int64_t>(wait_ms, 1, 1000)));
        }
      }
      Deliver(*b);
    }
  }

  void Deliver(Batch& b) {
    Stream& s = *b.stream;
    if (b.finish_delete) {
      std::error_code ec;
      stdfs::remove(streams_dir / (s.name + ".json"), ec);
      {
        std::lock_guard lk(mu);
        by_id.erase(s.id);
        auto it = streams.find(s.name);
        if (it != streams.end() && it->second.get() == &s) streams.erase(it);
      }
      Status st = SaveCheckpoint();
      if (!st.ok()) spdlog::error("firehose: {}", st.message());
      spdlog::info("firehose: delivery stream {} deleted", s.name);
      return;
    }
    if (b.new_intent) {
      Status st = SaveCheckpoint();
      if (!st.ok()) {
        Fail(s, "cannot persist the delivery intent: " + st.message());
        return;
      }
    }
    std::string key;
    Status st = WriteObject(b, key);
    if (!st.ok()) {
      Fail(s, st.message());
      return;
    }
    uint64_t records = 0;
    {
      std::lock_guard lk(mu);
      while (!s.chunks.empty() && s.chunks.front()->first_seq <= b.intent.last) {
        auto& c = s.chunks.front();
        records += c->ends.size();
        s.buffered_bytes -= c->data.size();
        s.buffered_records -= c->ends.size();
        total_buffered -= c->data.size();
        s.chunks.pop_front();
      }
      s.delivered_seq = b.intent.last;
      s.intent.reset();
      if (b.to_error) s.delivery_failures += records;
      else s.records_delivered += records;
      ++s.objects_delivered;
      s.attempts = 0;
      s.first_failure_ms = 0;
      s.next_attempt_ms = 0;
    }
    spdlog::debug("firehose: {} records [{}, {}] of {} -> s3/{}/{}", records, b.intent.first, b.intent.last, s.name,
                  s.bucket, key);
    if (!b.to_error && opt.on_delivered) {
      DeliveredObject d;
      d.stream = s.name;
      d.bucket = s.bucket;
      d.key = key;
      d.records = records;
      for (auto& c : b.chunks) d.bytes += c->data.size();
      d.oldest_arrival_ms = b.chunks.front()->arrival_ms;
      opt.on_delivered(d);
    }
    st = SaveCheckpoint();
    if (!st.ok()) {
      spdlog::error("firehose: cannot save the delivery checkpoint: {}", st.message());
      return;
    }
    std::lock_guard lk(mu);
    wal->Release([&](uint64_t id, uint64_t max_seq) {
      auto it = by_id.find(id);
      return it == by_id.end() || it->second->delivered_seq >= max_seq;
    });
  }

  void Fail(Stream& s, const std::string& why) {
    std::lock_guard lk(mu);
    int64_t now = clock::unix_ms();
    ++s.attempts;
    if (s.first_failure_ms == 0) s.first_failure_ms = now;
    s.last_error = why;
    int64_t backoff = std::min<int64_t>(60000, 1000ll << std::min(s.attempts - 1, 6));
    s.next_attempt_ms = now + backoff;
    spdlog::warn("firehose: delivery for stream {} failed (attempt {}, retry in {} ms): {}", s.name, s.attempts,
                 backoff, why);
  }

  // ---- API ----
  ApiResponse Create(const json& req);
  ApiResponse Describe(const json& req);
  ApiResponse List(const json& req);
  ApiResponse Delete(const json& req);
  ApiResponse Put(std::string_view body, bool batch, std::string_view batch_key);
};

namespace {
const json* member(const json& j, const char* k) {
  auto it = j.find(k);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}
}  // namespace

ApiResponse FirehoseService::Impl::Create(const json& req) {
  const json* name_j = member(req, "DeliveryStreamName");
  if (!name_j || !name_j->is_string()) return invalid("DeliveryStreamName is required");
  std::string name = name_j->get<std::string>();
  if (!valid_name(name))
    return invalid(fmt::format("1 validation error detected: Value '{}' at 'deliveryStreamName' failed to satisfy "
                               "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+ and "
                               "have length between 1 and 64",
                               name));
  std::vector<std::string> refused;
  for (auto& k : kUnsupportedTop)
    if (member(req, k.c_str())) refused.push_back(k);
  if (const json* enc = member(req, "DeliveryStreamEncryptionConfigurationInput"))
    if (enc->is_object()) refused.push_back("DeliveryStreamEncryptionConfigurationInput");
  std::string type = req.value("DeliveryStreamType", std::string("DirectPut"));
  if (type != "DirectPut") refused.push_back("DeliveryStreamType " + type);
  const json* ext = member(req, "ExtendedS3DestinationConfiguration");
  if (!ext) ext = member(req, "S3DestinationConfiguration");
  if (!refused.empty()) {
    std::string list;
    for (auto& r : refused) list += (list.empty() ? "" : ", ") + r;
    return invalid("Not supported by this service: " + list +
                   ". Supported: a DirectPut source with an ExtendedS3DestinationConfiguration.");
  }
  if (!ext || !ext->is_object())
    return invalid("Exactly one destination configuration is required: ExtendedS3DestinationConfiguration");
  const json& e = *ext;
  for (const char* k : {"ProcessingConfiguration", "DataFormatConversionConfiguration",
                        "DynamicPartitioningConfiguration"})
    if (const json* v = member(e, k); v && enabled(*v))
      refused.push_back(std::string("ExtendedS3DestinationConfiguration.") + k);
  if (e.value("S3BackupMode", std::string("Disabled")) != "Disabled")
    refused.push_back("ExtendedS3DestinationConfiguration.S3BackupMode Enabled");
  if (const json* enc = member(e, "EncryptionConfiguration"); enc && member(*enc, "KMSEncryptionConfig"))
    refused.push_back("EncryptionConfiguration.KMSEncryptionConfig");
  std::string tz = e.value("CustomTimeZone", std::string());
  if (!tz.empty() && tz != "UTC") refused.push_back("CustomTimeZone " + tz);
  std::string comp = e.value("CompressionFormat", std::string("UNCOMPRESSED"));
  if (comp != "UNCOMPRESSED" && comp != "GZIP") refused.push_back("CompressionFormat " + comp);
  if (!refused.empty()) {
    std::string list;
    for (auto& r : refused) list += (list.empty() ? "" : ", ") + r;
    return invalid("Not supported by this service: " + list);
  }
  auto str = [&](const char* k) -> std::string {
    const json* v = member(e, k);
    return v && v->is_string() ? v->get<std::string>() : std::string();
  };
  std::string role = str("RoleARN"), bucket = str("BucketARN");
  static const std::regex kBucket(R"(arn:[^:]*:s3:::([\w.\-]{1,255}))");
  static const std::regex kRole(R"(arn:.*:iam::\d{12}:role/[a-zA-Z_0-9+=,.@\-_/]+)");
  std::smatch m;
  if (role.empty() || !std::regex_match(role, kRole))
    return invalid("RoleARN is required and must look like arn:aws:iam::123456789012:role/NAME");
  if (bucket.empty() || !std::regex_match(bucket, m, kBucket) || m[1].str() == "." || m[1].str() == "..")
    return invalid("BucketARN is required and must look like arn:aws:s3:::BUCKET");
  std::string prefix = str("Prefix"), eprefix = str("ErrorOutputPrefix");
  if (prefix.size() > 1024 || eprefix.size() > 1024) return invalid("Prefix and ErrorOutputPrefix are at most 1024 characters");
  auto pt = PrefixTemplate::Parse(prefix, false);
  if (!pt.ok()) return invalid(pt.status().message());
  auto et = PrefixTemplate::Parse(eprefix.empty() ? "!{firehose:error-output-type}/" : eprefix, true);
  if (!et.ok()) return invalid(et.status().message());
  if (pt->has_expressions() && (eprefix.empty() || !et->has_error_output_type()))
    return invalid("ErrorOutputPrefix must contain !{firehose:error-output-type} when Prefix contains expressions");
  if (!eprefix.empty() && et->has_expressions() && !pt->has_expressions() && !prefix.empty())
    return invalid("Prefix must contain expressions when ErrorOutputPrefix contains expressions");
  for (auto* t : {&*pt, &*et}) {
    std::string probe = t->Evaluate(clock::unix_ms(), 1, "delivery-failed");
    if (probe.size() > 512)
      return invalid(fmt::format("The evaluated prefix '{}' is longer than 512 characters", probe));
  }
  json bh = json{{"SizeInMBs", 5}, {"IntervalInSeconds", 300}};
  if (const json* b = member(e, "BufferingHints")) {
    const json* sz = member(*b, "SizeInMBs");
    const json* iv = member(*b, "IntervalInSeconds");
    if ((sz == nullptr) != (iv == nullptr))
      return invalid("BufferingHints: SizeInMBs and IntervalInSeconds must be specified together");
    if (sz) {
      if (!sz->is_number_integer() || sz->get<int64_t>() < 1 || sz->get<int64_t>() > 128)
        return invalid("BufferingHints.SizeInMBs must be between 1 and 128");
      if (!iv->is_number_integer() || iv->get<int64_t>() < 0 || iv->get<int64_t>() > 900)
        return invalid("BufferingHints.IntervalInSeconds must be between 0 and 900");
      bh = json{{"SizeInMBs", *sz}, {"IntervalInSeconds", *iv}};
    }
  }
  std::string fext = str("FileExtension");
  if (!fext.empty() && (fext[0] != '.' || fext.size() > 128 ||
                        fext.find_first_not_of(".0123456789abcdefghijklmnopqrstuvwxyz!-_*'()") != std::string::npos))
    return invalid("FileExtension must start with '.' and use [0-9a-z!-_.*'()]");
  json dest{{"RoleARN", role},
            {"BucketARN", bucket},
            {"Prefix", prefix},
            {"ErrorOutputPrefix", eprefix},
            {"BufferingHints", bh},
            {"CompressionFormat", comp},
            {"EncryptionConfiguration", json{{"NoEncryptionConfig", "NoEncryption"}}},
            {"S3BackupMode", "Disabled"}};
  if (const json* cw = member(e, "CloudWatchLoggingOptions")) dest["CloudWatchLoggingOptions"] = *cw;
  if (!fext.empty()) dest["FileExtension"] = fext;

  auto s = std::make_shared<Stream>();
  s->name = name;
  s->create_ts = static_cast<double>(clock::unix_ms()) / 1000.0;
  if (const json* t = member(req, "Tags")) s->tags = *t;
  Status st = ApplyDestination(*s, dest);
  if (!st.ok()) return invalid(st.message());
  std::lock_guard lk(mu);
  if (streams.count(name))
    return api_error(400, "ResourceInUseException",
                     fmt::format("Firehose {} under accountId {} already exists", name, opt.account_id));
  s->id = std::max<uint64_t>(last_id + 1, static_cast<uint64_t>(clock::unix_ms()) * 1000);
  last_id = s->id;
  st = SaveDefinition(*s);
  if (!st.ok()) return api_error(500, "InternalFailure", st.message());
  streams[name] = s;
  by_id[s->id] = s;
  spdlog::info("firehose: created delivery stream {} -> s3/{}/ (buffer {} MiB / {} s, {})", name, s->bucket,
               s->size_bytes >> 20, s->interval_ms / 1000, comp);
  return ApiResponse{200, json{{"DeliveryStreamARN", Arn(name)}}.dump()};
}

ApiResponse FirehoseService::Impl::Describe(const json& req) {
  std::string name = req.value("DeliveryStreamName", std::string());
  std::lock_guard lk(mu);
  auto it = streams.find(name);
  if (it == streams.end())
    return not_found(fmt::format("Firehose {} under account {} not found.", name, opt.account_id));
  const Stream& s = *it->second;
  json d{{"DeliveryStreamName", s.name},
         {"DeliveryStreamARN", Arn(s.name)},
         {"DeliveryStreamStatus", s.status},
         {"DeliveryStreamEncryptionConfiguration", json{{"Status", "DISABLED"}}},
         {"DeliveryStreamType", "DirectPut"},
         {"VersionId", std::to_string(s.version)},
         {"CreateTimestamp", s.create_ts},
         {"Destinations", json::array({json{{"DestinationId", "destinationId-000000000001"},
                                            {"ExtendedS3DestinationDescription", s.destination}}})},
         {"HasMoreDestinations", false}};
  return ApiResponse{200, json{{"DeliveryStreamDescription", d}}.dump()};
}

ApiResponse FirehoseService::Impl::List(const json& req) {
  int64_t limit = 10;
  if (const json* l = member(req, "Limit")) {
    if (!l->is_number_integer() || l->get<int64_t>() < 1 || l->get<int64_t>() > 10000)
      return invalid("Limit must be between 1 and 10000");
    limit = l->get<int64_t>();
  }
  std::string type = req.value("DeliveryStreamType", std::string());
  std::string start = req.value("ExclusiveStartDeliveryStreamName", std::string());
  json names = json::array();
  bool more = false;
  std::lock_guard lk(mu);
  if (!type.empty() && type != "DirectPut") return ApiResponse{200, json{{"DeliveryStreamNames", names}, {"HasMoreDeliveryStreams", false}}.dump()};
  for (auto it = start.empty() ? streams.begin() : streams.upper_bound(start); it != streams.end(); ++it) {
    if (static_cast<int64_t>(names.size()) == limit) {
      more = true;
      break;
    }
    names.push_back(it->first);
  }
  return ApiResponse{200, json{{"DeliveryStreamNames", names}, {"HasMoreDeliveryStreams", more}}.dump()};
}

ApiResponse FirehoseService::Impl::Delete(const json& req) {
  std::string name = req.value("DeliveryStreamName", std::string());
  std::lock_guard lk(mu);
  auto it = streams.find(name);
  if (it == streams.end())
    return not_found(fmt::format("Firehose {} under account {} not found.", name, opt.account_id));
  Stream& s = *it->second;
  if (s.status != "DELETING") {
    s.status = "DELETING";
    Status st = SaveDefinition(s);
    if (!st.ok()) return api_error(500, "InternalFailure", st.message());
  }
  cv.notify_all();
  return ApiResponse{200, "{}"};
}

namespace {
// Parsed PutRecord / PutRecordBatch: records decoded into one buffer.
struct ParsedPut {
  std::string name;
  std::string data;
  std::vector<uint32_t> ends;
};

std::optional<ApiResponse> parse_put(std::string_view body, bool batch, ParsedPut& out) {
  // Each HTTP thread keeps a parser and a padded buffer for ordinary requests; a large one
  // (over 1 MiB) gets its own, freed afterwards, so idle threads do not hold big buffers.
  constexpr size_t kKeep = 1u << 20;
  thread_local simdjson::dom::parser small_parser;
  thread_local simdjson::padded_string small_padded(kKeep);
  simdjson::dom::parser big_parser;
  simdjson::padded_string big_padded;
  bool big = body.size() > kKeep;
  if (big) big_padded = simdjson::padded_string(body.size());
  simdjson::dom::parser& parser = big ? big_parser : small_parser;
  char* buf = big ? big_padded.data() : small_padded.data();
  std::memcpy(buf, body.data(), body.size());
  simdjson::dom::element doc;
  if (parser.parse(buf, body.size(), false).get(doc) != simdjson::SUCCESS)
    return serialization("Start of structure or map found where not expected, or the request body is not valid JSON");
  simdjson::dom::object obj;
  if (doc.get(obj) != simdjson::SUCCESS) return serialization("The request body must be a JSON object");
  std::string_view name;
  if (obj["DeliveryStreamName"].get(name) != simdjson::SUCCESS)
    return invalid("1 validation error detected: Value null at 'deliveryStreamName' failed to satisfy constraint: "
                   "Member must not be null");
  out.name = std::string(name);
  auto add = [&](simdjson::dom::element rec, size_t index) -> std::optional<ApiResponse> {
    std::string_view b64;
    simdjson::dom::object ro;
    if (rec.get(ro) != simdjson::SUCCESS) return serialization("Record must be a JSON object");
    auto r = ro["Data"];
    if (r.error() == simdjson::NO_SUCH_FIELD)
      return invalid(fmt::format("1 validation error detected: Value null at 'records.{}.member.data' failed to "
                                 "satisfy constraint: Member must not be null",
                                 index + 1));
    if (r.get(b64) != simdjson::SUCCESS) return serialization("Record.Data must be a base64 string");
    size_t before = out.data.size();
    if (!base64_decode_append(b64, out.data))
      return serialization(fmt::format("Record {} Data is not valid base64", index));
    size_t n = out.data.size() - before;
    if (n > kMaxRecordBytes)
      return invalid(fmt::format("1 validation error detected: Value at 'records.{}.member.data' failed to satisfy "
                                 "constraint: Member must have length less than or equal to {}",
                                 index + 1, kMaxRecordBytes));
    if (out.data.size() > kMaxRequestBytes)
      return invalid(fmt::format("The request is larger than the limit of {} bytes of record data", kMaxRequestBytes));
    out.ends.push_back(static_cast<uint32_t>(out.data.size()));
    return std::nullopt;
  };
  if (!batch) {
    simdjson::dom::element rec;
    if (obj["Record"].get(rec) != simdjson::SUCCESS)
      return invalid("1 validation error detected: Value null at 'record' failed to satisfy constraint: Member must "
                     "not be null");
    return add(rec, 0);
  }
  simdjson::dom::array recs;
  if (obj["Records"].get(recs) != simdjson::SUCCESS)
    return invalid("1 validation error detected: Value null at 'records' failed to satisfy constraint: Member must "
                   "not be null");
  size_t n = recs.size();
  if (n < 1 || n > kMaxRecords)
    return invalid(fmt::format("1 validation error detected: Value '{}' at 'records' failed to satisfy constraint: "
                               "Member must have length {} {}",
                               n, n < 1 ? "greater than or equal to" : "less than or equal to",
                               n < 1 ? 1 : kMaxRecords));
  out.ends.reserve(n);
  out.data.reserve(body.size() * 3 / 4);
  size_t i = 0;
  for (auto rec : recs)
    if (auto err = add(rec, i++)) return err;
  return std::nullopt;
}

void append_hex(std::string& o, uint64_t v, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) o += kHex[(v >> (i * 4)) & 15];
}
}  // namespace

ApiResponse FirehoseService::Impl::Put(std::string_view body, bool batch, std::string_view batch_key) {
  ParsedPut p;
  if (auto err = parse_put(body, batch, p)) return *err;
  std::string source;
  uint64_t end = 0;
  if (!batch_key.empty()) {
    size_t b = batch_key.rfind(';');
    size_t a = b == std::string_view::npos || b == 0 ? std::string_view::npos : batch_key.rfind(';', b - 1);
    bool ok = a != std::string_view::npos && a >= 1 && a <= 256;
    uint64_t start = 0;
    if (ok) {
      source = std::string(batch_key.substr(0, a));
      auto num = [](std::string_view t, uint64_t& v) {
        if (t.empty() || t.size() > 19) return false;
        v = 0;
        for (char c : t) {
          if (c < '0' || c > '9') return false;
          v = v * 10 + static_cast<uint64_t>(c - '0');
        }
        return true;
      };
      ok = num(batch_key.substr(a + 1, b - a - 1), start) && num(batch_key.substr(b + 1), end) && start <= end;
    }
    if (!ok || !batch)
      return invalid("X-Orderlake-Batch must be '<source-id>;<start>;<end>' (source id of 1-256 characters, "
                     "start <= end) and is accepted on PutRecordBatch only");
  }
  size_t count = p.ends.size();
  uint64_t lsn = 0, first_seq = 0, stream_id = 0;
  bool duplicate = false;
  {
    std::lock_guard lk(mu);
    auto it = streams.find(p.name);
    if (it == streams.end() || it->second->status != "ACTIVE")
      return not_found(fmt::format("Firehose {} under account {} not found.", p.name, opt.account_id));
    Stream& s = *it->second;
    stream_id = s.id;
    if (!source.empty()) {
      auto h = s.hwm.find(source);
      if (h != s.hwm.end() && end <= h->second.end) {
        duplicate = true;
        lsn = h->second.lsn;
      }
    }
    if (!duplicate) {
      if (total_buffered > 0 && total_buffered + p.data.size() > opt.max_buffer_bytes) {
        ++s.rejections;
        backpressure_rejections.fetch_add(1, std::memory_order_relaxed);
        return unavailable("Slow down. Delivery is behind: the undelivered data has reached the service's bound.");
      }
      first_seq = s.next_seq;
      s.next_seq += count;
      int64_t arrival = clock::unix_ms();
      lsn = wal->Append(s.id, first_seq + count - 1, [&](std::string& o) {
        o.push_back(1);
        put_u64(o, s.id);
        put_u64(o, first_seq);
        put_u64(o, static_cast<uint64_t>(arrival));
        put_u32(o, static_cast<uint32_t>(count));
        uint16_t sl = static_cast<uint16_t>(source.size());
        o.append(reinterpret_cast<const char*>(&sl), 2);
        o += source;
        put_u64(o, end);
        o.append(reinterpret_cast<const char*>(p.ends.data()), count * 4);
        o += p.data;
      });
      if (!source.empty()) s.hwm[source] = Hwm{end, lsn};
      auto c = std::make_shared<Chunk>();
      c->first_seq = first_seq;
      c->arrival_ms = arrival;
      c->lsn = lsn;
      s.records_in += count;
      s.bytes_in += p.data.size();
      s.buffered_bytes += p.data.size();
      s.buffered_records += count;
      total_buffered += p.data.size();
      c->data = std::move(p.data);
      c->ends = std::move(p.ends);
      s.chunks.push_back(std::move(c));
    }
  }
  if (!wal->WaitDurable(lsn)) return unavailable("The write-ahead log failed; the records were not accepted.");
  uint64_t req = request_counter.fetch_add(1, std::memory_order_relaxed);
  // RecordId: stream id, a per-request value and the record's sequence number, in hex.
  std::string id_prefix;
  append_hex(id_prefix, stream_id, 16);
  append_hex(id_prefix, id_salt ^ req, 16);
  auto record_id = [&](std::string& o, uint64_t i) {
    static constexpr char kHex[] = "0123456789abcdef";
    char h[16];
    uint64_t v = duplicate ? i : first_seq + i;
    for (int k = 15; k >= 0; --k, v >>= 4) h[k] = kHex[v & 15];
    o += id_prefix;
    o.append(h, 16);
  };
  std::string out;
  if (!batch) {
    out = "{\"RecordId\":\"";
    record_id(out, 0);
    out += "\",\"Encrypted\":false}";
    return ApiResponse{200, std::move(out)};
  }
  out.reserve(64 + count * 64);
  out = "{\"FailedPutCount\":0,\"Encrypted\":false,\"RequestResponses\":[";
  for (size_t i = 0; i < count; ++i) {
    out += i ? ",{\"RecordId\":\"" : "{\"RecordId\":\"";
    record_id(out, i);
    out += "\"}";
  }
  out += "]}";
  return ApiResponse{200, std::move(out)};
}

// ---------------------------------------------------------------------------------------

FirehoseService::FirehoseService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<FirehoseService>> FirehoseService::Open(const FirehoseOptions& options) {
  auto impl = std::make_unique<Impl>();
  Impl& m = *impl;
  m.opt = options;
  m.fh_dir = options.data_dir / "firehose";
  m.streams_dir = m.fh_dir / "streams";
  m.checkpoint_path = m.fh_dir / "checkpoint.json";
  m.id_salt = mix64(static_cast<uint64_t>(clock::unix_ms()));
  ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(m.streams_dir));
  ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(options.data_dir / "s3"));
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
        if (auto h = v.find("hwm"); h != v.end() && h->is_object())
          for (auto it2 = h->begin(); it2 != h->end(); ++it2) s.hwm[it2.key()] = Hwm{it2->get<uint64_t>(), 0};
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
  m.delivery = std::thread([raw] { raw->DeliveryLoop(); });
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
  constexpr std::string_view kPrefix = "Firehose_20150804.";
  if (target.substr(0, kPrefix.size()) != kPrefix)
    return api_error(400, "UnknownOperationException", fmt::format("Unknown operation: {}", target));
  std::string_view action = target.substr(kPrefix.size());
  if (action == "PutRecordBatch") return impl_->Put(body, true, batch_key);
  if (action == "PutRecord") return impl_->Put(body, false, batch_key);
  static const std::set<std::string_view> kKnown = {"CreateDeliveryStream", "DescribeDeliveryStream",
                                                     "ListDeliveryStreams", "DeleteDeliveryStream"};
  if (!kKnown.count(action)) {
    return api_error(400, "UnknownOperationException",
                     fmt::format("Operation {} is not supported by this service", action));
  }
  json req;
  try {
    req = body.empty() ? json::object() : json::parse(body);
  } catch (const std::exception&) {
    return serialization("The request body is not valid JSON");
  }
  if (!req.is_object()) return serialization("The request body must be a JSON object");
  try {
    if (action == "CreateDeliveryStream") return impl_->Create(req);
    if (action == "DescribeDeliveryStream") return impl_->Describe(req);
    if (action == "ListDeliveryStreams") return impl_->List(req);
    return impl_->Delete(req);
  } catch (const json::exception& e) {
    return serialization(fmt::format("A member has the wrong type: {}", e.what()));
  }
}

std::string FirehoseService::Metrics() const {
  const Impl& m = *impl_;
  std::string o;
  std::lock_guard lk(m.mu);
  int64_t now = clock::unix_ms();
  auto family = [&](const char* name, const char* type, const char* help, auto value) {
    o += fmt::format("# HELP orderlake_firehose_{} {}\n# TYPE orderlake_firehose_{} {}\n", name, help, name, type);
    for (auto& [n, s] : m.streams) o += fmt::format("orderlake_firehose_{}{{stream=\"{}\"}} {}\n", name, n, value(*s));
  };
  family("records_in_total", "counter", "Records accepted (durable in the WAL)", [](const Stream& s) { return s.records_in; });
  family("bytes_in_total", "counter", "Record bytes accepted", [](const Stream& s) { return s.bytes_in; });
  family("records_delivered_total", "counter", "Records written to the raw store",
         [](const Stream& s) { return s.records_delivered; });
  family("objects_delivered_total", "counter", "Objects written", [](const Stream& s) { return s.objects_delivered; });
  family("delivery_failures_total", "counter", "Records written to the error output after failed deliveries",
         [](const Stream& s) { return s.delivery_failures; });
  family("backpressure_rejections_total", "counter", "Puts refused with ServiceUnavailableException",
         [](const Stream& s) { return s.rejections; });
  family("buffered_records", "gauge", "Accepted records not yet delivered", [](const Stream& s) { return s.buffered_records; });
  family("buffered_bytes", "gauge", "Accepted bytes not yet delivered", [](const Stream& s) { return s.buffered_bytes; });
  family("buffer_age_seconds", "gauge", "Age of the oldest undelivered record", [now](const Stream& s) {
    return s.chunks.empty() ? 0.0 : static_cast<double>(now - s.chunks.front()->arrival_ms) / 1000.0;
  });
  o += fmt::format("# HELP orderlake_firehose_wal_bytes Bytes in WAL segments on disk\n"
                   "# TYPE orderlake_firehose_wal_bytes gauge\norderlake_firehose_wal_bytes {}\n",
                   m.wal->disk_bytes());
  o += fmt::format("# HELP orderlake_firehose_backpressure_rejections Puts refused for back-pressure, all streams\n"
                   "# TYPE orderlake_firehose_backpressure_rejections counter\n"
                   "orderlake_firehose_backpressure_rejections {}\n",
                   m.backpressure_rejections.load());
  return o;
}

}  // namespace orderlake::firehose
