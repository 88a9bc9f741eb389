#include "store/events.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <ctime>

namespace orderlake::store {

std::string event_key(std::string_view stream, int64_t ms, uint64_t seq) {
  return fmt::format("{}{}/{:016}-{:020}.json", kEventsPrefix, stream, ms, seq);
}

std::string event_body(std::string_view bucket, std::string_view key, uint64_t size, int64_t ms) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  const std::string when = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                                       tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
  nlohmann::json rec = {{"eventVersion", "2.1"},
                        {"eventSource", "aws:s3"},
                        {"eventName", "ObjectCreated:Put"},
                        {"eventTime", when},
                        {"s3", {{"bucket", {{"name", bucket}}}, {"object", {{"key", key}, {"size", size}}}}}};
  return nlohmann::json{{"Records", nlohmann::json::array({rec})}}.dump();
}

std::optional<EventKey> parse_event_key(std::string_view key) {
  if (!key.starts_with(kEventsPrefix)) return std::nullopt;
  key.remove_prefix(kEventsPrefix.size());
  const size_t slash = key.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  const std::string_view name = key.substr(slash + 1);
  // 16 digits, '-', 20 digits, ".json"
  if (name.size() != 16 + 1 + 20 + 5 || name[16] != '-' || !name.ends_with(".json")) return std::nullopt;
  int64_t ms = 0;
  for (size_t i = 0; i < 37; ++i) {
    if (i == 16) continue;
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    if (i < 16) ms = ms * 10 + (name[i] - '0');
  }
  return EventKey{std::string(key.substr(0, slash)), ms};
}

Result<ObjectEvent> parse_event_body(std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  try {
    if (j.is_discarded()) return Status::Error("not JSON");
    for (const auto& r : j.at("Records")) {
      if (!r.value("eventName", "").starts_with("ObjectCreated:")) continue;
      const auto& o = r.at("s3").at("object");
      return ObjectEvent{o.at("key").get<std::string>(), o.value("size", uint64_t{0})};
    }
  } catch (const std::exception& e) {
    return Status::Errorf("not an S3 event notification: {}", e.what());
  }
  return Status::Error("no ObjectCreated record");
}

}  // namespace orderlake::store
