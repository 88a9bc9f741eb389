// store/s3_api.h in process: requests built as the HTTP server hands them over, answers
// checked as S3 clients read them. The real clients (both AWS CLIs, boto3) are in
// s3_api_test.py.
#include "store/s3_api.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <string>

#include "aws/sigv4.h"
#include "core/base64.h"
#include "store/object_store.h"
#include "store/s3_internal.h"
#include "test_util.h"

namespace orderlake::store {
namespace {
namespace stdfs = std::filesystem;
using testing::TempDir;

struct Api {
  TempDir tmp;
  Buckets buckets = [this] {
    stdfs::create_directories(tmp.path() / "s3" / "orderlake-raw");
    stdfs::create_directories(tmp.path() / "s3" / "orderlake-athena-results");
    BucketsOptions o;
    o.data_dir = tmp.path();
    return Buckets::Open(o).value();
  }();
  S3ApiOptions options = [] {
    S3ApiOptions o;
    o.read_only = [](std::string_view b) { return b == "orderlake-raw" || b == kLakeBucket; };
    return o;
  }();
  S3Api api{buckets, options};

  httplib::Response Call(const std::string& method, const std::string& target, const std::string& body = "",
                         httplib::Headers headers = {}) {
    httplib::Request req;
    req.method = method;
    req.target = target;
    const size_t q = target.find('?');
    req.path = httplib::detail::decode_url(target.substr(0, q), false);
    if (q != std::string::npos) httplib::detail::parse_query_text(target.substr(q + 1), req.params);
    req.headers = std::move(headers);
    req.body = body;
    httplib::Response res;
    api.Handle(req, res);
    return res;
  }
  stdfs::path Raw(const std::string& key) { return tmp.path() / "s3" / "orderlake-raw" / key; }
};

std::string Code(const httplib::Response& r) {
  const size_t a = r.body.find("<Code>"), b = r.body.find("</Code>");
  return a == std::string::npos ? "" : r.body.substr(a + 6, b - a - 6);
}

TEST(S3Ranges, FollowRfc7233AsS3Does) {
  using s3::ParseRange;
  EXPECT_EQ(ParseRange("bytes=2-5", 10).value()->first, 2u);
  EXPECT_EQ(ParseRange("bytes=2-5", 10).value()->last, 5u);
  EXPECT_EQ(ParseRange("bytes=-3", 10).value()->first, 7u);
  EXPECT_EQ(ParseRange("bytes=-30", 10).value()->first, 0u);
  EXPECT_EQ(ParseRange("bytes=4-", 10).value()->last, 9u);
  EXPECT_EQ(ParseRange("bytes=4-100", 10).value()->last, 9u);
  EXPECT_FALSE(ParseRange("", 10).value().has_value());
  EXPECT_FALSE(ParseRange("bytes=1-2,4-5", 10).value().has_value());  // several ranges: whole object
  EXPECT_FALSE(ParseRange("bytes=5-2", 10).value().has_value());      // malformed: ignored
  EXPECT_FALSE(ParseRange("items=1-2", 10).value().has_value());
  EXPECT_FALSE(ParseRange("bytes=10-", 10).ok());
  EXPECT_FALSE(ParseRange("bytes=-0", 10).ok());
  EXPECT_FALSE(ParseRange("bytes=0-", 0).ok());
}

TEST(S3Api, ListsInS3KeyOrderAcrossDirectories) {
  Api a;
  // '-' (0x2d) sorts before '/' (0x2f): "a-b" comes before "a/…", "a0" after.
  for (const char* k : {"a/x", "a-b", "a0", "a/y/z", "b"}) testing::write_file(a.Raw(k), "1");
  auto r = a.Call("GET", "/orderlake-raw?list-type=2");
  ASSERT_EQ(r.status, 200) << r.body;
  std::vector<std::string> keys = s3::XmlValues(r.body, "Key", 100);
  EXPECT_EQ(keys, (std::vector<std::string>{"a-b", "a/x", "a/y/z", "a0", "b"}));
  r = a.Call("GET", "/orderlake-raw?list-type=2&delimiter=%2F");
  EXPECT_EQ(s3::XmlValues(r.body, "Key", 100), (std::vector<std::string>{"a-b", "a0", "b"}));
  EXPECT_EQ(s3::XmlValues(r.body, "Prefix", 100), (std::vector<std::string>{"", "a/"}));
  r = a.Call("GET", "/orderlake-raw?list-type=2&max-keys=2");
  EXPECT_NE(r.body.find("<IsTruncated>true</IsTruncated>"), std::string::npos);
  const std::string token = s3::XmlValues(r.body, "NextContinuationToken", 1).at(0);
  r = a.Call("GET", "/orderlake-raw?list-type=2&max-keys=2&continuation-token=" + aws::uri_encode(token));
  EXPECT_EQ(s3::XmlValues(r.body, "Key", 100), (std::vector<std::string>{"a/y/z", "a0"}));
  EXPECT_EQ(Code(a.Call("GET", "/orderlake-raw?list-type=2&max-keys=-1")), "InvalidArgument");
}

TEST(S3Api, PutDecodesAwsChunkedBodiesAndChecksTheirCrc32) {
  Api a;
  const std::string data(70000, 'x');
  const uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size()));
  const char be[4] = {static_cast<char>(crc >> 24), static_cast<char>(crc >> 16), static_cast<char>(crc >> 8),
                      static_cast<char>(crc)};
  auto body = [&](const std::string& checksum) {
    return fmt::format("10000\r\n{}\r\n{:x}\r\n{}\r\n0\r\nx-amz-checksum-crc32:{}\r\n\r\n", data.substr(0, 65536),
                       data.size() - 65536, data.substr(65536), checksum);
  };
  httplib::Headers h = {{"Content-Encoding", "aws-chunked"},
                        {"x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"},
                        {"x-amz-trailer", "x-amz-checksum-crc32"},
                        {"x-amz-decoded-content-length", std::to_string(data.size())}};
  auto r = a.Call("PUT", "/orderlake-athena-results/q/a.bin", body(base64_encode(std::string(be, 4))), h);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(testing::read_file(a.tmp.path() / "s3" / "orderlake-athena-results" / "q" / "a.bin"), data);
  EXPECT_EQ(r.get_header_value("ETag"), "\"" + s3::Md5Hex(data) + "\"");
  EXPECT_EQ(r.get_header_value("x-amz-checksum-crc32"), base64_encode(std::string(be, 4)));
  r = a.Call("PUT", "/orderlake-athena-results/q/b.bin", body("AAAAAA=="), h);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "BadDigest");
  EXPECT_FALSE(stdfs::exists(a.tmp.path() / "s3" / "orderlake-athena-results" / "q" / "b.bin"));
  r = a.Call("PUT", "/orderlake-athena-results/q/c.bin", "zz\r\nbroken", h);
  EXPECT_EQ(Code(r), "IncompleteBody");
}

