// Notification discovery (etl/notifications.h): Job::ReadEvents and Job::TrimEvents.
#include "etl/notifications.h"

#include "core/log.h"
#include "etl/job_internal.h"
#include "store/events.h"

namespace orderlake::etl::internal {

// The objects named by the events after the cursor, in event order; `events_cursor_` gets the
// cursor as it will be once they are committed. *has_log: the input holds an event log (or
// the etl has read one before).
Result<std::vector<store::ObjectInfo>> Job::ReadEvents(bool* has_log) {
  std::vector<store::ObjectInfo> out;
  auto listed = input_store_->List(store::kEventsPrefix);
  if (!listed.ok())
    return Status::Errorf("cannot list the event log of input {}: {}", opt_.input, listed.status().message());
  *has_log = !listed->empty() || !disc_.events.empty();
  events_cursor_ = disc_.events;
  std::set<std::string> named;
  for (const auto& o : *listed) {
    auto k = store::parse_event_key(o.key);
    if (!k) continue;
    auto cur = disc_.events.find(k->stream);
    if (cur != disc_.events.end() && o.key <= cur->second) {
      events_taken_.push_back(o.key);  // committed by an earlier run, not yet trimmed
      continue;
    }
    if (sum_.events_read >= kEventsPerRun) break;  // the rest in the next run, in order
    auto body = input_store_->Get(o.key);
    if (!body.ok())
      return Status::Errorf("cannot read event {} of input {}: {}", o.key, opt_.input, body.status().message());
    sum_.events_read++;
    events_cursor_[k->stream] = o.key;
    events_new_.push_back(o.key);
    auto ev = store::parse_event_body(*body);
    if (!ev.ok()) {
      sum_.warnings.push_back(fmt::format("event {} is not readable ({}); skipped", o.key, ev.status().message()));
      continue;
    }
    if (named.insert(ev->key).second) out.push_back(store::ObjectInfo{ev->key, ev->size, 0, ""});
  }
  return out;
}

std::optional<json> Job::EventsToCommit() const {
  if (!events_mode_ || events_cursor_ == disc_.events) return std::nullopt;
  for (const auto& d : done_)
    if (!d) return std::nullopt;  // an object left for a later run: its event is read again
  return json(events_cursor_);
}

// Deletes the events committed by earlier runs and, once this run's cursor is committed,
// the events it read (at most kEventTrimPerRun).
void Job::TrimEvents() {
  if (events_taken_.empty() && (!events_committed_ || events_new_.empty())) return;
  crash_point("before_event_trim");
  size_t n = 0;
  for (const auto* keys : {&events_taken_, &events_new_}) {
    if (keys == &events_new_ && !events_committed_) break;
    for (const auto& key : *keys) {
      if (n >= kEventTrimPerRun) return;
      if (Status st = input_store_->Delete(key); !st.ok()) {
        spdlog::warn("etl: cannot delete event {}: {}", key, st.message());
        return;
      }
      if (++n == 1) crash_point("mid_event_trim");
    }
  }
}

}  // namespace orderlake::etl::internal
