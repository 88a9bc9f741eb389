// The object-store contract on a local directory and on S3 (moto's server, started by the
// test), cross-checked with the AWS CLI.
#include "store/object_store.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace orderlake::store {
namespace {
using orderlake::testing::aws_cli;
using orderlake::testing::MotoServer;
using orderlake::testing::TempDir;

S3Options moto_options(const MotoServer& moto) {
  S3Options o;
  o.endpoint = moto.endpoint();
  o.region = "us-east-1";
  o.credentials = aws::Credentials{"testing", "testing", "", "test"};
  o.max_attempts = 2;
  return o;
}

void make_bucket(const MotoServer& moto, const std::string& bucket) {
  auto r = aws_cli(moto.endpoint(), {"s3api", "create-bucket", "--bucket", bucket});
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

std::vector<std::string> keys_of(const std::vector<ObjectInfo>& v) {
  std::vector<std::string> k;
  for (auto& o : v) k.push_back(o.key);
  return k;
}

// The same checks on each implementation.
void check_contract(ObjectStore& s) {
  ASSERT_TRUE(s.Put("b/two.txt", "second").ok());
  ASSERT_TRUE(s.Put("a/one.txt", "first object").ok());
  ASSERT_TRUE(s.Put("Country=Côte d%27Ivoire/x y.parquet", "partition").ok());
  ASSERT_TRUE(s.Put("a/.hidden.tmp", "staging").ok());
  auto all = s.List("");
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_EQ(keys_of(all.value()), (std::vector<std::string>{"Country=Côte d%27Ivoire/x y.parquet", "a/one.txt", "b/two.txt"}));
  EXPECT_EQ(all.value()[1].size, 12u);
  auto a = s.List("a/");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(keys_of(a.value()), (std::vector<std::string>{"a/one.txt"}));
  auto none = s.List("zzz/");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  EXPECT_EQ(s.Get("a/one.txt").value(), "first object");
  EXPECT_EQ(s.Get("a/one.txt", 6).value(), "object");
  EXPECT_EQ(s.Get("a/one.txt", 0, 5).value(), "first");
  EXPECT_EQ(s.Get("a/one.txt", 6, 100).value(), "object");
  EXPECT_EQ(s.Get("a/one.txt", 3, 0).value(), "");
  EXPECT_EQ(s.Get("Country=Côte d%27Ivoire/x y.parquet").value(), "partition");
  EXPECT_FALSE(s.Get("a/missing.txt").ok());

  auto h = s.Head("b/two.txt");
  ASSERT_TRUE(h.ok());
  ASSERT_TRUE(h->has_value());
  EXPECT_EQ((*h)->size, 6u);
  EXPECT_GT((*h)->mtime_ms, 1700000000000);
  auto missing = s.Head("b/none.txt");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  ASSERT_TRUE(s.Put("b/two.txt", "replaced").ok());
  EXPECT_EQ(s.Get("b/two.txt").value(), "replaced");

  auto first = s.PutIfAbsent("log/00001.json", "v1");
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_TRUE(first.value());
  auto second = s.PutIfAbsent("log/00001.json", "v2");
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_FALSE(second.value());
  EXPECT_EQ(s.Get("log/00001.json").value(), "v1");

  ASSERT_TRUE(s.Delete("b/two.txt").ok());
  EXPECT_FALSE(s.Head("b/two.txt")->has_value());
  EXPECT_TRUE(s.Delete("b/two.txt").ok());  // deleting nothing is fine
}

TEST(LocalStore, Contract) {
  TempDir d;
  auto s = Open(d.str());
  ASSERT_TRUE(s.ok());
  check_contract(*s.value());
  EXPECT_EQ(s.value()->url(), "file://" + d.path().string());
  auto f = Open("file://" + d.str());
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f.value()->Get("a/one.txt").value(), "first object");
}

TEST(S3Options, ValidateExplainsEachBound) {
  S3Options o;
  EXPECT_TRUE(o.Validate().ok());
  o.endpoint = "ftp://x";
  EXPECT_NE(o.Validate().message().find("AWS_ENDPOINT_URL"), std::string::npos);
  o.endpoint = "127.0.0.1:9000";  // a bare host:port means https://
  EXPECT_TRUE(o.Validate().ok());
  o.part_size = 1 << 20;
  EXPECT_NE(o.Validate().message().find("part_size"), std::string::npos);
  o = S3Options{};
  o.multipart_threshold = 1 << 20;
  EXPECT_NE(o.Validate().message().find("multipart_threshold"), std::string::npos);
  o = S3Options{};
  o.max_attempts = 0;
  EXPECT_NE(o.Validate().message().find("max_attempts"), std::string::npos);
  o = S3Options{};
  o.connect_to = {"a:1"};
  EXPECT_NE(o.Validate().message().find("connect_to"), std::string::npos);
  EXPECT_FALSE(OpenS3("b", "", o).ok());  // OpenS3 goes through Validate()
}

TEST(Store, LocationsAreChecked) {
  EXPECT_FALSE(Open("ftp://x/y").ok());
  EXPECT_FALSE(Open("s3://").ok());
  EXPECT_FALSE(Open("").ok());
}

TEST(S3Store, ContractAgainstMoto) {
  MotoServer moto;
  make_bucket(moto, "lake");
  auto s = OpenS3("lake", "warehouse/v1", moto_options(moto));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s.value()->url(), "s3://lake/warehouse/v1");
  check_contract(*s.value());
  // The AWS CLI sees the same objects under the prefix, with the same bytes.
  auto r = aws_cli(moto.endpoint(), {"s3api", "list-objects-v2", "--bucket", "lake", "--prefix", "warehouse/v1/a/"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  std::vector<std::string> cli_keys;
  for (auto& c : j["Contents"]) cli_keys.push_back(c["Key"]);
  EXPECT_EQ(cli_keys, (std::vector<std::string>{"warehouse/v1/a/.hidden.tmp", "warehouse/v1/a/one.txt"}));
  TempDir d;
  auto g = aws_cli(moto.endpoint(), {"s3api", "get-object", "--bucket", "lake", "--key",
                                     "warehouse/v1/Country=Côte d%27Ivoire/x y.parquet", (d.path() / "out").string()});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  EXPECT_EQ(orderlake::testing::read_file(d.path() / "out"), "partition");
}

TEST(S3Store, ListingPagesAndMultipartUpload) {
  MotoServer moto;
  make_bucket(moto, "big");
  setenv("ORDERLAKE_S3_LIST_PAGE_SIZE", "7", 1);
  S3Options o = moto_options(moto);
  o.multipart_threshold = 6 << 20;
  o.part_size = 5 << 20;
  auto s = OpenS3("big", "", o);
  unsetenv("ORDERLAKE_S3_LIST_PAGE_SIZE");
  ASSERT_TRUE(s.ok());
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(s.value()->Put(fmt::format("k/{:03d}", i), std::to_string(i)).ok());
  auto l = s.value()->List("k/");
  ASSERT_TRUE(l.ok()) << l.status().message();
  ASSERT_EQ(l->size(), 25u);
  EXPECT_EQ(l->back().key, "k/024");

  std::string big(12 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 2654435761u) >> 13);
  ASSERT_TRUE(s.value()->Put("large.bin", big).ok());
  EXPECT_EQ(s.value()->Get("large.bin").value(), big);
  auto head = aws_cli(moto.endpoint(), {"s3api", "head-object", "--bucket", "big", "--key", "large.bin"});
  ASSERT_EQ(head.exit_code, 0) << head.err;
  auto hj = nlohmann::json::parse(head.out);
  EXPECT_EQ(hj["ContentLength"], 12 << 20);
  EXPECT_NE(hj["ETag"].get<std::string>().find("-3"), std::string::npos) << hj["ETag"];  // 3 parts
}

TEST(S3Store, VirtualHostAddressing) {
  MotoServer moto;
  make_bucket(moto, "vhost");
  S3Options o = moto_options(moto);
  o.path_style = false;
  o.endpoint = "http://localhost:" + std::to_string(moto.port());
  o.connect_to = {"vhost.localhost:" + std::to_string(moto.port()) + ":127.0.0.1:" + std::to_string(moto.port())};
  auto s = OpenS3("vhost", "p", o);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s.value()->Put("x.txt", "hello").ok());
  EXPECT_EQ(s.value()->Get("x.txt").value(), "hello");
  auto r = aws_cli(moto.endpoint(), {"s3api", "list-objects-v2", "--bucket", "vhost"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("p/x.txt"), std::string::npos) << r.out;
}

TEST(S3Store, ClearErrors) {
  MotoServer moto;
  auto s = OpenS3("no-such-bucket", "", moto_options(moto));
  ASSERT_TRUE(s.ok());
  auto l = s.value()->List("");
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.status().message().find("bucket no-such-bucket does not exist"), std::string::npos) << l.status().message();
  auto p = s.value()->Put("x", "y");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.message().find("does not exist"), std::string::npos) << p.message();

  S3Options dead = moto_options(moto);
  dead.endpoint = "http://127.0.0.1:" + std::to_string(orderlake::testing::free_port());
  auto d = OpenS3("lake", "", dead);
  auto dl = d.value()->List("");
  ASSERT_FALSE(dl.ok());
  EXPECT_NE(dl.status().message().find("cannot reach the S3 endpoint"), std::string::npos) << dl.status().message();
}

TEST(S3Store, WrongCredentialsAreAccessDenied) {
  // moto checks credentials once INITIAL_NO_AUTH_ACTION_COUNT requests have passed.
  MotoServer moto({"INITIAL_NO_AUTH_ACTION_COUNT=0"});
  S3Options o = moto_options(moto);
  o.credentials = aws::Credentials{"AKIANOTAREALKEY00000", "wrong", "", "test"};
  auto s = OpenS3("lake", "", o);
  auto l = s.value()->List("");
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.status().message().find("access denied"), std::string::npos) << l.status().message();
}

}  // namespace
}  // namespace orderlake::store
