// generate::RunOptions::Validate and GeneratorConfig::Validate: the one check for the CLI,
// `up` and tests; errors name the flag.
#include <gtest/gtest.h>

#include "generate/run.h"

namespace orderlake::generate {
namespace {

void expect_error(const Status& st, const std::string& text) {
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(text), std::string::npos) << st.message();
}

TEST(GenerateOptions, DefaultsAreValid) {
  EXPECT_TRUE(RunOptions{}.Validate().ok());
  EXPECT_TRUE(GeneratorConfig{}.Validate().ok());
}

TEST(GenerateOptions, ErrorsNameTheFlag) {
  RunOptions o;
  o.rate = -1;
  expect_error(o.Validate(), "--rate");
  o = {};
  o.duration_s = -2;
  expect_error(o.Validate(), "--duration");
  o = {};
  o.rotate_interval_s = -1;
  expect_error(o.Validate(), "--rotate-interval");
  o = {};
  o.progress_interval_s = -1;
  expect_error(o.Validate(), "--progress-interval");
  o = {};
  o.out_dir.clear();
  expect_error(o.Validate(), "--out");
  o = {};
  o.generator.rates.returns = 1.5;
  expect_error(o.Validate(), "--return-rate");
  o = {};
  o.generator.backfill = Backfill{14944, 10};
  expect_error(o.Validate(), "--start");  // needs --count or --duration
  o.count = 100;
  EXPECT_TRUE(o.Validate().ok()) << o.Validate().message();
  o.generator.backfill->days = 0;
  expect_error(o.Validate(), "--days must be between 1 and 36600");
  o.generator.backfill = Backfill{2932890, 10};  // ends after 9999-12-31
  expect_error(o.Validate(), "the range ends after 9999");
}

TEST(GenerateOptions, RunGenerateRefusesInvalidOptions) {
  RunOptions o;
  o.rate = -5;
  auto r = run_generate(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("--rate"), std::string::npos);
}

}  // namespace
}  // namespace orderlake::generate
