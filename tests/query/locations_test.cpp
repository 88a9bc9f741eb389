// Where the engine reads table locations from (engine_util.h MapLocation): the data
// directory's buckets, confinement to them, a catalog without a lake, and the default
// database of unqualified names (Athena's QueryExecutionContext).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "query/engine.h"
#include "query/engine_util.h"
#include "test_util.h"

namespace orderlake::query {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;
using internal::LocationRules;
using internal::MapLocation;
using orderlake::testing::TempDir;
using orderlake::testing::write_file;

TEST(MapLocation, LocalBucketsAreTheirDirectories) {
  TempDir dir;
  LocationRules rules;
  rules.local_buckets["raw"] = dir.path() / "s3" / "raw";
  auto r = MapLocation("s3://raw/a/b/", rules);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(**r, (dir.path() / "s3" / "raw" / "a" / "b" / "").lexically_normal());
  // Another bucket without confinement: remote (a mirror reads it); a plain path is itself.
  auto remote = MapLocation("s3://elsewhere/x", rules);
  ASSERT_TRUE(remote.ok());
  EXPECT_FALSE(remote->has_value());
  auto etc = MapLocation("file:///etc", rules);
  ASSERT_TRUE(etc.ok());
  EXPECT_EQ(**etc, fs::path("/etc"));
}

TEST(MapLocation, ConfinedToTheBuckets) {
  TempDir dir;
  const fs::path bucket = dir.path() / "s3" / "raw";
  fs::create_directories(bucket / "in");
  fs::create_symlink("/etc", bucket / "link");
  LocationRules rules;
  rules.local_buckets["raw"] = bucket;
  rules.buckets_only = true;
  EXPECT_TRUE(MapLocation("file://" + (bucket / "in").string(), rules).ok());
  EXPECT_TRUE(MapLocation((bucket / "in" / "not-yet").string(), rules).ok());
  for (std::string bad : {std::string("file:///etc"), std::string("/etc/passwd"), std::string("s3://raw/../x"),
                          std::string("s3://raw/a/./b"), std::string("s3://other/x"), std::string("relative/dir"),
                          "file://" + (bucket / "..").string(), "file://" + (bucket / "link").string(),
                          "file://" + (bucket / "link" / "ssh").string()}) {
    auto r = MapLocation(bad, rules);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_THAT(r.status().message(), HasSubstr("not read")) << bad;
    }
  }
  rules.remote_s3 = true;
  auto remote = MapLocation("s3://other/x", rules);
  ASSERT_TRUE(remote.ok());
  EXPECT_FALSE(remote->has_value());
}

TEST(EngineLocations, CatalogWithoutLakeReadsBucketsAndRefusesOutside) {
  TempDir dir;
  const fs::path bucket = dir.path() / "s3" / "raw";
  write_file(bucket / "t" / "part.csv", "1,a\n2,b\n");
  EngineOptions eo;
  eo.catalog = dir.path() / "catalog.db";
  eo.lake_optional = true;
  eo.buckets_only = true;
  eo.local_buckets["raw"] = bucket;
  eo.database = "sales";
  auto e = Engine::Open(dir.path() / "lake", eo);
  ASSERT_TRUE(e.ok()) << e.status().message();
  auto tables = (*e)->Tables();
  ASSERT_TRUE(tables.ok());
  EXPECT_THAT(*tables, ::testing::Not(::testing::Contains("orders")));
  EXPECT_FALSE((*e)->Execute("SELECT * FROM orders").ok());
  // Unqualified: the context's database.
  auto made = (*e)->Execute("CREATE EXTERNAL TABLE t (n int, s string) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' "
                            "LOCATION 's3://raw/t/'");
  ASSERT_TRUE(made.ok()) << made.status().message();
  auto r = (*e)->Execute("SELECT sum(n) AS total FROM t");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->rows.at(0).at(0).ToString(), "3");
  auto q = (*e)->Execute("SELECT count(*) FROM sales.t");
  ASSERT_TRUE(q.ok()) << q.status().message();
  auto outside = (*e)->Execute("CREATE EXTERNAL TABLE x (a string) LOCATION 'file:///etc'");
  ASSERT_FALSE(outside.ok());
  EXPECT_THAT(outside.status().message(), HasSubstr("outside the data directory's buckets"));
  // A table made by hand with a location outside (as a catalog edited by another tool): never read.
  EngineOptions open = eo;
  open.buckets_only = false;
  auto free = Engine::Open(dir.path() / "lake", open);
  ASSERT_TRUE(free.ok());
  ASSERT_TRUE((*free)->Execute("CREATE EXTERNAL TABLE sales.etc (a string) LOCATION 'file:///etc'").ok());
  auto read = (*e)->Execute("SELECT * FROM etc");
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.status().message(), HasSubstr("outside the data directory's buckets"));
}

}  // namespace
}  // namespace orderlake::query
