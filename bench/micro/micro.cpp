// Micro benchmarks (Google Benchmark) of the two hand-written pieces that have a library
// alternative on this machine, each beside that alternative in the same run:
//   - SHA-256 of short keys (the OrderID of SPEC §2 is the digest of "InvoiceNo-StockCode"):
//     core/sha256 against OpenSSL's EVP interface (one-shot EVP_Digest, and a reused
//     EVP_MD_CTX with the digest fetched once, OpenSSL 3's fastest way for many small inputs);
//   - the Parquet writer: core/parquet_writer against DuckDB's COPY … (FORMAT parquet,
//     COMPRESSION snappy) writing the same 13 columns of the same rows to the same disk.
// bench/micro.sh runs this and prints the ratios; bench/README.md records them.
#include <benchmark/benchmark.h>
#include <duckdb.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "core/parquet_writer.h"
#include "core/sha256.h"
#include "etl/columns.h"

namespace {

// Keys shaped like the generator's "InvoiceNo-StockCode", padded to the benchmark's length.
std::vector<std::string> make_keys(size_t len, size_t n = 4096) {
  std::mt19937_64 rng(42);
  std::vector<std::string> keys;
  keys.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    std::string k = std::to_string(536365 + rng() % 100000) + "-" + std::to_string(10000 + rng() % 90000) + "A";
    while (k.size() < len) k.push_back(static_cast<char>('a' + rng() % 26));
    k.resize(len);
    keys.push_back(std::move(k));
  }
  return keys;
}

