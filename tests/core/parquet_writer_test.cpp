// Parquet writer tests: files are written to a temp dir and read back with DuckDB (an
// independent reader), checking values, schema, encodings, statistics and filters.
#include "core/parquet_writer.h"

#include <duckdb.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/thrift_compact.h"
#include "core/version.h"
#include "test_util.h"

namespace orderlake::parquet {
namespace {

using orderlake::testing::TempDir;

// ---------------------------------------------------------------------------------------
// DuckDB helpers

class QueryResult {
 public:
  QueryResult() = default;
  ~QueryResult() {
    if (valid_) duckdb_destroy_result(&r_);
  }
  QueryResult(const QueryResult&) = delete;
  QueryResult& operator=(const QueryResult&) = delete;

  duckdb_result* raw() { return &r_; }
  void set_valid() { valid_ = true; }
  size_t rows() { return duckdb_row_count(&r_); }
  size_t cols() { return duckdb_column_count(&r_); }
  bool IsNull(size_t col, size_t row) { return duckdb_value_is_null(&r_, col, row); }
  int64_t I64(size_t col, size_t row) { return duckdb_value_int64(&r_, col, row); }
  double Dbl(size_t col, size_t row) { return duckdb_value_double(&r_, col, row); }
  int32_t Date(size_t col, size_t row) { return duckdb_value_date(&r_, col, row).days; }
  std::string Str(size_t col, size_t row) {
    duckdb_string s = duckdb_value_string(&r_, col, row);
    std::string out(s.data, s.size);
    duckdb_free(s.data);
    return out;
  }
  // NULL as "<null>", for compact assertions.
  std::string Text(size_t col, size_t row) {
    return IsNull(col, row) ? "<null>" : Str(col, row);
  }

 private:
  duckdb_result r_{};
  bool valid_ = false;
};

class Duck {
 public:
  Duck() {
    EXPECT_EQ(duckdb_open(nullptr, &db_), DuckDBSuccess);
    EXPECT_EQ(duckdb_connect(db_, &con_), DuckDBSuccess);
  }
  ~Duck() {
    duckdb_disconnect(&con_);
    duckdb_close(&db_);
  }
  // Runs `sql`; on failure records a test failure and returns nullptr.
  std::unique_ptr<QueryResult> Query(const std::string& sql) {
    auto res = std::make_unique<QueryResult>();
    const bool ok = duckdb_query(con_, sql.c_str(), res->raw()) == DuckDBSuccess;
    res->set_valid();
    if (!ok) {
      ADD_FAILURE() << "query failed: " << sql << "\n" << duckdb_result_error(res->raw());
      return nullptr;
    }
    return res;
  }
  // The single value of a one-row, one-column query, as text.
  std::string Scalar(const std::string& sql) {
    auto r = Query(sql);
    if (!r || r->rows() != 1) return "<no row>";
    return r->Text(0, 0);
  }

