// Athena DDL end to end through `orderlake query` (and `orderlake crawl`), one process per
// step: the original project's DDL and its six sample queries on a local lake and on S3
// (moto), answers equal to the lake's own table; the catalog kept across processes; bad S3
// locations, syntax errors and mixed formats as clear errors in bounded time.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>

#include "query/script.h"
#include "lake_fixture.h"
#include "test_util.h"

namespace orderlake {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::aws_cli;
using testing::CommandResult;
using testing::MotoServer;
using testing::read_file;
using testing::run_orderlake;
using query::testing::OriginalDdl;
using testing::TempDir;
using testing::write_file;

// The six sample queries of sql/queries.sql (they use tbsm_red_transformed), as a script.
std::string SixQueries() {
  auto statements = query::ScriptStatements(read_file(fs::path(ORDERLAKE_SOURCE_DIR) / "sql/queries.sql"));
  EXPECT_GE(statements.size(), 6u);
  std::string script;
  for (size_t i = 0; i < 6 && i < statements.size(); ++i) {
    EXPECT_NE(statements[i].sql.find("tbsm_red_transformed"), std::string::npos) << statements[i].sql;
    script += statements[i].sql + ";\n";
  }
  return script;
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  return s;
}

// RFC 4180 fields of one line (no line breaks inside fields here).
std::vector<std::string> CsvFields(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') out.back() += '"', ++i;
      else if (c == '"') quoted = false;
      else out.back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

std::optional<double> Number(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return std::nullopt;
  return d;
}

// The answers of a CSV script run: one block per statement.
std::vector<std::vector<std::string>> Blocks(const std::string& out) {
  std::vector<std::vector<std::string>> blocks(1);
  size_t start = 0;
  while (start < out.size()) {
    size_t eol = out.find('\n', start);
    if (eol == std::string::npos) eol = out.size();
    std::string line = out.substr(start, eol - start);
    if (line.empty()) blocks.emplace_back();
    else blocks.back().push_back(line);
    start = eol + 1;
  }
  return blocks;
}

// Two runs of the six queries agree: the same columns and rows; sums of doubles may differ
// in the last bits (DuckDB adds in parallel, in no fixed order), and query 6 has no ORDER BY.
void ExpectSameAnswers(const std::string& a, const std::string& b, const std::string& what) {
  auto ba = Blocks(a), bb = Blocks(b);
  ASSERT_EQ(ba.size(), 6u) << what;
  ASSERT_EQ(bb.size(), 6u) << what;
  for (size_t q = 0; q < 6; ++q) {
    auto ra = ba[q], rb = bb[q];
    ASSERT_GE(ra.size(), 2u) << what << ": query " << q + 1 << " has no rows";
    ASSERT_EQ(ra.size(), rb.size()) << what << ": query " << q + 1;
    EXPECT_EQ(ra[0], rb[0]) << what << ": query " << q + 1 << " columns";
    if (q == 5) {
      std::sort(ra.begin() + 1, ra.end());
      std::sort(rb.begin() + 1, rb.end());
    }
    for (size_t r = 1; r < ra.size(); ++r) {
      auto fa = CsvFields(ra[r]), fb = CsvFields(rb[r]);
      ASSERT_EQ(fa.size(), fb.size()) << what << ": query " << q + 1 << " row " << r;
      for (size_t c = 0; c < fa.size(); ++c) {
        auto x = Number(fa[c]), y = Number(fb[c]);
        if (x && y && fa[c] != fb[c])
          EXPECT_LE(std::abs(*x - *y), 1e-9 * std::max({1.0, std::abs(*x), std::abs(*y)}))
              << what << ": query " << q + 1 << " row " << r << ": " << ra[r] << " vs " << rb[r];
        else
          EXPECT_EQ(fa[c], fb[c]) << what << ": query " << q + 1 << " row " << r;
      }
    }
  }
}

// A small lake made by the pipeline itself: generate, then etl.
fs::path MakeLake(const fs::path& dir) {
  const fs::path logs = dir / "logs", lake = dir / "lake";
  auto g = run_orderlake({"generate", "--out", logs.string(), "--count", "6000", "--seed", "7", "--start", "2010-12-01",
                          "--days", "3"});
  EXPECT_EQ(g.exit_code, 0) << g.err;
  auto e = run_orderlake({"etl", "--input", logs.string(), "--lake", lake.string()});
  EXPECT_EQ(e.exit_code, 0) << e.err;
  return lake;
}

size_t PartitionDirs(const fs::path& orders) {
  size_t n = 0;
  for (const auto& c : fs::directory_iterator(orders))
    if (c.path().filename().string().starts_with("Country="))
      for (const auto& d : fs::directory_iterator(c.path())) n += d.is_directory();
  return n;
}

TEST(AthenaDdlCli, OriginalDdlAndTheSixQueriesOnALocalLake) {
  TempDir tmp;
  const fs::path lake = MakeLake(tmp.path());
  const std::string catalog = (tmp.path() / "catalog.db").string();
  auto query = [&](std::vector<std::string> args, const std::string& input = {}) {
    args.insert(args.begin(), {"query", "--lake", lake.string(), "--catalog", catalog});
    return run_orderlake(args, 300, {}, input);
  };
  // The DDL from a file, as a user would run it; the location is the lake's own table.
  write_file(tmp.path() / "ddl.sql", OriginalDdl("file://" + (lake / "orders").string() + "/"));
  auto ddl = query({"-f", (tmp.path() / "ddl.sql").string()});
  ASSERT_EQ(ddl.exit_code, 0) << ddl.err;
  EXPECT_THAT(ddl.err, HasSubstr("warning: Country, InvoiceDateOnly declared both as columns and as partition keys"));
  EXPECT_THAT(ddl.err, HasSubstr("no partitions yet: run MSCK REPAIR TABLE tbsm_red_transformed"));
  auto repair = query({"--format", "csv", "MSCK REPAIR TABLE tbsm_red_transformed"});
  ASSERT_EQ(repair.exit_code, 0) << repair.err;
  const size_t partitions = PartitionDirs(lake / "orders");
  EXPECT_GT(partitions, 10u);
  EXPECT_EQ(Blocks(repair.out)[0].size(), partitions + 1) << repair.out;  // header + one line per partition
  EXPECT_THAT(repair.err, HasSubstr(std::to_string(partitions) + " partitions added"));

  // The six queries over the catalog's table and over the lake's own, in other processes.
  auto mine = query({"--format", "csv", "-f", "-"}, SixQueries());
  ASSERT_EQ(mine.exit_code, 0) << mine.err;
  auto lakes = query({"--format", "csv", "-f", "-"}, Replace(SixQueries(), "tbsm_red_transformed", "orders"));
  ASSERT_EQ(lakes.exit_code, 0) << lakes.err;
  ExpectSameAnswers(mine.out, lakes.out, "local lake");
  // Query 6 read every UK row of the catalog table (not zero: the partitions are there).
  auto uk = query({"--format", "csv", "SELECT count(*) AS n FROM tbsm_red_transformed WHERE Country = 'United Kingdom'"});
  ASSERT_EQ(uk.exit_code, 0) << uk.err;
  EXPECT_NE(uk.out, "n\n0\n");
}

TEST(AthenaDdlCli, OriginalDdlAndTheSixQueriesOnS3) {
  TempDir tmp;
  const fs::path lake = MakeLake(tmp.path());
  MotoServer moto;
  ASSERT_EQ(aws_cli(moto.endpoint(), {"s3api", "create-bucket", "--bucket", "tbsm-red-transformed"}).exit_code, 0);
  // Without its Delta log: the plain Hive layout the original project had (a Delta table
  // in S3 under the same DDL: tests/etl/s3_lake_test.cpp).
  auto cp = aws_cli(moto.endpoint(), {"s3", "cp", "--recursive", lake.string(), "s3://tbsm-red-transformed/",
                                      "--exclude", "orders/_delta_log/*"});
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  const std::vector<std::string> env = {"AWS_ENDPOINT_URL_S3=" + moto.endpoint(), "AWS_ACCESS_KEY_ID=testing",
                                        "AWS_SECRET_ACCESS_KEY=testing", "AWS_REGION=us-east-1",
                                        "XDG_CACHE_HOME=" + (tmp.path() / "cache").string()};
  const std::string catalog = (tmp.path() / "catalog.db").string();
  auto query = [&](std::vector<std::string> args, const std::string& input = {}) {
    args.insert(args.begin(), {"query", "--lake", "s3://tbsm-red-transformed", "--catalog", catalog});
    return run_orderlake(args, 300, env, input);
  };
  // The original DDL unchanged: its location is s3://tbsm-red-transformed/orders/.
  auto ddl = query({"-f", "-"}, OriginalDdl("s3://tbsm-red-transformed/orders/") +
                                    "MSCK REPAIR TABLE tbsm_red_transformed;\nSHOW PARTITIONS tbsm_red_transformed;\n");
  ASSERT_EQ(ddl.exit_code, 0) << ddl.err;
  const size_t partitions = PartitionDirs(lake / "orders");
  EXPECT_THAT(ddl.err, HasSubstr(std::to_string(partitions) + " partitions added"));
  EXPECT_THAT(ddl.out, HasSubstr("Country=United Kingdom/InvoiceDateOnly=2010-12-01"));
  auto mine = query({"--format", "csv", "-f", "-"}, SixQueries());
  ASSERT_EQ(mine.exit_code, 0) << mine.err;
  auto lakes = query({"--format", "csv", "-f", "-"}, Replace(SixQueries(), "tbsm_red_transformed", "orders"));
  ASSERT_EQ(lakes.exit_code, 0) << lakes.err;
  ExpectSameAnswers(mine.out, lakes.out, "S3: catalog table vs the lake's own");
  // And the same as the local lake's own table.
  auto local = run_orderlake({"query", "--lake", lake.string(), "--catalog", (tmp.path() / "none.db").string(),
                              "--format", "csv", "-f", "-"},
                             300, {}, Replace(SixQueries(), "tbsm_red_transformed", "orders"));
  ASSERT_EQ(local.exit_code, 0) << local.err;
  ExpectSameAnswers(mine.out, local.out, "S3 catalog table vs the local lake");
  // A partition deleted from the bucket is gone from the next answer (no stale copy).
  auto rm = aws_cli(moto.endpoint(), {"s3", "rm", "--recursive", "s3://tbsm-red-transformed/orders/Country=United Kingdom/"});
  ASSERT_EQ(rm.exit_code, 0) << rm.err;
  auto uk = query({"--format", "csv", "SELECT count(*) AS n FROM tbsm_red_transformed WHERE Country = 'United Kingdom'"});
  ASSERT_EQ(uk.exit_code, 0) << uk.err;
  EXPECT_EQ(uk.out, "n\n0\n");
}

TEST(AthenaDdlCli, TheCatalogPersistsAcrossProcessesAndIsSharedWithCrawl) {
  TempDir tmp;
  const fs::path data = tmp.path() / "data";
  MakeLake(data);  // data/lake: --data-dir defaults the lake and the catalog under it
  const std::string dd = data.string();
  auto query = [&](const std::string& sql) {
    return run_orderlake({"query", "--data-dir", dd, "--format", "csv", sql});
  };
  const std::string loc = (data / "lake" / "orders").string();
  auto created = query("CREATE EXTERNAL TABLE o (CustomerID int, TotalAmountUSD double) PARTITIONED BY (Country string, "
                       "InvoiceDateOnly date) STORED AS PARQUET LOCATION '" + loc + "/'");
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_TRUE(fs::exists(data / "catalog" / "catalog.db"));
  EXPECT_EQ(query("SHOW TABLES").out, "tab_name\no\norders\ntbsm_red_transformed\n");
  EXPECT_EQ(query("SELECT count(*) AS n FROM o").out, "n\n0\n");
  auto added = query("ALTER TABLE o ADD PARTITION (Country = 'France', InvoiceDateOnly = '2010-12-01')");
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_EQ(query("SHOW PARTITIONS o").out, "partition\nCountry=France/InvoiceDateOnly=2010-12-01\n");
  EXPECT_EQ(query("SELECT count(*) AS n FROM o").out,
            query("SELECT count(*) AS n FROM orders WHERE Country = 'France' AND InvoiceDateOnly = DATE '2010-12-01'").out);
  auto repair = query("MSCK REPAIR TABLE o");
  ASSERT_EQ(repair.exit_code, 0) << repair.err;
  EXPECT_THAT(repair.err, HasSubstr("(1 already in the catalog)"));
  EXPECT_EQ(query("SELECT count(*) AS n FROM o").out, query("SELECT count(*) AS n FROM orders").out);
  EXPECT_EQ(query("DESCRIBE o").out,
            "col_name,data_type,comment\nCustomerID,int,\"\"\nTotalAmountUSD,double,\"\"\nCountry,string,\"\"\n"
            "InvoiceDateOnly,date,\"\"\n\"\",\"\",\"\"\n# Partition Information,\"\",\"\"\n# col_name,data_type,comment\n"
            "Country,string,\"\"\nInvoiceDateOnly,date,\"\"\n");
  // The crawler writes into the same catalog; its table is queryable at once.
  auto crawled = run_orderlake({"crawl", loc, "--data-dir", dd, "--table", "crawled"});
  ASSERT_EQ(crawled.exit_code, 0) << crawled.err;
  EXPECT_EQ(query("SELECT count(*) AS n FROM crawled").out, query("SELECT count(*) AS n FROM orders").out);
  // DROP TABLE forgets the table, never the data.
  const size_t before = PartitionDirs(data / "lake" / "orders");
  auto dropped = query("DROP TABLE o");
  ASSERT_EQ(dropped.exit_code, 0) << dropped.err;
  auto gone = query("SELECT count(*) FROM o");
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_THAT(gone.err, HasSubstr("Table with name o does not exist"));
  EXPECT_EQ(PartitionDirs(data / "lake" / "orders"), before);
  EXPECT_EQ(query("SHOW TABLES").out, "tab_name\ncrawled\norders\ntbsm_red_transformed\n");
}

// Runs and says how long it took.
CommandResult Timed(const std::vector<std::string>& args, const std::vector<std::string>& env, double* seconds) {
  auto t0 = std::chrono::steady_clock::now();
  auto r = run_orderlake(args, 120, env);
  *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

TEST(AthenaDdlCli, BadS3LocationsAreClearErrorsInBoundedTime) {
  TempDir tmp;
  fs::create_directories(tmp.path() / "lake");
  struct Case {
    std::string name;
    std::vector<std::string> env;
    std::string expect;
  };
  MotoServer moto;  // no buckets at all
  MotoServer strict({"INITIAL_NO_AUTH_ACTION_COUNT=0"});  // checks credentials from the first request
  const std::vector<std::string> base = {"AWS_REGION=us-east-1", "XDG_CACHE_HOME=" + (tmp.path() / "cache").string()};
  auto with = [&](std::vector<std::string> env) {
    env.insert(env.end(), base.begin(), base.end());
    return env;
  };
  std::vector<Case> cases = {
      {"unreachable endpoint",
       with({"AWS_ENDPOINT_URL_S3=http://127.0.0.1:" + std::to_string(testing::free_port()), "AWS_ACCESS_KEY_ID=testing",
             "AWS_SECRET_ACCESS_KEY=testing"}),
       "cannot reach the S3 endpoint"},
      {"wrong credentials",
       with({"AWS_ENDPOINT_URL_S3=" + strict.endpoint(), "AWS_ACCESS_KEY_ID=AKIANOTAREALKEY00000",
             "AWS_SECRET_ACCESS_KEY=wrong"}),
       "access denied"},
      {"missing bucket",
       with({"AWS_ENDPOINT_URL_S3=" + moto.endpoint(), "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing"}),
       "bucket no-such-bucket does not exist"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string catalog = (tmp.path() / (c.name + ".db")).string();
    auto q = [&](const std::string& sql, double* seconds) {
      return Timed({"query", "--lake", (tmp.path() / "lake").string(), "--catalog", catalog, sql}, c.env, seconds);
    };
    double s = 0;
    // Defining the table touches nothing (as Athena); using it does, and fails clearly.
    auto created = q("CREATE EXTERNAL TABLE p (a int) PARTITIONED BY (k string) STORED AS PARQUET "
                     "LOCATION 's3://no-such-bucket/orders/'", &s);
    ASSERT_EQ(created.exit_code, 0) << created.err;
    auto repair = q("MSCK REPAIR TABLE p", &s);
    EXPECT_EQ(repair.exit_code, 1);
    EXPECT_THAT(repair.err, HasSubstr("MSCK REPAIR TABLE default.p: "));
    EXPECT_THAT(repair.err, HasSubstr(c.expect));
    EXPECT_LT(s, 60);
    auto unpartitioned = q("CREATE EXTERNAL TABLE u (a int) STORED AS PARQUET LOCATION 's3://no-such-bucket/u'", &s);
    ASSERT_EQ(unpartitioned.exit_code, 0) << unpartitioned.err;
    for (const char* sql : {"SELECT count(*) FROM p", "SELECT * FROM u"}) {
      auto r = q(sql, &s);
      EXPECT_EQ(r.exit_code, 1) << sql;
      EXPECT_THAT(r.err, HasSubstr("s3://no-such-bucket/")) << sql;
      EXPECT_THAT(r.err, HasSubstr(c.expect)) << sql;
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
      EXPECT_LT(s, 60) << sql;
    }
    // The lake's own table does not depend on that location, nor does a statement that
    // only mentions the word.
    auto own = q("SELECT count(*) FROM orders", &s);
    EXPECT_EQ(own.exit_code, 0) << own.err;
    auto word = q("SELECT 1 AS p", &s);
    EXPECT_EQ(word.exit_code, 0) << word.err;
  }
}

TEST(AthenaDdlCli, MixedFormatsAndSyntaxErrors) {
  TempDir tmp;
  const fs::path lake = MakeLake(tmp.path());
  const fs::path mixed = tmp.path() / "mixed";
  fs::create_directories(mixed);
  for (const auto& f : fs::recursive_directory_iterator(lake / "orders"))
    if (f.path().extension() == ".parquet") {
      fs::copy_file(f.path(), mixed / "part.parquet");
      break;
    }
  write_file(mixed / "extra.csv", "536365,85123A,WHITE HANGING HEART,6,12/01/2010 08:26,2.55,17850,United Kingdom\n");
  const std::string catalog = (tmp.path() / "catalog.db").string();
  // The crawler refuses to guess.
  auto crawl = run_orderlake({"crawl", mixed.string(), "--catalog", catalog});
  EXPECT_EQ(crawl.exit_code, 1);
  EXPECT_THAT(crawl.err, HasSubstr("mixed formats"));
  // A table defined over it by hand reads nothing silently wrong.
  auto query = [&](const std::string& sql) {
    return run_orderlake({"query", "--lake", lake.string(), "--catalog", catalog, sql});
  };
  ASSERT_EQ(query("CREATE EXTERNAL TABLE m (CustomerID int, OrderID string) STORED AS PARQUET LOCATION '" +
                  mixed.string() + "'")
                .exit_code,
            0);
  auto read = query("SELECT count(*) FROM m");
  EXPECT_EQ(read.exit_code, 1);
  EXPECT_THAT(read.err, HasSubstr("mixed formats under file://" + mixed.string() +
                                  ": the table is Parquet but extra.csv is CSV text"));
  // A DDL syntax error in a script: the script's file and statement, then the position
  // within the statement, the line and a caret.
  write_file(tmp.path() / "bad.sql", "SELECT 1;\nCREATE EXTERNAL TABLE t (\n  a int,\n  b strin\n) LOCATION '/x';\n");
  auto bad = run_orderlake({"query", "--lake", lake.string(), "--catalog", catalog, "-f",
                            (tmp.path() / "bad.sql").string()});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("bad.sql:2: statement 2 failed: line 3, column 5: unknown type 'strin' for column 'b'"));
  EXPECT_THAT(bad.err, HasSubstr("\n    b strin\n      ^\n"));
  // Writes through SQL stay refused, catalog or not.
  for (const char* sql : {"INSERT INTO orders SELECT * FROM orders", "CREATE TABLE x AS SELECT 1",
                          "COPY orders TO '/tmp/orderlake-ddl-copy.csv'", "CREATE TABLE t (a int)"}) {
    auto r = query(sql);
    EXPECT_EQ(r.exit_code, 1) << sql;
    EXPECT_THAT(r.err, HasSubstr("refused")) << sql;
  }
  EXPECT_FALSE(fs::exists("/tmp/orderlake-ddl-copy.csv"));
}

}  // namespace
}  // namespace orderlake
