// kill -9 of `orderlake up` as a whole, at random moments under load (issue 7): each run is
// killed while orders stream through every stage; a last run ships what is left and stops
// cleanly. The lake then holds every valid line of the log files exactly once: an
// independent batch etl over the same files says how many, per country and day.
#include <gtest/gtest.h>

#include <csignal>
#include <random>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace orderlake {
namespace {
using nlohmann::json;
using testing::BackgroundProcess;
using testing::run_orderlake;
using testing::TempDir;
using testing::wait_for;

std::string answer(const std::string& lake) {
  auto r = run_orderlake({"query", "--lake", lake, "--format", "csv",
                          "SELECT Country, InvoiceDateOnly, count(*) AS n, sum(Quantity) AS q FROM orders "
                          "GROUP BY ALL ORDER BY ALL"});
  return r.exit_code == 0 ? r.out : "error: " + r.err;
}

int64_t rows(const std::string& lake) {
  auto r = run_orderlake({"query", "--lake", lake, "--format", "json", "SELECT count(*) AS n FROM orders"});
  return r.exit_code == 0 ? json::parse(r.out)[0]["n"].get<int64_t>() : -1;
}

TEST(UpKill, KilledAtRandomMomentsTheLakeHoldsEveryLineOnce) {
  TempDir d;
  const std::string data = (d.path() / "data").string(), lake = data + "/lake";
  const unsigned seed = std::random_device{}();
  std::mt19937 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  for (int run = 0; run < 4; ++run) {
    BackgroundProcess up({ORDERLAKE_BINARY, "up", "--data-dir", data, "--rate", "4000", "--port", "0",
                          "--status-interval", "0"});
    ASSERT_TRUE(wait_for([&] { return up.out().find("dashboard at ") != std::string::npos; }, 60)) << up.err();
    if (run == 0) {
      ASSERT_TRUE(wait_for([&] { return rows(lake) > 0; }, 60)) << up.err();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 2500));
    up.Stop(SIGKILL);
  }
  // The last run only ships what the killed ones left, then stops cleanly.
  auto check = run_orderlake({"etl", "--input", data + "/logs", "--lake", (d.path() / "check").string(), "--json"});
  ASSERT_EQ(check.exit_code, 0) << check.err;
  const int64_t expected = json::parse(check.out)["kept"].get<int64_t>();
  ASSERT_GT(expected, 1000);
  {
    BackgroundProcess up({ORDERLAKE_BINARY, "up", "--data-dir", data, "--logs", data + "/logs", "--port", "0",
                          "--status-interval", "0"});
    EXPECT_TRUE(wait_for([&] { return rows(lake) >= expected; }, 120)) << rows(lake) << " of " << expected << "\n"
                                                                       << up.err();
    std::this_thread::sleep_for(std::chrono::seconds(2));  // anything more would be a duplicate
    EXPECT_EQ(up.Stop(SIGINT, 60), 0) << up.err();
  }
  EXPECT_EQ(rows(lake), expected);
  EXPECT_EQ(answer(lake), answer((d.path() / "check").string()));
}

}  // namespace
}  // namespace orderlake
