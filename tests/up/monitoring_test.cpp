// `orderlake up`'s monitoring and its wake-ups: /metrics and /health on the dashboard's port
// answer for every stage; /health says 503 and names the stage when one cannot work (the
// etl, when its table directory is taken by a file) and 200 again once it can; and a line
// written to a log reaches the table long before the etl's listing interval would take it,
// because the firehose wakes the etl when it delivers.
#include <gtest/gtest.h>
#include <httplib.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <csignal>
#include <filesystem>
#include <set>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace orderlake {
namespace {
namespace stdfs = std::filesystem;
using nlohmann::json;
using testing::BackgroundProcess;
using testing::read_file;
using testing::TempDir;
using testing::wait_for;

constexpr const char* kStages[] = {"generate", "agent", "firehose", "etl", "dashboard"};

// `orderlake up` in the background; the dashboard's port once the banner named it.
class Up {
 public:
  explicit Up(std::vector<std::string> args) {
    std::vector<std::string> argv = {ORDERLAKE_BINARY, "up", "--port", "0"};
    argv.insert(argv.end(), args.begin(), args.end());
    proc_ = std::make_unique<BackgroundProcess>(argv);
    wait_for(
        [&] {
          const std::string out = proc_->out();
          const size_t at = out.find("dashboard at http://127.0.0.1:");
          if (at == std::string::npos || out.find('\n', at) == std::string::npos) return false;
          port_ = std::stoi(out.substr(at + 30));
          return true;
        },
        60);
  }
  int port() const { return port_; }
  BackgroundProcess& proc() { return *proc_; }
  httplib::Result Http(const std::string& method, const std::string& path, const std::string& body = {}) {
    httplib::Client c("127.0.0.1", port_);
    c.set_connection_timeout(5, 0);
    c.set_read_timeout(30, 0);
    if (method == "POST") return c.Post(path, body, "text/plain");
    return c.Get(path);
  }
  json Health(int* status = nullptr) {
    auto r = Http("GET", "/health");
    if (!r) return json();
    if (status) *status = r->status;
    return json::parse(r->body, nullptr, false);
  }

 private:
  std::unique_ptr<BackgroundProcess> proc_;
  int port_ = 0;
};

double metric(const std::string& text, const std::string& line_start) {
  const size_t at = text.find("\n" + line_start);
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(text.find(' ', at + 1 + line_start.size()) + 1));
}

TEST(UpMonitoring, MetricsAndHealthAnswerForEveryStage) {
  TempDir d;
  Up up({"--data-dir", (d.path() / "data").string(), "--rate", "300", "--status-interval", "1"});
  ASSERT_GT(up.port(), 0) << up.proc().err();
  EXPECT_NE(up.proc().out().find(fmt::format("metrics at http://127.0.0.1:{}/metrics, health at "
                                             "http://127.0.0.1:{}/health", up.port(), up.port())),
            std::string::npos)
      << up.proc().out();
  // Orders flow: every stage's counters move.
  std::string text;
  ASSERT_TRUE(wait_for(
      [&] {
        auto r = up.Http("GET", "/metrics");
        if (!r || r->status != 200) return false;
        text = r->body;
        return metric(text, "orderlake_etl_records_kept_total") > 100;
      },
      60))
      << text << up.proc().err();
  EXPECT_GT(metric(text, "orderlake_generate_lines_total"), 0) << text;
  EXPECT_GT(metric(text, "orderlake_agent_records_sent_total{"), 0) << text;
  EXPECT_GT(metric(text, "orderlake_firehose_records_in_total{"), 0) << text;
  EXPECT_GT(metric(text, "orderlake_firehose_objects_delivered_total{"), 0) << text;
  EXPECT_GT(metric(text, "orderlake_etl_runs_total"), 0) << text;
  EXPECT_GT(metric(text, "orderlake_etl_records_read_total"), 0) << text;
  EXPECT_GE(metric(text, "orderlake_etl_objects_waiting"), 0) << text;
  EXPECT_GT(metric(text, "orderlake_etl_last_commit_timestamp_seconds"), 0) << text;
  EXPECT_GT(metric(text, "orderlake_dashboard_table_runs"), 0) << text;
  EXPECT_GT(metric(text, "orderlake_up_freshness_seconds_count"), 0) << text;
  for (const char* stage : kStages)
    EXPECT_EQ(metric(text, fmt::format("orderlake_up_stage_up{{stage=\"{}\"}}", stage)), 1) << stage << "\n" << text;
  // Every metric is declared once, and names carry their stage.
  for (const char* family : {"# TYPE orderlake_etl_runs_total counter", "# TYPE orderlake_up_freshness_seconds histogram",
                             "# TYPE orderlake_generate_lines_total counter"}) {
    const size_t at = text.find(family);
    EXPECT_NE(at, std::string::npos) << family;
    EXPECT_EQ(text.find(family, at + 1), std::string::npos) << family;
  }

  int status = 0;
  json h = up.Health(&status);
  EXPECT_EQ(status, 200) << h.dump(2);
  EXPECT_EQ(h["status"], "up");
  for (const char* stage : kStages) {
    ASSERT_TRUE(h["stages"].contains(stage)) << stage << "\n" << h.dump(2);
    const json& s = h["stages"][stage];
    EXPECT_EQ(s["up"], true) << stage;
    EXPECT_EQ(s["state"], "running") << stage;
    EXPECT_TRUE(s["last_activity"].is_string()) << stage << "\n" << h.dump(2);
  }
  for (const char* stage : {"agent", "firehose", "etl"}) EXPECT_TRUE(h["stages"][stage]["lag"].is_number()) << stage;
  EXPECT_TRUE(h["freshness_seconds"].is_number()) << h.dump(2);
  // Each stage's threads carry its name (top -H, perf, bench/freshness.py's CPU per stage).
  std::set<std::string> names;
  for (const auto& t : std::filesystem::directory_iterator(fmt::format("/proc/{}/task", up.proc().pid()))) {
    std::string comm = read_file(t.path() / "comm");
    names.insert(comm.substr(0, comm.find('\n')));
  }
  for (const char* name : {"generate", "agent-read", "agent-send", "firehose", "fh-deliver", "fh-wal", "etl", "compact",
                           "dashboard"})
    EXPECT_EQ(names.count(name), 1u) << name << ": " << fmt::format("{}", fmt::join(names, ", "));
  // The live status line: orders per second, each stage's lag, freshness.
  ASSERT_TRUE(wait_for([&] { return up.proc().err().find("freshness <=") != std::string::npos; }, 10))
      << up.proc().err();
  const std::string err = up.proc().err();
  EXPECT_NE(err.find("orders/s in"), std::string::npos);
  EXPECT_NE(err.find("lag agent "), std::string::npos);
  EXPECT_NE(err.find(", etl "), std::string::npos);
  EXPECT_EQ(up.proc().Stop(SIGINT, 60), 0) << up.proc().err();
}

