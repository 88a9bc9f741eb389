// Internal to the firehose stage: the service's state (delivery streams, their buffered
// chunks, idempotency marks and counters) shared by the API handlers (firehose/api.cpp),
// delivery (firehose/delivery.cpp) and start-up, recovery and metrics (firehose/service.cpp).
// Everything under Impl::mu unless said otherwise.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "aws/json_service.h"
#include "core/fs.h"
#include "core/metrics.h"
#include "firehose/prefix.h"
#include "firehose/service.h"
#include "firehose/wal.h"
#include "store/object_store.h"

namespace orderlake::firehose {
namespace stdfs = std::filesystem;
using json = nlohmann::json;

// WAL entry encoding (little-endian host order, see service.h).
inline void put_u64(std::string& o, uint64_t v) { o.append(reinterpret_cast<const char*>(&v), 8); }
inline void put_u32(std::string& o, uint32_t v) { o.append(reinterpret_cast<const char*>(&v), 4); }
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

// An idempotency mark: the highest batch end a source (an agent's file) sent. Marks not used
// for kMarkTtlMs are dropped when the checkpoint is written (a rotated file is never sent
// again), so the checkpoint holds the sources of the last week, not of the whole history.
struct Hwm {
  uint64_t end = 0;
  uint64_t lsn = 0;
  int64_t used_ms = 0;  // the last put that named the source (Unix ms)
};
inline constexpr int64_t kMarkTtlMs = int64_t{7} * 86400 * 1000;

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

struct FirehoseService::Impl {
  FirehoseOptions opt;
  // <data-dir>/firehose/lock, held while the service lives: one firehose per WAL.
  std::optional<fs::FileLock> lock;
  std::map<std::string, std::unique_ptr<store::ObjectStore>> buckets;  // BucketStore (delivery thread)
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
  metrics::Registry registry;
  aws::JsonService api{"Firehose_20150804", "firehose"};

  // ---- definitions, recovery, checkpoint (service.cpp) ----
  Status LoadDefinition(const json& d);
  // Fills the derived fields from a stored ExtendedS3DestinationDescription.
  static Status ApplyDestination(Stream& s, const json& d);
  Status SaveDefinition(const Stream& s);
  std::string Arn(const std::string& name) const;
  Wal::EntryInfo Replay(std::string_view p);
  json CheckpointJson() const;  // under mu
  Status SaveCheckpoint();
  void RegisterMetrics();

  // ---- delivery (delivery.cpp) ----
  struct Batch {
    std::shared_ptr<Stream> stream;
    Intent intent;
    bool new_intent = false;
    std::vector<std::shared_ptr<Chunk>> chunks;
    bool to_error = false;
    bool finish_delete = false;
  };

  // Picks the next due stream and cuts its batch (under mu). Returns the wait time otherwise.
  std::optional<Batch> NextBatch(int64_t now, int64_t& wait_ms);
  Batch Cut(const std::shared_ptr<Stream>& sp, uint64_t durable, int64_t now);
  Status WriteObject(const Batch& b, std::string& key_out, uint64_t& size_out);
  // The store of a destination bucket (S3, or <data_dir>/s3/<bucket>), kept in `buckets`.
  Result<store::ObjectStore*> BucketStore(const std::string& bucket);
  // `body` at `key` of the bucket (S3, or atomically under <data>/s3/<bucket> with a fixed
  // temporary name), for objects and events alike.
  Status PutToBucket(const std::string& bucket, const std::string& key, std::string_view body);
  // The event log (store/events.h): the event of a delivered object, durable when it
  // returns; and a bounded pass dropping the stream's events older than event_retention_ms.
  Status WriteEvent(const Stream& s, const std::string& key, uint64_t size, uint64_t seq, int64_t arrival_ms);
  void TrimEvents(const Stream& s, int64_t now);
  int64_t event_last_ms = 0;                      // event times never go back (delivery thread)
  std::map<std::string, int64_t> events_pass_ms;  // per stream: the last retention pass
  void DeliveryLoop();
  void Deliver(Batch& b);
  void Fail(Stream& s, const std::string& why);

  // ---- API (api.cpp) ----
  void RegisterApi();  // fills `api`
  ApiResponse Create(const json& req);
  ApiResponse Describe(const json& req);
  ApiResponse List(const json& req);
  ApiResponse Delete(const json& req);
  ApiResponse Put(std::string_view body, bool batch, std::string_view batch_key);
};

}  // namespace orderlake::firehose
