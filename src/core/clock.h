// Wall-clock time as the stages record it, and the ids of runs.
#pragma once
#include <cstdint>
#include <string>

namespace orderlake::clock {

// Milliseconds since the Unix epoch (system clock).
int64_t unix_ms();

// An id for a run that sorts by its start: UTC "yyyymmddThhmmssZ-" and 6 random hex digits
// ("20261125T104749Z-3d4d5d").
std::string time_ordered_id();

}  // namespace orderlake::clock
