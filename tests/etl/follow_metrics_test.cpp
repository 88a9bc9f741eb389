// `etl --follow --metrics-listen`: /metrics counts what the runs did (records read, kept,
// filtered, quarantined; objects; table version; failures), and /health is 503 with the
// reason while the last run failed and 200 again once a run succeeds. Also the same for
// `compact --every --metrics-listen`.
#include <gtest/gtest.h>
#include <httplib.h>

#include <csignal>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "test_util.h"

namespace orderlake {
namespace {
namespace stdfs = std::filesystem;
using testing::BackgroundProcess;
using testing::TempDir;
using testing::wait_for;

// The value of the sample whose line starts with `line_start` ("name " or "name{...} "); -1
// when there is none.
double sample(const std::string& text, const std::string& line_start) {
  size_t at = text.rfind(line_start, 0) == 0 ? 0 : text.find("\n" + line_start);
  if (at == std::string::npos) return -1;
  if (at > 0) ++at;
  const size_t sp = text.find(' ', at + line_start.size() - 1);
  return std::stod(text.substr(sp + 1));
}

// The port a background command printed in "metrics on http://HOST:PORT/metrics".
int port_from_stderr(BackgroundProcess& p) {
  int port = 0;
  wait_for(
      [&] {
        const std::string err = p.err();
        const size_t at = err.find("metrics on http://127.0.0.1:");
        if (at == std::string::npos) return false;
        port = std::stoi(err.substr(at + 28));
        return true;
      },
      30);
  return port;
}

httplib::Result get(int port, const std::string& path) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(5, 0);
  c.set_read_timeout(10, 0);
  return c.Get(path);
}

// Scrapes /metrics until `name` (a sample's line start) reaches `at_least`, for up to 60 s;
// the last text scraped.
std::string scrape_until(int port, const std::string& name, double at_least) {
  std::string text;
  wait_for(
      [&] {
        auto r = get(port, "/metrics");
        if (!r || r->status != 200) return false;
        text = r->body;
        return sample(text, name) >= at_least;
      },
      60);
  return text;
}

// Four valid orders, one filtered (no CustomerID), one quarantined (too few fields).
constexpr const char* kLines =
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/01/2010 08:26,2.55,17850,United Kingdom\n"
    "536365,71053,WHITE METAL LANTERN,6,12/01/2010 08:26,3.39,17850,United Kingdom\n"
    "536366,22633,HAND WARMER UNION JACK,6,12/01/2010 08:28,1.85,17851,France\n"
    "536367,84879,ASSORTED COLOUR BIRD ORNAMENT,32,12/01/2010 08:34,1.69,13047,Germany\n"
    "536368,22960,JAM MAKING SET WITH JARS,6,12/01/2010 08:34,4.25,,United Kingdom\n"
    "this line has too few fields\n";

TEST(EtlFollowMetrics, MetricsCountTheRunsAndHealthFollowsFailures) {
  TempDir d;
  const stdfs::path raw = d.path() / "raw", lake = d.path() / "lake";
  stdfs::create_directories(raw);
  testing::write_file(raw / "a.log", kLines);
  BackgroundProcess etl({ORDERLAKE_BINARY, "etl", "--input", raw.string(), "--lake", lake.string(), "--follow",
                         "--interval-ms", "100", "--compact-every", "0", "--metrics-listen", "127.0.0.1:0"});
  const int port = port_from_stderr(etl);
  ASSERT_GT(port, 0) << etl.err();

  std::string text = scrape_until(port, "orderlake_etl_runs_total ", 1);
  ASSERT_GE(sample(text, "orderlake_etl_runs_total "), 1) << text << etl.err();
  auto r = get(port, "/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; version=0.0.4");
  EXPECT_EQ(sample(text, "orderlake_etl_runs_total "), 1) << text;
  EXPECT_EQ(sample(text, "orderlake_etl_objects_read_total "), 1) << text;
  EXPECT_EQ(sample(text, "orderlake_etl_records_read_total "), 6) << text;
  EXPECT_EQ(sample(text, "orderlake_etl_records_kept_total "), 4) << text;
  EXPECT_EQ(sample(text, "orderlake_etl_records_filtered_total{reason=\"missing_customer_id\"} "), 1) << text;
  EXPECT_NE(text.find("orderlake_etl_records_quarantined_total{reason="), std::string::npos) << text;
  EXPECT_EQ(sample(text, "orderlake_etl_table_version "), 0) << text;
  EXPECT_EQ(sample(text, "orderlake_etl_run_errors_total "), 0) << text;
  EXPECT_GT(sample(text, "orderlake_etl_last_commit_timestamp_seconds "), 1.6e9) << text;
  EXPECT_GE(sample(text, "orderlake_etl_last_run_seconds "), 0) << text;
  EXPECT_NE(text.find("# TYPE orderlake_etl_records_kept_total counter"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE orderlake_compact_passes_total counter"), std::string::npos) << text;

  auto h = get(port, "/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(h->body, "ok\n");
  // Runs that find nothing new are counted apart; a second object adds to the totals.
  ASSERT_TRUE(wait_for([&] { return sample(get(port, "/metrics")->body, "orderlake_etl_runs_nothing_new_total ") >= 1; }, 30));
  testing::write_file(raw / "b.log", kLines);
  ASSERT_TRUE(wait_for([&] { return sample(get(port, "/metrics")->body, "orderlake_etl_runs_total ") == 2; }, 30));
  text = get(port, "/metrics")->body;
  EXPECT_EQ(sample(text, "orderlake_etl_records_read_total "), 12) << text;
  EXPECT_EQ(sample(text, "orderlake_etl_records_kept_total "), 8) << text;
  EXPECT_EQ(sample(text, "orderlake_etl_objects_read_total "), 2) << text;
  EXPECT_EQ(sample(text, "orderlake_etl_table_version "), 1) << text;

  // The table's directory becomes a file: runs fail, /health says 503 and why.
  const stdfs::path table = lake / "orders";
  stdfs::rename(table, lake / "orders.aside");
  testing::write_file(table, "not a directory");
  testing::write_file(raw / "c.log", kLines);
  ASSERT_TRUE(wait_for([&] {
    auto x = get(port, "/health");
    return x && x->status == 503;
  }, 30)) << etl.err();
  h = get(port, "/health");
  EXPECT_NE(h->body.find("the last etl run failed"), std::string::npos) << h->body;
  EXPECT_GT(sample(get(port, "/metrics")->body, "orderlake_etl_run_errors_total "), 0);
  // Back in place: the next run commits and health is 200 again.
  stdfs::remove(table);
  stdfs::rename(lake / "orders.aside", table);
  ASSERT_TRUE(wait_for([&] {
    auto x = get(port, "/health");
    return x && x->status == 200;
  }, 30)) << etl.err();
  EXPECT_EQ(sample(get(port, "/metrics")->body, "orderlake_etl_records_read_total "), 18);
  EXPECT_EQ(get(port, "/nothing")->status, 404);
  EXPECT_EQ(etl.Stop(SIGINT, 30), 0) << etl.err();
}

TEST(EtlFollowMetrics, BadListenAddressIsRefusedByName) {
  TempDir d;
  auto r = testing::run_orderlake({"etl", "--input", d.str(), "--lake", (d.path() / "lake").string(), "--follow",
                                   "--metrics-listen", "no-port-here"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--metrics-listen must be HOST:PORT"), std::string::npos) << r.err;
  r = testing::run_orderlake({"etl", "--input", d.str(), "--lake", (d.path() / "lake").string(), "--metrics-listen",
                              "127.0.0.1:0"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--metrics-listen needs --follow"), std::string::npos) << r.err;
}

TEST(CompactEveryMetrics, MetricsCountPassesAndHealthAnswers) {
  TempDir d;
  const stdfs::path raw = d.path() / "raw", lake = d.path() / "lake";
  stdfs::create_directories(raw);
  testing::write_file(raw / "a.log", kLines);
  auto etl = testing::run_orderlake({"etl", "--input", raw.string(), "--lake", lake.string()});
  ASSERT_EQ(etl.exit_code, 0) << etl.err;
  BackgroundProcess compact({ORDERLAKE_BINARY, "compact", "--lake", lake.string(), "--every", "0.2",
                             "--metrics-listen", "127.0.0.1:0"});
  const int port = port_from_stderr(compact);
  ASSERT_GT(port, 0) << compact.err();
  std::string text = scrape_until(port, "orderlake_compact_passes_total ", 2);
  ASSERT_GE(sample(text, "orderlake_compact_passes_total "), 2) << text << compact.err();
  EXPECT_EQ(sample(text, "orderlake_compact_failures_total "), 0) << text;
  EXPECT_EQ(sample(text, "orderlake_compact_files_removed_total "), 0) << text;  // one file: nothing to merge
  EXPECT_GE(sample(text, "orderlake_compact_table_version "), 0) << text;
  EXPECT_GE(sample(text, "orderlake_compact_last_pass_seconds "), 0) << text;
  for (const char* family : {"orderlake_compact_files_vacuumed_total", "orderlake_compact_checkpoints_total",
                             "orderlake_compact_added_bytes_total"})
    EXPECT_NE(text.find(std::string("# TYPE ") + family + " counter"), std::string::npos) << family;
  auto h = get(port, "/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(compact.Stop(SIGINT, 30), 0) << compact.err();
}

}  // namespace
}  // namespace orderlake
