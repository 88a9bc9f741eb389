// A Firehose PutRecordBatch client over libcurl: JSON 1.1, SigV4 (CURLOPT_AWS_SIGV4 with
// service "firehose"), one kept-alive connection per client (one client per sending thread).
// Each call may carry the X-Orderlake-Batch header ("<source-id>;<start>;<end>"), the
// idempotency token orderlake's Firehose uses to drop a replayed batch; other services
// ignore it.
#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config.h"
#include "core/status.h"

namespace orderlake::agent {

struct PutBatchResult {
  bool transport_ok = false;   // a response arrived
  long http_status = 0;
  std::string error_code;      // __type of an error response, or the first record's ErrorCode
  std::string error_message;
  bool retryable = true;       // worth retrying as is (5xx, throttling, network)
  std::vector<bool> failed;    // per record, when the call itself succeeded
  size_t failed_count = 0;
  bool ok() const { return transport_ok && http_status == 200 && failed_count == 0; }
};

class FirehoseClient {
 public:
  FirehoseClient(const AgentConfig& cfg);
  ~FirehoseClient();
  FirehoseClient(const FirehoseClient&) = delete;
  FirehoseClient& operator=(const FirehoseClient&) = delete;

  // Sends `records` (each ≤ 1,000 KiB, at most 500, at most 4 MiB together) to `stream`.
  PutBatchResult put_record_batch(const std::string& stream, const std::vector<std::string_view>& records,
                                  const std::string& batch_token);

  // Polled during a call; returning true aborts it (a shutdown deadline passed).
  void set_abort_check(std::function<bool()> fn) { abort_ = std::move(fn); }

  // Builds the request body (exposed for tests and the benchmark).
  static void build_body(const std::string& stream, const std::vector<std::string_view>& records, std::string& out);

 private:
  void read_error(PutBatchResult& res) const;
  void read_request_responses(size_t records, PutBatchResult& res);
  void* curl_ = nullptr;
  std::string endpoint_, sigv4_, userpwd_, session_token_;
  long connect_timeout_ms_, timeout_ms_;
  bool gzip_;
  std::string user_agent_;
  std::string ca_bundle_;
  std::string body_, response_;
  std::function<bool()> abort_;
};

}  // namespace orderlake::agent
