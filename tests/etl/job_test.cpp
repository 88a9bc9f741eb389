// The batch etl end to end on real files, read back with DuckDB.
#include "etl/job.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/fs.h"
#include "test_util.h"

namespace orderlake::etl {
namespace {
namespace stdfs = std::filesystem;
using orderlake::testing::duckdb_rows;
using orderlake::testing::duckdb_value;
using orderlake::testing::read_file;
using orderlake::testing::run_orderlake;
using orderlake::testing::TempDir;
using orderlake::testing::write_file;

const char* kSmall =
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/01/2010 08:26,2.55,17850,United Kingdom\n"
    "536366,22633,\"HAND WARMER, UNION JACK\",6,12/1/2010 8:28,1.85,17850,United Kingdom\r\n"
    "C536379,D,Discount,-1,12/01/2010 09:41,27.50,14527,United Kingdom\n"
    "536380,1,x,1,2010-12-02 10:00:05,0,1,France\n"
    "536381,2,y,1,2010-12-02 10:00,5,,France\n"
    "bad line\n"
    "\n"
    "{\"InvoiceNo\":\"536382\",\"StockCode\":\"A\",\"Description\":\"d\",\"Quantity\":\"30\","
    "\"InvoiceDate\":\"12/03/2010 11:00\",\"UnitPrice\":\"4.5\",\"CustomerID\":\"12345\","
    "\"Country\":\"Côte d'Ivoire\"}\n";

struct Lake {
  TempDir dir;
  stdfs::path in() const { return dir.path() / "raw"; }
  stdfs::path lake() const { return dir.path() / "lake"; }
  EtlOptions options() const {
    EtlOptions o;
    o.input = in().string();
    o.lake = lake().string();
    return o;
  }
  std::string glob() const { return (lake() / "orders" / "*" / "*" / "*.parquet").string(); }
  std::string table() const {
    return "read_parquet('" + glob() + "', hive_partitioning=true)";
  }
  uint64_t rows() const {
    if (parquet_files() == 0) return 0;
    return std::stoull(duckdb_value("SELECT count(*) FROM " + table()));
  }
  size_t parquet_files() const {
    size_t n = 0;
    if (!stdfs::exists(lake() / "orders")) return 0;
    for (auto& e : stdfs::recursive_directory_iterator(lake() / "orders"))
      if (e.path().extension() == ".parquet") ++n;
    return n;
  }
  size_t staged_files() const {
    size_t n = 0;
    if (!stdfs::exists(lake())) return 0;
    // Files written but not published: in the staging directory, or under a hidden name.
    for (auto& e : stdfs::recursive_directory_iterator(lake()))
      if (e.is_regular_file() && (e.path().filename().string().starts_with(".") ||
                                  e.path().string().find("/_orderlake/orders/staging/") != std::string::npos))
        ++n;
    return n;
  }
};

RunSummary must_run(const EtlOptions& o) {
  auto r = run_etl(o);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? r.value() : RunSummary{};
}

// n valid lines for invoice numbers [first, first + n), spread over three countries and days.
std::string valid_lines(int first, int n) {
  static const char* countries[] = {"United Kingdom", "France", "Germany"};
  std::string s;
  for (int i = first; i < first + n; ++i)
    s += fmt::format("{},{}A,ITEM {},{},12/{:02d}/2010 {:02d}:15,{}.25,{},{}\n", i, i % 97, i % 13, 1 + i % 7,
                     1 + i % 3, 8 + i % 10, 1 + i % 4, 12346 + i % 100, countries[i % 3]);
  return s;
}

TEST(EtlJob, SmallBatchEveryColumnAndCount) {
  Lake l;
  write_file(l.in() / "a.log", kSmall);
  RunSummary s = must_run(l.options());
  EXPECT_EQ(s.records, 7u);
  EXPECT_EQ(s.empty_lines, 1u);
  EXPECT_EQ(s.kept, 3u);
  EXPECT_EQ(s.filtered.at("non_positive_quantity"), 1u);
  EXPECT_EQ(s.filtered.at("non_positive_price"), 1u);
  EXPECT_EQ(s.filtered.at("missing_customer_id"), 1u);
  EXPECT_EQ(s.quarantined.at("field_count"), 1u);
  EXPECT_EQ(s.partitions, 2u);
  EXPECT_TRUE(stdfs::is_directory(l.lake() / "orders" / "Country=Côte d%27Ivoire" / "InvoiceDateOnly=2010-12-03"));
  EXPECT_TRUE(stdfs::is_directory(l.lake() / "orders" / "Country=United Kingdom" / "InvoiceDateOnly=2010-12-01"));

  auto rows = duckdb_rows(
      "SELECT CustomerID, OrderID, InvoiceNo, StockCode, Description, Quantity, UnitPrice, TotalAmount, "
      "TotalAmountUSD, OrderTag, InvoiceDate, InvoiceHour, Region, InvoiceDateOnly FROM " + l.table() +
      " ORDER BY InvoiceNo");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"17850", "c8c9f1dd88e53de9d293fa4fa2d1677a1a9c391d71bf6ada4033da21ddd96829",
                                               "536365", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", "6", "2.55",
                                               "15.299999999999999", "0.18359999999999999", "Normal", "12/01/2010 08:26", "8",
                                               "Europe", "2010-12-01"}));
  EXPECT_EQ(rows[1][4], "HAND WARMER, UNION JACK");
  EXPECT_EQ(rows[1][10], "12/1/2010 8:28");
  EXPECT_EQ(rows[2][9], "High");  // 30 * 4.5 = 135
  EXPECT_EQ(rows[2][12], "Africa");
  // The file schema is SPEC §3's, in order.
  auto schema = duckdb_rows("SELECT name, type, logical_type FROM parquet_schema('" + l.glob() +
                            "') WHERE name <> 'duckdb_schema' AND name <> 'schema' LIMIT 13");
  std::vector<std::string> names;
  for (auto& r : schema) names.push_back(r[0]);
  EXPECT_EQ(names, (std::vector<std::string>{"CustomerID", "OrderID", "InvoiceNo", "StockCode", "Description",
                                             "Quantity", "UnitPrice", "TotalAmount", "TotalAmountUSD", "OrderTag",
                                             "InvoiceDate", "InvoiceHour", "Region"}));
  EXPECT_EQ(schema[0][1], "INT32");
  EXPECT_EQ(schema[1][1], "BYTE_ARRAY");
  EXPECT_EQ(schema[6][1], "DOUBLE");
  // The data-quality summary is stored with the run.
  auto stored = nlohmann::json::parse(read_file(l.lake() / "_orderlake" / "orders" / "runs" / (s.run_id + ".json")));
  EXPECT_EQ(stored["kept"], 3);
  EXPECT_EQ(stored["quarantined"]["field_count"], 1);
  EXPECT_EQ(stored["filtered"]["missing_customer_id"], 1);
}

