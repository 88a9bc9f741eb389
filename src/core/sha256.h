// SHA-256 for short messages on the hot path (OrderID), using the CPU's SHA extensions
// (SHA-NI) when present and a portable implementation otherwise; both give the digest of
// FIPS 180-4 and are checked against OpenSSL in tests/core/sha256_test.cpp.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace orderlake {

// The 32-byte digest of data[0..len).
void sha256(const void* data, size_t len, uint8_t out[32]);

// The digest as 64 lowercase hex characters written to out (not NUL-terminated).
void sha256_hex(std::string_view data, char out[64]);
std::string sha256_hex(std::string_view data);

// True when the SHA-NI code path is in use on this CPU.
bool sha256_uses_cpu_extensions();

namespace detail {
// The portable path, whatever the CPU (for tests of the fallback).
void sha256_portable(const void* data, size_t len, uint8_t out[32]);
}  // namespace detail

}  // namespace orderlake
