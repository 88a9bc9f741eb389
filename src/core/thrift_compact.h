// A minimal encoder for the Thrift Compact Protocol, enough to write Parquet page headers
// and the Parquet footer (FileMetaData). It appends bytes to a caller-owned std::string and
// never allocates per field. Fields may come in any id order (the long field-header form is
// used when the id delta is not in 1..15); every struct begun must be ended with
// StructEnd(). There is no decoder here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace orderlake::parquet::thrift {

// Element/field type codes of the compact protocol.
enum class CType : uint8_t {
  kBoolTrue = 1,
  kBoolFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

class CompactWriter {
 public:
  // Appends to *out (not cleared). The writer starts outside any struct: call StructBegin()
  // for the top-level struct, and StructEnd() after its last field.
  explicit CompactWriter(std::string* out) : out_(out) {}

  // Top-level struct, or a struct that is an element of a list.
  void StructBegin();
  // Writes the stop byte and returns to the enclosing struct.
  void StructEnd();

  // Fields of the current struct.
  void FieldBool(int16_t id, bool v);
  void FieldI16(int16_t id, int16_t v);
  void FieldI32(int16_t id, int32_t v);
  void FieldI64(int16_t id, int64_t v);
  void FieldBinary(int16_t id, std::string_view v);
  void FieldStructBegin(int16_t id);  // then its fields, then StructEnd()
  // A list field: follow with exactly `size` elements written with the Elem* calls (or
  // StructBegin()/StructEnd() pairs for a list of structs).
  void FieldListBegin(int16_t id, CType elem_type, uint32_t size);

  // List elements.
  void ElemI32(int32_t v) { PutVarint(ZigZag32(v)); }
  void ElemI64(int64_t v) { PutVarint(ZigZag64(v)); }
  void ElemBinary(std::string_view v);

  // Low-level helpers, public for tests.
  static uint32_t ZigZag32(int32_t v) {
    return (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31);
  }
  static uint64_t ZigZag64(int64_t v) {
    return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  }
  void PutVarint(uint64_t v);

 private:
  void FieldHeader(int16_t id, CType type);

  static constexpr int kMaxDepth = 32;
  std::string* out_;
  int16_t last_id_[kMaxDepth] = {};
  int depth_ = 0;  // number of open structs; last_id_[depth_ - 1] is the current one
};

}  // namespace orderlake::parquet::thrift
