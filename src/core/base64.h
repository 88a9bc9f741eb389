// Base64 (RFC 4648, standard alphabet, padded), as the Firehose API and quarantine use it.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace orderlake {
std::string base64_encode(std::string_view data);
// nullopt on characters outside the alphabet or bad padding.
std::optional<std::string> base64_decode(std::string_view text);
}  // namespace orderlake
