// The dashboard's filter parsing: what is accepted, what is refused and why, and the SQL
// it becomes (quotes doubled, dates only after they parsed).
#include <gtest/gtest.h>

#include "dashboard/filters.h"

namespace orderlake::dashboard {
namespace {

Result<Filters> Parse(std::initializer_list<std::pair<const std::string, std::string>> p,
                      const std::set<std::string>& extra = {}) {
  return ParseFilters(Params(p), extra);
}

TEST(DashboardFilters, EmptyIsEverything) {
  auto f = Parse({});
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->empty());
  EXPECT_EQ(f->Where(), "true");
  EXPECT_EQ(f->Key(), "{}");
}

TEST(DashboardFilters, DatesCountriesRegions) {
  auto f = Parse({{"from", "2010-12-01"}, {"to", "2010-12-03"}, {"country", "Germany,France"},
                  {"country", "France"}, {"region", "Europe"}});
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->countries, (std::vector<std::string>{"France", "Germany"}));
  EXPECT_EQ(f->Where(),
            "\"InvoiceDateOnly\" >= DATE '2010-12-01' AND \"InvoiceDateOnly\" <= DATE '2010-12-03' AND "
            "\"Country\" IN ('France', 'Germany') AND \"Region\" IN ('Europe')");
  // The same filters in another order give the same cache key.
  auto g = Parse({{"region", "Europe"}, {"country", "France, Germany"}, {"to", "2010-12-03"}, {"from", "2010-12-01"}});
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(f->Key(), g->Key());
}

TEST(DashboardFilters, QuotesAreDoubledNeverSpliced) {
  auto f = Parse({{"country", "Côte d'Ivoire"}, {"region", "x') OR true --"}});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->Where(), "\"Country\" IN ('Côte d''Ivoire') AND \"Region\" IN ('x'') OR true --')");
}

TEST(DashboardFilters, BadDates) {
  for (const char* bad : {"2010-13-01", "2010-02-30", "12/01/2010", "2010-1-1", "2010-12-01'", "", "tomorrow"}) {
    auto f = Parse({{"from", bad}});
    ASSERT_FALSE(f.ok()) << bad;
    EXPECT_NE(f.status().message().find("parameter 'from'"), std::string::npos) << f.status().message();
    EXPECT_NE(f.status().message().find("YYYY-MM-DD"), std::string::npos);
  }
  EXPECT_TRUE(Parse({{"to", "2012-02-29"}}).ok());
  auto rev = Parse({{"from", "2010-12-05"}, {"to", "2010-12-01"}});
  ASSERT_FALSE(rev.ok());
  EXPECT_NE(rev.status().message().find("before"), std::string::npos);
  EXPECT_FALSE(Parse({{"from", "2010-12-01"}, {"from", "2010-12-02"}}).ok());
}

TEST(DashboardFilters, BadNamesAndUnknownParameters) {
  EXPECT_FALSE(Parse({{"country", ""}}).ok());
  EXPECT_FALSE(Parse({{"country", "France,,Germany"}}).ok());
  EXPECT_FALSE(Parse({{"country", std::string(101, 'x')}}).ok());
  EXPECT_FALSE(Parse({{"country", "Fr\nance"}}).ok());
  EXPECT_FALSE(Parse({{"region", "\xff\xfe"}}).ok());
  auto u = Parse({{"contry", "France"}});
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.status().message(), "unknown parameter 'contry' (this endpoint takes: from, to, country, region)");
  EXPECT_TRUE(Parse({{"limit", "5"}}, {"limit"}).ok());
  EXPECT_TRUE(Parse({{"token", "t"}}).ok());
}

TEST(DashboardFilters, IsoDate) {
  EXPECT_TRUE(IsIsoDate("2010-12-01"));
  EXPECT_FALSE(IsIsoDate("2011-02-29"));
  EXPECT_FALSE(IsIsoDate("0000-01-01"));
}

}  // namespace
}  // namespace orderlake::dashboard
