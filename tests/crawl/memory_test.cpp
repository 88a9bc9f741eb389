// Bounded memory (issue 16, item 4): the crawler reads a bounded sample of each object, and
// a Parquet object in S3 is copied to a temporary file in ranges, never held whole. The
// peak RSS of `orderlake crawl` (ru_maxrss of the waited child) stays under a bound whatever
// the objects' sizes.
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "core/parquet_writer.h"
#include "test_util.h"

namespace orderlake::crawl {
namespace {
namespace stdfs = std::filesystem;
using testing::TempDir;

constexpr const char* kLine = "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/01/2010 08:26,2.55,17850,United Kingdom\n";

catalog::Table table_in(const stdfs::path& cat, const std::string& name) {
  auto c = catalog::Catalog::Open(cat);
  EXPECT_TRUE(c.ok());
  auto t = c.value()->GetTable("default", name);
  EXPECT_TRUE(t.ok() && t->has_value());
  return t.ok() && t->has_value() ? **t : catalog::Table{};
}

TEST(CrawlMemory, HugeObjectsAreSampledNotRead) {
  if (testing::kThreadSanitizer) GTEST_SKIP() << "TSan's shadow memory makes a peak RSS bound meaningless";
  TempDir tmp;
  const auto dir = tmp.path() / "raw";
  stdfs::create_directories(dir);
  {  // 2 GiB: real lines first, then a sparse tail
    std::string text;
    for (int i = 0; i < 2000; ++i) text += kLine;
    testing::write_file(dir / "a.log", text);
    ASSERT_EQ(::truncate((dir / "a.log").c_str(), off_t{2} << 30), 0);
  }
  {  // a gzip object expanding to ~1 GiB
    gzFile gz = gzopen((dir / "b.log.gz").c_str(), "wb1");
    std::string block;
    for (int i = 0; i < 10000; ++i) block += kLine;
    for (int i = 0; i < 1100; ++i) gzwrite(gz, block.data(), static_cast<unsigned>(block.size()));
    gzclose(gz);
  }
  const auto cat = tmp.path() / "catalog.db";
  const long peak = testing::orderlake_peak_rss_kib({"crawl", dir.string(), "--catalog", cat.string(), "--table", "raw"});
  ASSERT_GT(peak, 0) << "the crawl failed";
  EXPECT_LT(peak, 100 * 1024) << "peak RSS " << peak / 1024 << " MiB";
  catalog::Table t = table_in(cat, "raw");
  EXPECT_EQ(t.format, "csv");
  EXPECT_EQ(t.columns.size(), 8u);
}

// A Parquet object of ~120 MB in S3 (moto): the crawler copies it in ranges to read its
// schema; before, it held the whole object (and more) in memory.
TEST(CrawlMemory, BigParquetObjectInS3IsCopiedInRanges) {
  if (testing::kThreadSanitizer) GTEST_SKIP() << "TSan's shadow memory makes a peak RSS bound meaningless";
  TempDir tmp;
  const auto file = tmp.path() / "t" / "big.parquet";
  stdfs::create_directories(file.parent_path());
  {
    std::mt19937_64 rng(7);
    const size_t rows = 300'000, width = 100;
    std::string data(rows * width, '\0');
    for (auto& ch : data) ch = static_cast<char>('a' + rng() % 26);
    std::vector<uint32_t> offsets(rows + 1);
    for (size_t i = 0; i <= rows; ++i) offsets[i] = static_cast<uint32_t>(i * width);
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd, 0);
    parquet::FdSink sink(fd);
    parquet::FileWriter w({{"s", parquet::Type::kString, false, parquet::Codec::kUncompressed}}, &sink);
    const parquet::ColumnView col = parquet::ColumnView::String(data, offsets);
    for (int g = 0; g < 4; ++g) ASSERT_TRUE(w.WriteRowGroup(std::span(&col, 1), rows).ok());
    ASSERT_TRUE(w.Finish().ok());
    ::close(fd);
  }
  ASSERT_GT(stdfs::file_size(file), 100u << 20);
  testing::MotoServer moto;
  ASSERT_EQ(testing::aws_cli(moto.endpoint(), {"s3api", "create-bucket", "--bucket", "lake"}).exit_code, 0);
  auto cp = testing::aws_cli(moto.endpoint(), {"s3", "cp", file.string(), "s3://lake/t/big.parquet"});
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  const std::vector<std::string> env = {"AWS_ENDPOINT_URL_S3=" + moto.endpoint(), "AWS_ACCESS_KEY_ID=testing",
                                        "AWS_SECRET_ACCESS_KEY=testing", "AWS_REGION=us-east-1"};
  const auto cat = tmp.path() / "catalog.db";
  const long peak = testing::orderlake_peak_rss_kib({"crawl", "s3://lake/t", "--catalog", cat.string(), "--table", "big"}, env);
  ASSERT_GT(peak, 0) << "the crawl failed";
  EXPECT_LT(peak, 100 * 1024) << "peak RSS " << peak / 1024 << " MiB";
  catalog::Table t = table_in(cat, "big");
  EXPECT_EQ(t.format, "parquet");
  EXPECT_EQ(t.columns, (std::vector<catalog::Column>{{"s", "string"}}));
}

}  // namespace
}  // namespace orderlake::crawl
