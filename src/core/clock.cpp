#include "core/clock.h"

#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <random>

namespace orderlake::clock {

int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string time_ordered_id() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::random_device rd;
  return fmt::format("{:04d}{:02d}{:02d}T{:02d}{:02d}{:02d}Z-{:06x}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, rd() & 0xffffff);
}

}  // namespace orderlake::clock
