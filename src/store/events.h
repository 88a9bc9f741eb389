// The firehose's event log (written by firehose/delivery.cpp, read by etl/notifications.h):
// one event per object delivered to a bucket (not for error output), in the shape of an S3 Event Notification
//   {"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put",
//     "eventTime":"2026-12-07T19:40:00.123Z","s3":{"bucket":{"name":B},"object":{"key":K,"size":N}}}]}
// stored in the destination bucket itself under
//   _orderlake/events/<stream>/<ms, 16 digits>-<last WAL sequence number, 20 digits>.json
// (Athena, Glue crawlers, Spark and the etl's data listing skip keys under '_' directories),
// ms being the arrival time of the object's first record. An event is durable before the WAL
// records of its object are released, so a crash after it redelivers the same object and
// writes its event again (under the same key, unless the clock went back meanwhile):
// consumers de-duplicate by object key. Keys of one stream sort in delivery order (one
// delivery thread per service; the time never goes back within a process, and the sequence
// number breaks ties).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace orderlake::store {

inline constexpr std::string_view kEventsPrefix = "_orderlake/events/";

// "_orderlake/events/<stream>/<ms>-<seq>.json".
std::string event_key(std::string_view stream, int64_t ms, uint64_t seq);
// The event document of an object delivered at `ms`.
std::string event_body(std::string_view bucket, std::string_view key, uint64_t size, int64_t ms);

struct EventKey {
  std::string stream;
  int64_t ms = 0;
};
// The stream and time of an event key, nullopt when `key` is not one.
std::optional<EventKey> parse_event_key(std::string_view key);

struct ObjectEvent {
  std::string key;  // the object's key in its bucket
  uint64_t size = 0;
};
// The object an event document names (its first ObjectCreated record); an error for a
// document that is not one.
Result<ObjectEvent> parse_event_body(std::string_view body);

}  // namespace orderlake::store