void BM_Sha256_Orderlake(benchmark::State& state) {
  const auto keys = make_keys(static_cast<size_t>(state.range(0)));
  uint8_t out[32];
  size_t i = 0;
  for (auto _ : state) {
    const std::string& k = keys[i++ & (keys.size() - 1)];
    orderlake::sha256(k.data(), k.size(), out);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(orderlake::sha256_uses_cpu_extensions() ? "SHA-NI" : "portable");
}

void BM_Sha256_EvpDigest(benchmark::State& state) {
  const auto keys = make_keys(static_cast<size_t>(state.range(0)));
  unsigned char out[32];
  unsigned int n = 0;
  size_t i = 0;
  for (auto _ : state) {
    const std::string& k = keys[i++ & (keys.size() - 1)];
    EVP_Digest(k.data(), k.size(), out, &n, EVP_sha256(), nullptr);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Sha256_EvpReusedCtx(benchmark::State& state) {
  const auto keys = make_keys(static_cast<size_t>(state.range(0)));
  EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char out[32];
  unsigned int n = 0;
  size_t i = 0;
  for (auto _ : state) {
    const std::string& k = keys[i++ & (keys.size() - 1)];
    EVP_DigestInit_ex(ctx, md, nullptr);
    EVP_DigestUpdate(ctx, k.data(), k.size());
    EVP_DigestFinal_ex(ctx, out, &n);
    benchmark::DoNotOptimize(out);
  }
  EVP_MD_CTX_free(ctx);
  EVP_MD_free(md);
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_Sha256_Orderlake)->Arg(16)->Arg(30)->Arg(45)->Arg(60);
BENCHMARK(BM_Sha256_EvpDigest)->Arg(16)->Arg(30)->Arg(45)->Arg(60);
BENCHMARK(BM_Sha256_EvpReusedCtx)->Arg(16)->Arg(30)->Arg(45)->Arg(60);

// ---- Parquet ------------------------------------------------------------------------------

// The curated table's 13 file columns (SPEC §3 without the partition columns), as flat
// buffers, with the generator's cardinalities: few regions, tags and hours; ~4,000 items;
// a random 64-hex OrderID per row.
struct Rows {
  size_t n = 0;
  std::vector<int32_t> customer_id, quantity, invoice_hour;
  std::vector<double> unit_price, total, total_usd;
  struct Str {
    std::string data;
    std::vector<uint32_t> offsets{0};
    void add(std::string_view s) {
      data.append(s);
      offsets.push_back(static_cast<uint32_t>(data.size()));
    }
    std::string_view at(size_t i) const { return std::string_view(data).substr(offsets[i], offsets[i + 1] - offsets[i]); }
  } order_id, invoice_no, stock_code, description, order_tag, invoice_date, region;
};

const Rows& rows(size_t n) {
  static Rows r;
  if (r.n == n) return r;
  r = Rows{};
  r.n = n;
  std::mt19937_64 rng(7);
  static const char* kRegions[] = {"Europe", "Asia", "North America", "Oceania", "Middle East", "Other"};
  static const char* kHex = "0123456789abcdef";
  for (size_t i = 0; i < n; ++i) {
    const int item = static_cast<int>(rng() % 4000);
    const int qty = 1 + static_cast<int>(rng() % 24);
    const double price = 0.5 + static_cast<double>(rng() % 2000) / 100.0;
    r.customer_id.push_back(12346 + static_cast<int32_t>(rng() % 4300));
    r.quantity.push_back(qty);
    r.invoice_hour.push_back(static_cast<int32_t>(rng() % 24));
    r.unit_price.push_back(price);
    r.total.push_back(price * qty);
    r.total_usd.push_back(price * qty * 0.012);
    std::string id(64, '0');
    for (auto& c : id) c = kHex[rng() & 15];
    r.order_id.add(id);
    r.invoice_no.add(std::to_string(536365 + i / 20));
    r.stock_code.add(std::to_string(10000 + item * 17) + (item % 3 ? "A" : ""));
    r.description.add("ITEM DESCRIPTION NUMBER " + std::to_string(item));
    r.order_tag.add(price * qty > 100 ? "High" : "Normal");
    r.invoice_date.add("12/" + std::to_string(1 + i * 30 / n) + "/2010 " + std::to_string(r.invoice_hour.back()) + ":07");
    r.region.add(kRegions[rng() % 6]);
  }
  return r;
}

std::string out_path(const char* name) {
  const char* dir = std::getenv("BENCH_OUT");
  std::filesystem::path p = dir ? dir : std::filesystem::temp_directory_path();
  std::filesystem::create_directories(p);
  return (p / name).string();
}

void BM_Parquet_Orderlake(benchmark::State& state) {
  using namespace orderlake::parquet;
  const Rows& r = rows(static_cast<size_t>(state.range(0)));
  const std::vector<ColumnSpec>& schema = orderlake::etl::order_file_schema();  // the etl's own files
  auto s = [](const Rows::Str& c) { return ColumnView::String(c.data, c.offsets); };
  const std::vector<ColumnView> cols = {
      ColumnView::Int32(r.customer_id), s(r.order_id),   s(r.invoice_no), s(r.stock_code),
      s(r.description),                 ColumnView::Int32(r.quantity), ColumnView::Double(r.unit_price),
      ColumnView::Double(r.total),      ColumnView::Double(r.total_usd), s(r.order_tag),
      s(r.invoice_date),                ColumnView::Int32(r.invoice_hour), s(r.region)};
  const std::string path = out_path("micro-orderlake.parquet");
  for (auto _ : state) {
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (!f) {
      state.SkipWithError("cannot open the output file");
      break;
    }
    {
      FdSink sink(fileno(f));
      FileWriter w(schema, &sink);
      // Row groups of 122,880 rows, as DuckDB writes them by default.
      orderlake::Status st;
      for (size_t from = 0; from < r.n && st.ok(); from += 122880) {
        const size_t to = std::min(r.n, from + 122880);
        std::vector<ColumnView> part;
        for (const ColumnView& c : cols) {
          ColumnView v = c;
          v.i32 = c.i32.empty() ? c.i32 : c.i32.subspan(from, to - from);
          v.i64 = c.i64.empty() ? c.i64 : c.i64.subspan(from, to - from);
          v.f64 = c.f64.empty() ? c.f64 : c.f64.subspan(from, to - from);
          v.str_offsets = c.str_offsets.empty() ? c.str_offsets : c.str_offsets.subspan(from, to - from + 1);
          part.push_back(v);
        }
        st = w.WriteRowGroup(part, to - from);
      }
      if (st.ok()) st = w.Finish();
      if (!st.ok()) state.SkipWithError(st.message().c_str());
    }
    std::fclose(f);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(r.n));
  state.counters["file_MB"] = static_cast<double>(std::filesystem::file_size(path)) / 1e6;
}

bool duck_ok(duckdb_state st, duckdb_result* res, benchmark::State& state) {
  if (st == DuckDBSuccess) return true;
  state.SkipWithError(duckdb_result_error(res));
  return false;
}

// DuckDB with the same rows in one of its tables (loaded through the appender, untimed),
// timing COPY … TO a Parquet file; threads = the benchmark's argument.
void BM_Parquet_DuckdbCopy(benchmark::State& state) {
  const Rows& r = rows(static_cast<size_t>(state.range(0)));
  duckdb_database db;
  duckdb_connection con;
  duckdb_open(nullptr, &db);
  duckdb_connect(db, &con);
  duckdb_result res;
  const std::string threads = "SET threads = " + std::to_string(state.range(1));
  duckdb_query(con, threads.c_str(), &res);
  duckdb_destroy_result(&res);
  if (!duck_ok(duckdb_query(con,
                            "CREATE TABLE t (CustomerID INTEGER, OrderID VARCHAR, InvoiceNo VARCHAR, StockCode VARCHAR, "
                            "Description VARCHAR, Quantity INTEGER, UnitPrice DOUBLE, TotalAmount DOUBLE, "
                            "TotalAmountUSD DOUBLE, OrderTag VARCHAR, InvoiceDate VARCHAR, InvoiceHour INTEGER, "
                            "Region VARCHAR)",
                            &res),
               &res, state))
    return;
  duckdb_destroy_result(&res);
  duckdb_appender app;
  duckdb_appender_create(con, nullptr, "t", &app);
  auto str = [&](const Rows::Str& c, size_t i) {
    auto v = c.at(i);
    duckdb_append_varchar_length(app, v.data(), v.size());
  };
  for (size_t i = 0; i < r.n; ++i) {
    duckdb_append_int32(app, r.customer_id[i]);
    str(r.order_id, i);
    str(r.invoice_no, i);
    str(r.stock_code, i);
    str(r.description, i);
    duckdb_append_int32(app, r.quantity[i]);
    duckdb_append_double(app, r.unit_price[i]);
    duckdb_append_double(app, r.total[i]);
    duckdb_append_double(app, r.total_usd[i]);
    str(r.order_tag, i);
    str(r.invoice_date, i);
    duckdb_append_int32(app, r.invoice_hour[i]);
    str(r.region, i);
    duckdb_appender_end_row(app);
  }
  duckdb_appender_destroy(&app);
  const std::string path = out_path("micro-duckdb.parquet");
  const std::string copy = "COPY t TO '" + path + "' (FORMAT parquet, COMPRESSION snappy)";
  for (auto _ : state) {
    if (!duck_ok(duckdb_query(con, copy.c_str(), &res), &res, state)) break;
    duckdb_destroy_result(&res);
  }
  duckdb_disconnect(&con);
  duckdb_close(&db);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(r.n));
  state.counters["file_MB"] = static_cast<double>(std::filesystem::file_size(path)) / 1e6;
}

BENCHMARK(BM_Parquet_Orderlake)->Arg(1 << 20)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Parquet_DuckdbCopy)->Args({1 << 20, 1})->Args({1 << 20, 2})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
