// ServeOptions::Validate: the one rule for `orderlake serve`, `up` and tests.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dashboard/server.h"
#include "test_util.h"

namespace orderlake::dashboard {
namespace {
using ::testing::HasSubstr;

ServeOptions Valid() {
  ServeOptions o;
  o.lake = "/some/lake";
  return o;
}

TEST(ServeOptions, DefaultsWithALakeAreValid) {
  EXPECT_TRUE(Valid().Validate().ok());
  EXPECT_EQ(Valid().host, "127.0.0.1");
  EXPECT_EQ(Valid().port, 8080);
  EXPECT_EQ(Valid().engines, 2);
}

TEST(ServeOptions, ErrorsNameTheFlag) {
  ServeOptions o = Valid();
  o.engines = 0;
  EXPECT_EQ(o.Validate().message(), "--engines must be between 1 and 16, got 0");
  o = Valid();
  o.sql_timeout = std::chrono::seconds(0);
  EXPECT_EQ(o.Validate().message(), "--sql-timeout must be between 1 and 3600 seconds, got 0");
  o = Valid();
  o.poll = std::chrono::milliseconds(5);
  EXPECT_EQ(o.Validate().message(), "--poll-ms must be between 20 and 3600000, got 5");
  o = Valid();
  o.port = 70000;
  EXPECT_EQ(o.Validate().message(), "--listen port must be between 0 and 65535, got 70000");
  o = Valid();
  o.host = "0.0.0.0";
  EXPECT_THAT(o.Validate().message(), HasSubstr("needs an access token: give --token"));
  o.token = "t";
  EXPECT_TRUE(o.Validate().ok());
  o = Valid();
  o.lake.clear();
  EXPECT_THAT(o.Validate().message(), HasSubstr("--lake"));
}

TEST(ServeOptions, StartGoesThroughValidate) {
  orderlake::testing::TempDir lake;
  ServeOptions o = Valid();
  o.lake = lake.path();
  o.engines = 17;
  auto s = DashboardServer::Start(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "--engines must be between 1 and 16, got 17");
}

}  // namespace
}  // namespace orderlake::dashboard
