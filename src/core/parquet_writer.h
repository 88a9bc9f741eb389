// FileWriter writes one Parquet file with a flat schema of REQUIRED columns (INT32, INT64,
// DOUBLE, STRING = BYTE_ARRAY/UTF8, DATE = INT32 days since 1970-01-01) to an OutputSink.
// Each WriteRowGroup() call becomes one row group, encoded from column views over the
// caller's contiguous buffers (no per-value heap objects; the buffers need only live during
// the call). Numbers are PLAIN; strings are RLE_DICTIONARY when the chunk has few distinct
// values, else PLAIN. Pages are data page v1 of about `page_size` uncompressed bytes, SNAPPY
// or UNCOMPRESSED per column. Column chunks carry exact min/max statistics (left out when a
// bound is over 4 KiB, or a DOUBLE chunk is all NaN) and null_count = 0. The file is
// complete and readable only after Finish() returned OK; after any error the writer stays
// failed and every later call returns that error. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace orderlake::parquet {

// Where the file's bytes go. position() is the number of bytes appended so far through this
// sink; offsets inside the Parquet file are relative to the position when writing started.
class OutputSink {
 public:
  virtual ~OutputSink() = default;
  virtual Status Append(std::string_view data) = 0;
  virtual uint64_t position() const = 0;
  // Pushes buffered bytes to their destination. FileWriter::Finish() calls it.
  virtual Status Flush() { return Status::OK(); }
};

// Appends to an in-memory string (tests, object-store uploads).
class StringSink final : public OutputSink {
 public:
  Status Append(std::string_view data) override {
    buf_.append(data);
    return Status::OK();
  }
  uint64_t position() const override { return buf_.size(); }
  const std::string& contents() const { return buf_; }
  std::string Release() { return std::move(buf_); }

 private:
  std::string buf_;
};

// Writes to an open file descriptor through a buffer; an append of at least a quarter of
// the buffer goes out together with the buffered bytes in one writev(), without a copy.
// position() counts bytes appended through this sink (not the fd's offset). Does not
// close the fd. Call Flush() (or FileWriter::Finish()) to see write errors; the
// destructor flushes on a best-effort basis only.
class FdSink final : public OutputSink {
 public:
  explicit FdSink(int fd, size_t buffer_size = size_t{1} << 20);
  ~FdSink() override;
  FdSink(const FdSink&) = delete;
  FdSink& operator=(const FdSink&) = delete;

  Status Append(std::string_view data) override;
  uint64_t position() const override { return written_ + buf_used_; }
  Status Flush() override;

 private:
  Status WriteAll(const char* p, size_t n);
  Status WriteAll2(const char* a, size_t an, const char* b, size_t bn);
  int fd_;
  std::unique_ptr<char[]> buf_;
  size_t buf_cap_;
  size_t buf_used_ = 0;
  uint64_t written_ = 0;
};

enum class Type : uint8_t { kInt32, kInt64, kDouble, kString, kDate };
enum class Codec : uint8_t { kUncompressed, kSnappy };

std::string_view TypeName(Type t);

struct ColumnSpec {
  std::string name;
  Type type = Type::kInt32;
  // Try RLE_DICTIONARY for STRING columns; set false for high-cardinality columns (always
  // PLAIN, fastest). Ignored for other types, which are always PLAIN.
  bool try_dictionary = true;
  Codec codec = Codec::kSnappy;
};

// One column of a row group, viewing the caller's buffers. Build it with the factories.
// A string column is Arrow-like: value i is data[offsets[i], offsets[i+1]); offsets has
// num_rows + 1 entries, non-decreasing, offsets[num_rows] <= data.size().
struct ColumnView {
  Type type = Type::kInt32;
  std::span<const int32_t> i32;  // kInt32, kDate
  std::span<const int64_t> i64;  // kInt64
  std::span<const double> f64;   // kDouble
  std::string_view str_data;     // kString
  std::span<const uint32_t> str_offsets;

  static ColumnView Int32(std::span<const int32_t> v);
  static ColumnView Date(std::span<const int32_t> days_since_epoch);
  static ColumnView Int64(std::span<const int64_t> v);
  static ColumnView Double(std::span<const double> v);
  static ColumnView String(std::string_view data, std::span<const uint32_t> offsets);
  // Number of values in the view.
  size_t size() const;
};

// A STRING chunk (try_dictionary) is dictionary-encoded unless it has more than
// dictionary_max_ratio * rows distinct values or their PLAIN size exceeds
// dictionary_max_bytes; then the whole chunk is PLAIN.
struct WriterOptions {
  size_t page_size = size_t{1} << 20;             // target uncompressed bytes per data page
  size_t dictionary_max_bytes = size_t{1} << 20;  // PLAIN size of the dictionary page
  double dictionary_max_ratio = 0.5;              // distinct values / rows above this: PLAIN
};

class FileWriter {
 public:
  // `sink` must outlive the writer. Nothing is written until the first call. A bad schema
  // (no columns, an empty or repeated name) is reported by the first call.
  FileWriter(std::vector<ColumnSpec> schema, OutputSink* sink, WriterOptions options = {});
  ~FileWriter();
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  // Writes one row group. `columns` follows the schema order; each view's type must match
  // its ColumnSpec (a DATE column takes a Date or Int32 view) and hold num_rows values.
  // Invalid input returns an error before anything is written (the writer stays usable);
  // num_rows == 0 writes nothing.
  Status WriteRowGroup(std::span<const ColumnView> columns, size_t num_rows);

  // Writes the footer and the trailing magic, then flushes the sink.
  Status Finish();

  const std::vector<ColumnSpec>& schema() const { return schema_; }
  uint64_t num_rows() const { return num_rows_; }
  size_t num_row_groups() const;

 private:
  struct Impl;
  Status Validate(std::span<const ColumnView> columns, size_t num_rows) const;

  std::vector<ColumnSpec> schema_;
  OutputSink* sink_;
  WriterOptions options_;
  Status status_;  // sticky error
  uint64_t num_rows_ = 0;
  std::unique_ptr<Impl> impl_;
};

}  // namespace orderlake::parquet
