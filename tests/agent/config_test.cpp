// agent.json parsing: the original project's file loads unchanged, every documented option
// is honoured or refused by name, and mistakes are reported with the key that holds them.
#include <gtest/gtest.h>

#include "agent/config.h"
#include "core/fs.h"
#include "test_util.h"

namespace orderlake::agent {
namespace {

Environment empty_env() {
  Environment e;
  e.use_process_env = false;
  e.home = "/nonexistent";
  return e;
}

std::string error_of(const std::string& json) {
  auto r = parse_config(json, empty_env());
  EXPECT_FALSE(r.ok()) << json;
  return r.ok() ? "" : r.status().message();
}

TEST(AgentConfig, OriginalProjectConfigLoadsUnchanged) {
  auto r = load_config(std::string(ORDERLAKE_SOURCE_DIR) + "/config/agent.json", empty_env());
  ASSERT_TRUE(r.ok()) << r.status().message();
  const AgentConfig& c = r.value();
  EXPECT_EQ(c.endpoint, "https://firehose.us-east-1.amazonaws.com");
  EXPECT_EQ(c.region, "us-east-1");
  ASSERT_EQ(c.flows.size(), 1u);
  EXPECT_EQ(c.flows[0].file_pattern, "/var/log/orders/*.log");
  EXPECT_EQ(c.flows[0].delivery_stream, "tbsm-red-fire");
  EXPECT_FALSE(c.flows[0].start_of_file);  // END_OF_FILE, the Kinesis Agent's default
  EXPECT_EQ(c.flows[0].max_buffer_age_ms, 60000);
  EXPECT_EQ(c.flows[0].max_buffer_size_records, 500);
  EXPECT_EQ(c.flows[0].max_buffer_size_bytes, 4194304);
  EXPECT_EQ(c.flows[0].truncated_record_terminator, "\n");
  EXPECT_EQ(c.checkpoint_file, "/var/run/aws-kinesis-agent/checkpoints");
  EXPECT_EQ(c.shutdown_timeout_ms, 10000);
  EXPECT_TRUE(c.emit_metrics);
}

TEST(AgentConfig, CsvToJsonExampleLoads) {
  auto r = load_config(std::string(ORDERLAKE_SOURCE_DIR) + "/config/agent-csvtojson.json", empty_env());
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r.value().flows[0].processing.size(), 1u);
  EXPECT_EQ(r.value().flows[0].processing[0].field_names.size(), 8u);
  EXPECT_EQ(r.value().endpoint, "http://127.0.0.1:4573");
}

TEST(AgentConfig, CaBundleFromTheEnvironmentAsTheAwsSdksTakeIt) {
  testing::TempDir d;
  const std::string ca = (d.path() / "ca.pem").string();
  ASSERT_TRUE(fs::write_file_atomic(ca, "-----BEGIN CERTIFICATE-----\n").ok());
  auto env = empty_env();
  const std::string cfg = R"({"firehose.endpoint":"https://127.0.0.1:4573","flows":[{"filePattern":"/a/*","deliveryStream":"s"}]})";
  auto r = parse_config(cfg, env);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r.value().ca_bundle, "");
  env.overrides = {{"AWS_CA_BUNDLE", ca}};
  r = parse_config(cfg, env);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r.value().ca_bundle, ca);
  env.overrides = {{"AWS_CA_BUNDLE", (d.path() / "missing.pem").string()}};
  r = parse_config(cfg, env);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("AWS_CA_BUNDLE"), std::string::npos) << r.status().message();
}

