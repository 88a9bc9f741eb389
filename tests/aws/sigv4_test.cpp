// SigV4 from the one canonical-request builder: the AWS documentation's published example
// (known answer), sign-then-verify round trips and every verification error.
#include "aws/sigv4.h"

#include <gtest/gtest.h>

namespace orderlake::aws {
namespace {
using namespace std::chrono_literals;

TEST(SigV4, TheAwsDocumentationExample) {
  // The IAM ListUsers example of the AWS SigV4 documentation.
  aws::Request req;
  req.method = "GET";
  req.canonical_uri = "/";
  req.query = {{"Action", "ListUsers"}, {"Version", "2010-05-08"}};
  req.headers = {{"content-type", "application/x-www-form-urlencoded; charset=utf-8"}, {"host", "iam.amazonaws.com"},
                 {"x-amz-date", "20150830T123600Z"}};
  req.payload_sha256 = aws::hex_sha256("");
  const std::string creq = aws::canonical_request(req, "content-type;host;x-amz-date");
  EXPECT_EQ(aws::hex_sha256(creq), "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
  const std::string to_sign =
      "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n" + aws::hex_sha256(creq);
  EXPECT_EQ(aws::signature({"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", ""}, "20150830", "us-east-1",
                           "iam", to_sign),
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

TEST(SigV4, UriEncoding) {
  EXPECT_EQ(aws::uri_encode("a b/c~d.e_f-g"), "a%20b%2Fc~d.e_f-g");
  EXPECT_EQ(aws::uri_encode("a b/c", false), "a%20b/c");
  EXPECT_EQ(aws::uri_encode("Côte d%27"), "C%C3%B4te%20d%2527");
}


// A Firehose-style request signed now with authorization(); `extra` headers are added.
struct Signed {
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body = "{}";
  ReceivedRequest view() const {
    ReceivedRequest r;
    r.method = "POST";
    r.path = "/";
    for (auto& [k, v] : headers) r.headers.emplace_back(k, v);
    r.body = body;
    return r;
  }
};

Signed make_signed(std::chrono::system_clock::time_point when, std::string_view service = "firehose",
                   std::string_view secret = "secret") {
  Signed s;
  const std::string stamp = amz_date(when);
  s.headers = {{"Host", "127.0.0.1:4573"},
               {"X-Amz-Date", stamp},
               {"X-Amz-Target", "Firehose_20150804.ListDeliveryStreams"},
               {"Content-Type", "application/x-amz-json-1.1"}};
  s.headers.emplace_back("Authorization", authorization(s.view(), Credentials{"AKID", std::string(secret), "", ""},
                                                        "eu-west-1", service, stamp));
  return s;
}

const std::map<std::string, std::string> kKeys{{"AKID", "secret"}};

TEST(SigV4, SignedRequestVerifies) {
  const auto now = std::chrono::system_clock::now();
  Signed s = make_signed(now);
  VerifyResult v = verify(s.view(), kKeys, "firehose", now);
  EXPECT_TRUE(v.ok) << v.message;
  EXPECT_EQ(v.access_key, "AKID");
}

TEST(SigV4, TamperedOrWronglyKeyedRequestsAreRefused) {
  const auto now = std::chrono::system_clock::now();
  Signed s = make_signed(now);
  Signed tampered = s;
  tampered.body = "{ }";
  EXPECT_EQ(verify(tampered.view(), kKeys, "firehose", now).error_type, "InvalidSignatureException");
  Signed header_changed = s;
  header_changed.headers[2].second = "Firehose_20150804.DeleteDeliveryStream";
  EXPECT_EQ(verify(header_changed.view(), kKeys, "firehose", now).error_type, "InvalidSignatureException");
  EXPECT_EQ(verify(s.view(), {{"AKID", "other"}}, "firehose", now).error_type, "InvalidSignatureException");
  EXPECT_EQ(verify(s.view(), {{"OTHER", "secret"}}, "firehose", now).error_type, "UnrecognizedClientException");
  Signed no_auth = s;
  no_auth.headers.pop_back();
  EXPECT_EQ(verify(no_auth.view(), kKeys, "firehose", now).error_type, "MissingAuthenticationTokenException");
  Signed wrong_alg = s;
  wrong_alg.headers.back().second = "AWS4-HMAC-SHA1 Credential=x";
  EXPECT_EQ(verify(wrong_alg.view(), kKeys, "firehose", now).error_type, "IncompleteSignatureException");
}

TEST(SigV4, TheServiceNameIsTheCallersAndTheClockSkewIs15Minutes) {
  const auto now = std::chrono::system_clock::now();
  Signed athena = make_signed(now, "athena");
  VerifyResult v = verify(athena.view(), kKeys, "firehose", now);
  EXPECT_EQ(v.error_type, "InvalidSignatureException");
  EXPECT_NE(v.message.find("'firehose'"), std::string::npos) << v.message;
  EXPECT_TRUE(verify(athena.view(), kKeys, "athena", now).ok);
  EXPECT_TRUE(verify(make_signed(now - 14min).view(), kKeys, "firehose", now).ok);
  EXPECT_TRUE(verify(make_signed(now + 14min).view(), kKeys, "firehose", now).ok);
  VerifyResult old = verify(make_signed(now - 16min).view(), kKeys, "firehose", now);
  EXPECT_EQ(old.error_type, "InvalidSignatureException");
  EXPECT_NE(old.message.find("expired"), std::string::npos);
  EXPECT_EQ(verify(make_signed(now + 16min).view(), kKeys, "firehose", now).error_type, "InvalidSignatureException");
}

TEST(SigV4, ContentHashHeaderMustMatchTheBody) {
  const auto now = std::chrono::system_clock::now();
  Signed s;
  const std::string stamp = amz_date(now);
  s.headers = {{"Host", "h"}, {"X-Amz-Date", stamp}, {"x-amz-content-sha256", hex_sha256("{}")}};
  s.headers.emplace_back("Authorization", authorization(s.view(), {"AKID", "secret", "", ""}, "us-east-1", "firehose", stamp));
  EXPECT_TRUE(verify(s.view(), kKeys, "firehose", now).ok);
  s.body = "{\"x\":1}";
  EXPECT_EQ(verify(s.view(), kKeys, "firehose", now).error_type, "InvalidSignatureException");
}

TEST(SigV4, ClientSigningAndServerVerificationAgree) {
  // sign() (the S3 store's path) and verify() build the same canonical request, including
  // query strings, repeated headers and blanks in values.
  const auto now = std::chrono::system_clock::now();
  Request req;
  req.method = "GET";
  req.canonical_uri = "/bucket/a%20b";
  req.query = {{"prefix", "x y/z"}, {"list-type", "2"}, {"a", ""}};
  req.headers = {{"host", "s3.local:9000"}, {"x-amz-meta-note", "  two   spaces  "}};
  req.payload_sha256 = hex_sha256("");
  sign(req, {"AKID", "secret", "tok", ""}, "us-east-1", "s3", now);
  EXPECT_EQ(req.headers.at("x-amz-security-token"), "tok");
  std::string query;
  for (auto& [k, v] : req.query) query += (query.empty() ? "" : "&") + uri_encode(k) + "=" + uri_encode(v);
  ReceivedRequest r;
  r.method = req.method;
  r.path = req.canonical_uri;
  r.query = query;
  for (auto& [k, v] : req.headers) r.headers.emplace_back(k, v);
  EXPECT_TRUE(verify(r, kKeys, "s3", now).ok) << verify(r, kKeys, "s3", now).message;
  // Repeated headers are joined with ',' in order: reordering their values breaks the signature.
  r.headers.emplace_back("x-amz-meta-note", "second");
  EXPECT_FALSE(verify(r, kKeys, "s3", now).ok);  // not signed with the second value
}

TEST(SigV4, CanonicalRequestShape) {
  const std::string c = build_canonical_request("POST", "", {{"b", "2"}, {"a", "1"}},
                                                {{"Host", " h  x "}, {"X-A", "1"}, {"x-a", " 2"}}, {"host", "x-a"}, "HASH");
  EXPECT_EQ(c, "POST\n/\na=1&b=2\nhost:h x\nx-a:1,2\n\nhost;x-a\nHASH");
}

}  // namespace
}  // namespace orderlake::aws