TEST(S3Api, RefusesWritesToReadOnlyBucketsAndKeysOutsideTheBucket) {
  Api a;
  EXPECT_EQ(Code(a.Call("PUT", "/orderlake-raw/x", "1")), "AccessDenied");
  EXPECT_FALSE(stdfs::exists(a.Raw("x")));
  EXPECT_EQ(Code(a.Call("PUT", "/orderlake-athena-results/a/../../orderlake-raw/x", "1")), "AccessDenied");
  EXPECT_EQ(Code(a.Call("PUT", "/orderlake-athena-results/.s3meta/x", "1")), "AccessDenied");
  EXPECT_EQ(Code(a.Call("GET", "/../etc/passwd")), "InvalidBucketName");
  stdfs::create_directory_symlink("/etc", a.Raw("etc"));
  auto r = a.Call("GET", "/orderlake-raw/etc/passwd");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body.find("root:"), std::string::npos);
  EXPECT_EQ(Code(a.Call("GET", "/orderlake-raw/nothing")), "NoSuchKey");
  EXPECT_EQ(Code(a.Call("GET", "/no-such-bucket/k")), "NoSuchBucket");
  EXPECT_EQ(Code(a.Call("PATCH", "/orderlake-raw/k")), "MethodNotAllowed");
}

TEST(S3Api, HeadGivesTheLengthWithoutAProviderReadingTheFile) {
  Api a;
  testing::write_file(a.Raw("k"), std::string(5000, 'y'));
  auto r = a.Call("HEAD", "/orderlake-raw/k");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_length_, 5000u);
  EXPECT_TRUE(r.body.empty());
  r = a.Call("GET", "/orderlake-raw/k", "", {{"Range", "bytes=10-19"}});
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.content_length_, 10u);
  EXPECT_EQ(r.get_header_value("Content-Range"), "bytes 10-19/5000");
}

