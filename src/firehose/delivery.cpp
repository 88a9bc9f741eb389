// Delivery: cutting buffered chunks into objects by size and time, the durable intent
// before each object, writing it (local directory with fsync + rename, or the S3 store),
// retries with backoff and the error output after delivery_retry_seconds.
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "core/base64.h"
#include "core/clock.h"
#include "core/fs.h"
#include "core/log.h"
#include "firehose/service_impl.h"
#include "store/events.h"
#include "store/keys.h"

namespace orderlake::firehose {
namespace {

// Fault injection for the crash tests: ORDERLAKE_CRASH_AT=<point> ends the process there
// as abruptly as kill -9 would.
void crash_point(std::string_view point) {
  static const char* at = std::getenv("ORDERLAKE_CRASH_AT");
  if (at && point == at) ::_exit(86);
}

// Events dropped per retention pass at most (bounded work per delivery).
constexpr size_t kEventTrimPerPass = 1000;

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

// One gzip member of the pieces, compressed as they are (no copy of them joined first), so
// a delivery holds its buffered records and their compressed form, nothing more.
Result<std::string> gzip_bytes(const std::vector<std::string_view>& pieces) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return Status::Error("deflateInit2 failed");
  std::string out;
  char buf[64 * 1024];
  int rc = Z_OK;
  for (size_t i = 0; i <= pieces.size() && rc != Z_STREAM_ERROR; ++i) {
    const bool last = i == pieces.size();
    z.next_in = last ? nullptr : reinterpret_cast<Bytef*>(const_cast<char*>(pieces[i].data()));
    z.avail_in = last ? 0 : static_cast<uInt>(pieces[i].size());
    do {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof buf;
      rc = deflate(&z, last ? Z_FINISH : Z_NO_FLUSH);
      out.append(buf, sizeof buf - z.avail_out);
    } while (z.avail_out == 0 && rc != Z_STREAM_ERROR);
  }
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return Status::Error("gzip compression failed");
  return out;
}

}  // namespace

