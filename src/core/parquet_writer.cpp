#include "core/parquet_writer.h"

#include <snappy.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>

#include "core/thrift_compact.h"
#include "core/version.h"

namespace orderlake::parquet {

static_assert(std::endian::native == std::endian::little,
              "PLAIN encoding is written with memcpy: little-endian hosts only");

namespace {

using thrift::CompactWriter;
using thrift::CType;

// Enum values of parquet.thrift.
enum PhysicalType : int32_t { kPtInt32 = 1, kPtInt64 = 2, kPtDouble = 5, kPtByteArray = 6 };
enum ConvertedType : int32_t { kCtUtf8 = 0, kCtDate = 6 };
enum Encoding : int32_t { kEncPlain = 0, kEncRle = 3, kEncRleDictionary = 8 };
enum PageType : int32_t { kPageData = 0, kPageDictionary = 2 };
enum RepetitionType : int32_t { kRequired = 0 };

constexpr std::string_view kMagic = "PAR1";
// Statistics longer than this are left out (as Arrow does), keeping the footer small.
constexpr size_t kMaxStatBytes = 4096;
// Longest single string value accepted (its page must fit a Thrift i32 size).
constexpr uint32_t kMaxValueBytes = uint32_t{1} << 30;
constexpr size_t kMaxPageRows = size_t{1} << 30;

PhysicalType PhysicalOf(Type t) {
  switch (t) {
    case Type::kInt32:
    case Type::kDate:
      return kPtInt32;
    case Type::kInt64:
      return kPtInt64;
    case Type::kDouble:
      return kPtDouble;
    case Type::kString:
      return kPtByteArray;
  }
  return kPtInt32;
}

int32_t CodecId(Codec c) { return c == Codec::kSnappy ? 1 : 0; }

// A growable byte buffer that, unlike std::string, does not zero what it hands out.
class Scratch {
 public:
  char* Reserve(size_t n) {
    if (n > cap_) {
      size_t cap = std::max(n, cap_ * 2);
      buf_ = std::make_unique_for_overwrite<char[]>(cap);
      cap_ = cap;
    }
    return buf_.get();
  }