TEST(EtlJob, QuarantineNamesSourceLineOffsetAndReason) {
  Lake l;
  write_file(l.in() / "a.log", kSmall);
  RunSummary s = must_run(l.options());
  ASSERT_FALSE(s.quarantine_file.empty());
  std::string text = read_file(l.lake() / s.quarantine_file);
  auto q = nlohmann::json::parse(text.substr(0, text.find('\n')));
  EXPECT_EQ(q["reason"], "field_count");
  EXPECT_EQ(q["record"], "bad line");
  EXPECT_EQ(q["line"], 6);
  EXPECT_EQ(q["source"], stdfs::absolute(l.in() / "a.log").lexically_normal().string());
  std::string src = read_file(l.in() / "a.log");
  EXPECT_EQ(src.substr(q["offset"].get<size_t>(), 8), "bad line");
  EXPECT_NE(q["detail"].get<std::string>().find("8 fields"), std::string::npos);
}

TEST(EtlJob, BookmarkMakesRerunsIncremental) {
  Lake l;
  write_file(l.in() / "2010" / "a.log", valid_lines(1000, 300));
  RunSummary first = must_run(l.options());
  EXPECT_EQ(first.kept, 300u);
  const size_t files = l.parquet_files();
  EXPECT_EQ(l.rows(), 300u);

  RunSummary again = must_run(l.options());
  EXPECT_TRUE(again.run_id.empty());
  EXPECT_EQ(again.objects, 0u);
  EXPECT_EQ(again.objects_skipped, 1u);
  EXPECT_EQ(l.parquet_files(), files);
  EXPECT_EQ(l.rows(), 300u);

  write_file(l.in() / "2010" / "b.log", valid_lines(5000, 50));
  RunSummary second = must_run(l.options());
  EXPECT_EQ(second.objects, 1u);
  EXPECT_EQ(second.kept, 50u);
  EXPECT_EQ(l.rows(), 350u);
  EXPECT_EQ(duckdb_value("SELECT count(*) FROM " + l.table() + " WHERE InvoiceNo::INT >= 5000"), "50");

  // A log file that grows: only the new lines are read.
  {
    std::ofstream out(l.in() / "2010" / "b.log", std::ios::app);
    out << valid_lines(7000, 20);
  }
  RunSummary third = must_run(l.options());
  EXPECT_EQ(third.kept, 20u);
  EXPECT_EQ(l.rows(), 370u);
  EXPECT_EQ(duckdb_value("SELECT count(DISTINCT InvoiceNo) FROM " + l.table()), "370");
}

