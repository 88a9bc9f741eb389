#include "firehose/base64_fast.h"

#include <array>
#include <cstdint>

namespace orderlake::firehose {
namespace {
constexpr std::array<uint8_t, 256> make_table() {
  std::array<uint8_t, 256> t{};
  for (auto& v : t) v = 0xff;
  const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(a[i])] = static_cast<uint8_t>(i);
  return t;
}
constexpr std::array<uint8_t, 256> kTable = make_table();
}  // namespace

bool base64_decode_append(std::string_view text, std::string& out) {
  size_t n = text.size();
  if (n % 4 != 0) return false;
  if (n == 0) return true;
  size_t pad = text[n - 1] == '=' ? (text[n - 2] == '=' ? 2 : 1) : 0;
  size_t old = out.size();
  out.resize(old + n / 4 * 3 - pad);
  auto* dst = reinterpret_cast<unsigned char*>(out.data() + old);
  const auto* src = reinterpret_cast<const unsigned char*>(text.data());
  size_t full = pad ? n - 4 : n;
  uint32_t bad = 0;
  for (size_t i = 0; i < full; i += 4) {
    uint32_t a = kTable[src[i]], b = kTable[src[i + 1]], c = kTable[src[i + 2]], d = kTable[src[i + 3]];
    bad |= a | b | c | d;
    uint32_t w = a << 18 | b << 12 | c << 6 | d;
    dst[0] = static_cast<unsigned char>(w >> 16);
    dst[1] = static_cast<unsigned char>(w >> 8);
    dst[2] = static_cast<unsigned char>(w);
    dst += 3;
  }
  if (pad) {
    const unsigned char* s = src + full;
    uint32_t a = kTable[s[0]], b = kTable[s[1]];
    uint32_t c = pad == 2 ? 0 : kTable[s[2]];
    bad |= a | b | c;
    uint32_t w = a << 18 | b << 12 | c << 6;
    *dst++ = static_cast<unsigned char>(w >> 16);
    if (pad == 1) *dst++ = static_cast<unsigned char>(w >> 8);
  }
  if (bad & 0x80) {
    out.resize(old);
    return false;
  }
  return true;
}
}  // namespace orderlake::firehose
