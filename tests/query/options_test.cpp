// The query stage's options: EngineOptions and QueryOptions check themselves, naming the flag.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "query/athena_ddl.h"
#include "query/engine.h"
#include "query/query_options.h"
#include "test_util.h"

namespace orderlake::query {
namespace {
using ::testing::HasSubstr;
using orderlake::testing::TempDir;

TEST(QueryOptions, DefaultsAreValid) {
  QueryOptions o;
  EXPECT_TRUE(o.Validate().ok());
  EXPECT_EQ(o.format, "table");
  EXPECT_EQ(o.data_dir, "./orderlake-data");
}

TEST(QueryOptions, ErrorsNameTheFlag) {
  QueryOptions f;
  f.format = "xml";
  EXPECT_EQ(f.Validate().message(), "--format must be table, csv, json or jsonl, got 'xml'");
  QueryOptions both;
  both.file = "q.sql";
  both.sql = {"SELECT 1"};
  EXPECT_THAT(both.Validate().message(), HasSubstr("--file and SQL arguments exclude each other"));
  QueryOptions none;
  none.data_dir = "";
  EXPECT_THAT(none.Validate().message(), HasSubstr("--data-dir must not be empty when --lake is not given"));
  none.lake = "/some/lake";
  EXPECT_TRUE(none.Validate().ok());
}

TEST(EngineOptions, ValidateAndOpenAgree) {
  TempDir dir;
  EngineOptions o;
  EXPECT_TRUE(o.Validate().ok());
  o.catalog = dir.path();  // a directory, not a file
  Status st = o.Validate();
  EXPECT_THAT(st.message(), HasSubstr("--catalog '" + dir.str() + "' is a directory"));
  auto e = Engine::Open(dir.path(), o);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(), st.message());
  EngineOptions url;
  url.lake_url = "http://example.com/lake";
  EXPECT_THAT(url.Validate().message(), HasSubstr("--lake 'http://example.com/lake'"));
  url.lake_url = "s3://bucket/lake";
  EXPECT_TRUE(url.Validate().ok());
}

TEST(AthenaDdlParse, DeeplyNestedTypesAreASyntaxErrorNotACrash) {
  std::string type;
  for (int i = 0; i < 5000; ++i) type += "array<";
  type += "int";
  for (int i = 0; i < 5000; ++i) type += ">";
  auto r = ParseAthenaDdl("CREATE EXTERNAL TABLE t (a " + type + ") LOCATION '/x'");
  ASSERT_TRUE(r.has_value());
  ASSERT_FALSE(r->ok());
  EXPECT_THAT(r->status().message(), HasSubstr("line 1, column 634: the type of column 'a' is nested more than 100 levels deep"));
  // 100 levels are fine.
  std::string ok;
  for (int i = 0; i < 100; ++i) ok += "array<";
  ok += "int";
  for (int i = 0; i < 100; ++i) ok += ">";
  auto fine = ParseAthenaDdl("CREATE EXTERNAL TABLE t (a " + ok + ") LOCATION '/x'");
  ASSERT_TRUE(fine.has_value());
  EXPECT_TRUE(fine->ok()) << fine->status().message();
}

}  // namespace
}  // namespace orderlake::query