TEST(S3Api, VerifiesSignaturesWhenKeysAreConfigured) {
  Api a;
  a.options.keys = {{"AK", "SK"}};
  S3Api api(a.buckets, a.options);
  auto call = [&](const std::string& secret) {
    aws::Request sreq;
    sreq.method = "GET";
    sreq.canonical_uri = "/orderlake-raw";
    sreq.query = {{"list-type", "2"}};
    sreq.headers = {{"host", "127.0.0.1:4566"}, {"x-amz-content-sha256", aws::hex_sha256("")}};
    sreq.payload_sha256 = aws::hex_sha256("");
    aws::sign(sreq, aws::Credentials{"AK", secret, "", ""}, "us-east-1", "s3");
    httplib::Request req;
    req.method = "GET";
    req.target = "/orderlake-raw?list-type=2";
    req.path = "/orderlake-raw";
    req.params.emplace("list-type", "2");
    for (auto& [k, v] : sreq.headers) req.headers.emplace(k, v);
    httplib::Response res;
    api.Handle(req, res);
    return res;
  };
  EXPECT_EQ(call("SK").status, 200);
  auto bad = call("wrong");
  EXPECT_EQ(bad.status, 403);
  EXPECT_EQ(Code(bad), "SignatureDoesNotMatch");
}

// STREAMING-AWS4-HMAC-SHA256-PAYLOAD (the Java SDK's signed aws-chunked bodies): each
// chunk's signature chains from the seed signature of the Authorization header.
TEST(S3Api, VerifiesChunkSignaturesOfSignedStreamingBodies) {
  Api a;
  a.options.keys = {{"AK", "SK"}};
  S3Api api(a.buckets, a.options);
  const std::string data = std::string(70000, 'q');
  auto put = [&](bool tamper) {
    aws::Request sreq;
    sreq.method = "PUT";
    sreq.canonical_uri = "/orderlake-athena-results/signed.bin";
    sreq.headers = {{"host", "127.0.0.1:4566"},
                    {"x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"},
                    {"content-encoding", "aws-chunked"},
                    {"x-amz-decoded-content-length", std::to_string(data.size())}};
    sreq.payload_sha256 = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
    const auto now = std::chrono::system_clock::now();
    aws::sign(sreq, aws::Credentials{"AK", "SK", "", ""}, "us-east-1", "s3", now);
    const std::string auth = sreq.headers["authorization"];
    std::string prev = auth.substr(auth.find("Signature=") + 10);
    const std::string stamp = sreq.headers["x-amz-date"], date = stamp.substr(0, 8);
    const std::string scope = date + "/us-east-1/s3/aws4_request";
    std::string body;
    for (const std::string& chunk : {data.substr(0, 65536), data.substr(65536), std::string()}) {
      const std::string sts = "AWS4-HMAC-SHA256-PAYLOAD\n" + stamp + "\n" + scope + "\n" + prev + "\n" +
                              aws::hex_sha256("") + "\n" + aws::hex_sha256(chunk);
      prev = aws::signature(aws::Credentials{"AK", "SK", "", ""}, date, "us-east-1", "s3", sts);
      body += fmt::format("{:x};chunk-signature={}\r\n{}\r\n", chunk.size(), prev, chunk);
    }
    if (tamper) body[body.find("qqq") + 1] = 'Q';
    httplib::Request req;
    req.method = "PUT";
    req.target = req.path = sreq.canonical_uri;
    for (auto& [k, v] : sreq.headers) req.headers.emplace(k, v);
    req.body = body;
    httplib::Response res;
    api.Handle(req, res);
    return res;
  };
  auto ok = put(false);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(testing::read_file(a.tmp.path() / "s3" / "orderlake-athena-results" / "signed.bin"), data);
  auto bad = put(true);
  EXPECT_EQ(bad.status, 403);
  EXPECT_EQ(Code(bad), "SignatureDoesNotMatch");
}