void write_gzip(const stdfs::path& p, const std::string& data, bool append = false) {
  stdfs::create_directories(p.parent_path());
  gzFile f = gzopen(p.c_str(), append ? "ab" : "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, data.data(), static_cast<unsigned>(data.size())), static_cast<int>(data.size()));
  gzclose(f);
}

TEST(EtlJob, GzipObjectsPlainConcatenatedAndTruncated) {
  Lake l;
  write_gzip(l.in() / "one.gz", valid_lines(1, 1000));
  write_gzip(l.in() / "two", valid_lines(2000, 10));  // no extension: detected by magic bytes
  write_gzip(l.in() / "two", valid_lines(3000, 10), true);  // a second gzip member
  // A truncated gzip object: what decompresses is kept, the damage is quarantined.
  write_gzip(l.dir.path() / "full.gz", valid_lines(10000, 20000));
  std::string full = read_file(l.dir.path() / "full.gz");
  write_file(l.in() / "three.gz", full.substr(0, full.size() / 2));
  RunSummary s = must_run(l.options());
  EXPECT_EQ(s.quarantined.at("corrupt_object"), 1u);
  const uint64_t kept_from_truncated = s.kept - 1020;
  EXPECT_GT(kept_from_truncated, 0u);
  EXPECT_LT(kept_from_truncated, 20000u);
  EXPECT_EQ(l.rows(), s.kept);
  EXPECT_EQ(duckdb_value("SELECT count(*) FROM " + l.table() + " WHERE InvoiceNo::INT BETWEEN 2000 AND 3999"), "20");
}

TEST(EtlJob, BadInputNeverCrashesAndIsAccountedFor) {
  Lake l;
  std::string garbage;
  uint32_t x = 12345;
  for (int i = 0; i < 200000; ++i) {
    x = x * 1103515245 + 12345;
    garbage.push_back(static_cast<char>(x >> 24));
  }
  write_file(l.in() / "garbage.bin", garbage);
  write_file(l.in() / "empty.log", "");
  std::string huge = valid_lines(1, 2) + std::string(10 << 20, 'x') + "\n" + valid_lines(3, 2) +
                     std::string(2 << 20, 'y');  // a 10 MB line, and an over-long last line without \n
  write_file(l.in() / "huge.log", huge);
  write_file(l.in() / "utf8.log", valid_lines(10, 1) + "1,A,\xff\xfe bad,1,12/01/2010 08:00,1,1,France\n" +
                                      valid_lines(11, 1) + "truncated,line,with,no");
  RunSummary s = must_run(l.options());
  EXPECT_EQ(s.kept, 6u);
  EXPECT_EQ(s.quarantined.at("line_too_long"), 2u);
  EXPECT_EQ(s.quarantined.at("invalid_utf8") >= 1, true);
  EXPECT_GE(s.quarantined_total(), 4u);
  EXPECT_EQ(s.records, s.kept + s.filtered_total() + s.quarantined_total());
  EXPECT_EQ(l.rows(), 6u);
  // The over-long lines are recorded by position and length, with a prefix.
  std::string q = read_file(l.lake() / s.quarantine_file);
  EXPECT_NE(q.find("\"length\":10485760"), std::string::npos);
  EXPECT_NE(q.find("record_prefix_base64"), std::string::npos);
  EXPECT_NE(q.find("record_base64"), std::string::npos);  // the invalid UTF-8 record, kept whole
}

TEST(EtlJob, MissingInputIsAClearError) {
  Lake l;
  EtlOptions o = l.options();
  o.input = (l.dir.path() / "nowhere").string();
  auto r = run_etl(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nowhere"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("does not exist"), std::string::npos) << r.status().message();
  auto cli = run_orderlake({"etl", "--input", o.input, "--lake", o.lake});
  EXPECT_NE(cli.exit_code, 0);
  EXPECT_NE(cli.err.find("nowhere"), std::string::npos) << cli.err;
}

TEST(EtlJob, ManyMemorySegmentsGiveTheSameTable) {
  Lake l;
  for (int f = 0; f < 4; ++f) write_file(l.in() / fmt::format("part-{}.log", f), valid_lines(f * 100000, 60000));
  EtlOptions o = l.options();
  o.memory_budget = 4 << 20;
  o.chunk_bytes = 256 << 10;
  RunSummary s = must_run(o);
  EXPECT_EQ(s.kept, 240000u);
  EXPECT_EQ(l.rows(), 240000u);
  EXPECT_GT(s.files, 9u);  // several segments, so several files per partition
  EXPECT_EQ(duckdb_value("SELECT count(DISTINCT InvoiceNo) FROM " + l.table()), "240000");
  EXPECT_EQ(duckdb_value("SELECT sum(Quantity) FROM " + l.table()),
            duckdb_value("SELECT sum(1 + i % 7) FROM (SELECT unnest([range(0,60000), range(100000,160000), "
                         "range(200000,260000), range(300000,360000)]) AS r) t, unnest(r) AS u(i)"));
}

TEST(EtlJob, ASecondEtlOnTheSameTableIsRefused) {
  Lake l;
  write_file(l.in() / "a.log", valid_lines(1, 5));
  auto lock = fs::FileLock::Acquire(l.lake() / "_orderlake" / "orders" / "lock", "test");
  ASSERT_TRUE(lock.ok());
  auto r = run_etl(l.options());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("in use"), std::string::npos) << r.status().message();
}

class EtlCrash : public ::testing::TestWithParam<const char*> {};

TEST_P(EtlCrash, ACrashAnywhereNeitherLosesNorDuplicatesRows) {
  Lake l;
  for (int f = 0; f < 3; ++f) write_file(l.in() / fmt::format("p{}.log", f), valid_lines(f * 10000, 5000));
  write_file(l.in() / "bad.log", "bad line\n");
  std::vector<std::string> args = {"etl", "--input", l.in().string(), "--lake", l.lake().string(), "--memory-mb", "16"};
  auto crashed = run_orderlake(args, 120, {std::string("ORDERLAKE_CRASH_AT=") + GetParam()});
  ASSERT_EQ(crashed.exit_code, 86) << crashed.err;
  auto resumed = run_orderlake(args, 120);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(l.rows(), 15000u);
  EXPECT_EQ(duckdb_value("SELECT count(DISTINCT InvoiceNo) FROM " + l.table()), "15000");
  EXPECT_EQ(l.staged_files(), 0u);
  EXPECT_FALSE(stdfs::exists(l.lake() / "_orderlake" / "orders" / "pending") &&
               !stdfs::is_empty(l.lake() / "_orderlake" / "orders" / "pending"));
  // The quarantine holds the bad line once.
  size_t q = 0;
  for (auto& e : stdfs::directory_iterator(l.lake() / "_quarantine" / "orders"))
    if (e.path().extension() == ".jsonl") {
      const std::string text = read_file(e.path());
      q += static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
    }
  EXPECT_EQ(q, 1u);
  auto third = run_orderlake(args, 120);
  ASSERT_EQ(third.exit_code, 0) << third.err;
  EXPECT_NE(third.err.find("nothing new"), std::string::npos) << third.err;
  EXPECT_EQ(l.rows(), 15000u);
}

INSTANTIATE_TEST_SUITE_P(Points, EtlCrash,
                         ::testing::Values("after_segment", "before_journal", "after_journal", "mid_publish", "before_commit",
                                           "before_bookmark"));

}  // namespace
}  // namespace orderlake::etl

