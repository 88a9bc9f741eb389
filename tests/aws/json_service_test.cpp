// The JSON-1.1 scaffolding: target dispatch, error shapes, SerializationException, the
// router's choice of service and SigV4 check per service, the unsigned-listener rule.
#include "aws/json_service.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

namespace orderlake::aws {
namespace {
using json = nlohmann::json;

std::string type_of(const JsonResponse& r) { return json::parse(r.body).value("__type", ""); }

class Services : public ::testing::Test {
 protected:
  Services() {
    echo.AddRaw("Raw", [](const JsonCall& c) { return JsonResponse{200, std::string(c.header("x-extra"))}; });
    echo.Add("Doc", [](const json& r, const JsonCall&) { return JsonResponse{200, r.at("n").dump()}; });
    other.Add("Ping", [](const json&, const JsonCall& c) { return JsonResponse{200, "pong:" + c.access_key}; });
  }
  JsonService echo{"Echo_20240101", "echo"};
  JsonService other{"AmazonOther", "other"};
};

TEST_F(Services, DispatchAndErrorShapes) {
  JsonCall c;
  c.body = R"({"n": 5})";
  c.headers = {{"X-Extra", "hello"}};
  EXPECT_EQ(echo.Dispatch("Echo_20240101.Doc", c).body, "5");
  EXPECT_EQ(echo.Dispatch("Echo_20240101.Raw", c).body, "hello");
  auto unknown = echo.Dispatch("Echo_20240101.Nope", c);
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(type_of(unknown), "UnknownOperationException");
  EXPECT_EQ(type_of(echo.Dispatch("Other.Doc", c)), "UnknownOperationException");
  EXPECT_EQ(type_of(echo.Dispatch("Echo_20240101", c)), "UnknownOperationException");
  c.body = "{nope";
  EXPECT_EQ(type_of(echo.Dispatch("Echo_20240101.Doc", c)), "SerializationException");
  c.body = "[1]";
  EXPECT_EQ(type_of(echo.Dispatch("Echo_20240101.Doc", c)), "SerializationException");
  c.body = R"({"m": 1})";  // the handler's .at("n") throws: a wrong member is a SerializationException
  EXPECT_EQ(type_of(echo.Dispatch("Echo_20240101.Doc", c)), "SerializationException");
  auto e = json_error(503, "ServiceUnavailableException", "slow \"down\"");
  EXPECT_EQ(e.status, 503);
  EXPECT_EQ(json::parse(e.body), (json{{"__type", "ServiceUnavailableException"}, {"message", "slow \"down\""}}));
}

// Found by fuzz/firehose_fuzz.cpp: an X-Amz-Target that is not UTF-8 made the error
// document's dump throw (nlohmann type_error 316), which ended the process. Text from a
// request that is not UTF-8 is written with U+FFFD in its place.
TEST_F(Services, ErrorsQuotingBytesThatAreNotUtf8AreStillJson) {
  JsonCall c;
  c.body = "{}";
  JsonResponse r;
  ASSERT_NO_THROW(r = echo.Dispatch("Echo_20240101.Li\xdcst", c));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(type_of(r), "UnknownOperationException");
  EXPECT_NE(json::parse(r.body)["message"].get<std::string>().find("Li\xef\xbf\xbdst"), std::string::npos) << r.body;
  ASSERT_NO_THROW(r = echo.Dispatch("Ec\xffho.Raw", c));
  EXPECT_EQ(type_of(r), "UnknownOperationException");
  ASSERT_NO_THROW(r = json_error(400, "ValidationException", "bad \xc3"));
  EXPECT_EQ(json::parse(r.body)["message"], "bad \xef\xbf\xbd");
}

TEST_F(Services, RouterPicksTheServiceByPrefixAndVerifiesItsSigningName) {
  JsonRouter open;
  open.Mount(echo);
  open.Mount(other);
  std::vector<std::pair<std::string, std::string>> hs = {{"Host", "h"}, {"X-Amz-Target", "AmazonOther.Ping"}};
  auto view = [&hs](std::string_view body) {
    ReceivedRequest r;
    r.method = "POST";
    r.path = "/";
    for (auto& [k, v] : hs) r.headers.emplace_back(k, v);
    r.body = body;
    return r;
  };
  EXPECT_EQ(open.Handle(view("{}")).body, "pong:");
  hs[1].second = "Nobody.Ping";
  EXPECT_EQ(type_of(open.Handle(view("{}"))), "UnknownOperationException");

  JsonRouter locked(std::map<std::string, std::string>{{"AKID", "secret"}});
  locked.Mount(echo);
  locked.Mount(other);
  hs[1].second = "AmazonOther.Ping";
  auto unsigned_answer = locked.Handle(view("{}"));
  EXPECT_EQ(unsigned_answer.status, 403);
  EXPECT_EQ(type_of(unsigned_answer), "MissingAuthenticationTokenException");
  const auto now = std::chrono::system_clock::now();
  const std::string stamp = amz_date(now);
  hs.emplace_back("X-Amz-Date", stamp);
  auto sign_for = [&](std::string_view service) {
    auto without = hs;
    hs.emplace_back("Authorization", authorization(view("{}"), {"AKID", "secret", "", ""}, "us-east-1", service, stamp));
    auto out = locked.Handle(view("{}"));
    hs = without;
    return out;
  };
  EXPECT_EQ(sign_for("other").body, "pong:AKID");
  auto wrong = sign_for("echo");
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(type_of(wrong), "InvalidSignatureException");
}

TEST(JsonHttp, UnsignedListenersOnlyOnLoopback) {
  EXPECT_TRUE(check_unsigned_listener("127.0.0.1", {}).ok());
  EXPECT_TRUE(check_unsigned_listener("localhost", {}).ok());
  EXPECT_TRUE(check_unsigned_listener("::1", {}).ok());
  EXPECT_TRUE(check_unsigned_listener("0.0.0.0", {{"AKID", "s"}}).ok());
  Status st = check_unsigned_listener("0.0.0.0", {});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("without access keys"), std::string::npos);
}

TEST(JsonHttp, RequestIdsAreUnique) {
  RequestIds ids;
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(seen.insert(ids.Next()).second);
  EXPECT_EQ(seen.begin()->size(), 36u);
}

}  // namespace
}  // namespace orderlake::aws
