// The Firehose API's operations: CreateDeliveryStream, DescribeDeliveryStream,
// ListDeliveryStreams and DeleteDeliveryStream (documents through nlohmann::json), and
// PutRecord / PutRecordBatch (simdjson, records decoded straight into one buffer, durable in
// the WAL before the answer). Dispatch, error shapes and signatures are aws/json_service.h's.
#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <regex>
#include <set>

#include "core/clock.h"
#include "core/log.h"
#include "firehose/base64_fast.h"
#include "firehose/service_impl.h"
#include "store/keys.h"

namespace orderlake::firehose {
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


const json* member(const json& j, const char* k) {
  auto it = j.find(k);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}
}  // namespace

// size: CreateDeliveryStream is ~120 lines on purpose: it is the API's list of rules, checked in
// the order the AWS documentation gives them, each with its own error message; split up it
// would only scatter that list.
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
  // AWS's limits, checked first: std::regex recurses per character, and a long ARN would
  // overflow the stack.
  if (role.size() > 512 || bucket.size() > 2048)
    return invalid("RoleARN is at most 512 characters and BucketARN at most 2048");
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
    // Keys stay inside their bucket: no '..' or '.' segment, no leading '/', no control
    // character, whatever the expressions evaluate to ('quoted' pattern text is constant).
    if (Status st = store::CheckPrefix(probe, t == &*pt ? "Prefix" : "ErrorOutputPrefix"); !st.ok())
      return invalid(st.message());
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

// "<source-id>;<start>;<end>": a source id of 1-256 characters, decimal offsets, start <= end.
// The id is kept in the checkpoint's JSON, so it must be UTF-8, and has no control character.
bool parse_batch_key(std::string_view key, std::string& source, uint64_t& end) {
  const size_t b = key.rfind(';');
  const size_t a = b == std::string_view::npos || b == 0 ? std::string_view::npos : key.rfind(';', b - 1);
  if (a == std::string_view::npos || a < 1 || a > 256) return false;
  if (!simdjson::validate_utf8(key.data(), a) ||
      std::any_of(key.begin(), key.begin() + a, [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
    return false;
  auto num = [](std::string_view t, uint64_t& v) {
    if (t.empty() || t.size() > 19) return false;
    v = 0;
    for (char c : t) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    return true;
  };
  uint64_t start = 0;
  if (!num(key.substr(a + 1, b - a - 1), start) || !num(key.substr(b + 1), end) || start > end) return false;
  source = std::string(key.substr(0, a));
  return true;
}

// The answer to an accepted put. RecordId: the stream id, a per-request value and the
// record's sequence number (first_seq + i), in hex.
ApiResponse put_answer(bool batch, std::string_view id_prefix, uint64_t first_seq, size_t count) {
  auto record_id = [&](std::string& o, uint64_t i) {
    static constexpr char kHex[] = "0123456789abcdef";
    char h[16];
    uint64_t v = first_seq + i;
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
}  // namespace

ApiResponse FirehoseService::Impl::Put(std::string_view body, bool batch, std::string_view batch_key) {
  ParsedPut p;
  if (auto err = parse_put(body, batch, p)) return *err;
  std::string source;
  uint64_t end = 0;
  if (!batch_key.empty() && (!batch || !parse_batch_key(batch_key, source, end)))
    return invalid("X-Orderlake-Batch must be '<source-id>;<start>;<end>' (source id of 1-256 characters, "
                   "UTF-8 without control characters; start <= end) and is accepted on PutRecordBatch only");
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
      if (!source.empty()) s.hwm[source] = Hwm{end, lsn, arrival};
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
  return put_answer(batch, id_prefix, duplicate ? 0 : first_seq, count);
}

void FirehoseService::Impl::RegisterApi() {
  // X-Orderlake-Batch decides whether records are stored (a batch at or below its source's
  // high mark is answered without storing): on a signed request it must be signed too.
  const auto put = [this](const aws::JsonCall& c, bool batch) {
    const std::string_view key = c.header("X-Orderlake-Batch");
    if (!key.empty() && !c.access_key.empty() && !c.header_signed("x-orderlake-batch"))
      return api_error(403, "InvalidSignatureException",
                       "X-Orderlake-Batch must be one of the request's SignedHeaders (SigV4)");
    return Put(c.body, batch, key);
  };
  api.AddRaw("PutRecordBatch", [put](const aws::JsonCall& c) { return put(c, true); });
  api.AddRaw("PutRecord", [put](const aws::JsonCall& c) { return put(c, false); });
  api.Add("CreateDeliveryStream", [this](const json& r, const aws::JsonCall&) { return Create(r); });
  api.Add("DescribeDeliveryStream", [this](const json& r, const aws::JsonCall&) { return Describe(r); });
  api.Add("ListDeliveryStreams", [this](const json& r, const aws::JsonCall&) { return List(r); });
  api.Add("DeleteDeliveryStream", [this](const json& r, const aws::JsonCall&) { return Delete(r); });
}

}  // namespace orderlake::firehose
