// store/buckets.h: the data directory's buckets and the rule confining every location an
// AWS API receives to them.
#include "store/buckets.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "test_util.h"

namespace orderlake::store {
namespace {
namespace stdfs = std::filesystem;
using testing::TempDir;

struct Dir {
  TempDir tmp;
  Buckets buckets = [this] {
    stdfs::create_directories(tmp.path() / "s3" / "orderlake-raw" / "2026");
    stdfs::create_directories(tmp.path() / "lake" / "orders");
    stdfs::create_directories(tmp.path() / "s3" / "Not_A_Bucket");
    BucketsOptions o;
    o.data_dir = tmp.path();
    return Buckets::Open(o).value();
  }();
};

TEST(Buckets, NamesFollowS3Rules) {
  for (const std::string ok : {"abc", "orderlake-raw", "a.b-c", "9lives"}) EXPECT_TRUE(ValidBucketName(ok)) << ok;
  EXPECT_TRUE(ValidBucketName(std::string(63, 'a')));
  for (const char* bad : {"ab", "Abc", "-abc", "abc-", "a..b", "a_b", "192.168.1.1", "a/b", ""})
    EXPECT_FALSE(ValidBucketName(bad)) << bad;
  EXPECT_FALSE(ValidBucketName(std::string(64, 'a')));
}

TEST(Buckets, ListsTheLakeAndTheS3DirectoriesWithValidNames) {
  Dir d;
  std::vector<std::string> names;
  for (const BucketInfo& b : d.buckets.List()) names.push_back(b.name);
  EXPECT_EQ(names, (std::vector<std::string>{"orderlake-lake", "orderlake-raw"}));
  EXPECT_EQ(d.buckets.Create("results-1").value(), true);
  EXPECT_EQ(d.buckets.Create("results-1").value(), false);
  EXPECT_TRUE(stdfs::is_directory(d.tmp.path() / "s3" / "results-1"));
  EXPECT_FALSE(d.buckets.Create("../x").ok());
  EXPECT_EQ(d.buckets.LocalDirs().size(), 3u);
}

TEST(Buckets, ResolvesS3UrlsOfLocalBucketsToTheirDirectories) {
  Dir d;
  const stdfs::path root = stdfs::canonical(d.tmp.path());
  auto raw = d.buckets.Resolve("s3://orderlake-raw/2026/");
  ASSERT_TRUE(raw.ok()) << raw.status().message();
  EXPECT_TRUE(raw->local);
  EXPECT_EQ(raw->bucket, "orderlake-raw");
  EXPECT_EQ(raw->prefix, "2026/");
  EXPECT_EQ(raw->dir, root / "s3" / "orderlake-raw" / "2026");
  EXPECT_EQ(raw->url, "s3://orderlake-raw/2026/");
  auto lake = d.buckets.Resolve("s3a://orderlake-lake/orders");
  ASSERT_TRUE(lake.ok()) << lake.status().message();
  EXPECT_EQ(lake->dir, root / "lake" / "orders");
  auto whole = d.buckets.Resolve("s3://orderlake-raw");
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->dir, root / "s3" / "orderlake-raw");
  EXPECT_EQ(whole->url, "s3://orderlake-raw/");
}

TEST(Buckets, ResolvesPathsInsideABucket) {
  Dir d;
  const stdfs::path root = stdfs::canonical(d.tmp.path());
  auto p = d.buckets.Resolve("file://" + (d.tmp.path() / "s3" / "orderlake-raw" / "2026").string());
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->bucket, "orderlake-raw");
  EXPECT_EQ(p->prefix, "2026");
  EXPECT_EQ(p->url, "s3://orderlake-raw/2026");
  auto q = d.buckets.Resolve((d.tmp.path() / "lake" / "orders").string() + "/", "LOCATION");
  ASSERT_TRUE(q.ok()) << q.status().message();
  EXPECT_EQ(q->url, "s3://orderlake-lake/orders/");
  EXPECT_EQ(q->dir, root / "lake" / "orders");
}

TEST(Buckets, RefusesEverythingElseNamingTheInput) {
  Dir d;
  stdfs::create_directory_symlink("/etc", d.tmp.path() / "s3" / "orderlake-raw" / "etc");
  const std::string base = d.tmp.path().string();
  for (const std::string& bad :
       {std::string("/etc"), std::string("file:///etc/passwd"), std::string("../x"), std::string("orderlake-raw/x"),
        std::string("http://example.com/x"), std::string("s3://no-such-bucket/x"), std::string("s3://orderlake-raw/../../etc"),
        std::string("s3://orderlake-raw/etc/passwd"), std::string("s3://Bad_Name/x"), base + "/s3/orderlake-raw/../../..",
        base + "/s3/orderlake-raw/etc/passwd", base + "/catalog/catalog.db", base + "/s3/Not_A_Bucket/x",
        std::string("s3://orderlake-raw/a\nb"), std::string(3000, 'a')}) {
    auto r = d.buckets.Resolve(bad, "LOCATION");
    EXPECT_FALSE(r.ok()) << bad << " -> " << (r.ok() ? r->dir.string() : "");
    if (!r.ok()) {
      EXPECT_EQ(r.status().message().rfind("LOCATION", 0), 0u) << r.status().message();
    }
  }
}

TEST(Buckets, RemoteBucketsOnlyWithAnEndpoint) {
  TempDir tmp;
  S3Options s3;
  s3.endpoint = "http://127.0.0.1:9";
  s3.region = "us-east-1";
  BucketsOptions o;
  o.data_dir = tmp.path();
  o.remote = true;
  o.s3 = s3;
  auto b = Buckets::Open(o);
  ASSERT_TRUE(b.ok()) << b.status().message();
  auto r = b->Resolve("s3://elsewhere/tables/t1/");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->local);
  EXPECT_EQ(r->prefix, "tables/t1/");
  EXPECT_FALSE(b->Resolve("/etc").ok());
  o.data_dir = tmp.path() / "missing";
  EXPECT_FALSE(Buckets::Open(o).ok());
}

}  // namespace
}  // namespace orderlake::store
