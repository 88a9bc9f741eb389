// The Athena API's runner through its JsonService (no HTTP): the bounded queue
// (QUEUED, then TooManyRequestsException), stopping queued and running statements, the
// bounded history, and executions running at a stop reading FAILED after a restart.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "query/athena_api.h"
#include "store/buckets.h"
#include "test_util.h"

namespace orderlake::query {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;
using ::testing::HasSubstr;
using orderlake::testing::TempDir;

constexpr const char* kLong = "SELECT sum(hash(i)) FROM range(100000000000) t(i)";

class AthenaQueue : public ::testing::Test {
 protected:
  void SetUp() override {
    store::BucketsOptions bo;
    bo.data_dir = dir_.path();
    auto b = store::Buckets::Open(bo);
    ASSERT_TRUE(b.ok()) << b.status().message();
    buckets_ = std::make_unique<store::Buckets>(std::move(b).value());
    ASSERT_TRUE(buckets_->Create(store::kResultsBucket).ok());
    Open();
  }
  void Open() {
    api_.reset();
    AthenaApiOptions o;
    o.data_dir = dir_.path();
    o.lake = dir_.path() / "lake";  // none: the catalog alone
    o.catalog = catalog::Catalog::DefaultPath(dir_.path());
    o.buckets = buckets_.get();
    o.limits.lake = o.lake;
    o.limits.executable = ORDERLAKE_BINARY;
    o.limits.workers = 1;
    o.max_queued = 1;
    o.max_executions = 10;
    auto api = AthenaApi::Create(o);
    ASSERT_TRUE(api.ok()) << api.status().message();
    api_ = std::move(api).value();
  }
  std::pair<int, json> Call(const std::string& op, const json& body) {
    aws::JsonCall call;
    const std::string text = body.dump();
    call.body = text;
    auto r = api_->service().Dispatch("AmazonAthena." + op, call);
    return {r.status, json::parse(r.body)};
  }
  std::string Start(const std::string& sql) {
    auto [status, body] = Call("StartQueryExecution", {{"QueryString", sql}});
    EXPECT_EQ(status, 200) << body.dump();
    return body.value("QueryExecutionId", "");
  }
  std::string State(const std::string& id) {
    return Call("GetQueryExecution", {{"QueryExecutionId", id}}).second["QueryExecution"]["Status"]["State"];
  }
  std::string WaitFor(const std::string& id, const std::vector<std::string>& states) {
    for (int i = 0; i < 1200; ++i) {
      std::string s = State(id);
      if (std::find(states.begin(), states.end(), s) != states.end()) return s;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return State(id);
  }
  TempDir dir_;
  std::unique_ptr<store::Buckets> buckets_;
  std::unique_ptr<AthenaApi> api_;
};

TEST_F(AthenaQueue, QueueIsBoundedAndStopEndsQueuedAndRunning) {
  const std::string running = Start(kLong);
  ASSERT_EQ(WaitFor(running, {"RUNNING"}), "RUNNING");
  const std::string queued = Start("SELECT 1");
  EXPECT_EQ(State(queued), "QUEUED");
  auto [status, body] = Call("StartQueryExecution", {{"QueryString", "SELECT 2"}});
  EXPECT_EQ(status, 400);
  EXPECT_EQ(body["__type"], "TooManyRequestsException");
  // A bucket made after the API started is a bucket of DDL (once the queue moves).
  ASSERT_TRUE(buckets_->Create("made-later").ok());
  EXPECT_EQ(Call("StopQueryExecution", {{"QueryExecutionId", queued}}).first, 200);
  EXPECT_EQ(State(queued), "CANCELLED");
  EXPECT_EQ(Call("StopQueryExecution", {{"QueryExecutionId", running}}).first, 200);
  EXPECT_EQ(WaitFor(running, {"CANCELLED", "FAILED", "SUCCEEDED"}), "CANCELLED");
  const std::string ddl = Start("CREATE EXTERNAL TABLE later (a string) LOCATION 's3://made-later/t/'");
  EXPECT_EQ(WaitFor(ddl, {"SUCCEEDED", "FAILED"}), "SUCCEEDED")
      << Call("GetQueryExecution", {{"QueryExecutionId", ddl}}).second.dump();
  auto [s2, missing] = Call("GetQueryExecution", {{"QueryExecutionId", "nope"}});
  EXPECT_EQ(s2, 400);
  EXPECT_EQ(missing["__type"], "InvalidRequestException");
  EXPECT_EQ(missing["AthenaErrorCode"], "INVALID_INPUT");
}

TEST_F(AthenaQueue, HistoryIsBoundedAndSurvivesRestarts) {
  std::vector<std::string> ids;
  for (int i = 0; i < 13; ++i) {
    ids.push_back(Start("SELECT " + std::to_string(i)));
    ASSERT_EQ(WaitFor(ids.back(), {"SUCCEEDED", "FAILED"}), "SUCCEEDED");
  }
  auto [status, list] = Call("ListQueryExecutions", {{"MaxResults", 50}});
  ASSERT_EQ(status, 200);
  EXPECT_LE(list["QueryExecutionIds"].size(), 10u);
  EXPECT_EQ(list["QueryExecutionIds"][0], ids.back());
  EXPECT_EQ(Call("GetQueryExecution", {{"QueryExecutionId", ids.front()}}).first, 400);  // forgotten
  EXPECT_FALSE(fs::exists(dir_.path() / "athena" / "executions" / (ids.front() + ".json")));
  // A statement running when the API stops reads FAILED, with the reason, after a restart.
  const std::string running = Start(kLong);
  ASSERT_EQ(WaitFor(running, {"RUNNING"}), "RUNNING");
  Open();
  auto e = Call("GetQueryExecution", {{"QueryExecutionId", running}}).second["QueryExecution"];
  EXPECT_EQ(e["Status"]["State"], "FAILED");
  EXPECT_THAT(e["Status"]["StateChangeReason"].get<std::string>(), HasSubstr("stopped"));
  EXPECT_EQ(Call("GetQueryExecution", {{"QueryExecutionId", ids.back()}}).second["QueryExecution"]["Status"]["State"],
            "SUCCEEDED");
}

}  // namespace
}  // namespace orderlake::query