// Our own S3 client (store/s3_store, what the etl and the query engine use with
// AWS_ENDPOINT_URL) against `orderlake aws`: puts, ranged gets, listing pages, a conditional
// put and a multipart upload.
TEST(S3Api, OurS3StoreWorksAgainstOrderlakeAws) {
  TempDir data;
  stdfs::create_directories(data.path() / "s3" / "orderlake-athena-results");
  testing::BackgroundProcess aws({ORDERLAKE_BINARY, "aws", "--no-firehose", "--data-dir", data.str(), "--listen",
                                  "127.0.0.1:0", "--access-key", "AK", "--secret-key", "SK"});
  ASSERT_TRUE(testing::wait_for([&] { return aws.out().find('\n') != std::string::npos; }, 30)) << aws.err();
  const std::string out = aws.out();
  ASSERT_EQ(out.rfind("AWS endpoint at ", 0), 0u) << out;
  S3Options o;
  o.endpoint = out.substr(16, out.find('\n') - 16);
  o.region = "us-east-1";
  o.credentials = aws::Credentials{"AK", "SK", "", "test"};
  o.max_attempts = 1;
  o.multipart_threshold = 6 << 20;
  o.part_size = 5 << 20;
  setenv("ORDERLAKE_S3_LIST_PAGE_SIZE", "3", 1);
  auto s = OpenS3("orderlake-athena-results", "t", o);
  unsetenv("ORDERLAKE_S3_LIST_PAGE_SIZE");
  ASSERT_TRUE(s.ok()) << s.status().message();
  ObjectStore& st = **s;
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(st.Put(fmt::format("k/{:02d}", i), std::to_string(i)).ok());
  ASSERT_TRUE(st.Put("Country=Côte d%27Ivoire/x y.parquet", "partition").ok());
  auto l = st.List("k/");
  ASSERT_TRUE(l.ok()) << l.status().message();
  ASSERT_EQ(l->size(), 8u);
  EXPECT_EQ(l->back().key, "k/07");
  EXPECT_EQ(st.Get("Country=Côte d%27Ivoire/x y.parquet", 2, 3).value(), "rti");
  EXPECT_EQ(st.Head("k/03").value()->size, 1u);
  EXPECT_FALSE(st.Head("k/99").value().has_value());
  EXPECT_TRUE(st.PutIfAbsent("log/00001.json", "v1").value());
  EXPECT_FALSE(st.PutIfAbsent("log/00001.json", "v2").value());
  EXPECT_EQ(st.Get("log/00001.json").value(), "v1");
  std::string big(12 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 2654435761u) >> 13);
  ASSERT_TRUE(st.Put("large.bin", big).ok());
  EXPECT_EQ(testing::read_file(data.path() / "s3" / "orderlake-athena-results" / "t" / "large.bin"), big);
  EXPECT_EQ(st.Get("large.bin").value(), big);
  ASSERT_TRUE(st.Delete("k/00").ok());
  EXPECT_FALSE(st.Head("k/00").value().has_value());
  EXPECT_EQ(aws.Stop(), 0) << aws.err();
}

}  // namespace
}  // namespace orderlake::store
