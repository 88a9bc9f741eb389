// crawl::Options::Validate: the one check for the CLI and tests; errors name the flag.
#include <gtest/gtest.h>

#include "crawl/crawler.h"

namespace orderlake::crawl {
namespace {

TEST(CrawlOptions, DefaultsAreValidAndErrorsNameTheFlag) {
  Options o;
  EXPECT_TRUE(o.Validate().ok());
  o.table = "raw_orders";
  EXPECT_TRUE(o.Validate().ok());
  o.table = "raw.orders";
  ASSERT_FALSE(o.Validate().ok());
  EXPECT_NE(o.Validate().message().find("--table"), std::string::npos);
  o = {};
  o.database.clear();
  ASSERT_FALSE(o.Validate().ok());
  EXPECT_NE(o.Validate().message().find("--database"), std::string::npos);
  o = {};
  o.sample_bytes = 10;
  ASSERT_FALSE(o.Validate().ok());
  EXPECT_NE(o.Validate().message().find("sample size"), std::string::npos);
}

}  // namespace
}  // namespace orderlake::crawl