namespace orderlake::etl {
namespace {
TEST(EtlFollow, PicksUpNewObjectsUntilStopped) {
  Lake l;
  write_file(l.in() / "a.log", valid_lines(1, 10));
  orderlake::testing::BackgroundProcess etl({ORDERLAKE_BINARY, "etl", "--follow", "--interval-ms", "50", "--json",
                                             "--input", l.in().string(), "--lake", l.lake().string()});
  ASSERT_TRUE(orderlake::testing::wait_for([&] { return l.rows() == 10; }, 30)) << etl.err();
  write_file(l.in() / "b.log", valid_lines(100, 5));
  ASSERT_TRUE(orderlake::testing::wait_for([&] { return l.rows() == 15; }, 30)) << etl.err();
  EXPECT_EQ(etl.Stop(SIGTERM), 0) << etl.err();
  // One JSON summary line per run that read something.
  const std::string out = etl.out();
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2) << out;
  EXPECT_NE(out.find("\"kept\":5"), std::string::npos) << out;
  EXPECT_EQ(l.rows(), 15u);
}
}  // namespace
}  // namespace orderlake::etl

namespace orderlake::etl {
namespace {
// Rows of the table's newest snapshot (a glob over the Hive layout would also count files
// compaction removed but has not deleted yet).
std::string snapshot_answer(const Lake& l) {
  auto r = orderlake::testing::run_orderlake({"query", "--lake", l.lake().string(), "--format", "csv",
                                              "SELECT count(*) || '/' || count(DISTINCT InvoiceNo) AS a FROM orders"});
  return r.exit_code == 0 ? r.out : r.err;
}

TEST(EtlFollow, CompactsTheSmallFilesOfItsMicroBatches) {
  Lake l;
  orderlake::testing::BackgroundProcess etl({ORDERLAKE_BINARY, "etl", "--follow", "--interval-ms", "30",
                                             "--compact-every", "0.2", "--input", l.in().string(), "--lake",
                                             l.lake().string()});
  // Ten micro-batches, each a file in every partition (3 countries x 3 days).
  for (int b = 0; b < 10; ++b) {
    write_file(l.in() / fmt::format("b{}.log", b), valid_lines(b * 1000, 90));
    const std::string want = fmt::format("a\n{0}/{0}\n", 90 * (b + 1));
    ASSERT_TRUE(orderlake::testing::wait_for([&] { return snapshot_answer(l) == want; }, 30))
        << snapshot_answer(l) << etl.err();
  }
  // The compactor beside it merges them (an OPTIMIZE commit), with no row lost or doubled.
  auto optimized = [&] {
    for (auto& e : stdfs::directory_iterator(l.lake() / "orders" / "_delta_log"))
      if (e.path().extension() == ".json" && read_file(e.path()).find("\"OPTIMIZE\"") != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(orderlake::testing::wait_for(optimized, 30)) << etl.err();
  EXPECT_EQ(etl.Stop(SIGTERM), 0) << etl.err();
  EXPECT_EQ(snapshot_answer(l), "a\n900/900\n");
  EXPECT_GT(l.rows(), 900u);  // the Hive layout still holds the merged files until vacuum
}
}  // namespace
}  // namespace orderlake::etl
