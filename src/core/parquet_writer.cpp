#include "core/parquet_writer.h"

#include <snappy.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>

#include "core/parquet_format.h"
#include "core/thrift_compact.h"

namespace orderlake::parquet {

static_assert(std::endian::native == std::endian::little,
              "PLAIN encoding is written with memcpy: little-endian hosts only");

namespace {

using namespace format;  // NOLINT(google-build-using-namespace): the file format's own names
using thrift::CompactWriter;
using thrift::CType;

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

  std::string footer = format::EncodeFooter(schema_, impl_->row_groups, num_rows_);
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