 private:
  duckdb_database db_ = nullptr;
  duckdb_connection con_ = nullptr;
};

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

// ---------------------------------------------------------------------------------------
// Column builders

struct Strings {
  std::string data;
  std::vector<uint32_t> offsets{0};
  std::vector<std::string> values;  // expected values, for comparison
  void Add(std::string_view s) {
    data.append(s);
    offsets.push_back(static_cast<uint32_t>(data.size()));
    values.emplace_back(s);
  }
  ColumnView View() const { return ColumnView::String(data, offsets); }
};

std::string Hex(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string Hex64(uint64_t seed) {
  static const char* kHex = "0123456789abcdef";
  std::mt19937_64 rng(seed);
  std::string s(64, '0');
  for (char& c : s) c = kHex[rng() & 15];
  return s;
}

Status WriteToFile(const std::string& path, std::vector<ColumnSpec> schema,
                   const std::vector<std::vector<ColumnView>>& row_groups,
                   const std::vector<size_t>& rows, WriterOptions opt = {}) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return Status::Error("open failed: " + path);
  Status st;
  {
    FdSink sink(fd);
    FileWriter writer(std::move(schema), &sink, opt);
    for (size_t i = 0; i < row_groups.size() && st.ok(); ++i) {
      st = writer.WriteRowGroup(row_groups[i], rows[i]);
    }
    if (st.ok()) st = writer.Finish();
  }
  ::close(fd);
  return st;
}

// ---------------------------------------------------------------------------------------
// Thrift compact protocol

TEST(ParquetThrift, EncodesFieldsListsAndNesting) {
  std::string out;
  thrift::CompactWriter w(&out);
  w.StructBegin();
  w.FieldI32(1, 1);      // delta 1, i32: 0x15, zigzag(1) = 2
  w.FieldI64(3, -1);     // delta 2, i64: 0x26, zigzag(-1) = 1
  w.FieldBinary(4, "ab");  // 0x18, len 2
  w.FieldBool(5, true);    // 0x11
  w.FieldBool(6, false);   // 0x12
  w.FieldI32(40, 300);     // delta 34: long form 0x05, zigzag(40) = 80, zigzag(300) = 600
  w.FieldStructBegin(41);  // delta 1, struct: 0x1c
  w.FieldI16(2, 7);        // inner ids restart: 0x24, 14
  w.StructEnd();           // 0x00
  w.FieldListBegin(42, thrift::CType::kI32, 2);  // 0x19, 0x25
  w.ElemI32(-2);                                 // 3
  w.ElemI32(64);                                 // 128 -> 0x80 0x01
  w.FieldListBegin(43, thrift::CType::kBinary, 15);  // 0x19, 0xf8, 15
  for (int i = 0; i < 15; ++i) w.ElemBinary("");
  w.StructEnd();
  const std::string expected =
      std::string("\x15\x02\x26\x01\x18\x02" "ab" "\x11\x12\x05\x50\xd8\x04\x1c\x24\x0e", 17) +
      std::string("\x00\x19\x25\x03\x80\x01\x19\xf8\x0f", 9) + std::string(15, '\0') +
      std::string(1, '\0');
  EXPECT_EQ(out, expected);
  EXPECT_EQ(thrift::CompactWriter::ZigZag64(std::numeric_limits<int64_t>::min()),
            std::numeric_limits<uint64_t>::max());
}

// ---------------------------------------------------------------------------------------
// Round trips

struct OrdersLike {
  std::vector<int64_t> id;
  std::vector<int32_t> i32;
  std::vector<double> dbl;
  std::vector<int32_t> date;
  Strings dict_str;   // few distinct values, dictionary
  Strings hex;        // unique, try_dictionary = false
  Strings fallback;   // dictionary attempted, too many distinct: PLAIN
  Strings runs;       // runs of varying length over many distinct values (wide bit width)
  Strings constant;   // one distinct value

  static std::vector<ColumnSpec> Schema() {
    return {
        {.name = "id", .type = Type::kInt64},
        {.name = "i32", .type = Type::kInt32, .codec = Codec::kUncompressed},
        {.name = "dbl", .type = Type::kDouble},
        {.name = "day", .type = Type::kDate},
        {.name = "country", .type = Type::kString},
        {.name = "order_id", .type = Type::kString, .try_dictionary = false},
        {.name = "fallback", .type = Type::kString, .codec = Codec::kUncompressed},
        {.name = "runs", .type = Type::kString},
        {.name = "constant", .type = Type::kString, .codec = Codec::kUncompressed},
    };
  }

  void Generate(size_t begin, size_t n) {
    static const std::vector<std::string> kCountries = {
        "United Kingdom", "Côte d'Ivoire", "", "a,b", "say \"hi\"", "EIRE", "日本", "O'Brien"};
    std::mt19937 rng(static_cast<uint32_t>(begin + 7));
    for (size_t k = 0; k < n; ++k) {
      const size_t i = begin + k;
      id.push_back(static_cast<int64_t>(i));
      int32_t v = static_cast<int32_t>(rng());
      if (i == 5) v = std::numeric_limits<int32_t>::min();
      if (i == 6) v = std::numeric_limits<int32_t>::max();
      i32.push_back(v);
      dbl.push_back(static_cast<double>(static_cast<int64_t>(i) - 1000) * 0.25);
      date.push_back(14000 + static_cast<int32_t>(i % 1000));
      dict_str.Add(kCountries[rng() % kCountries.size()]);
      hex.Add(Hex64(i));
      fallback.Add("f" + std::to_string(i * 7919 % 1000003));
      // Runs of 11 equal values, stepping through up to 100000 distinct strings.
      const size_t run_id = i / 11;
      runs.Add("r" + std::to_string((run_id * 2654435761u) % 100000));
      constant.Add("same");
    }
  }