std::optional<FirehoseService::Impl::Batch> FirehoseService::Impl::NextBatch(int64_t now, int64_t& wait_ms) {
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

FirehoseService::Impl::Batch FirehoseService::Impl::Cut(const std::shared_ptr<Stream>& sp, uint64_t durable, int64_t now) {
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

Status FirehoseService::Impl::WriteObject(const Batch& b, std::string& key_out, uint64_t& size_out) {
  const Stream& s = *b.stream;
  const Chunk& first = *b.chunks.front();
  uint64_t seed = mix64(s.id ^ mix64(b.intent.first));
  std::string name = fmt::format("{}-{}-{}-{}", s.name, s.version, object_time(first.arrival_ms),
                                 uuid_for(s.id, s.version, b.intent.first));
  std::string body;
  std::string key;
  // The object's bytes: the buffered chunks themselves (at most the stream's SizeInMBs),
  // gzip-compressed from them when asked, else joined once.
  std::vector<std::string_view> pieces;
  if (!b.to_error) {
    key = s.prefix.Evaluate(first.arrival_ms, seed) + name;
    for (auto& c : b.chunks) pieces.push_back(c->data);
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
  if (b.to_error) pieces.push_back(body);
  if (s.gzip) {
    auto z = gzip_bytes(pieces);
    if (!z.ok()) return z.status();
    body = std::move(z).value();
  } else if (!b.to_error) {
    size_t total = 0;
    for (auto p : pieces) total += p.size();
    body.reserve(total);
    for (auto p : pieces) body += p;
  }
  if (!s.file_extension.empty()) key += s.file_extension;
  else if (s.gzip) key += ".gz";
  // Prefixes are checked when a stream is created; this also holds for streams defined
  // before that check existed (their deliveries fail and are retried, never written outside).
  ORDERLAKE_RETURN_IF_ERROR(store::CheckKey(key, "object key"));
  key_out = key;
  size_out = body.size();
  return PutToBucket(s.bucket, key, body);
}

Status FirehoseService::Impl::PutToBucket(const std::string& bucket, const std::string& key, std::string_view body) {
  if (opt.bucket_store == "s3") {
    auto st = BucketStore(bucket);
    if (!st.ok()) return st.status();
    return (*st)->Put(key, body);
  }
  // A fixed temporary name: a delivery redone after a crash replaces the one it left.
  auto root = store::ResolveRoot(stdfs::absolute(opt.data_dir / "s3" / bucket));
  if (!root.ok()) return root.status();
  auto path = store::ConfinedPath(*root, key);
  if (!path.ok()) return path.status();
  return fs::write_file_atomic(*path, body, fs::TempName::kFixed);
}

Result<store::ObjectStore*> FirehoseService::Impl::BucketStore(const std::string& bucket) {
  auto it = buckets.find(bucket);
  if (it == buckets.end()) {
    std::unique_ptr<store::ObjectStore> st;
    if (opt.bucket_store == "s3") {
      auto o = store::Open("s3://" + bucket);
      if (!o.ok()) return o.status();
      st = std::move(o).value();
    } else {
      st = store::OpenLocal((opt.data_dir / "s3" / bucket).string());
    }
    it = buckets.emplace(bucket, std::move(st)).first;
  }
  return it->second.get();
}

// The event's key is the object's (its first record's arrival time, the last sequence
// number): a delivery redone after a crash writes the same event again, and replaces the
// temporary a crashed local write left. Within a process the time never goes back.
Status FirehoseService::Impl::WriteEvent(const Stream& s, const std::string& key, uint64_t size, uint64_t seq,
                                         int64_t arrival_ms) {
  event_last_ms = std::max(event_last_ms, arrival_ms);
  const std::string ekey = store::event_key(s.name, event_last_ms, seq);
  return PutToBucket(s.bucket, ekey, store::event_body(s.bucket, key, size, clock::unix_ms()));
}

// Events nobody consumed within the retention (an etl deletes the ones it committed).
void FirehoseService::Impl::TrimEvents(const Stream& s, int64_t now) {
  int64_t& last = events_pass_ms[s.name];
  if (now - last < std::min<int64_t>(60'000, opt.event_retention_ms / 4)) return;
  last = now;
  auto st = BucketStore(s.bucket);
  if (!st.ok()) return;
  auto listed = (*st)->List(fmt::format("{}{}/", store::kEventsPrefix, s.name));
  if (!listed.ok()) {
    spdlog::warn("firehose: cannot list the event log of {}: {}", s.name, listed.status().message());
    return;
  }
  size_t dropped = 0;
  for (const auto& o : *listed) {  // oldest first
    auto k = store::parse_event_key(o.key);
    if (!k || k->ms >= now - opt.event_retention_ms || dropped >= kEventTrimPerPass) break;
    if (Status d = (*st)->Delete(o.key); !d.ok()) {
      spdlog::warn("firehose: cannot drop event {}: {}", o.key, d.message());
      break;
    }
    ++dropped;
  }
  if (dropped) spdlog::info("firehose: dropped {} events of {} older than the event retention", dropped, s.name);
}

void FirehoseService::Impl::DeliveryLoop() {
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

void FirehoseService::Impl::Deliver(Batch& b) {
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
  uint64_t size = 0;
  Status st = WriteObject(b, key, size);
  if (!st.ok()) {
    Fail(s, st.message());
    return;
  }
  // The event is durable before the WAL is released: a crash before this point redelivers
  // the same key (the intent), and one after it at worst writes the event twice.
  if (!b.to_error && opt.event_retention_ms > 0) {
    crash_point("before_delivery_event");
    st = WriteEvent(s, key, size, b.intent.last, b.chunks.front()->arrival_ms);
    if (!st.ok()) {
      Fail(s, "cannot record the delivery event: " + st.message());
      return;
    }
    crash_point("after_delivery_event");
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
  {
    std::lock_guard lk(mu);
    wal->Release([&](uint64_t id, uint64_t max_seq) {
      auto it = by_id.find(id);
      return it == by_id.end() || it->second->delivered_seq >= max_seq;
    });
  }
  if (!b.to_error && opt.event_retention_ms > 0) TrimEvents(s, clock::unix_ms());
}

void FirehoseService::Impl::Fail(Stream& s, const std::string& why) {
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

}  // namespace orderlake::firehose
