// Base64 (RFC 4648, standard alphabet, padded), as the Firehose API and quarantine use it.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace orderlake {
std::string base64_encode(std::string_view data);
// The encoded size of n bytes.
size_t base64_size(size_t n);
// Encodes into `out` (base64_size(data.size()) bytes of room); returns the end.
char* base64_encode_to(std::string_view data, char* out);
// Appends the encoding to `out` (one resize, no per-character push).
void base64_append(std::string& out, std::string_view data);
// nullopt on characters outside the alphabet or bad padding.
std::optional<std::string> base64_decode(std::string_view text);
}  // namespace orderlake