  std::vector<ColumnView> Views(size_t begin, size_t n) const {
    auto str = [&](const Strings& s) {
      return ColumnView::String(s.data, std::span<const uint32_t>(s.offsets).subspan(begin, n + 1));
    };
    return {ColumnView::Int64(std::span(id).subspan(begin, n)),
            ColumnView::Int32(std::span(i32).subspan(begin, n)),
            ColumnView::Double(std::span(dbl).subspan(begin, n)),
            ColumnView::Date(std::span(date).subspan(begin, n)),
            str(dict_str),
            str(hex),
            str(fallback),
            str(runs),
            str(constant)};
  }
};

void ExpectAllRowsMatch(Duck& duck, const std::string& file, const OrdersLike& d) {
  auto r = duck.Query("SELECT id, i32, dbl, day, country, order_id, fallback, runs, constant "
                      "FROM read_parquet(" + Quote(file) + ") ORDER BY id");
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->rows(), d.id.size());
  size_t mismatches = 0;
  for (size_t i = 0; i < d.id.size() && mismatches < 5; ++i) {
    bool ok = r->I64(0, i) == d.id[i] && r->I64(1, i) == d.i32[i] && r->Dbl(2, i) == d.dbl[i] &&
              r->Date(3, i) == d.date[i] && r->Str(4, i) == d.dict_str.values[i] &&
              r->Str(5, i) == d.hex.values[i] && r->Str(6, i) == d.fallback.values[i] &&
              r->Str(7, i) == d.runs.values[i] && r->Str(8, i) == d.constant.values[i];
    if (!ok) {
      ++mismatches;
      ADD_FAILURE() << "row " << i << " differs: country=" << r->Str(4, i)
                    << " runs=" << r->Str(7, i) << " expected " << d.runs.values[i];
    }
  }
}

TEST(ParquetWriter, RoundTripsAllTypesAcrossRowGroupsAndPages) {
  TempDir dir;
  const std::string file = dir.str() + "/orders.parquet";
  // Three row groups of different sizes; default 1 MiB pages give several pages per chunk
  // (order_id: ~68 bytes x 150k rows = 10 MB).
  const std::vector<size_t> sizes = {150000, 1, 99999};
  OrdersLike d;
  size_t total = 0;
  for (size_t n : sizes) {
    d.Generate(total, n);
    total += n;
  }
  std::vector<std::vector<ColumnView>> groups;
  size_t begin = 0;
  for (size_t n : sizes) {
    groups.push_back(d.Views(begin, n));
    begin += n;
  }
  ASSERT_TRUE(WriteToFile(file, OrdersLike::Schema(), groups, sizes).ok());

  Duck duck;
  ExpectAllRowsMatch(duck, file, d);
  EXPECT_EQ(duck.Scalar("SELECT count(*) FROM parquet_metadata(" + Quote(file) +
                        ") WHERE column_id = 0"),
            "3");
  EXPECT_EQ(duck.Scalar("SELECT sum(num_values) FROM parquet_metadata(" + Quote(file) +
                        ") WHERE path_in_schema = 'order_id'"),
            std::to_string(total));
  // ~68 bytes x 150000 rows in the first chunk: about ten 1 MiB pages.
  EXPECT_EQ(duck.Scalar("SELECT total_uncompressed_size > 10000000 FROM parquet_metadata(" +
                        Quote(file) + ") WHERE path_in_schema = 'order_id' AND row_group_id = 0"),
            "true");
}

TEST(ParquetWriter, ManySmallPagesWithDictionaryRuns) {
  TempDir dir;
  const std::string file = dir.str() + "/small_pages.parquet";
  OrdersLike d;
  d.Generate(0, 60000);
  WriterOptions opt;
  opt.page_size = 1000;  // hundreds of pages per column; dictionary pages span many bit widths
  ASSERT_TRUE(WriteToFile(file, OrdersLike::Schema(), {d.Views(0, 60000)}, {60000}, opt).ok());
  Duck duck;
  ExpectAllRowsMatch(duck, file, d);
}

TEST(ParquetWriter, HybridEncodingOfEveryRunShapeAndBitWidth) {
  // A dictionary column whose index stream mixes runs of every length 1..40 with literal
  // stretches, for dictionary sizes giving bit widths 1..17.
  TempDir dir;
  Duck duck;
  for (uint32_t distinct : {2u, 3u, 5u, 17u, 255u, 256u, 257u, 4100u, 70000u}) {
    const std::string file = dir.str() + "/hybrid_" + std::to_string(distinct) + ".parquet";
    Strings s;
    std::vector<int64_t> id;
    std::mt19937 rng(distinct);
    size_t i = 0;
    while (s.values.size() < 2 * static_cast<size_t>(distinct) + 5000) {
      const uint32_t v = rng() % distinct;
      const size_t run = 1 + (i++ % 40);
      for (size_t k = 0; k < run; ++k) s.Add("v" + std::to_string(v));
    }
    // Make sure every dictionary value appears so the bit width is as planned.
    for (uint32_t v = 0; v < distinct; ++v) s.Add("v" + std::to_string(v));
    for (size_t k = 0; k < s.values.size(); ++k) id.push_back(static_cast<int64_t>(k));
    const size_t n = id.size();
    ASSERT_TRUE(WriteToFile(file,
                            {{.name = "id", .type = Type::kInt64},
                             {.name = "s", .type = Type::kString}},
                            {{ColumnView::Int64(id), s.View()}}, {n})
                    .ok());
    EXPECT_EQ(duck.Scalar("SELECT encodings FROM parquet_metadata(" + Quote(file) +
                          ") WHERE path_in_schema = 's'"),
              "PLAIN, RLE_DICTIONARY")
        << distinct;
    auto r = duck.Query("SELECT s FROM read_parquet(" + Quote(file) + ") ORDER BY id");
    ASSERT_NE(r, nullptr);
    ASSERT_EQ(r->rows(), n);
    for (size_t k = 0; k < n; ++k) {
      if (r->Str(0, k) != s.values[k]) {
        FAIL() << "distinct=" << distinct << " row " << k << ": " << r->Str(0, k)
               << " != " << s.values[k];
      }
    }
  }
}

TEST(ParquetWriter, SchemaTypes) {
  TempDir dir;
  const std::string file = dir.str() + "/schema.parquet";
  OrdersLike d;
  d.Generate(0, 100);
  ASSERT_TRUE(WriteToFile(file, OrdersLike::Schema(), {d.Views(0, 100)}, {100}).ok());
  Duck duck;
  auto r = duck.Query("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(" +
                      Quote(file) + "))");
  ASSERT_NE(r, nullptr);
  std::vector<std::pair<std::string, std::string>> got;
  for (size_t i = 0; i < r->rows(); ++i) got.emplace_back(r->Str(0, i), r->Str(1, i));
  const std::vector<std::pair<std::string, std::string>> want = {
      {"id", "BIGINT"},        {"i32", "INTEGER"},       {"dbl", "DOUBLE"},
      {"day", "DATE"},         {"country", "VARCHAR"},   {"order_id", "VARCHAR"},
      {"fallback", "VARCHAR"}, {"runs", "VARCHAR"},      {"constant", "VARCHAR"}};
  EXPECT_EQ(got, want);

  r = duck.Query("SELECT name, type, repetition_type, converted_type, num_children "
                 "FROM parquet_schema(" + Quote(file) + ")");
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->rows(), 10u);
  EXPECT_EQ(r->Text(0, 0), "schema");
  EXPECT_EQ(r->Text(4, 0), "9");
  std::map<std::string, std::string> desc;
  for (size_t i = 1; i < r->rows(); ++i) {
    desc[r->Str(0, i)] = r->Text(1, i) + "/" + r->Text(2, i) + "/" + r->Text(3, i);
  }
  EXPECT_EQ(desc["id"], "INT64/REQUIRED/<null>");
  EXPECT_EQ(desc["i32"], "INT32/REQUIRED/<null>");
  EXPECT_EQ(desc["dbl"], "DOUBLE/REQUIRED/<null>");
  EXPECT_EQ(desc["day"], "INT32/REQUIRED/DATE");
  EXPECT_EQ(desc["country"], "BYTE_ARRAY/REQUIRED/UTF8");
  EXPECT_EQ(duck.Scalar("SELECT created_by FROM parquet_file_metadata(" + Quote(file) + ")"),
            std::string(kCreatedBy));
}

