// AgentOptions::Validate (the one check for the CLI, `up` and tests; errors name the flag)
// and the metrics endpoint the agent serves (core/metrics_server.h).
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>

#include "agent/agent.h"
#include "core/metrics_server.h"

namespace orderlake {
namespace {

TEST(AgentOptions, DefaultsAreValidAndErrorsNameTheFlag) {
  agent::AgentOptions o;
  EXPECT_TRUE(o.Validate().ok());
  o.max_attempts = -1;
  ASSERT_FALSE(o.Validate().ok());
  EXPECT_EQ(o.Validate().message(), "--max-attempts must be between 0 and 1000000, got -1");
  o = {};
  o.metrics_listen = "localhost";
  ASSERT_FALSE(o.Validate().ok());
  EXPECT_NE(o.Validate().message().find("--metrics-listen must be HOST:PORT"), std::string::npos);
  o = {};
  o.config_file.clear();
  ASSERT_FALSE(o.Validate().ok());
  EXPECT_NE(o.Validate().message().find("--config"), std::string::npos);
}

TEST(AgentOptions, CreateRefusesInvalidOptions) {
  agent::AgentOptions o;
  o.max_attempts = 2'000'000;
  auto a = agent::Agent::Create(agent::AgentConfig{}, o);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("--max-attempts"), std::string::npos);
}

TEST(MetricsServer, ServesMetricsAndHealth) {
  metrics::Registry reg;
  reg.counter("orderlake_test_things_total", "Things").Inc(3);
  std::atomic<bool> healthy{true};
  auto s = MetricsServer::Start("127.0.0.1:0", reg, [&] {
    return healthy ? HealthReport::Healthy() : HealthReport::Failing("the last pass failed: disk full");
  });
  ASSERT_TRUE(s.ok()) << s.status().message();
  const int port = s.value()->port();
  ASSERT_GT(port, 0);
  EXPECT_EQ(s.value()->address(), "127.0.0.1:" + std::to_string(port));
  httplib::Client c("127.0.0.1", port);
  auto m = c.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_EQ(m->get_header_value("Content-Type"), "text/plain; version=0.0.4");
  EXPECT_EQ(m->body, reg.Text());
  auto h = c.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(h->body, "ok\n");
  healthy = false;
  h = c.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 503);
  EXPECT_EQ(h->body, "the last pass failed: disk full\n");
  auto n = c.Get("/other");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->status, 404);
}

TEST(MetricsServer, BadAddressesAreRefusedByName) {
  auto s = MetricsServer::Start("nonsense", [] { return std::string(); });
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("--metrics-listen"), std::string::npos);
  EXPECT_TRUE(ValidateListenAddress("").ok());
  EXPECT_TRUE(ValidateListenAddress("[::1]:9102").ok());
  EXPECT_FALSE(ValidateListenAddress("127.0.0.1:x").ok());
  EXPECT_FALSE(ValidateListenAddress("127.0.0.1:65536").ok());
}

}  // namespace
}  // namespace orderlake
