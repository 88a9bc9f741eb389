#include "core/duration.h"

#include <gtest/gtest.h>

namespace orderlake {
namespace {

TEST(Duration, ParsesEveryUnit) {
  EXPECT_EQ(ParseDuration("90s", "--x").value(), 90'000);
  EXPECT_EQ(ParseDuration("10m", "--x").value(), 600'000);
  EXPECT_EQ(ParseDuration("24h", "--x").value(), 86'400'000);
  EXPECT_EQ(ParseDuration("30d", "--x").value(), 30LL * 86'400'000);
  EXPECT_EQ(ParseDuration("2w", "--x").value(), 14LL * 86'400'000);
  EXPECT_EQ(ParseDuration("250ms", "--x").value(), 250);
  EXPECT_EQ(ParseDuration("0", "--x").value(), 0);
  EXPECT_EQ(ParseDuration("0s", "--x").value(), 0);
}

TEST(Duration, RefusesWhatIsNotADuration) {
  for (const char* bad : {"", "h", "10", "10 h", "-1h", "1.5h", "10x", "1hh", " 1h", "1H", "9999999999999d"}) {
    auto r = ParseDuration(bad, "--raw-retention");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("--raw-retention"), std::string::npos) << r.status().message();
  }
  EXPECT_NE(ParseDuration("40000d", "--x").status().message().find("100 years"), std::string::npos);
}

TEST(Duration, FormatsInTheLargestWholeUnit) {
  EXPECT_EQ(FormatDuration(0), "0");
  EXPECT_EQ(FormatDuration(3'600'000), "1h");
  EXPECT_EQ(FormatDuration(86'400'000), "1d");
  EXPECT_EQ(FormatDuration(90'000), "90s");
  EXPECT_EQ(FormatDuration(1500), "1500ms");
  for (const char* s : {"90s", "10m", "36h", "30d", "250ms"})
    EXPECT_EQ(FormatDuration(ParseDuration(s, "--x").value()), s) << s;
}

TEST(Duration, FlagsParseInOrderAndTheFirstBadOneIsNamed) {
  int64_t a = -1, b = -1, c = -1;
  ASSERT_TRUE(ParseDurationFlags({{"90s", "--a", &a}, {"0", "--b", &b}}).ok());
  EXPECT_EQ(a, 90'000);
  EXPECT_EQ(b, 0);
  Status st = ParseDurationFlags({{"1h", "--a", &a}, {"1x", "--b", &b}, {"2h", "--c", &c}});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("--b must be a duration"), std::string::npos) << st.message();
  EXPECT_EQ(a, 3'600'000);
  EXPECT_EQ(c, -1);  // not reached
}

}  // namespace
}  // namespace orderlake