TEST(ParquetWriter, MetadataEncodingsCompressionAndStatistics) {
  TempDir dir;
  const std::string file = dir.str() + "/meta.parquet";
  OrdersLike d;
  d.Generate(0, 5000);
  ASSERT_TRUE(WriteToFile(file, OrdersLike::Schema(), {d.Views(0, 5000)}, {5000}).ok());
  Duck duck;
  auto r = duck.Query(
      "SELECT path_in_schema, encodings, compression, stats_min_value, stats_max_value, "
      "stats_null_count, num_values, dictionary_page_offset IS NOT NULL, "
      "data_page_offset > coalesce(dictionary_page_offset, 0), total_compressed_size > 0 "
      "FROM parquet_metadata(" + Quote(file) + ") ORDER BY column_id");
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->rows(), 9u);
  std::map<std::string, std::vector<std::string>> m;
  for (size_t i = 0; i < r->rows(); ++i) {
    for (size_t c = 1; c < r->cols(); ++c) m[r->Str(0, i)].push_back(r->Text(c, i));
  }
  using V = std::vector<std::string>;
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  const auto hex_sorted = sorted(d.hex.values);
  const auto fb_sorted = sorted(d.fallback.values);
  const auto i32_minmax = std::minmax_element(d.i32.begin(), d.i32.end());
  EXPECT_EQ(m["id"], (V{"PLAIN", "SNAPPY", "0", "4999", "0", "5000", "false", "true", "true"}));
  EXPECT_EQ(m["i32"], (V{"PLAIN", "UNCOMPRESSED", std::to_string(*i32_minmax.first),
                         std::to_string(*i32_minmax.second), "0", "5000", "false", "true", "true"}));
  EXPECT_EQ(m["dbl"], (V{"PLAIN", "SNAPPY", "-250.0", "999.75", "0", "5000", "false", "true",
                         "true"}));
  EXPECT_EQ(m["day"], (V{"PLAIN", "SNAPPY", "2008-05-01", "2011-01-25", "0", "5000", "false",
                         "true", "true"}));
  // Unsigned bytewise order: "" < ... < "say \"hi\"" < "日本" (0xE6 > 's').
  EXPECT_EQ(m["country"], (V{"PLAIN, RLE_DICTIONARY", "SNAPPY", "", "日本", "0", "5000", "true",
                             "true", "true"}));
  EXPECT_EQ(m["order_id"], (V{"PLAIN", "SNAPPY", hex_sorted.front(), hex_sorted.back(), "0",
                              "5000", "false", "true", "true"}));
  EXPECT_EQ(m["fallback"], (V{"PLAIN", "UNCOMPRESSED", fb_sorted.front(), fb_sorted.back(), "0",
                              "5000", "false", "true", "true"}));
  EXPECT_EQ(m["constant"], (V{"PLAIN, RLE_DICTIONARY", "UNCOMPRESSED", "same", "same", "0",
                              "5000", "true", "true", "true"}));
}

