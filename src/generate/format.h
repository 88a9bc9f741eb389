// Hand-written formatting for the generator's hot path: integers, prices in cents,
// dates. Each function writes at p and returns the position after the last byte written;
// the caller guarantees room (kMaxLineBytes per line). No locale, no allocation.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace orderlake::generate {

namespace detail {
inline constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";
}

// Decimal digits of v, no sign, no padding.
inline char* format_uint(char* p, uint64_t v) {
  char tmp[20];
  char* end = tmp + sizeof tmp;
  char* q = end;
  while (v >= 100) {
    const unsigned i = static_cast<unsigned>(v % 100) * 2;
    v /= 100;
    q -= 2;
    std::memcpy(q, detail::kDigitPairs + i, 2);
  }
  if (v >= 10) {
    q -= 2;
    std::memcpy(q, detail::kDigitPairs + v * 2, 2);
  } else {
    *--q = static_cast<char>('0' + v);
  }
  const size_t n = static_cast<size_t>(end - q);
  std::memcpy(p, q, n);
  return p + n;
}

inline char* format_int(char* p, int64_t v) {
  if (v < 0) {
    *p++ = '-';
    return format_uint(p, static_cast<uint64_t>(0) - static_cast<uint64_t>(v));
  }
  return format_uint(p, static_cast<uint64_t>(v));
}

// Two digits, zero padded (0..99).
inline char* format_2(char* p, unsigned v) {
  std::memcpy(p, detail::kDigitPairs + (v % 100) * 2, 2);
  return p + 2;
}

// A price in cents as a decimal with exactly two places: 255 -> "2.55", -5 -> "-0.05".
inline char* format_cents(char* p, int64_t cents) {
  uint64_t a;
  if (cents < 0) {
    *p++ = '-';
    a = static_cast<uint64_t>(0) - static_cast<uint64_t>(cents);
  } else {
    a = static_cast<uint64_t>(cents);
  }
  p = format_uint(p, a / 100);
  *p++ = '.';
  return format_2(p, static_cast<unsigned>(a % 100));
}

inline std::string cents_to_string(int64_t cents) {
  char buf[32];
  return std::string(buf, format_cents(buf, cents));
}

// "MM/dd/yyyy HH:mm" (16 bytes), the InvoiceDate format of SPEC.md §1.
inline char* format_invoice_date(char* p, int year, unsigned month, unsigned day, unsigned hour,
                                 unsigned minute) {
  p = format_2(p, month);
  *p++ = '/';
  p = format_2(p, day);
  *p++ = '/';
  p = format_2(p, static_cast<unsigned>(year / 100));
  p = format_2(p, static_cast<unsigned>(year % 100));
  *p++ = ' ';
  p = format_2(p, hour);
  *p++ = ':';
  return format_2(p, minute);
}

}  // namespace orderlake::generate
