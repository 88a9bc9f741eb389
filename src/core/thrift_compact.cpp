#include "core/thrift_compact.h"

#include <cassert>

namespace orderlake::parquet::thrift {

void CompactWriter::PutVarint(uint64_t v) {
  char buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out_->append(buf, static_cast<size_t>(n));
}

void CompactWriter::StructBegin() {
  assert(depth_ < kMaxDepth);
  last_id_[depth_++] = 0;
}

void CompactWriter::StructEnd() {
  assert(depth_ > 0);
  out_->push_back('\0');  // stop field
  --depth_;
}

void CompactWriter::FieldHeader(int16_t id, CType type) {
  assert(depth_ > 0);
  int16_t& last = last_id_[depth_ - 1];
  const int delta = static_cast<int>(id) - static_cast<int>(last);
  const auto t = static_cast<uint8_t>(type);
  if (delta > 0 && delta <= 15) {
    out_->push_back(static_cast<char>((delta << 4) | t));
  } else {
    out_->push_back(static_cast<char>(t));
    PutVarint(ZigZag32(id));
  }
  last = id;
}

void CompactWriter::FieldBool(int16_t id, bool v) {
  FieldHeader(id, v ? CType::kBoolTrue : CType::kBoolFalse);
}

void CompactWriter::FieldI16(int16_t id, int16_t v) {
  FieldHeader(id, CType::kI16);
  PutVarint(ZigZag32(v));
}

void CompactWriter::FieldI32(int16_t id, int32_t v) {
  FieldHeader(id, CType::kI32);
  PutVarint(ZigZag32(v));
}

void CompactWriter::FieldI64(int16_t id, int64_t v) {
  FieldHeader(id, CType::kI64);
  PutVarint(ZigZag64(v));
}

void CompactWriter::FieldBinary(int16_t id, std::string_view v) {
  FieldHeader(id, CType::kBinary);
  ElemBinary(v);
}

void CompactWriter::ElemBinary(std::string_view v) {
  PutVarint(v.size());
  out_->append(v);
}

void CompactWriter::FieldStructBegin(int16_t id) {
  FieldHeader(id, CType::kStruct);
  StructBegin();
}

void CompactWriter::FieldListBegin(int16_t id, CType elem_type, uint32_t size) {
  FieldHeader(id, CType::kList);
  const auto t = static_cast<uint8_t>(elem_type);
  if (size < 15) {
    out_->push_back(static_cast<char>((size << 4) | t));
  } else {
    out_->push_back(static_cast<char>(0xF0 | t));
    PutVarint(size);
  }
}

}  // namespace orderlake::parquet::thrift