TEST(ParquetWriter, FiltersUseStatisticsAndReturnTheRightRows) {
  TempDir dir;
  const std::string file = dir.str() + "/filter.parquet";
  OrdersLike d;
  const size_t n = 30000;
  d.Generate(0, n);
  // Ten row groups with disjoint id ranges, so min/max pruning is exercised.
  std::vector<std::vector<ColumnView>> groups;
  std::vector<size_t> sizes;
  for (size_t b = 0; b < n; b += 3000) {
    groups.push_back(d.Views(b, 3000));
    sizes.push_back(3000);
  }
  ASSERT_TRUE(WriteToFile(file, OrdersLike::Schema(), groups, sizes).ok());
  Duck duck;
  const std::string src = "read_parquet(" + Quote(file) + ")";
  size_t want_country = 0;
  for (const auto& c : d.dict_str.values) want_country += c == "Côte d'Ivoire";
  EXPECT_EQ(duck.Scalar("SELECT count(*) FROM " + src + " WHERE country = 'Côte d''Ivoire'"),
            std::to_string(want_country));
  EXPECT_EQ(duck.Scalar("SELECT count(*) FROM " + src + " WHERE country = ''"),
            std::to_string(std::count(d.dict_str.values.begin(), d.dict_str.values.end(), "")));
  EXPECT_EQ(duck.Scalar("SELECT id FROM " + src + " WHERE order_id = " + Quote(d.hex.values[12345])),
            "12345");
  EXPECT_EQ(duck.Scalar("SELECT order_id FROM " + src + " WHERE id = 29999"), d.hex.values[29999]);
  EXPECT_EQ(duck.Scalar("SELECT count(*) FROM " + src + " WHERE id BETWEEN 2990 AND 3010"), "21");
  EXPECT_EQ(duck.Scalar("SELECT count(*) FROM " + src + " WHERE i32 = " +
                        std::to_string(std::numeric_limits<int32_t>::min())),
            "1");
  EXPECT_EQ(duck.Scalar("SELECT count(*) FROM " + src + " WHERE dbl < 0"), "1000");
  EXPECT_EQ(duck.Scalar("SELECT count(*) FROM " + src + " WHERE day = DATE '2008-05-01'"), "30");
  EXPECT_EQ(duck.Scalar("SELECT count(*) FROM " + src + " WHERE constant = 'same'"),
            std::to_string(n));
  EXPECT_EQ(duck.Scalar("SELECT count(*) FROM " + src + " WHERE constant = 'other'"), "0");
}

