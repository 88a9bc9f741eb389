#include "core/buffer.h"

#include <emmintrin.h>

namespace orderlake {

size_t count_newlines(const char* data, size_t n) {
  size_t count = 0, i = 0;
  const __m128i nl = _mm_set1_epi8('\n');
  const __m128i zero = _mm_setzero_si128();
  while (i + 16 <= n) {
    // Per-byte counters (each match adds 1 by subtracting -1), summed every 255 steps.
    __m128i acc = zero;
    for (int k = 0; k < 255 && i + 16 <= n; ++k, i += 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + i));
      acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(v, nl));
    }
    const __m128i sums = _mm_sad_epu8(acc, zero);
    count += static_cast<size_t>(_mm_cvtsi128_si64(sums)) + static_cast<size_t>(_mm_extract_epi16(sums, 4));
  }
  for (; i < n; ++i) count += data[i] == '\n';
  return count;
}

}  // namespace orderlake
