#include "agent/firehose_client.h"

#include <curl/curl.h>
#include <simdjson.h>

#include <mutex>
#include <nlohmann/json.hpp>

#include "core/base64.h"

namespace orderlake::agent {
namespace {

size_t write_cb(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

int progress_cb(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* fn = static_cast<std::function<bool()>*>(user);
  return (*fn && (*fn)()) ? 1 : 0;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
      continue;
    }
    out.push_back(c);
  }
  out.push_back('"');
}

}  // namespace

FirehoseClient::FirehoseClient(const AgentConfig& cfg)
    : endpoint_(cfg.endpoint + "/"),
      sigv4_("aws:amz:" + cfg.region + ":firehose"),
      session_token_(cfg.credentials.session_token),
      connect_timeout_ms_(static_cast<long>(cfg.connection_timeout_ms)),
      timeout_ms_(static_cast<long>(cfg.socket_timeout_ms)),
      gzip_(cfg.use_http_gzip),
      user_agent_(cfg.user_agent),
      ca_bundle_(cfg.ca_bundle) {
  global_init();
  curl_ = curl_easy_init();
  if (!cfg.credentials.empty()) userpwd_ = cfg.credentials.access_key_id + ":" + cfg.credentials.secret_access_key;
}

FirehoseClient::~FirehoseClient() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

void FirehoseClient::build_body(const std::string& stream, const std::vector<std::string_view>& records,
                                std::string& out) {
  out.clear();
  size_t est = 64 + stream.size();
  for (auto r : records) est += (r.size() + 2) / 3 * 4 + 12;
  out.reserve(est);
  out += "{\"DeliveryStreamName\":";
  append_json_string(out, stream);
  out += ",\"Records\":[";
  // Every record straight into the body: no encoded copy per record.
  constexpr std::string_view kOpen = "{\"Data\":\"", kClose = "\"}";
  for (size_t i = 0; i < records.size(); ++i) {
    if (i) out.push_back(',');
    out += kOpen;
    base64_append(out, records[i]);
    out += kClose;
  }
  out += "]}";
}

// The error of a call that did not answer 200: the JSON error's __type and message.
void FirehoseClient::read_error(PutBatchResult& res) const {
  nlohmann::json j = nlohmann::json::parse(response_, nullptr, false);
  if (j.is_object()) {
    std::string type = j.contains("__type") && j["__type"].is_string() ? j["__type"].get<std::string>() : "";
    if (auto hash = type.rfind('#'); hash != std::string::npos) type = type.substr(hash + 1);
    res.error_code = type;
    res.error_message = j.contains("message") && j["message"].is_string() ? j["message"].get<std::string>()
                        : j.contains("Message") && j["Message"].is_string() ? j["Message"].get<std::string>()
                                                                            : "";
  }
  if (res.error_code.empty()) res.error_code = fmt::format("HTTP{}", res.http_status);
  if (res.error_message.empty()) res.error_message = response_.substr(0, 300);
  res.retryable = res.http_status >= 500 || res.http_status == 429 ||
                  res.error_code == "ServiceUnavailableException" || res.error_code == "LimitExceededException" ||
                  res.error_code == "ThrottlingException";
}

// A 200 answer: one RequestResponses entry per record, in order; an entry with an ErrorCode
// is a failed record (sent again by the caller). Parsed with simdjson (the answer to a batch
// of 500 records is 500 objects: the agent's hottest parse).
void FirehoseClient::read_request_responses(size_t records, PutBatchResult& res) {
  auto malformed = [&] {
    res.http_status = 502;  // treat a malformed answer as a failed call
    res.error_code = "MalformedResponse";
    res.error_message =
        "PutRecordBatch answer without one RequestResponses entry per record: " + response_.substr(0, 300);
    res.failed.clear();
    res.failed_count = 0;
  };
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::array rr;
  if (parser.parse(response_).get(root) || root["RequestResponses"].get_array().get(rr) || rr.size() != records)
    return malformed();
  res.failed.assign(records, false);
  size_t i = 0;
  for (simdjson::dom::element e : rr) {
    simdjson::dom::element code;
    if (e.is_object() && !e["ErrorCode"].get(code) && !code.is_null()) {
      res.failed[i] = true;
      ++res.failed_count;
      if (res.error_code.empty()) {
        std::string_view text;
        res.error_code = code.get_string().get(text) ? "Error" : std::string(text);
        std::string_view msg;
        if (!e["ErrorMessage"].get_string().get(msg)) res.error_message = std::string(msg);
      }
    }
    ++i;
  }
}

PutBatchResult FirehoseClient::put_record_batch(const std::string& stream, const std::vector<std::string_view>& records,
                                                const std::string& batch_token) {
  PutBatchResult res;
  CURL* c = static_cast<CURL*>(curl_);
  if (!c) {
    res.error_message = "libcurl could not be initialised";
    return res;
  }
  build_body(stream, records, body_);
  response_.clear();
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/x-amz-json-1.1");
  headers = curl_slist_append(headers, "X-Amz-Target: Firehose_20150804.PutRecordBatch");
  std::string token_header, session_header;
  if (!batch_token.empty()) {
    token_header = "X-Orderlake-Batch: " + batch_token;
    headers = curl_slist_append(headers, token_header.c_str());
  }
  if (!session_token_.empty()) {
    session_header = "X-Amz-Security-Token: " + session_token_;
    headers = curl_slist_append(headers, session_header.c_str());
  }
  curl_easy_reset(c);
  curl_easy_setopt(c, CURLOPT_URL, endpoint_.c_str());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body_.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body_.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response_);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms_);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms_);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  if (!user_agent_.empty()) curl_easy_setopt(c, CURLOPT_USERAGENT, user_agent_.c_str());
  if (!ca_bundle_.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, ca_bundle_.c_str());
  if (gzip_) curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "gzip");
  // Bodies over 1 MiB go with "Expect: 100-continue" (added by libcurl after signing, so it is
  // not a signed header); do not wait long for a server that ignores it. An empty "Expect:"
  // header to suppress it would be listed in SignedHeaders but never sent, and a strict SigV4
  // verifier would reject the signature.
  curl_easy_setopt(c, CURLOPT_EXPECT_100_TIMEOUT_MS, 200L);
  if (abort_) {
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress_cb);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &abort_);
  }
  if (!userpwd_.empty()) {
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4_.c_str());
    curl_easy_setopt(c, CURLOPT_USERPWD, userpwd_.c_str());
  }
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    res.error_code = "NetworkError";
    res.error_message = fmt::format("{}: {}", endpoint_, curl_easy_strerror(rc));
    return res;
  }
  res.transport_ok = true;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res.http_status);
  if (res.http_status != 200) {
    read_error(res);
    return res;
  }
  read_request_responses(records.size(), res);
  return res;
}

}  // namespace orderlake::agent