TEST(ParquetWriter, EdgeStringsLargeValueAndSpecialDoubles) {
  TempDir dir;
  const std::string file = dir.str() + "/edge.parquet";
  // 100 KB, and the largest value bytewise (0xF0 first byte, then more 0xF0 than " emoji").
  std::string big;
  for (int i = 0; i < 25600; ++i) big += "\xF0\x9F\x98\x80";
  const std::vector<std::string> texts = {"", "Côte d'Ivoire", "a,b,\"c\"", "line\nbreak",
                                          big, "", "tab\there", std::string("nul\0byte", 8),
                                          "\xF0\x9F\x98\x80 emoji"};
  const std::vector<double> dbl = {0.0, -0.0, 1e308, -1e308, std::nan(""), 1.5e308, 5e-324,
                                   3.5, -2.25};
  std::vector<int64_t> id;
  Strings plain, dict;
  for (size_t i = 0; i < texts.size(); ++i) {
    id.push_back(static_cast<int64_t>(i));
    plain.Add(texts[i]);
    dict.Add(texts[i % 2]);
  }
  const size_t n = texts.size();
  for (Codec codec : {Codec::kSnappy, Codec::kUncompressed}) {
    ASSERT_TRUE(WriteToFile(file,
                            {{.name = "id", .type = Type::kInt64, .codec = codec},
                             {.name = "text", .type = Type::kString, .codec = codec},
                             {.name = "d", .type = Type::kDouble, .codec = codec},
                             {.name = "two", .type = Type::kString, .codec = codec}},
                            {{ColumnView::Int64(id), plain.View(), ColumnView::Double(dbl),
                              dict.View()}},
                            {n})
                    .ok());
    Duck duck;
    // hex() because the C API's string accessor stops at a NUL byte.
    auto r = duck.Query("SELECT hex(text), d, two FROM read_parquet(" + Quote(file) +
                        ") ORDER BY id");
    ASSERT_NE(r, nullptr);
    ASSERT_EQ(r->rows(), n);
    for (size_t i = 0; i < n; ++i) {
      EXPECT_EQ(r->Str(0, i), Hex(texts[i])) << i;
      if (std::isnan(dbl[i])) {
        EXPECT_TRUE(std::isnan(r->Dbl(1, i)));
      } else {
        EXPECT_EQ(r->Dbl(1, i), dbl[i]) << i;
        EXPECT_EQ(std::signbit(r->Dbl(1, i)), std::signbit(dbl[i])) << i;
      }
      EXPECT_EQ(r->Str(2, i), texts[i % 2]) << i;
    }
    // The 100 KB maximum is too long for statistics: left out, not truncated.
    auto m = duck.Query("SELECT path_in_schema, stats_min_value, stats_max_value, encodings "
                        "FROM parquet_metadata(" + Quote(file) + ") ORDER BY column_id");
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->Text(1, 1), "<null>");
    EXPECT_EQ(m->Text(2, 1), "<null>");
    EXPECT_EQ(m->Text(3, 1), "PLAIN");  // 9 rows, 8 distinct: too many for a dictionary
    // NaN is left out of double bounds.
    EXPECT_EQ(m->Text(1, 2), "-1e+308");
    EXPECT_EQ(m->Text(2, 2), "1.5e+308");
    EXPECT_EQ(m->Text(3, 3), "PLAIN, RLE_DICTIONARY");
    EXPECT_EQ(duck.Scalar("SELECT count(*) FROM read_parquet(" + Quote(file) +
                          ") WHERE text = 'Côte d''Ivoire'"),
              "1");
    EXPECT_EQ(duck.Scalar("SELECT id FROM read_parquet(" + Quote(file) +
                          ") WHERE strlen(text) = 102400"),
              "4");
    EXPECT_EQ(duck.Scalar("SELECT id FROM read_parquet(" + Quote(file) +
                          ") WHERE text = 'nul' || chr(0) || 'byte'"),
              "7");
  }
}

