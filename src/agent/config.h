// The agent's configuration: the Kinesis Agent's agent.json, read unchanged. Every key the
// Kinesis Agent documents is either honoured or refused by name with a reason; an unknown
// key or a value of the wrong type is an error naming the key ("agent.json: flows[0].x: ...").
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/credentials.h"
#include "core/status.h"

namespace orderlake::agent {

// One step of a flow's dataProcessingOptions, applied in order to each record.
struct ProcessingOption {
  enum class Kind { kSingleLine, kCsvToJson, kLogToJson, kAddMetadata };
  Kind kind = Kind::kSingleLine;
  // CSVTOJSON / LOGTOJSON
  std::vector<std::string> field_names;
  std::string delimiter = ",";  // CSVTOJSON: a Java regex in the Kinesis Agent
  // LOGTOJSON
  std::string log_format;     // COMMONAPACHELOG, COMBINEDAPACHELOG, APACHEERRORLOG, SYSLOG
  std::string match_pattern;  // overrides the format's pattern
  // ADDMETADATA
  nlohmann::ordered_json metadata;  // any JSON value, copied into each record
  bool timestamp = false;           // adds "ts" (UTC, millisecond ISO 8601)
  bool json_data = false;           // dataType "JSON": the record is parsed as JSON
};

struct FlowConfig {
  std::string file_pattern;      // a glob of files; '*', '?' and '[...]' in any path component;
                                 // a directory ("/", "/var/log/") is refused
  std::string delivery_stream;
  bool start_of_file = false;    // initialPosition (default END_OF_FILE)
  int64_t max_buffer_age_ms = 60'000;          // 1,000 .. 900,000
  int64_t max_buffer_size_records = 500;        // 1 .. 500
  int64_t max_buffer_size_bytes = 4 * 1024 * 1024;  // 1 .. 4 MiB
  int64_t min_time_between_file_polls_ms = 100;
  int64_t max_time_between_file_tracker_refresh_ms = 10'000;
  int64_t skip_header_lines = 0;
  std::string multi_line_start_pattern;  // ECMAScript regex; empty = one line per record
  std::string file_footer_pattern;       // a matching line ends the file's processing
  std::string truncated_record_terminator = "\n";
  int64_t max_record_size = 1'024'000;   // Firehose's record limit; longer ones are truncated
  // aggregatedRecordSizeBytes (Kinesis Agent, Firehose flows): consecutive records are put
  // into one Firehose record while it stays within this size (a record bigger than it goes
  // alone). The delivered objects hold the same bytes; a call carries up to 500 of these
  // aggregates instead of 500 lines. 0 = no aggregation (the default); at most 1,024,000.
  int64_t aggregated_record_size_bytes = 0;
  // maxLineBytes (orderlake's): a line longer than this, newline not counted, is skipped, not
  // sent (counted, logged), and never held: its bytes are dropped as they are read, up to
  // its newline. 2 .. 2^40, default 64 MiB; lines between maxRecordSize and it are truncated.
  int64_t max_line_bytes = int64_t{64} << 20;
  int64_t retry_initial_backoff_ms = 100;
  int64_t retry_max_backoff_ms = 10'000;
  int64_t publish_queue_capacity = 4;    // batches read ahead of the sender
  std::vector<ProcessingOption> processing;

  // A stable name for checkpoints: the stream and the pattern.
  std::string id() const { return delivery_stream + ":" + file_pattern; }
};

// The agent's credentials come from the one AWS credential chain (aws/credentials.h):
// agent.json's awsAccessKeyId/awsSecretAccessKey, then the environment, then
// ~/.aws/credentials, then ~/.aws/config; `source` says which (never the values).
using Credentials = aws::Credentials;

struct AgentConfig {
  std::string endpoint;  // full URL, e.g. https://firehose.us-east-1.amazonaws.com
  std::string region;
  Credentials credentials;
  std::string checkpoint_file = "/var/run/aws-kinesis-agent/checkpoints";
  int64_t shutdown_timeout_ms = 10'000;
  bool emit_metrics = true;  // cloudwatch.emitMetrics: served on /metrics instead
  int64_t max_sending_threads = 0;  // accepted; one sender per flow keeps each file in order
  int64_t connection_timeout_ms = 10'000;
  int64_t socket_timeout_ms = 50'000;
  bool use_http_gzip = false;        // ask for gzip-compressed responses
  std::string user_agent;            // userAgent (a prefix) / userAgentOverride (the whole)
  // PEM file of the certificate authorities an https firehose.endpoint is verified with:
  // AWS_CA_BUNDLE from the environment, as the AWS CLI and SDKs take it (a firehose with a
  // self-signed certificate); empty = the system's.
  std::string ca_bundle;
  int64_t log_status_reporting_period_s = 30;
  std::vector<FlowConfig> flows;
  std::vector<std::string> notes;  // keys accepted without effect, for the log
};

// The process environment the configuration falls back on (tests pass their own).
struct Environment {
  std::optional<std::string> get(const char* name) const;
  std::vector<std::pair<std::string, std::string>> overrides;  // consulted first
  bool use_process_env = true;
  std::string home;  // ~ for ~/.aws/credentials; empty = $HOME
};

// Parses agent.json text. `source` names the file in messages ("agent.json").
Result<AgentConfig> parse_config(std::string_view json_text, const Environment& env = {},
                                 std::string_view source = "agent.json");
Result<AgentConfig> load_config(const std::string& path, const Environment& env = {});

// "firehose.eu-west-1.amazonaws.com" → "eu-west-1"; "" when the host names no region.
std::string region_from_endpoint(std::string_view endpoint);

}  // namespace orderlake::agent
