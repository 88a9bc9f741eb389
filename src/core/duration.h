// Durations on the command line (retention settings and the like): a whole number and a
// unit, `90s`, `10m`, `24h`, `30d` (also `500ms`, `2w`); `0` alone means zero. Errors name
// the flag and say what is expected. FormatDuration writes the largest unit (up to days)
// that divides the value exactly: 24h prints as `1d`, 90s as `90s`.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "core/status.h"

namespace orderlake {

// Milliseconds; at most 100 years (anything longer is refused as a typo).
Result<int64_t> ParseDuration(std::string_view text, std::string_view flag);
std::string FormatDuration(int64_t ms);

// One duration flag as the CLI holds it: its text, its name, where its value goes.
struct DurationFlag {
  std::string_view text, flag;
  int64_t* out;
};
// Parses every flag in order into its `out`; the first bad one's error (naming it) is returned.
Status ParseDurationFlags(std::initializer_list<DurationFlag> flags);

constexpr int64_t kMaxDurationMs = int64_t{100} * 365 * 24 * 3600 * 1000;

}  // namespace orderlake