TEST(ParquetWriter, DictionaryFallsBackWhenTooLarge) {
  TempDir dir;
  const std::string file = dir.str() + "/dict_bytes.parquet";
  // 40% distinct (under the ratio) but ~2 MiB of distinct values: over the byte limit.
  Strings s;
  std::vector<int64_t> id;
  for (size_t i = 0; i < 50000; ++i) {
    s.Add(std::string(100, 'a') + std::to_string(i % 20000));
    id.push_back(static_cast<int64_t>(i));
  }
  ASSERT_TRUE(WriteToFile(file,
                          {{.name = "id", .type = Type::kInt64},
                           {.name = "s", .type = Type::kString}},
                          {{ColumnView::Int64(id), s.View()}}, {50000})
                  .ok());
  Duck duck;
  EXPECT_EQ(duck.Scalar("SELECT encodings FROM parquet_metadata(" + Quote(file) +
                        ") WHERE path_in_schema = 's'"),
            "PLAIN");
  EXPECT_EQ(duck.Scalar("SELECT count(DISTINCT s) FROM read_parquet(" + Quote(file) + ")"),
            "20000");
  // A larger limit keeps the dictionary.
  ASSERT_TRUE(WriteToFile(file,
                          {{.name = "id", .type = Type::kInt64},
                           {.name = "s", .type = Type::kString}},
                          {{ColumnView::Int64(id), s.View()}}, {50000},
                          WriterOptions{.dictionary_max_bytes = 64 << 20})
                  .ok());
  EXPECT_EQ(duck.Scalar("SELECT encodings FROM parquet_metadata(" + Quote(file) +
                        ") WHERE path_in_schema = 's'"),
            "PLAIN, RLE_DICTIONARY");
  auto r = duck.Query("SELECT s FROM read_parquet(" + Quote(file) + ") ORDER BY id");
  ASSERT_NE(r, nullptr);
  ASSERT_EQ(r->rows(), 50000u);
  for (size_t i = 0; i < 50000; i += 997) EXPECT_EQ(r->Str(0, i), s.values[i]);
}

TEST(ParquetWriter, ZeroRowFileHasSchema) {
  TempDir dir;
  const std::string file = dir.str() + "/empty.parquet";
  ASSERT_TRUE(WriteToFile(file, OrdersLike::Schema(), {}, {}).ok());
  Duck duck;
  EXPECT_EQ(duck.Scalar("SELECT count(*) FROM read_parquet(" + Quote(file) + ")"), "0");
  EXPECT_EQ(duck.Scalar("SELECT string_agg(column_type, ',') FROM (DESCRIBE SELECT * FROM "
                        "read_parquet(" + Quote(file) + "))"),
            "BIGINT,INTEGER,DOUBLE,DATE,VARCHAR,VARCHAR,VARCHAR,VARCHAR,VARCHAR");
  // A zero-row row group is skipped too.
  StringSink sink;
  FileWriter w(OrdersLike::Schema(), &sink);
  OrdersLike d;
  EXPECT_TRUE(w.WriteRowGroup(d.Views(0, 0), 0).ok());
  EXPECT_TRUE(w.Finish().ok());
  EXPECT_EQ(w.num_row_groups(), 0u);
  EXPECT_EQ(sink.contents().substr(0, 4), "PAR1");
  EXPECT_EQ(sink.contents().substr(sink.contents().size() - 4), "PAR1");
}

TEST(ParquetWriter, StringSinkMatchesFdSink) {
  TempDir dir;
  OrdersLike d;
  d.Generate(0, 20000);
  StringSink sink;
  FileWriter w(OrdersLike::Schema(), &sink);
  ASSERT_TRUE(w.WriteRowGroup(d.Views(0, 20000), 20000).ok());
  ASSERT_TRUE(w.Finish().ok());
  EXPECT_FALSE(w.Finish().ok());  // already finished
  EXPECT_FALSE(w.WriteRowGroup(d.Views(0, 20000), 20000).ok());
  // Buffer sizes exercising buffered, flushed and pass-through appends.
  for (size_t buffer : {size_t{1}, size_t{4096}, size_t{1} << 20, size_t{64} << 20}) {
    const std::string file = dir.str() + "/fd" + std::to_string(buffer) + ".parquet";
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd, 0);
    {
      FdSink fd_sink(fd, buffer);
      FileWriter fw(OrdersLike::Schema(), &fd_sink);
      ASSERT_TRUE(fw.WriteRowGroup(d.Views(0, 20000), 20000).ok());
      ASSERT_TRUE(fw.Finish().ok());
      EXPECT_EQ(fd_sink.position(), sink.contents().size());
    }
    ::close(fd);
    EXPECT_EQ(orderlake::testing::read_file(file), sink.contents()) << buffer;
  }
}

