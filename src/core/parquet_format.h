// Internal to the Parquet writer (core/parquet_writer*.cpp): the parquet.thrift enum values
// and limits it uses, the metadata it collects per column chunk and row group, and the
// footer (FileMetaData) encoder. Not part of the writer's interface.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/parquet_writer.h"

namespace orderlake::parquet::format {

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

inline PhysicalType PhysicalOf(Type t) {
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

inline int32_t CodecId(Codec c) { return c == Codec::kSnappy ? 1 : 0; }

// What the footer says of one column chunk, collected while its pages are written.
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

// The Thrift-compact FileMetaData of a file with this schema and these row groups, without
// the trailing length and magic.
std::string EncodeFooter(const std::vector<ColumnSpec>& schema, const std::vector<RowGroupMeta>& row_groups,
                         uint64_t num_rows);

}  // namespace orderlake::parquet::format
