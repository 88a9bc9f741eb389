// A Parquet round trip: columns of random values (the input decides the schema, the
// encodings, the page size, the row groups and every value) written by our FileWriter and
// read back by DuckDB (its C API over read_parquet) must be equal: the same rows in the
// same order, bit for bit for numbers (any NaN equals any NaN), byte for byte for strings.
#include <duckdb.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/fs.h"
#include "core/parquet_writer.h"
#include "fuzz_util.h"

using namespace orderlake;

namespace {

struct Column {
  parquet::ColumnSpec spec;
  std::vector<int32_t> i32;
  std::vector<int64_t> i64;
  std::vector<double> f64;
  std::string str;
  std::vector<uint32_t> offsets{0};
};

void AddValue(Column& c, fuzz::Bytes& in) {
  switch (c.spec.type) {
    case parquet::Type::kInt32: c.i32.push_back(static_cast<int32_t>(in.u64())); break;
    case parquet::Type::kDate: c.i32.push_back(static_cast<int32_t>(in.u64() % 5'000'000) - 2'500'000); break;
    case parquet::Type::kInt64: c.i64.push_back(static_cast<int64_t>(in.u64())); break;
    case parquet::Type::kDouble: {
      uint64_t bits = in.u64();
      double d;
      std::memcpy(&d, &bits, sizeof d);
      c.f64.push_back(d);
      break;
    }
    case parquet::Type::kString: {
      // Few lengths and letters, so dictionaries happen; ASCII, as the columns are UTF8.
      std::string_view s = in.take(in.u8() % 9);
      for (char ch : s) c.str.push_back(static_cast<char>(' ' + (static_cast<unsigned char>(ch) % 95)));
      c.offsets.push_back(static_cast<uint32_t>(c.str.size()));
      break;
    }
  }
}

parquet::ColumnView View(const Column& c, size_t from, size_t n) {
  switch (c.spec.type) {
    case parquet::Type::kInt32: return parquet::ColumnView::Int32(std::span(c.i32).subspan(from, n));
    case parquet::Type::kDate: return parquet::ColumnView::Date(std::span(c.i32).subspan(from, n));
    case parquet::Type::kInt64: return parquet::ColumnView::Int64(std::span(c.i64).subspan(from, n));
    case parquet::Type::kDouble: return parquet::ColumnView::Double(std::span(c.f64).subspan(from, n));
    case parquet::Type::kString: break;
  }
  return parquet::ColumnView::String(c.str, std::span(c.offsets).subspan(from, n + 1));
}

void Compare(duckdb_result* r, const std::vector<Column>& cols, size_t rows) {
  if (duckdb_row_count(r) != rows || duckdb_column_count(r) != cols.size())
    fuzz::Fail("DuckDB reads " + std::to_string(duckdb_row_count(r)) + " rows, " + std::to_string(rows) + " written");
  for (size_t k = 0; k < cols.size(); ++k) {
    const Column& c = cols[k];
    for (size_t i = 0; i < rows; ++i) {
      bool same = true;
      switch (c.spec.type) {
        case parquet::Type::kInt32: same = duckdb_value_int32(r, k, i) == c.i32[i]; break;
        case parquet::Type::kDate: same = duckdb_value_date(r, k, i).days == c.i32[i]; break;
        case parquet::Type::kInt64: same = duckdb_value_int64(r, k, i) == c.i64[i]; break;
        case parquet::Type::kDouble: {
          double got = duckdb_value_double(r, k, i), want = c.f64[i];
          same = (std::isnan(got) && std::isnan(want)) || std::memcmp(&got, &want, sizeof got) == 0;
          break;
        }
        case parquet::Type::kString: {
          duckdb_string s = duckdb_value_string(r, k, i);
          std::string got(s.data ? s.data : "", s.data ? s.size : 0);
          duckdb_free(s.data);
          same = got == std::string_view(c.str).substr(c.offsets[i], c.offsets[i + 1] - c.offsets[i]);
          break;
        }
      }
      if (!same) fuzz::Fail("column " + std::to_string(k) + " row " + std::to_string(i) + " reads back different");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static duckdb_database db = nullptr;
  static duckdb_connection con = nullptr;
  if (!db) {
    duckdb_config cfg;
    duckdb_create_config(&cfg);
    duckdb_set_config(cfg, "threads", "1");
    if (duckdb_open_ext(nullptr, &db, cfg, nullptr) != DuckDBSuccess || duckdb_connect(db, &con) != DuckDBSuccess)
      fuzz::Fail("cannot open DuckDB");
    duckdb_destroy_config(&cfg);
  }
  fuzz::Bytes in(data, size);
  const size_t ncols = 1 + in.u8() % 5;
  parquet::WriterOptions options;
  options.page_size = 16 + in.u8() * 8;
  options.dictionary_max_bytes = 64 + in.u8() * 16;
  std::vector<Column> cols(ncols);
  std::vector<parquet::ColumnSpec> schema;
  for (size_t k = 0; k < ncols; ++k) {
    uint8_t b = in.u8();
    cols[k].spec.name = "c" + std::to_string(k);
    cols[k].spec.type = static_cast<parquet::Type>(b % 5);
    cols[k].spec.try_dictionary = b & 8;
    cols[k].spec.codec = (b & 16) ? parquet::Codec::kSnappy : parquet::Codec::kUncompressed;
    schema.push_back(cols[k].spec);
  }
  const size_t groups = 1 + in.u8() % 3;
  size_t rows = 0;
  while (in.left() > 0 && rows < 5000) {
    for (auto& c : cols) AddValue(c, in);
    ++rows;
  }
  parquet::StringSink sink;
  parquet::FileWriter writer(schema, &sink, options);
  for (size_t g = 0, from = 0; g < groups; ++g) {
    size_t n = g + 1 == groups ? rows - from : rows / groups;
    std::vector<parquet::ColumnView> views;
    for (const auto& c : cols) views.push_back(View(c, from, n));
    if (Status st = writer.WriteRowGroup(views, n); !st.ok()) fuzz::Fail("WriteRowGroup: " + st.message());
    from += n;
  }
  if (Status st = writer.Finish(); !st.ok()) fuzz::Fail("Finish: " + st.message());
  const auto file = fuzz::ScratchDir() / "roundtrip.parquet";
  if (!fs::write_file_atomic(file, sink.contents()).ok()) fuzz::Fail("cannot write the scratch file");
  duckdb_result r;
  const std::string sql = "SELECT * FROM read_parquet('" + file.string() + "')";
  if (duckdb_query(con, sql.c_str(), &r) != DuckDBSuccess) {
    std::string err = duckdb_result_error(&r) ? duckdb_result_error(&r) : "?";
    duckdb_destroy_result(&r);
    fuzz::Fail("DuckDB cannot read the file: " + err);
  }
  Compare(&r, cols, rows);
  duckdb_destroy_result(&r);
  return 0;
}
