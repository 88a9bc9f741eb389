// Data files from data/ compiled into the binary (cmake/embed.cmake).
#pragma once
#include <optional>
#include <string_view>

namespace orderlake {
// The contents of data/<name>, or nullopt if no such file was embedded.
std::optional<std::string_view> embedded_file(std::string_view name);
}  // namespace orderlake
