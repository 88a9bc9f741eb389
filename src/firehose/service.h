// The Kinesis Data Firehose delivery-stream service (API version 2015-08-04, JSON 1.1),
// without its HTTP transport (see firehose/server.h).
//
// Promises:
// - A PutRecord/PutRecordBatch is answered with success only after its records are in the
//   write-ahead log on disk (firehose/wal.h, group commit). A WAL entry holds one request:
//   type 1, stream id, first sequence number, arrival time (ms), record count, the optional
//   idempotency key (source id, end offset), the record lengths and the record bytes.
// - Delivery is exactly once across crashes. Each stream's records are numbered 1, 2, ...;
//   an object holds records [first, last] of one stream and is named deterministically from
//   (stream, first): the timestamp from the first record's arrival time, the "uuid" and any
//   !{firehose:random-string} from a hash of (stream id, version, first). Before writing an
//   object the delivery thread makes the intent (stream, first, last) durable in
//   <data-dir>/firehose/checkpoint.json; after the object (written under a "."-prefixed
//   temporary name, fsynced, renamed) it records delivered-up-to = last. On restart the WAL
//   is replayed from the checkpoint and a pending intent is redone with the same bounds, so
//   a crash between object and checkpoint rewrites the same name with the same bytes.
//   With bucket_store "s3" the object is PUT to the real bucket instead (atomic there, and
//   the same deterministic name makes a redone delivery overwrite it with the same bytes).
//   WAL segments whose records are all delivered are deleted.
// - Idempotent batches (for orderlake's agent): PutRecordBatch may carry the header
//   X-Orderlake-Batch: <source-id>;<start>;<end>  (source id up to 256 characters of UTF-8
//   without control characters, byte offsets, end exclusive). Such a batch is all-or-nothing; the highest end accepted per
//   (stream, source id) is kept durably (WAL, then checkpoint), and a batch whose end is at
//   or below it is answered with success (fresh RecordIds, FailedPutCount 0) without being
//   stored again.
// - Back-pressure: when the undelivered bytes (held in memory and in the WAL) would pass
//   max_buffer_bytes, puts fail with ServiceUnavailableException (HTTP 503; the SDKs retry).
// - Failed deliveries are retried with exponential backoff (1 s doubling to 60 s); after
//   delivery_retry_seconds the records are written under ErrorOutputPrefix (error output
//   type "delivery-failed") as JSON lines with attemptsMade, arrivalTimestamp,
//   lastErrorCode, lastErrorMessage and rawData (base64); if that fails too, retrying goes on.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "aws/json_service.h"
#include "core/metrics.h"
#include "core/status.h"

namespace orderlake::firehose {

// An object the delivery thread has just put in place in the raw store.
struct DeliveredObject {
  std::string_view stream, bucket, key;
  uint64_t records = 0, bytes = 0;
  int64_t oldest_arrival_ms = 0;  // when the service accepted the object's first record (Unix ms)
};

// The service's options, with their only defaults. Validate() names the `orderlake firehose`
// flag of each option; Open() refuses options that do not validate.
struct FirehoseOptions {
  std::filesystem::path data_dir = "./orderlake-data";  // --data-dir
  std::string region = "us-east-1";                     // --region (shown in ARNs)
  std::string account_id = "123456789012";              // shown in ARNs and errors (12 digits)
  uint64_t max_buffer_bytes = 256ull << 20;   // --max-buffer-mb: undelivered bytes before back-pressure
  uint64_t wal_segment_bytes = 64ull << 20;   // --wal-segment-mb: WAL segment rotation size
  double delivery_retry_seconds = 300;        // --delivery-retry-seconds: then records go to the error output
  // --buckets: where the streams' buckets live: empty or "local" = the directories
  // <data_dir>/s3/<bucket>/; "s3" = the real buckets of that name on S3
  // (store::s3_options_from_env: endpoint, region, credentials), written through the object
  // store (a PUT is atomic there).
  std::string bucket_store;
  // --event-retention: each delivered object is also recorded in the bucket's event log
  // (store/events.h, _orderlake/events/<stream>/, about 300 bytes per object) before its
  // WAL records are released; an etl reading the log deletes the events it committed, and
  // the firehose drops events older than this nobody consumed (a pass at most every minute,
  // 1000 deletions at most). 0 = no event log (the etl then finds objects by listing).
  int64_t event_retention_ms = int64_t{24} * 3600 * 1000;
  // Called on the delivery thread after each object is in place in the raw store (not for
  // error output): `orderlake up` wakes its etl with it. Must be quick and must not call
  // back into the service.
  std::function<void(const DeliveredObject&)> on_delivered;

  Status Validate() const;
};

using ApiResponse = aws::JsonResponse;

class FirehoseService {
 public:
  // Loads stream definitions and the checkpoint, replays the WAL, starts delivery.
  static Result<std::unique_ptr<FirehoseService>> Open(const FirehoseOptions& options);
  ~FirehoseService();
  FirehoseService(const FirehoseService&) = delete;
  FirehoseService& operator=(const FirehoseService&) = delete;

  // One API call: `target` is the X-Amz-Target header, `batch_key` the X-Orderlake-Batch one.
  ApiResponse Handle(std::string_view target, std::string_view body, std::string_view batch_key = {});
  // The Firehose API (target prefix Firehose_20150804, SigV4 service "firehose"), to mount
  // on an aws::JsonRouter.
  const aws::JsonService& api() const;
  // The counters, gauges and their HELP texts, per stream (label "stream").
  const metrics::Registry& metrics() const;
  // Prometheus text exposition of metrics().
  std::string Metrics() const;
  // Stops delivery (buffered records stay in the WAL for the next start).
  void Stop();

  struct Impl;

 private:
  explicit FirehoseService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// An AWS error document {"__type": type, "message": message}.
inline ApiResponse api_error(int status, std::string_view type, std::string_view message) {
  return aws::json_error(status, type, message);
}

}  // namespace orderlake::firehose
