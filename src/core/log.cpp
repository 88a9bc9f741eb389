#include "core/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace orderlake {
void init_logging(const std::string& level) {
  static bool done = false;
  if (!done) {
    auto logger = spdlog::stderr_color_mt("orderlake");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
    spdlog::set_default_logger(logger);
    done = true;
  }
  spdlog::set_level(spdlog::level::from_str(level));
}
}  // namespace orderlake