// Fails every append after the first `budget` bytes.
class FailingSink final : public OutputSink {
 public:
  explicit FailingSink(size_t budget) : budget_(budget) {}
  Status Append(std::string_view data) override {
    if (pos_ + data.size() > budget_) return Status::Error("disk full");
    pos_ += data.size();
    return Status::OK();
  }
  uint64_t position() const override { return pos_; }

 private:
  size_t budget_;
  size_t pos_ = 0;
};

TEST(ParquetWriter, SinkErrorsAreStickyAndReported) {
  OrdersLike d;
  d.Generate(0, 1000);
  for (size_t budget : {size_t{0}, size_t{100}, size_t{20000}}) {
    FailingSink sink(budget);
    FileWriter w(OrdersLike::Schema(), &sink);
    Status st = w.WriteRowGroup(d.Views(0, 1000), 1000);
    EXPECT_FALSE(st.ok());
    EXPECT_EQ(st.message(), "disk full");
    EXPECT_EQ(w.Finish().message(), "disk full");
  }
  FailingSink footer_fails(4);  // the magic fits, the footer does not
  FileWriter w(OrdersLike::Schema(), &footer_fails);
  EXPECT_FALSE(w.Finish().ok());
}

TEST(ParquetWriter, ValidationErrors) {
  StringSink sink;
  const std::vector<ColumnSpec> schema = {{.name = "a", .type = Type::kInt32},
                                          {.name = "s", .type = Type::kString}};
  FileWriter w(schema, &sink);
  std::vector<int32_t> a = {1, 2, 3};
  std::vector<int64_t> a64 = {1, 2, 3};
  std::string data = "xyzw";
  std::vector<uint32_t> off = {0, 1, 2, 4};
  std::vector<uint32_t> decreasing = {0, 3, 2, 4};
  std::vector<uint32_t> past_end = {0, 1, 2, 5};

  std::vector<ColumnView> one = {ColumnView::Int32(a)};
  Status st = w.WriteRowGroup(one, 3);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("1 columns, schema has 2"), std::string::npos) << st.message();

  std::vector<ColumnView> short_len = {ColumnView::Int32(a), ColumnView::String(data, off)};
  EXPECT_FALSE(w.WriteRowGroup(short_len, 4).ok());
  std::vector<ColumnView> wrong_type = {ColumnView::Int64(a64), ColumnView::String(data, off)};
  st = w.WriteRowGroup(wrong_type, 3);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("'a' is INT32 but was given INT64"), std::string::npos)
      << st.message();
  std::vector<ColumnView> bad_off = {ColumnView::Int32(a), ColumnView::String(data, decreasing)};
  st = w.WriteRowGroup(bad_off, 3);
  EXPECT_NE(st.message().find("decrease at row 1"), std::string::npos) << st.message();
  std::vector<ColumnView> bad_end = {ColumnView::Int32(a), ColumnView::String(data, past_end)};
  EXPECT_FALSE(w.WriteRowGroup(bad_end, 3).ok());
  EXPECT_EQ(sink.position(), 0u);  // nothing written

  // The writer is still usable after rejected input.
  std::vector<ColumnView> good = {ColumnView::Int32(a), ColumnView::String(data, off)};
  ASSERT_TRUE(w.WriteRowGroup(good, 3).ok());
  ASSERT_TRUE(w.Finish().ok());
  EXPECT_EQ(w.num_rows(), 3u);

  StringSink sink2;
  FileWriter dup({{.name = "x"}, {.name = "x"}}, &sink2);
  EXPECT_FALSE(dup.Finish().ok());
  FileWriter none({}, &sink2);
  EXPECT_FALSE(none.Finish().ok());
}

}  // namespace
}  // namespace orderlake::parquet