 private:
  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0;
};

inline uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

inline uint32_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

inline uint64_t Mul128Fold(uint64_t a, uint64_t b) {
  const __uint128_t r = static_cast<__uint128_t>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

// A fast non-cryptographic hash for dictionary lookups. Short tails are read with
// overlapping fixed-size loads (no variable-length memcpy).
inline uint64_t HashBytes(const char* p, size_t n) {
  constexpr uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull,
                     k2 = 0x8ebc6af09c88c6e3ull;
  uint64_t h = k0 ^ (n * k1);
  if (n >= 8) {
    const char* const last = p + n - 8;
    while (p + 16 <= last + 8) {
      h = Mul128Fold(Load64(p) ^ k1, Load64(p + 8) ^ h);
      p += 16;
    }
    // 0..15 bytes left: the last 8 (and the 8 before them) overlap what was hashed.
    if (p < last) h = Mul128Fold(Load64(p) ^ k2, h ^ k1);
    h = Mul128Fold(Load64(last) ^ k1, h ^ k2);
  } else if (n >= 4) {
    h = Mul128Fold((uint64_t{Load32(p)} << 32 | Load32(p + n - 4)) ^ k1, h ^ k2);
  } else if (n > 0) {
    const uint64_t a = static_cast<unsigned char>(p[0]);
    const uint64_t b = static_cast<unsigned char>(p[n / 2]);
    const uint64_t c = static_cast<unsigned char>(p[n - 1]);
    h = Mul128Fold((a << 16 | b << 8 | c) ^ k1, h ^ k2);
  }
  return Mul128Fold(h ^ k0, k2);
}

// Equality of two byte ranges of the same length n, inlined for short strings.
inline bool BytesEqual(const char* a, const char* b, size_t n) {
  if (n >= 8) {
    size_t i = 0;
    for (; i + 8 < n; i += 8) {
      if (Load64(a + i) != Load64(b + i)) return false;
    }
    return Load64(a + n - 8) == Load64(b + n - 8);
  }
  if (n >= 4) return Load32(a) == Load32(b) && Load32(a + n - 4) == Load32(b + n - 4);
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

inline char* PutVarint(uint64_t v, char* out) {
  while (v >= 0x80) {
    *out++ = static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  *out++ = static_cast<char>(v);
  return out;
}

// Bit-packs `count` values (LSB first) as one bit-packed run; the last group of 8 is padded
// with zeros, so only the final run of a page may have count % 8 != 0.
char* PutBitPackedRun(const uint32_t* v, size_t count, int bw, char* out) {
  if (count == 0) return out;
  const size_t groups = (count + 7) / 8;
  out = PutVarint((uint64_t{groups} << 1) | 1, out);
  uint64_t acc = 0;
  int bits = 0;
  const size_t padded = groups * 8;
  for (size_t i = 0; i < padded; ++i) {
    const uint64_t x = i < count ? v[i] : 0;
    acc |= x << bits;
    bits += bw;
    while (bits >= 8) {
      *out++ = static_cast<char>(acc);
      acc >>= 8;
      bits -= 8;
    }
  }
  return out;
}

char* PutRleRun(uint32_t value, size_t count, int bw, char* out) {
  out = PutVarint(uint64_t{count} << 1, out);
  const int bytes = (bw + 7) / 8;
  for (int i = 0; i < bytes; ++i) *out++ = static_cast<char>(value >> (8 * i));
  return out;
}

// Upper bound of EncodeHybrid's output for n values.
size_t HybridBound(size_t n, int bw) { return 16 + (n / 8 + 2) * (static_cast<size_t>(bw) + 16); }

// RLE/bit-packed hybrid encoding (without length prefix) of v[0..n): runs of >= 8 equal
// values become RLE runs, everything else bit-packed runs.
char* EncodeHybrid(const uint32_t* v, size_t n, int bw, char* out) {
  size_t lit_start = 0;
  size_t i = 0;
  while (i < n) {
    const uint32_t x = v[i];
    size_t j = i + 1;
    while (j < n && v[j] == x) ++j;
    const size_t run = j - i;
    if (run >= 8) {
      const size_t pending = i - lit_start;
      const size_t borrow = (8 - pending % 8) % 8;  // completes the last literal group
      if (run - borrow >= 8) {
        out = PutBitPackedRun(v + lit_start, pending + borrow, bw, out);
        out = PutRleRun(x, run - borrow, bw, out);
        lit_start = j;
      }
    }
    i = j;
  }
  return PutBitPackedRun(v + lit_start, n - lit_start, bw, out);
}

struct ChunkMeta {
  int64_t num_values = 0;
  int64_t total_uncompressed = 0;
  int64_t total_compressed = 0;
  int64_t data_page_offset = -1;
  int64_t dictionary_page_offset = -1;
  int32_t num_data_pages = 0;
  bool dictionary = false;
  bool has_min_max = false;
  std::string min, max;  // PLAIN-encoded bounds
  int64_t start() const {
    return dictionary_page_offset >= 0 ? dictionary_page_offset : data_page_offset;
  }
};

struct RowGroupMeta {
  int64_t num_rows = 0;
  std::vector<ChunkMeta> columns;
};

template <typename T>
std::string PlainBytes(T v) {
  std::string s(sizeof(T), '\0');
  std::memcpy(s.data(), &v, sizeof(T));
  return s;
}

template <typename T>
void IntMinMax(std::span<const T> v, ChunkMeta* m) {
  if (v.empty()) return;
  T mn = v[0], mx = v[0];
  for (T x : v) {
    mn = std::min(mn, x);
    mx = std::max(mx, x);
  }
  m->min = PlainBytes(mn);
  m->max = PlainBytes(mx);
  m->has_min_max = true;
}

void DoubleMinMax(std::span<const double> v, ChunkMeta* m) {
  double mn = std::numeric_limits<double>::infinity();
  double mx = -mn;
  for (double x : v) {  // NaN compares false both ways and is skipped
    if (x < mn) mn = x;
    if (x > mx) mx = x;
  }
  if (mn > mx) return;  // no values or all NaN: no bounds
  // Parquet: a zero minimum is written as -0.0, a zero maximum as +0.0.
  if (mn == 0) mn = -0.0;
  if (mx == 0) mx = 0.0;
  m->min = PlainBytes(mn);
  m->max = PlainBytes(mx);
  m->has_min_max = true;
}

void SetStringMinMax(std::string_view mn, std::string_view mx, ChunkMeta* m) {
  if (mn.size() > kMaxStatBytes || mx.size() > kMaxStatBytes) return;
  m->min.assign(mn);
  m->max.assign(mx);
  m->has_min_max = true;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Sinks

FdSink::FdSink(int fd, size_t buffer_size)
    : fd_(fd),
      buf_(std::make_unique_for_overwrite<char[]>(std::max<size_t>(buffer_size, 4096))),
      buf_cap_(std::max<size_t>(buffer_size, 4096)) {}

FdSink::~FdSink() { (void)Flush(); }

Status FdSink::WriteAll(const char* p, size_t n) {
  return WriteAll2(nullptr, 0, p, n);
}

// Writes a then b (either may be empty) with as few syscalls as possible.
Status FdSink::WriteAll2(const char* a, size_t an, const char* b, size_t bn) {
  while (an + bn > 0) {
    iovec iov[2];
    int cnt = 0;
    if (an > 0) iov[cnt++] = {const_cast<char*>(a), an};
    if (bn > 0) iov[cnt++] = {const_cast<char*>(b), bn};
    const ssize_t w = ::writev(fd_, iov, cnt);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::Errorf("parquet: write to fd {} failed after {} bytes: {}", fd_, written_,
                            std::strerror(errno));
    }
    auto done = static_cast<size_t>(w);
    written_ += done;
    const size_t from_a = std::min(done, an);
    a += from_a;
    an -= from_a;
    done -= from_a;
    b += done;
    bn -= done;
  }
  return Status::OK();
}

Status FdSink::Append(std::string_view data) {
  if (data.size() >= buf_cap_ / 4) {
    // Large: one writev of what is buffered plus the data, no copy.
    const size_t used = buf_used_;
    buf_used_ = 0;
    return WriteAll2(buf_.get(), used, data.data(), data.size());
  }
  if (data.size() <= buf_cap_ - buf_used_) {
    std::memcpy(buf_.get() + buf_used_, data.data(), data.size());
    buf_used_ += data.size();
    return Status::OK();
  }
  ORDERLAKE_RETURN_IF_ERROR(Flush());
  std::memcpy(buf_.get(), data.data(), data.size());
  buf_used_ = data.size();
  return Status::OK();
}

Status FdSink::Flush() {
  if (buf_used_ == 0) return Status::OK();
  const size_t n = buf_used_;
  buf_used_ = 0;  // written_ counts what reached the fd
  return WriteAll(buf_.get(), n);
}

// ---------------------------------------------------------------------------------------
// Column views

std::string_view TypeName(Type t) {
  switch (t) {
    case Type::kInt32:
      return "INT32";
    case Type::kInt64:
      return "INT64";
    case Type::kDouble:
      return "DOUBLE";
    case Type::kString:
      return "STRING";
    case Type::kDate:
      return "DATE";
  }
  return "?";
}

ColumnView ColumnView::Int32(std::span<const int32_t> v) {
  ColumnView c;
  c.type = Type::kInt32;
  c.i32 = v;
  return c;
}

ColumnView ColumnView::Date(std::span<const int32_t> days_since_epoch) {
  ColumnView c;
  c.type = Type::kDate;
  c.i32 = days_since_epoch;
  return c;
}

ColumnView ColumnView::Int64(std::span<const int64_t> v) {
  ColumnView c;
  c.type = Type::kInt64;
  c.i64 = v;
  return c;
}

ColumnView ColumnView::Double(std::span<const double> v) {
  ColumnView c;
  c.type = Type::kDouble;
  c.f64 = v;
  return c;
}

ColumnView ColumnView::String(std::string_view data, std::span<const uint32_t> offsets) {
  ColumnView c;
  c.type = Type::kString;
  c.str_data = data;
  c.str_offsets = offsets;
  return c;
}

size_t ColumnView::size() const {
  switch (type) {
    case Type::kInt32:
    case Type::kDate:
      return i32.size();
    case Type::kInt64:
      return i64.size();
    case Type::kDouble:
      return f64.size();
    case Type::kString:
      return str_offsets.empty() ? 0 : str_offsets.size() - 1;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------
// FileWriter

struct FileWriter::Impl {
  OutputSink* sink;
  WriterOptions opt;
  bool started = false;
  uint64_t base = 0;  // sink position of the leading magic
  std::vector<RowGroupMeta> row_groups;

  // Scratch reused across pages and column chunks.
  Scratch page;        // uncompressed page body
  Scratch compressed;  // compressed page body
  std::string header;  // Thrift page header
  std::vector<uint32_t> indices;
  // Dictionary of a string column chunk: the distinct values PLAIN-encoded back to back
  // (this is the dictionary page, compact so lookups stay in cache), each entry's offset
  // in it, and each entry's hash; `table` is open addressing over them with slots
  // (hash >> 32) << 32 | (entry index + 1), 0 = empty.
  std::string dict_page;
  std::vector<uint32_t> dict_off;
  std::vector<uint64_t> dict_hash;
  std::vector<uint64_t> table;

  std::string_view DictEntry(size_t d) const {
    const char* e = dict_page.data() + dict_off[d];
    return {e + 4, Load32(e)};
  }

  int64_t Offset() const { return static_cast<int64_t>(sink->position() - base); }

  Status Start() {
    if (started) return Status::OK();
    base = sink->position();
    started = true;
    return sink->Append(kMagic);
  }

  // Compresses (if asked) and appends one page with its header.
  Status WritePage(ChunkMeta* m, Codec codec, PageType type, const char* body, size_t len,
                   size_t num_values, Encoding enc) {
    if (len > static_cast<size_t>(std::numeric_limits<int32_t>::max()) ||
        num_values > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
      return Status::Errorf("parquet: page of {} bytes / {} values is too large", len,
                            num_values);
    }
    const char* out = body;
    size_t out_len = len;
    if (codec == Codec::kSnappy) {
      char* dst = compressed.Reserve(snappy::MaxCompressedLength(len));
      snappy::RawCompress(body, len, dst, &out_len);
      out = dst;
      if (out_len > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
        return Status::Errorf("parquet: compressed page of {} bytes is too large", out_len);
      }
    }
    header.clear();
    CompactWriter w(&header);
    w.StructBegin();
    w.FieldI32(1, type);
    w.FieldI32(2, static_cast<int32_t>(len));
    w.FieldI32(3, static_cast<int32_t>(out_len));
    if (type == kPageDictionary) {
      w.FieldStructBegin(7);
      w.FieldI32(1, static_cast<int32_t>(num_values));
      w.FieldI32(2, enc);
      w.StructEnd();
    } else {
      w.FieldStructBegin(5);
      w.FieldI32(1, static_cast<int32_t>(num_values));
      w.FieldI32(2, enc);
      w.FieldI32(3, kEncRle);  // definition levels (absent: REQUIRED)
      w.FieldI32(4, kEncRle);  // repetition levels (absent: flat)
      w.StructEnd();
    }
    w.StructEnd();

    const int64_t at = Offset();
    if (type == kPageDictionary) {
      m->dictionary_page_offset = at;
    } else {
      if (m->data_page_offset < 0) m->data_page_offset = at;
      ++m->num_data_pages;
    }
    ORDERLAKE_RETURN_IF_ERROR(sink->Append(header));
    ORDERLAKE_RETURN_IF_ERROR(sink->Append(std::string_view(out, out_len)));
    m->total_uncompressed += static_cast<int64_t>(header.size() + len);
    m->total_compressed += static_cast<int64_t>(header.size() + out_len);
    return Status::OK();
  }

  template <typename T>
  Status WriteFixed(const ColumnSpec& spec, std::span<const T> v, ChunkMeta* m) {
    if constexpr (std::is_floating_point_v<T>) {
      DoubleMinMax(v, m);
    } else {
      IntMinMax(v, m);
    }
    const size_t rows_per_page = std::clamp<size_t>(opt.page_size / sizeof(T), 1, kMaxPageRows);
    for (size_t b = 0; b < v.size(); b += rows_per_page) {
      const size_t n = std::min(rows_per_page, v.size() - b);
      ORDERLAKE_RETURN_IF_ERROR(WritePage(m, spec.codec, kPageData,
                                          reinterpret_cast<const char*>(v.data() + b),
                                          n * sizeof(T), n, kEncPlain));
    }
    return Status::OK();
  }

  // Fills the dictionary and `indices` for the chunk; false when the dictionary gets too
  // big (more distinct values than the ratio allows, or more bytes than the limit).
  bool BuildDictionary(const char* data, const uint32_t* off, size_t n) {
    dict_page.clear();
    dict_off.clear();
    dict_hash.clear();
    indices.resize(n);
    size_t cap = 1024;
    table.assign(cap, 0);
    size_t mask = cap - 1;
    const size_t max_distinct =
        static_cast<size_t>(static_cast<double>(n) * opt.dictionary_max_ratio);
    const size_t max_bytes = std::min<size_t>(opt.dictionary_max_bytes, size_t{1} << 31);
    uint32_t* idx = indices.data();
    const char* prev = nullptr;  // previous value, for runs of equal values
    size_t prev_len = ~size_t{0};
    uint32_t prev_idx = 0;
    for (size_t i = 0; i < n; ++i) {
      const char* sp = data + off[i];
      const size_t len = off[i + 1] - off[i];
      if (len == prev_len && BytesEqual(sp, prev, len)) {
        idx[i] = prev_idx;
        continue;
      }
      const uint64_t h = HashBytes(sp, len);
      const uint64_t tag = h >> 32;
      size_t pos = h & mask;
      for (;;) {
        const uint64_t slot = table[pos];
        if (slot == 0) {
          const size_t d = dict_off.size();
          if (d >= max_distinct || dict_page.size() + 4 + len > max_bytes) return false;
          dict_off.push_back(static_cast<uint32_t>(dict_page.size()));
          dict_hash.push_back(h);
          const auto len32 = static_cast<uint32_t>(len);
          dict_page.append(reinterpret_cast<const char*>(&len32), 4);
          dict_page.append(sp, len);
          table[pos] = (tag << 32) | (d + 1);
          idx[i] = static_cast<uint32_t>(d);
          if ((d + 1) * 2 > cap) {  // keep the load factor <= 1/2
            cap *= 2;
            mask = cap - 1;
            table.assign(cap, 0);
            for (size_t e = 0; e <= d; ++e) {
              size_t p = dict_hash[e] & mask;
              while (table[p] != 0) p = (p + 1) & mask;
              table[p] = ((dict_hash[e] >> 32) << 32) | (e + 1);
            }
          }
          break;
        }
        if ((slot >> 32) == tag) {
          const uint32_t d = static_cast<uint32_t>(slot) - 1;
          const char* e = dict_page.data() + dict_off[d];
          if (Load32(e) == len && BytesEqual(e + 4, sp, len)) {
            idx[i] = d;
            break;
          }
        }
        pos = (pos + 1) & mask;
      }
      prev = sp;
      prev_len = len;
      prev_idx = idx[i];
    }
    return true;
  }

  Status WriteDictionaryChunk(const ColumnSpec& spec, size_t n, ChunkMeta* m) {
    m->dictionary = true;
    const size_t count = dict_off.size();
    // Statistics from the distinct values.
    std::string_view mn = DictEntry(0), mx = mn;
    for (size_t d = 1; d < count; ++d) {
      const std::string_view s = DictEntry(d);
      if (s < mn) mn = s;
      if (mx < s) mx = s;
    }
    SetStringMinMax(mn, mx, m);

    ORDERLAKE_RETURN_IF_ERROR(WritePage(m, spec.codec, kPageDictionary, dict_page.data(),
                                        dict_page.size(), count, kEncPlain));

    // Data pages: bit width byte + RLE/bit-packed hybrid indices.
    const int bw = count <= 1 ? 1 : static_cast<int>(std::bit_width(count - 1));
    const size_t rows_per_page =
        std::clamp<size_t>(opt.page_size * 8 / static_cast<size_t>(bw), 8, kMaxPageRows);
    for (size_t b = 0; b < n; b += rows_per_page) {
      const size_t cnt = std::min(rows_per_page, n - b);
      char* body = page.Reserve(1 + HybridBound(cnt, bw));
      body[0] = static_cast<char>(bw);
      char* end = EncodeHybrid(indices.data() + b, cnt, bw, body + 1);
      ORDERLAKE_RETURN_IF_ERROR(WritePage(m, spec.codec, kPageData, body,
                                          static_cast<size_t>(end - body), cnt,
                                          kEncRleDictionary));
    }
    return Status::OK();
  }

  Status WritePlainStrings(const ColumnSpec& spec, const char* data, const uint32_t* off,
                           size_t n, ChunkMeta* m) {
    // Statistics (unsigned bytewise order: std::string_view compares as unsigned char).
    std::string_view mn(data + off[0], off[1] - off[0]);
    std::string_view mx = mn;
    for (size_t i = 1; i < n; ++i) {
      const std::string_view s(data + off[i], off[i + 1] - off[i]);
      if (s < mn) mn = s;
      if (mx < s) mx = s;
    }
    SetStringMinMax(mn, mx, m);

    // Page boundaries: encoded size of [b, e) is (off[e] + 4e) - (off[b] + 4b), monotonic in e.
    auto encoded_end = [off](size_t i) { return uint64_t{off[i]} + 4 * uint64_t{i}; };
    size_t b = 0;
    while (b < n) {
      const uint64_t limit = encoded_end(b) + opt.page_size;
      // First e in (b, n] whose encoded end exceeds the limit, then step back one.
      size_t lo = b + 1, hi = std::min(n, b + kMaxPageRows);
      while (lo < hi) {
        const size_t mid = lo + (hi - lo + 1) / 2;
        if (encoded_end(mid) <= limit) {
          lo = mid;
        } else {
          hi = mid - 1;
        }
      }
      const size_t e = lo;  // at least one value per page
      const size_t bytes = static_cast<size_t>(encoded_end(e) - encoded_end(b));
      char* p = page.Reserve(bytes);
      char* w = p;
      for (size_t i = b; i < e; ++i) {
        const uint32_t len = off[i + 1] - off[i];
        std::memcpy(w, &len, 4);
        std::memcpy(w + 4, data + off[i], len);
        w += 4 + len;
      }
      ORDERLAKE_RETURN_IF_ERROR(WritePage(m, spec.codec, kPageData, p, bytes, e - b, kEncPlain));
      b = e;
    }
    return Status::OK();
  }

  Status WriteStrings(const ColumnSpec& spec, const ColumnView& col, size_t n, ChunkMeta* m) {
    const char* data = col.str_data.data();
    const uint32_t* off = col.str_offsets.data();
    if (spec.try_dictionary && BuildDictionary(data, off, n)) {
      return WriteDictionaryChunk(spec, n, m);
    }
    return WritePlainStrings(spec, data, off, n, m);
  }

  Status WriteColumn(const ColumnSpec& spec, const ColumnView& col, size_t n, ChunkMeta* m) {
    m->num_values = static_cast<int64_t>(n);
    switch (spec.type) {
      case Type::kInt32:
      case Type::kDate:
        return WriteFixed(spec, col.i32.first(n), m);
      case Type::kInt64:
        return WriteFixed(spec, col.i64.first(n), m);
      case Type::kDouble:
        return WriteFixed(spec, col.f64.first(n), m);
      case Type::kString:
        return WriteStrings(spec, col, n, m);
    }
    return Status::Error("parquet: unknown column type");
  }
};

FileWriter::FileWriter(std::vector<ColumnSpec> schema, OutputSink* sink, WriterOptions options)
    : schema_(std::move(schema)), sink_(sink), options_(options), impl_(std::make_unique<Impl>()) {
  impl_->sink = sink_;
  impl_->opt = options_;
  if (impl_->opt.page_size == 0) impl_->opt.page_size = 1;
  if (schema_.empty()) status_ = Status::Error("parquet: schema has no columns");
  for (size_t i = 0; i < schema_.size() && status_.ok(); ++i) {
    if (schema_[i].name.empty()) status_ = Status::Errorf("parquet: column {} has no name", i);
    for (size_t j = 0; j < i && status_.ok(); ++j) {
      if (schema_[j].name == schema_[i].name) {
        status_ = Status::Errorf("parquet: column name '{}' appears twice", schema_[i].name);
      }
    }
  }
}

FileWriter::~FileWriter() = default;

size_t FileWriter::num_row_groups() const { return impl_->row_groups.size(); }

Status FileWriter::Validate(std::span<const ColumnView> columns, size_t num_rows) const {
  if (columns.size() != schema_.size()) {
    return Status::Errorf("parquet: row group has {} columns, schema has {}", columns.size(),
                          schema_.size());
  }
  for (size_t c = 0; c < columns.size(); ++c) {
    const ColumnSpec& spec = schema_[c];
    const ColumnView& col = columns[c];
    if (PhysicalOf(col.type) != PhysicalOf(spec.type)) {
      return Status::Errorf("parquet: column '{}' is {} but was given {} values", spec.name,
                            TypeName(spec.type), TypeName(col.type));
    }
    if (col.type == Type::kString) {
      if (col.str_offsets.size() != num_rows + 1) {
        return Status::Errorf("parquet: column '{}' has {} offsets, expected num_rows + 1 = {}",
                              spec.name, col.str_offsets.size(), num_rows + 1);
      }
      const uint32_t* off = col.str_offsets.data();
      // One unsigned comparison catches both a decreasing offset (wraps around) and a
      // too-long value.
      bool bad = false;
      for (size_t i = 0; i < num_rows; ++i) bad |= (off[i + 1] - off[i]) > kMaxValueBytes;
      if (bad) {
        for (size_t i = 0; i < num_rows; ++i) {
          if (off[i + 1] < off[i]) {
            return Status::Errorf("parquet: column '{}': offsets decrease at row {} ({} > {})",
                                  spec.name, i, off[i], off[i + 1]);
          }
          if (off[i + 1] - off[i] > kMaxValueBytes) {
            return Status::Errorf("parquet: column '{}': value at row {} is {} bytes (max {})",
                                  spec.name, i, off[i + 1] - off[i], kMaxValueBytes);
          }
        }
      }
      if (off[num_rows] > col.str_data.size()) {
        return Status::Errorf("parquet: column '{}': last offset {} is past the {} data bytes",
                              spec.name, off[num_rows], col.str_data.size());
      }
    } else if (col.size() != num_rows) {
      return Status::Errorf("parquet: column '{}' has {} values, expected {}", spec.name,
                            col.size(), num_rows);
    }
  }
  return Status::OK();
}

Status FileWriter::WriteRowGroup(std::span<const ColumnView> columns, size_t num_rows) {
  ORDERLAKE_RETURN_IF_ERROR(status_);
  ORDERLAKE_RETURN_IF_ERROR(Validate(columns, num_rows));
  if (num_rows == 0) return Status::OK();

  Status st = impl_->Start();
  RowGroupMeta rg;
  rg.num_rows = static_cast<int64_t>(num_rows);
  rg.columns.resize(columns.size());
  for (size_t c = 0; c < columns.size() && st.ok(); ++c) {
    st = impl_->WriteColumn(schema_[c], columns[c], num_rows, &rg.columns[c]);
  }
  if (!st.ok()) {
    status_ = st;
    return st;
  }
  impl_->row_groups.push_back(std::move(rg));
  num_rows_ += num_rows;
  return Status::OK();
}

Status FileWriter::Finish() {
  ORDERLAKE_RETURN_IF_ERROR(status_);
  Status st = impl_->Start();
  if (!st.ok()) {
    status_ = st;
    return st;
  }

  std::string footer;
  CompactWriter w(&footer);
  w.StructBegin();  // FileMetaData
  w.FieldI32(1, 2);  // version
  w.FieldListBegin(2, CType::kStruct, static_cast<uint32_t>(schema_.size() + 1));
  w.StructBegin();  // root
  w.FieldBinary(4, "schema");
  w.FieldI32(5, static_cast<int32_t>(schema_.size()));
  w.StructEnd();
  for (const ColumnSpec& spec : schema_) {
    w.StructBegin();
    w.FieldI32(1, PhysicalOf(spec.type));
    w.FieldI32(3, kRequired);
    w.FieldBinary(4, spec.name);
    if (spec.type == Type::kString || spec.type == Type::kDate) {
      const bool str = spec.type == Type::kString;
      w.FieldI32(6, str ? kCtUtf8 : kCtDate);
      w.FieldStructBegin(10);             // LogicalType union
      w.FieldStructBegin(str ? 1 : 6);    // StringType / DateType (empty)
      w.StructEnd();
      w.StructEnd();
    }
    w.StructEnd();
  }
  w.FieldI64(3, static_cast<int64_t>(num_rows_));
  const auto& rgs = impl_->row_groups;
  w.FieldListBegin(4, CType::kStruct, static_cast<uint32_t>(rgs.size()));
  for (size_t r = 0; r < rgs.size(); ++r) {
    const RowGroupMeta& rg = rgs[r];
    int64_t total_uncompressed = 0, total_compressed = 0;
    w.StructBegin();  // RowGroup
    w.FieldListBegin(1, CType::kStruct, static_cast<uint32_t>(rg.columns.size()));
    for (size_t c = 0; c < rg.columns.size(); ++c) {
      const ChunkMeta& m = rg.columns[c];
      const ColumnSpec& spec = schema_[c];
      total_uncompressed += m.total_uncompressed;
      total_compressed += m.total_compressed;
      w.StructBegin();  // ColumnChunk
      w.FieldI64(2, m.start());
      w.FieldStructBegin(3);  // ColumnMetaData
      w.FieldI32(1, PhysicalOf(spec.type));
      if (m.dictionary) {
        w.FieldListBegin(2, CType::kI32, 2);
        w.ElemI32(kEncPlain);
        w.ElemI32(kEncRleDictionary);
      } else {
        w.FieldListBegin(2, CType::kI32, 1);
        w.ElemI32(kEncPlain);
      }
      w.FieldListBegin(3, CType::kBinary, 1);
      w.ElemBinary(spec.name);
      w.FieldI32(4, CodecId(spec.codec));
      w.FieldI64(5, m.num_values);
      w.FieldI64(6, m.total_uncompressed);
      w.FieldI64(7, m.total_compressed);
      w.FieldI64(9, m.data_page_offset);
      if (m.dictionary) w.FieldI64(11, m.dictionary_page_offset);
      w.FieldStructBegin(12);  // Statistics
      const bool signed_order = spec.type != Type::kString;
      if (m.has_min_max && signed_order) {  // deprecated fields, signed order only
        w.FieldBinary(1, m.max);
        w.FieldBinary(2, m.min);
      }
      w.FieldI64(3, 0);  // null_count
      if (m.has_min_max) {
        w.FieldBinary(5, m.max);
        w.FieldBinary(6, m.min);
        w.FieldBool(7, true);  // is_max_value_exact
        w.FieldBool(8, true);  // is_min_value_exact
      }
      w.StructEnd();
      // encoding_stats
      w.FieldListBegin(13, CType::kStruct, m.dictionary ? 2 : 1);
      if (m.dictionary) {
        w.StructBegin();
        w.FieldI32(1, kPageDictionary);
        w.FieldI32(2, kEncPlain);
        w.FieldI32(3, 1);
        w.StructEnd();
      }
      w.StructBegin();
      w.FieldI32(1, kPageData);
      w.FieldI32(2, m.dictionary ? kEncRleDictionary : kEncPlain);
      w.FieldI32(3, m.num_data_pages);
      w.StructEnd();
      w.StructEnd();  // ColumnMetaData
      w.StructEnd();  // ColumnChunk
    }
    w.FieldI64(2, total_uncompressed);  // total_byte_size
    w.FieldI64(3, rg.num_rows);
    w.FieldI64(5, rg.columns.front().start());  // file_offset
    w.FieldI64(6, total_compressed);
    if (r <= 32767) w.FieldI16(7, static_cast<int16_t>(r));  // ordinal
    w.StructEnd();
  }
  w.FieldBinary(6, kCreatedBy);
  w.FieldListBegin(7, CType::kStruct, static_cast<uint32_t>(schema_.size()));  // column_orders
  for (size_t c = 0; c < schema_.size(); ++c) {
    w.StructBegin();        // ColumnOrder union
    w.FieldStructBegin(1);  // TYPE_ORDER
    w.StructEnd();
    w.StructEnd();
  }
  w.StructEnd();

  const auto len = static_cast<uint32_t>(footer.size());
  char tail[8];
  std::memcpy(tail, &len, 4);
  std::memcpy(tail + 4, kMagic.data(), 4);
  footer.append(tail, 8);
  st = sink_->Append(footer);
  if (st.ok()) st = sink_->Flush();
  status_ = st.ok() ? Status::Error("parquet: file already finished") : st;
  return st;
}

}  // namespace orderlake::parquet
