// Notification discovery: the etl reads which objects were delivered from the input's event
// log (store/events.h, written by `orderlake firehose` before it releases an object's WAL
// records) instead of listing the raw store. A run lists _orderlake/events/ (which holds only
// what the etl has not yet trimmed), reads the events after its cursor (per stream, the last
// event key taken, in DiscoveryState::events) and takes the objects they name that the
// bookmark's window does not already hold (a repeated event is harmless). The cursor is
// committed with the run (commitInfo "events", and bookmark.json), so a crash before the
// commit reads the same events again and one after it reads none of them twice; events at or
// before the committed cursor are then deleted (at most kEventTrimPerRun per run). The
// periodic full listing (--backfill-interval) still runs, for objects written by others.
#pragma once
#include <cstddef>

namespace orderlake::etl::internal {

// Events read per run at most (a backlog is taken over several runs, in order).
constexpr size_t kEventsPerRun = 20000;
// Consumed events deleted per run at most.
constexpr size_t kEventTrimPerRun = 2000;

}  // namespace orderlake::etl::internal