TEST(UpMonitoring, HealthIsDownWhileTheEtlCannotCommitAndUpOnceItCan) {
  TempDir d;
  const stdfs::path data = d.path() / "data", table = data / "lake" / "orders";
  Up up({"--data-dir", data.string(), "--rate", "200", "--status-interval", "0", "--etl-interval-ms", "100"});
  ASSERT_GT(up.port(), 0) << up.proc().err();
  ASSERT_TRUE(wait_for([&] { return up.Health()["status"] == "up"; }, 60)) << up.proc().err();

  // The table's directory becomes a file: no etl run can write, and /health says so.
  stdfs::rename(table, data / "lake" / "orders.aside");
  testing::write_file(table, "not a directory");
  int status = 0;
  json h;
  ASSERT_TRUE(wait_for(
      [&] {
        h = up.Health(&status);
        return status == 503;
      },
      30))
      << h.dump(2) << up.proc().err();
  EXPECT_EQ(h["status"], "down");
  EXPECT_EQ(h["stages"]["etl"]["up"], false) << h.dump(2);
  EXPECT_EQ(h["stages"]["etl"]["state"].get<std::string>().rfind("failing: ", 0), 0u) << h.dump(2);
  for (const char* stage : {"generate", "agent", "firehose", "dashboard"}) EXPECT_EQ(h["stages"][stage]["up"], true) << stage;
  auto m = up.Http("GET", "/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("orderlake_up_stage_up{stage=\"etl\"} 0"), std::string::npos);
  EXPECT_GT(metric(m->body, "orderlake_etl_run_errors_total"), 0);

  // Back in place: the next run commits what waited, and the stage is up again.
  stdfs::remove(table);
  stdfs::rename(data / "lake" / "orders.aside", table);
  ASSERT_TRUE(wait_for(
      [&] {
        h = up.Health(&status);
        return status == 200;
      },
      30))
      << h.dump(2) << up.proc().err();
  EXPECT_EQ(h["stages"]["etl"]["state"], "running");
  EXPECT_EQ(up.proc().Stop(SIGINT, 60), 0) << up.proc().err();
}

TEST(UpMonitoring, ADeliveryWakesTheEtlLongBeforeItsListingInterval) {
  TempDir d;
  const stdfs::path logs = d.path() / "logs";
  stdfs::create_directories(logs);
  // No generator; the etl lists the raw store once at start, then only every minute.
  Up up({"--data-dir", (d.path() / "data").string(), "--logs", logs.string(), "--status-interval", "0",
         "--etl-interval-ms", "60000"});
  ASSERT_GT(up.port(), 0) << up.proc().err();
  // The etl's first listing (at start) is behind us and found nothing.
  ASSERT_TRUE(wait_for(
      [&] {
        auto r = up.Http("GET", "/metrics");
        return r && metric(r->body, "orderlake_etl_runs_nothing_new_total") >= 1;
      },
      30))
      << up.proc().err();
  testing::write_file(logs / "orders.log", "536365,WAKE,wake-up test,2,12/01/2010 08:26,2.55,17850,United Kingdom\n");
  json answer;
  ASSERT_TRUE(wait_for(
      [&] {
        auto r = up.Http("POST", "/api/sql", "SELECT InvoiceNo, Quantity FROM orders WHERE StockCode = 'WAKE'");
        if (!r || r->status != 200) return false;
        answer = json::parse(r->body);
        return answer["rows"].size() == 1;
      },
      20))  // well inside the minute the next listing would have taken
      << answer.dump() << up.proc().err();
  EXPECT_EQ(answer["rows"][0][0], "536365");
  EXPECT_EQ(up.proc().Stop(SIGINT, 60), 0) << up.proc().err();
}

}  // namespace
}  // namespace orderlake
