// Bounded memory (issue 16, defect 4): the etl's peak RSS does not grow with the size of an
// object. A gzip object of a few MB that expands to ~400 MB (local, and in S3) is read by the
// real binary, whose peak RSS (ru_maxrss of the waited child) must stay under a fixed bound,
// and the table holds the same rows as a run over a small object of the same line.
#include <zlib.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace orderlake::etl {
namespace {
namespace stdfs = std::filesystem;
using orderlake::testing::duckdb_value;
using orderlake::testing::run_orderlake;
using orderlake::testing::TempDir;

constexpr const char* kLine = "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/01/2010 08:26,2.55,17850,United Kingdom\n";

// Writes `lines` copies of kLine as one gzip member, quickly (the input repeats).
void write_gzip_lines(const stdfs::path& path, size_t lines) {
  std::string block;
  for (int i = 0; i < 10000; ++i) block += kLine;
  z_stream z{};
  ASSERT_EQ(deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::ofstream out(path, std::ios::binary);
  std::vector<char> buf(1 << 20);
  auto pump = [&](const char* data, size_t n, int flush) {
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
    z.avail_in = static_cast<uInt>(n);
    do {
      z.next_out = reinterpret_cast<Bytef*>(buf.data());
      z.avail_out = static_cast<uInt>(buf.size());
      deflate(&z, flush);
      out.write(buf.data(), static_cast<std::streamsize>(buf.size() - z.avail_out));
    } while (z.avail_out == 0);
  };
  for (size_t done = 0; done < lines; done += 10000) {
    const size_t n = std::min<size_t>(10000, lines - done);
    pump(block.data(), n * std::string_view(kLine).size(), Z_NO_FLUSH);
  }
  pump(nullptr, 0, Z_FINISH);
  deflateEnd(&z);
}

// Runs `orderlake etl` and returns its peak RSS in KiB (-1 when it failed).
// `in` is a directory or an s3:// URL; `env` is added to the child's environment.
long etl_peak_rss_kib(const std::string& in, const stdfs::path& lake, const std::vector<std::string>& env = {}) {
  return testing::orderlake_peak_rss_kib({"etl", "--input", in, "--lake", lake.string()}, env);
}

std::string table_of(const stdfs::path& lake) {
  return "read_parquet('" + (lake / "orders" / "*" / "*" / "*.parquet").string() + "', hive_partitioning=true)";
}

TEST(EtlMemory, PeakRssOfAHugeGzipObjectStaysUnderABound) {
  if (testing::kThreadSanitizer) GTEST_SKIP() << "TSan's shadow memory makes a peak RSS bound meaningless";
  TempDir dir;
  const size_t kBigLines = 4'000'000;  // ~390 MB once decompressed
  stdfs::create_directories(dir.path() / "big");
  stdfs::create_directories(dir.path() / "small");
  write_gzip_lines(dir.path() / "big" / "orders.log.gz", kBigLines);
  write_gzip_lines(dir.path() / "small" / "orders.log.gz", 1000);
  ASSERT_LT(stdfs::file_size(dir.path() / "big" / "orders.log.gz"), 16u << 20);

  const long peak = etl_peak_rss_kib((dir.path() / "big").string(), dir.path() / "lake-big");
  ASSERT_GT(peak, 0) << "the etl over the big object failed";
  // The bound: the default options hold about 2 x 32 MiB of rows plus read buffers; before
  // the etl wrote rows out in row groups it held every row of a segment (up to 1 GiB).
  constexpr long kBoundKib = 256 * 1024;
  EXPECT_LT(peak, kBoundKib) << "peak RSS " << peak / 1024 << " MiB";
  ASSERT_EQ(run_orderlake({"etl", "--input", (dir.path() / "small").string(), "--lake",
                           (dir.path() / "lake-small").string()})
                .exit_code,
            0);

  EXPECT_EQ(duckdb_value("SELECT count(*) FROM " + table_of(dir.path() / "lake-big")), std::to_string(kBigLines));
  // Every row is the same curated row as the small run's.
  EXPECT_EQ(duckdb_value("SELECT count(*) FROM (SELECT DISTINCT * FROM " + table_of(dir.path() / "lake-big") + ") t"),
            "1");
  EXPECT_EQ(duckdb_value("SELECT count(*) FROM (SELECT DISTINCT * FROM " + table_of(dir.path() / "lake-big") +
                         " EXCEPT SELECT DISTINCT * FROM " + table_of(dir.path() / "lake-small") + ") t"),
            "0");
}

// The same object in S3 (moto): read in ranged GETs, decompressed as a stream.
TEST(EtlMemory, PeakRssOfAHugeGzipObjectInS3StaysUnderABound) {
  if (testing::kThreadSanitizer) GTEST_SKIP() << "TSan's shadow memory makes a peak RSS bound meaningless";
  TempDir dir;
  const size_t kBigLines = 4'000'000;
  stdfs::create_directories(dir.path() / "big");
  write_gzip_lines(dir.path() / "big" / "orders.log.gz", kBigLines);
  orderlake::testing::MotoServer moto;
  ASSERT_EQ(orderlake::testing::aws_cli(moto.endpoint(), {"s3api", "create-bucket", "--bucket", "raw"}).exit_code, 0);
  auto cp = orderlake::testing::aws_cli(
      moto.endpoint(), {"s3", "cp", (dir.path() / "big" / "orders.log.gz").string(), "s3://raw/in/orders.log.gz"});
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  const std::vector<std::string> env = {"AWS_ENDPOINT_URL_S3=" + moto.endpoint(), "AWS_ACCESS_KEY_ID=testing",
                                        "AWS_SECRET_ACCESS_KEY=testing", "AWS_REGION=us-east-1"};
  const long peak = etl_peak_rss_kib("s3://raw/in", dir.path() / "lake", env);
  ASSERT_GT(peak, 0) << "the etl over the object in S3 failed";
  EXPECT_LT(peak, 256 * 1024) << "peak RSS " << peak / 1024 << " MiB";
  EXPECT_EQ(duckdb_value("SELECT count(*) FROM " + table_of(dir.path() / "lake")), std::to_string(kBigLines));
}

}  // namespace
}  // namespace orderlake::etl
