// `orderlake query` end to end through the built binary.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "lake_fixture.h"
#include "test_util.h"

namespace orderlake::query {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using orderlake::testing::CommandResult;
using orderlake::testing::read_file;
using orderlake::testing::run_orderlake;
using orderlake::testing::TempDir;
using orderlake::testing::write_file;

// Runs the binary on a pseudo-terminal, typing `input`; returns everything it printed.
std::string RunOnTerminal(const std::vector<std::string>& args, const std::string& input, int* exit_code) {
  int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) return "<no pty>";
  std::string slave_name = ptsname(master);
  pid_t pid = fork();
  if (pid == 0) {
    setsid();
    int slave = open(slave_name.c_str(), O_RDWR);
    dup2(slave, 0);
    dup2(slave, 1);
    dup2(slave, 2);
    close(master);
    std::vector<std::string> copy = args;
    std::string bin = ORDERLAKE_BINARY;
    std::vector<char*> argv = {bin.data()};
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  std::string out;
  size_t typed = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  char buf[4096];
  for (;;) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      break;
    }
    pollfd p{master, POLLIN, 0};
    int n = poll(&p, 1, 100);
    if (n > 0) {
      ssize_t got = read(master, buf, sizeof buf);
      if (got <= 0) break;  // EIO: the child closed the terminal
      out.append(buf, static_cast<size_t>(got));
    } else if (typed < input.size()) {
      // Type the next line once the program is waiting at a prompt.
      if (out.size() >= 2 && out.compare(out.size() - 2, 2, "> ") == 0) {
        size_t eol = input.find('\n', typed);
        size_t len = (eol == std::string::npos ? input.size() : eol + 1) - typed;
        if (write(master, input.data() + typed, len) != static_cast<ssize_t>(len)) break;
        typed += len;
      }
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  close(master);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

class QueryCli : public ::testing::Test {
 protected:
  void SetUp() override {
    lake_ = dir_.path() / "data" / "lake";
    testing::WriteOrders(lake_, testing::OrdersSelect(testing::SampleRows()));
  }
  CommandResult Query(std::vector<std::string> args) {
    args.insert(args.begin(), {"query", "--lake", lake_.string()});
    return run_orderlake(args);
  }
  TempDir dir_;
  fs::path lake_;
};

TEST_F(QueryCli, RunsAStatementAsATable) {
  auto r = Query({"SELECT Region, count(*) AS n FROM orders GROUP BY Region ORDER BY n DESC, Region"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            " Region        | n\n"
            "---------------+---\n"
            " Europe        | 7\n"
            " Asia          | 1\n"
            " North America | 1\n"
            " Oceania       | 1\n"
            " Other         | 1\n"
            "(5 rows)\n");
  EXPECT_EQ(r.err, "");
}

TEST_F(QueryCli, CsvAndJsonFormats) {
  auto csv = Query({"--format", "csv",
                    "SELECT Country, Description FROM tbsm_red_transformed WHERE InvoiceNo = '536375'"});
  EXPECT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(csv.out, "Country,Description\nCôte d'Ivoire,\"POPPY'S PLAYHOUSE, \"\"KITCHEN\"\"\"\n");
  auto json = Query({"--format", "json",
                     "SELECT InvoiceNo, Quantity, TotalAmount FROM orders WHERE InvoiceNo = '536375'"});
  EXPECT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(json.out, "[\n{\"InvoiceNo\":\"536375\",\"Quantity\":8,\"TotalAmount\":100}\n]\n");
  auto bad = Query({"--format", "xml", "SELECT 1"});
  EXPECT_NE(bad.exit_code, 0);
}

TEST_F(QueryCli, DataDirDefaultsTheLake) {
  auto r = run_orderlake({"query", "--data-dir", (dir_.path() / "data").string(), "--format", "csv",
                          "SELECT count(*) AS n FROM orders"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "n\n11\n");
  auto url = run_orderlake({"query", "--lake", "file://" + lake_.string(), "--format", "csv", "SELECT count(*) AS n FROM orders"});
  EXPECT_EQ(url.out, "n\n11\n");
}

TEST_F(QueryCli, RunsTheSampleQueriesFileWithTitles) {
  auto r = Query({"-f", std::string(ORDERLAKE_SOURCE_DIR) + "/sql/queries.sql"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("1. Top 10 high-value orders by amount in USD\n"));
  EXPECT_THAT(r.out, HasSubstr("\n\n4. Orders per region\n Region        | order_count\n"));
  EXPECT_THAT(r.out, HasSubstr("12. Duplicate OrderIDs"));
  EXPECT_THAT(r.out, HasSubstr("(0 rows)"));
  auto json = Query({"--format", "json", "--file", std::string(ORDERLAKE_SOURCE_DIR) + "/sql/queries.sql"});
  EXPECT_EQ(json.exit_code, 0) << json.err;
  EXPECT_THAT(json.out, Not(HasSubstr("1. Top 10")));
}

TEST_F(QueryCli, AFailingStatementInAFileStopsTheRunAndSaysWhich) {
  fs::path file = dir_.path() / "q.sql";
  write_file(file,
             "-- one\nSELECT 1 AS first;\n\n-- two\nSELECT *\n  FROM no_such_table;\n-- three\nSELECT 3 AS third;\n");
  auto r = Query({"-f", file.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("first"));
  EXPECT_THAT(r.out, Not(HasSubstr("third")));
  EXPECT_THAT(r.err, HasSubstr(file.string() + ":5: statement 2 failed: Catalog Error: Table with name "
                               "no_such_table does not exist!"));
  EXPECT_THAT(r.err, HasSubstr("[SQL: SELECT * FROM no_such_table]"));
  EXPECT_THAT(r.err, HasSubstr("(1 later statement not run)"));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST_F(QueryCli, BadSqlAndRefusalsExitNonZeroWithTheReason) {
  auto r = Query({"SELEC 1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, StartsWith("orderlake query: Parser Error: syntax error at or near \"SELEC\""));
  EXPECT_THAT(r.err, HasSubstr("[SQL: SELEC 1]"));
  EXPECT_EQ(r.out, "");
  auto copy = Query({"COPY orders TO '" + lake_.string() + "/x.csv'"});
  EXPECT_EQ(copy.exit_code, 1);
  EXPECT_THAT(copy.err, HasSubstr("refused: COPY statements are not allowed"));
  EXPECT_FALSE(fs::exists(lake_ / "x.csv"));
  auto passwd = Query({"SELECT * FROM read_csv('/etc/passwd')"});
  EXPECT_EQ(passwd.exit_code, 1);
  EXPECT_THAT(passwd.err, HasSubstr("Permission Error"));
  auto missing_file = Query({"-f", (dir_.path() / "none.sql").string()});
  EXPECT_EQ(missing_file.exit_code, 1);
  EXPECT_THAT(missing_file.err, HasSubstr("cannot read SQL file '" + (dir_.path() / "none.sql").string() + "'"));
}

TEST_F(QueryCli, MissingLakeIsAClearError) {
  auto r = run_orderlake({"query", "--lake", (dir_.path() / "nope").string(), "SELECT 1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "orderlake query: lake directory '" + (dir_.path() / "nope").string() + "' does not exist\n");
  auto d = run_orderlake({"query", "--data-dir", (dir_.path() / "nodata").string(), "SELECT 1"});
  EXPECT_EQ(d.exit_code, 1);
  EXPECT_THAT(d.err, HasSubstr((dir_.path() / "nodata" / "lake").string()));
  EXPECT_THAT(d.err, HasSubstr("--lake"));
  // An S3 lake whose endpoint does not answer (a closed loopback port): a clear error.
  auto s3 = run_orderlake({"query", "--lake", "s3://bucket/lake", "SELECT 1"}, 120,
                          {"AWS_ENDPOINT_URL_S3=http://127.0.0.1:" + std::to_string(orderlake::testing::free_port())});
  EXPECT_EQ(s3.exit_code, 1);
  EXPECT_THAT(s3.err, HasSubstr("s3://bucket/lake"));
  EXPECT_THAT(s3.err, HasSubstr("cannot reach the S3 endpoint"));
}

TEST_F(QueryCli, ReadsStatementsFromStdin) {
  auto r = run_orderlake({"query", "--lake", lake_.string(), "--format", "csv"}, 300, {},
                         "SELECT count(*) AS n\n  FROM orders;\n.format jsonl\nSELECT 'a;b' AS s; SELECT 2 AS two\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "n\n11\n{\"s\":\"a;b\"}\n{\"two\":2}\n");
  // -f - is standard input too; an error names the line.
  auto bad = run_orderlake({"query", "--lake", lake_.string(), "-f", "-"}, 300, {},
                           "SELECT 1;\n\nSELECT nope;\nSELECT 3;\n");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("<stdin>:3: statement 2 failed: Binder Error"));
  EXPECT_THAT(bad.out, Not(HasSubstr("3\n(1 row)")));
  // With /dev/null as input there is nothing to do.
  auto none = run_orderlake({"query", "--lake", lake_.string()});
  EXPECT_EQ(none.exit_code, 0) << none.err;
  EXPECT_EQ(none.out, "");
}

TEST_F(QueryCli, InteractivePrompt) {
  int code = -1;
  std::string out = RunOnTerminal({"query", "--lake", lake_.string()},
                                  ".tables\nSELECT count(*)\n AS n FROM orders;\n.format csv\nSELECT 1 AS one;\n"
                                  "SELECT * FROM nowhere;\n.help\n.quit\n",
                                  &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("orderlake> "));
  EXPECT_THAT(out, HasSubstr("      ...> "));
  EXPECT_THAT(out, HasSubstr("orders\r\ntbsm_red_transformed\r\n"));
  EXPECT_THAT(out, HasSubstr("  n\r\n----\r\n 11\r\n(1 row)\r\n"));
  EXPECT_THAT(out, HasSubstr("one\r\n1\r\n"));
  EXPECT_THAT(out, HasSubstr("Table with name nowhere does not exist"));
  EXPECT_THAT(out, HasSubstr(".quit, .exit"));
}

TEST_F(QueryCli, TimingAndHelp) {
  auto r = Query({"--timing", "SELECT 1"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("Time: "));
  EXPECT_THAT(r.err, HasSubstr(" ms"));
  auto help = run_orderlake({"query", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("Examples:"));
  EXPECT_THAT(help.out, HasSubstr("--format"));
  EXPECT_THAT(help.out, HasSubstr("tbsm_red_transformed"));
}

TEST_F(QueryCli, AthenaDdlIsAcceptedWithAWarning) {
  const std::string catalog = (dir_.path() / "catalog.db").string();
  auto r = Query({"--catalog", catalog,
                  "CREATE EXTERNAL TABLE tbsm_red_transformed (CustomerID int, Country string, InvoiceDateOnly date) "
                  "PARTITIONED BY (Country string, InvoiceDateOnly date) STORED AS PARQUET LOCATION '" +
                      (lake_ / "orders").string() + "'"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("warning: Country, InvoiceDateOnly declared both as columns and as partition keys"));
  EXPECT_TRUE(fs::exists(catalog));
  // A syntax error names the line and column and shows them.
  auto bad = Query({"--catalog", catalog, "CREATE EXTERNAL TABLE t (\n  a int,\n  b string\n  STORED AS PARQUET LOCATION '/x'"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.err,
            "orderlake query: line 4, column 3: expected ')' after column list, found 'STORED'\n"
            "    STORED AS PARQUET LOCATION '/x'\n"
            "    ^\n");
}

}  // namespace
}  // namespace orderlake::query
