// The Parquet footer (FileMetaData of parquet.thrift, Thrift compact protocol) of the files
// core/parquet_writer writes: the flat schema, one RowGroup per WriteRowGroup() call with its
// column chunks' metadata and statistics, created_by, and TYPE_ORDER column orders.
#include "core/parquet_format.h"
#include "core/thrift_compact.h"
#include "core/version.h"

namespace orderlake::parquet::format {
namespace {

using thrift::CompactWriter;
using thrift::CType;

void WriteSchema(CompactWriter& w, const std::vector<ColumnSpec>& schema) {
  w.FieldListBegin(2, CType::kStruct, static_cast<uint32_t>(schema.size() + 1));
  w.StructBegin();  // root
  w.FieldBinary(4, "schema");
  w.FieldI32(5, static_cast<int32_t>(schema.size()));
  w.StructEnd();
  for (const ColumnSpec& spec : schema) {
    w.StructBegin();
    w.FieldI32(1, PhysicalOf(spec.type));
    w.FieldI32(3, kRequired);
    w.FieldBinary(4, spec.name);
    if (spec.type == Type::kString || spec.type == Type::kDate) {
      const bool str = spec.type == Type::kString;
      w.FieldI32(6, str ? kCtUtf8 : kCtDate);
      w.FieldStructBegin(10);           // LogicalType union
      w.FieldStructBegin(str ? 1 : 6);  // StringType / DateType (empty)
      w.StructEnd();
      w.StructEnd();
    }
    w.StructEnd();
  }
}

void WriteStatistics(CompactWriter& w, const ChunkMeta& m, const ColumnSpec& spec) {
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
}

void WriteColumnChunk(CompactWriter& w, const ChunkMeta& m, const ColumnSpec& spec) {
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
  WriteStatistics(w, m, spec);
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

void WriteRowGroups(CompactWriter& w, const std::vector<ColumnSpec>& schema, const std::vector<RowGroupMeta>& rgs) {
  w.FieldListBegin(4, CType::kStruct, static_cast<uint32_t>(rgs.size()));
  for (size_t r = 0; r < rgs.size(); ++r) {
    const RowGroupMeta& rg = rgs[r];
    int64_t total_uncompressed = 0, total_compressed = 0;
    w.StructBegin();  // RowGroup
    w.FieldListBegin(1, CType::kStruct, static_cast<uint32_t>(rg.columns.size()));
    for (size_t c = 0; c < rg.columns.size(); ++c) {
      total_uncompressed += rg.columns[c].total_uncompressed;
      total_compressed += rg.columns[c].total_compressed;
      WriteColumnChunk(w, rg.columns[c], schema[c]);
    }
    w.FieldI64(2, total_uncompressed);  // total_byte_size
    w.FieldI64(3, rg.num_rows);
    w.FieldI64(5, rg.columns.front().start());  // file_offset
    w.FieldI64(6, total_compressed);
    if (r <= 32767) w.FieldI16(7, static_cast<int16_t>(r));  // ordinal
    w.StructEnd();
  }
}

}  // namespace

std::string EncodeFooter(const std::vector<ColumnSpec>& schema, const std::vector<RowGroupMeta>& row_groups,
                         uint64_t num_rows) {
  std::string footer;
  CompactWriter w(&footer);
  w.StructBegin();   // FileMetaData
  w.FieldI32(1, 2);  // version
  WriteSchema(w, schema);
  w.FieldI64(3, static_cast<int64_t>(num_rows));
  WriteRowGroups(w, schema, row_groups);
  w.FieldBinary(6, kCreatedBy);
  w.FieldListBegin(7, CType::kStruct, static_cast<uint32_t>(schema.size()));  // column_orders
  for (size_t c = 0; c < schema.size(); ++c) {
    w.StructBegin();        // ColumnOrder union
    w.FieldStructBegin(1);  // TYPE_ORDER
    w.StructEnd();
    w.StructEnd();
  }
  w.StructEnd();
  return footer;
}

}  // namespace orderlake::parquet::format