TEST(AgentConfig, EndpointAndRegion) {
  auto env = empty_env();
  auto r = parse_config(R"({"firehose.endpoint":"firehose.eu-west-1.amazonaws.com","flows":[{"filePattern":"/a/*","deliveryStream":"s"}]})", env);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().endpoint, "https://firehose.eu-west-1.amazonaws.com");
  EXPECT_EQ(r.value().region, "eu-west-1");
  env.overrides = {{"AWS_REGION", "ap-south-1"}};
  r = parse_config(R"({"flows":[{"filePattern":"/a/*","deliveryStream":"s"}]})", env);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().endpoint, "https://firehose.ap-south-1.amazonaws.com");
  r = parse_config(R"({"firehose.endpoint":"http://127.0.0.1:9/","flows":[{"filePattern":"/a/*","deliveryStream":"s"}]})", env);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().endpoint, "http://127.0.0.1:9");
  EXPECT_EQ(r.value().region, "ap-south-1");
}

TEST(AgentConfig, CredentialsPrecedence) {
  testing::TempDir dir;
  testing::write_file(dir.path() / ".aws/credentials",
                      "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = filesecret\n"
                      "[other]\naws_access_key_id=OTHERKEY\naws_secret_access_key=othersecret\n");
  Environment env = empty_env();
  env.home = dir.str();
  const char* flows = R"("flows":[{"filePattern":"/a/*","deliveryStream":"s"}])";
  auto r = parse_config(std::string("{") + flows + "}", env);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().credentials.access_key_id, "FILEKEY");
  env.overrides = {{"AWS_PROFILE", "other"}};
  r = parse_config(std::string("{") + flows + "}", env);
  EXPECT_EQ(r.value().credentials.access_key_id, "OTHERKEY");
  env.overrides = {{"AWS_ACCESS_KEY_ID", "ENVKEY"}, {"AWS_SECRET_ACCESS_KEY", "envsecret"}, {"AWS_SESSION_TOKEN", "tok"}};
  r = parse_config(std::string("{") + flows + "}", env);
  EXPECT_EQ(r.value().credentials.access_key_id, "ENVKEY");
  EXPECT_EQ(r.value().credentials.session_token, "tok");
  r = parse_config(std::string(R"({"awsAccessKeyId":"CFG","awsSecretAccessKey":"cfgsecret",)") + flows + "}", env);
  EXPECT_EQ(r.value().credentials.access_key_id, "CFG");
  EXPECT_EQ(r.value().credentials.secret_access_key, "cfgsecret");
}

TEST(AgentConfig, CredentialsFromTheConfigFileAndHalfPairs) {
  // The agent uses the one AWS chain: after the credentials file comes ~/.aws/config.
  testing::TempDir dir;
  testing::write_file(dir.path() / ".aws/config", "[profile p]\naws_access_key_id=CONF\naws_secret_access_key=cs\n");
  Environment env = empty_env();
  env.home = dir.str();
  env.overrides = {{"AWS_PROFILE", "p"}};
  const char* flows = R"("flows":[{"filePattern":"/a/*","deliveryStream":"s"}])";
  auto r = parse_config(std::string("{") + flows + "}", env);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r.value().credentials.access_key_id, "CONF");
  EXPECT_NE(r.value().credentials.source.find("[profile p]"), std::string::npos);
  env.overrides = {{"AWS_ACCESS_KEY_ID", "ENVKEY"}};
  r = parse_config(std::string("{") + flows + "}", env);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos) << r.status().message();
}

TEST(AgentConfig, RefusedOptionsNameTheKey) {
  EXPECT_EQ(error_of(R"({"flows":[{"filePattern":"/a/*","kinesisStream":"k"}]})"),
            "agent.json: flows[0].kinesisStream: Kinesis Data Streams is not supported; use deliveryStream");
  EXPECT_NE(error_of(R"({"assumeRoleARN":"arn:aws:iam::1:role/x","flows":[{"filePattern":"/a/*","deliveryStream":"s"}]})")
                .find("agent.json: assumeRoleARN: assuming an IAM role is not supported"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"flows":[{"filePattern":"/a/*","deliveryStream":"s","partitionKeyOption":"RANDOM"}]})")
                .find("flows[0].partitionKeyOption"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"flows":[{"filePattern":"/a/*","deliveryStream":"s","dataProcessingOptions":[{"optionName":"ADDEC2METADATA"}]}]})")
                .find("flows[0].dataProcessingOptions[0].optionName: ADDEC2METADATA is not supported"),
            std::string::npos);
}

TEST(AgentConfig, UnknownKeysAndWrongTypes) {
  EXPECT_EQ(error_of(R"({"flows":[{"filePattern":"/a/*","deliveryStream":"s"}],"firehose.endpiont":"x"})"),
            "agent.json: firehose.endpiont: unknown key");
  EXPECT_EQ(error_of(R"({"flows":[{"filePattern":"/a/*","deliveryStream":"s","maxBufferSizeRecord":5}]})"),
            "agent.json: flows[0].maxBufferSizeRecord: unknown key");
  EXPECT_EQ(error_of(R"({"flows":[{"filePattern":"/a/*","deliveryStream":"s","maxBufferSizeRecords":true}]})"),
            "agent.json: flows[0].maxBufferSizeRecords: expected an integer, got a boolean");
  EXPECT_EQ(error_of(R"({"flows":[{"filePattern":"/a/*","deliveryStream":"s","maxBufferSizeRecords":501}]})"),
            "agent.json: flows[0].maxBufferSizeRecords: 501 is outside the range 1 to 500");
  EXPECT_EQ(error_of(R"({"flows":[{"filePattern":"/a/*","deliveryStream":"s","maxBufferSizeBytes":4194305}]})"),
            "agent.json: flows[0].maxBufferSizeBytes: 4194305 is outside the range 1 to 4194304");
  EXPECT_EQ(error_of(R"({"flows":[{"filePattern":"/a/*","deliveryStream":"s","initialPosition":"MIDDLE"}]})"),
            "agent.json: flows[0].initialPosition: \"MIDDLE\" is neither START_OF_FILE nor END_OF_FILE");
  EXPECT_EQ(error_of(R"({"flows":[{"filePattern":"/a/*"}]})"), "agent.json: flows[0].deliveryStream: is required");
  EXPECT_EQ(error_of(R"({"flows":{}})"), "agent.json: flows: expected an array of objects, got an object");
  EXPECT_EQ(error_of(R"({"cloudwatch.emitMetrics":"yes","flows":[{"filePattern":"/a/*","deliveryStream":"s"}]})"),
            "agent.json: cloudwatch.emitMetrics: expected a boolean, got a string");
  EXPECT_EQ(error_of(R"({"flows":[{"filePattern":"/a/*","deliveryStream":"s","multiLineStartPattern":"(["}]})")
                .rfind("agent.json: flows[0].multiLineStartPattern: not a valid regular expression", 0),
            0u);
  EXPECT_EQ(error_of(R"({"flows":[{"filePattern":"/a/*","deliveryStream":"s","dataProcessingOptions":[{"optionName":"CSVTOJSON"}]}]})"),
            "agent.json: flows[0].dataProcessingOptions[0].customFieldNames: is required");
  EXPECT_EQ(error_of(R"({"flows":[{"filePattern":"/a/*","deliveryStream":"s","dataProcessingOptions":[{"optionName":"CSVTOJSON","customFieldNames":["a",1]}]}]})"),
            "agent.json: flows[0].dataProcessingOptions[0].customFieldNames[1]: expected a string, got a number");
  EXPECT_EQ(error_of(R"({"flows":[{"filePattern":"/a/*","deliveryStream":"s","dataProcessingOptions":[{"optionName":"LOGTOJSON","logFormat":"NGINX"}]}]})")
                .rfind("agent.json: flows[0].dataProcessingOptions[0].logFormat: unknown log format \"NGINX\"", 0),
            0u);
  EXPECT_EQ(error_of("{\"flows\": [ {\"filePattern\": \"/a/*\", }"), error_of("{\"flows\": [ {\"filePattern\": \"/a/*\", }"));
  EXPECT_EQ(error_of("{\"flows\": [").rfind("agent.json: not valid JSON", 0), 0u);
  // Found by fuzz_agent_config: a number too large for a double is nlohmann's out_of_range
  // 406, not a parse_error, and went uncaught (std::terminate) instead of this message.
  EXPECT_EQ(error_of(R"({"flows":[{"filePattern":"/a/*","deliveryStream":"s","maxBufferSizeRecords":5E554}]})")
                .rfind("agent.json: not valid JSON", 0),
            0u);
}

TEST(AgentConfig, NumbersAsStringsAndAcceptedKeys) {
  auto r = parse_config(R"({"maxSendingThreads": 4, "cloudwatch.endpoint": "monitoring.us-east-1.amazonaws.com",
      "flows":[{"filePattern":"/a/*","deliveryStream":"s","maxBufferAgeMillis":"1000","skipHeaderLines":2,
                "minTimeBetweenFilePollsMillis":50,"truncatedRecordTerminator":"...\n","maxRecordSize":100}]})",
                        empty_env());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r.value().flows[0].max_buffer_age_ms, 1000);
  EXPECT_EQ(r.value().flows[0].skip_header_lines, 2);
  EXPECT_EQ(r.value().flows[0].max_record_size, 100);
  EXPECT_FALSE(r.value().notes.empty());
  EXPECT_EQ(r.value().user_agent.rfind("orderlake-agent/", 0), 0u);
  r = parse_config(R"({"userAgent":" shop ","useHttpGzip":true,"flows":[{"filePattern":"/a/*","deliveryStream":"s"}]})", empty_env());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().user_agent.rfind("shop orderlake-agent/", 0), 0u);
  EXPECT_TRUE(r.value().use_http_gzip);
  r = parse_config(R"({"userAgentOverride":"mine/1","flows":[{"filePattern":"/a/*","deliveryStream":"s"}]})", empty_env());
  EXPECT_EQ(r.value().user_agent, "mine/1");
}

TEST(AgentConfig, AggregatedRecordSizeForFirehoseFlows) {
  auto r = parse_config(R"({"flows":[{"filePattern":"/a/*","deliveryStream":"s","aggregatedRecordSizeBytes":65536}]})",
                        empty_env());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r.value().flows[0].aggregated_record_size_bytes, 65536);
  r = parse_config(R"({"flows":[{"filePattern":"/a/*","deliveryStream":"s"}]})", empty_env());
  EXPECT_EQ(r.value().flows[0].aggregated_record_size_bytes, 0) << "no aggregation unless asked";
  EXPECT_EQ(error_of(R"({"flows":[{"filePattern":"/a/*","deliveryStream":"s","aggregatedRecordSizeBytes":1024001}]})"),
            "agent.json: flows[0].aggregatedRecordSizeBytes: 1024001 is outside the range 0 to 1024000");
}

}  // namespace
}  // namespace orderlake::agent
