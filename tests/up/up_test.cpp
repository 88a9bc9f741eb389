// `orderlake up` end to end: the pipeline comes up, orders reach the lake and the
// dashboard, Ctrl-C stops it, and a second run continues where the first stopped, so that
// in the end the lake holds every valid generated line exactly once.
#include <gtest/gtest.h>

#include <csignal>
#include <nlohmann/json.hpp>

#include "test_util.h"
#include "up_banner.h"

namespace orderlake {
namespace {
using nlohmann::json;
using testing::BackgroundProcess;
using testing::run_orderlake;
using testing::run_process;
using testing::TempDir;
using testing::wait_for;

int64_t lake_rows(const std::string& lake) {
  auto r = run_orderlake({"query", "--lake", lake, "--format", "json", "SELECT count(*) AS n FROM orders"});
  if (r.exit_code != 0) return -1;
  return json::parse(r.out)[0]["n"].get<int64_t>();
}

TEST(Up, OneCommandFromLogLineToDashboardAndBackAgain) {
  TempDir d;
  const std::string data = (d.path() / "data").string(), lake = data + "/lake";
  {
    BackgroundProcess up({ORDERLAKE_BINARY, "up", "--data-dir", data, "--rate", "300", "--port", "0",
                          "--status-interval", "1"});
    const std::string url = orderlake::testing::WaitForDashboardUrl(up);
    ASSERT_FALSE(url.empty()) << up.err();
    ASSERT_TRUE(wait_for([&] { return lake_rows(lake) > 200; }, 60)) << up.err();
    // The dashboard answers with the same figures as a query.
    auto page = run_process({"curl", "-sf", url});
    EXPECT_EQ(page.exit_code, 0);
    EXPECT_NE(page.out.find("<html"), std::string::npos);
    EXPECT_NE(up.err().find("orders/s in"), std::string::npos);
    EXPECT_EQ(up.Stop(SIGINT, 60), 0) << up.err();
  }
  const int64_t after_first = lake_rows(lake);
  ASSERT_GT(after_first, 0);
  // Again, now shipping only what the first run left (no generator): everything arrives.
  {
    BackgroundProcess up({ORDERLAKE_BINARY, "up", "--data-dir", data, "--logs", data + "/logs", "--port", "0",
                          "--status-interval", "0"});
    ASSERT_TRUE(wait_for([&] { return up.out().find("dashboard at ") != std::string::npos; }, 60)) << up.err();
    std::this_thread::sleep_for(std::chrono::seconds(4));
    EXPECT_EQ(up.Stop(SIGINT, 60), 0) << up.err();
  }
  // An independent batch etl over the same log files says what the lake must hold.
  auto check = run_orderlake({"etl", "--input", data + "/logs", "--lake", (d.path() / "check").string(), "--json"});
  ASSERT_EQ(check.exit_code, 0) << check.err;
  const int64_t expected = json::parse(check.out)["kept"].get<int64_t>();
  EXPECT_GE(lake_rows(lake), after_first);
  EXPECT_EQ(lake_rows(lake), expected);
}

}  // namespace
}  // namespace orderlake
