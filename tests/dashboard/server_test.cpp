// The dashboard service's own endpoints beside the page and its API: GET /metrics (its
// counters, then what the embedding program adds), GET /health (its own answer or the
// embedding program's, status code included), both behind the token when one is set; and
// TableChanged, which makes a new run visible without waiting for the next poll.
#include "dashboard/server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "test_util.h"

namespace orderlake::dashboard {
namespace {
using nlohmann::json;
using orderlake::testing::TempDir;
using orderlake::testing::write_file;
using namespace std::chrono_literals;

// A server on a free loopback port, served from a thread for the length of a test.
class Running {
 public:
  explicit Running(ServeOptions o) {
    o.port = 0;
    auto s = DashboardServer::Start(o);
    if (!s.ok()) throw std::runtime_error(s.status().message());
    server_ = std::move(s).value();
    thread_ = std::thread([this] { (void)server_->Run(); });
  }
  ~Running() {
    server_->Stop();
    thread_.join();
  }
  DashboardServer& operator*() { return *server_; }
  httplib::Result Get(const std::string& path, const httplib::Headers& headers = {}) {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_connection_timeout(5, 0);
    c.set_read_timeout(30, 0);
    return c.Get(path, headers);
  }

 private:
  std::unique_ptr<DashboardServer> server_;
  std::thread thread_;
};

TEST(DashboardServer, MetricsAndHealthDescribeTheService) {
  TempDir lake;
  ServeOptions o;
  o.lake = lake.path();
  Running s(o);
  auto m = s.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_NE(m->get_header_value("Content-Type").find("text/plain"), std::string::npos);
  for (const char* name : {"orderlake_dashboard_table_version 1", "orderlake_dashboard_table_runs 0",
                           "# TYPE orderlake_dashboard_cache_hits_total counter", "orderlake_dashboard_sql_statements_total 0"})
    EXPECT_NE(m->body.find(name), std::string::npos) << name << "\n" << m->body;
  auto h = s.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(json::parse(h->body)["status"], "up");
}

TEST(DashboardServer, EmbeddingProgramAddsMetricsAndAnswersHealth) {
  TempDir lake;
  ServeOptions o;
  o.lake = lake.path();
  o.more_metrics = [] { return std::string("# TYPE embedded_total counter\nembedded_total 7\n"); };
  o.health = [] { return std::make_pair(503, json{{"status", "down"}}.dump()); };
  Running s(o);
  auto m = s.Get("/metrics");
  ASSERT_TRUE(m);
  const size_t own = m->body.find("orderlake_dashboard_table_version"), added = m->body.find("embedded_total 7");
  ASSERT_NE(added, std::string::npos) << m->body;
  EXPECT_LT(own, added);
  auto h = s.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 503);
  EXPECT_EQ(json::parse(h->body)["status"], "down");
}

TEST(DashboardServer, MetricsAndHealthNeedTheTokenWhenOneIsSet) {
  TempDir lake;
  ServeOptions o;
  o.lake = lake.path();
  o.token = "s3cret";
  Running s(o);
  for (const char* path : {"/metrics", "/health"}) {
    auto bare = s.Get(path);
    ASSERT_TRUE(bare);
    EXPECT_EQ(bare->status, 401) << path;
    auto with = s.Get(path, {{"Authorization", "Bearer s3cret"}});
    ASSERT_TRUE(with);
    EXPECT_EQ(with->status, 200) << path;
    for (const char* scheme : {"bearer", "BEARER", "bEaReR"}) {  // the scheme is case-insensitive
      auto any_case = s.Get(path, {{"Authorization", std::string(scheme) + " s3cret"}});
      ASSERT_TRUE(any_case);
      EXPECT_EQ(any_case->status, 200) << path << " " << scheme;
    }
    auto wrong_scheme = s.Get(path, {{"Authorization", "Basic s3cret"}});
    ASSERT_TRUE(wrong_scheme);
    EXPECT_EQ(wrong_scheme->status, 401) << path;
  }
  auto page = s.Get("/");  // the page holds no data and needs no token
  ASSERT_TRUE(page);
  EXPECT_NE(page->status, 401);
}

TEST(DashboardServer, TableChangedShowsANewRunWithoutWaitingForThePoll) {
  TempDir lake;
  ServeOptions o;
  o.lake = lake.path();
  o.poll = 600s;  // the watcher lists once at start, then not within this test
  Running s(o);
  auto version = [&] {
    auto r = s.Get("/api/version");
    return r && r->status == 200 ? json::parse(r->body) : json();
  };
  ASSERT_EQ(version()["runs"], 0);
  write_file(lake.path() / "_orderlake" / "orders" / "runs" / "20260101T000000Z-a.json", "{}");
  EXPECT_EQ(version()["runs"], 0);  // not looked at yet
  (*s).TableChanged();
  json v = version();
  EXPECT_EQ(v["runs"], 1);
  EXPECT_EQ(v["run_id"], "20260101T000000Z-a");
}

}  // namespace
}  // namespace orderlake::dashboard
