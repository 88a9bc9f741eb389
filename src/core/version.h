#pragma once
#include <string_view>

namespace orderlake {
inline constexpr std::string_view kVersion = "0.1.0";
inline constexpr std::string_view kCreatedBy = "orderlake version 0.1.0";
}  // namespace orderlake
