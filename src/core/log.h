// Logging to stderr through spdlog; one logger for the whole program.
#pragma once
#include <spdlog/spdlog.h>

namespace orderlake {
// Sets up stderr logging at the given level ("trace".."off"); idempotent.
void init_logging(const std::string& level = "info");
}  // namespace orderlake
