#include "agent/config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "core/fs.h"
#include "core/version.h"

namespace orderlake::agent {
namespace {

using json = nlohmann::ordered_json;

const char* type_name(const json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  return "an object";
}

// Reads the keys of one JSON object, remembering which were handled, so that whatever is
// left over can be refused by name.
class ObjectReader {
 public:
  ObjectReader(const json& obj, std::string path) : obj_(obj), path_(std::move(path)) {}

  std::string key_path(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }
  bool has(const std::string& key) const { return obj_.contains(key); }
  const json* raw(const std::string& key) {
    seen_.insert(key);
    auto it = obj_.find(key);
    return it == obj_.end() ? nullptr : &*it;
  }

  Status error(const std::string& key, std::string_view what) const {
    return Status::Errorf("{}: {}: {}", source_, key_path(key), what);
  }

  Status str(const std::string& key, std::string& out, bool required = false) {
    const json* v = raw(key);
    if (!v) return required ? error(key, "is required") : Status::OK();
    if (!v->is_string()) return error(key, fmt::format("expected a string, got {}", type_name(*v)));
    out = v->get<std::string>();
    return Status::OK();
  }

  // Integers; the Kinesis Agent also accepts numbers written as strings ("60000").
  Status integer(const std::string& key, int64_t& out, int64_t lo, int64_t hi) {
    const json* v = raw(key);
    if (!v) return Status::OK();
    int64_t x = 0;
    if (v->is_number_integer()) {
      x = v->get<int64_t>();
    } else if (v->is_string()) {
      const std::string s = v->get<std::string>();
      char* end = nullptr;
      errno = 0;
      long long parsed = std::strtoll(s.c_str(), &end, 10);
      if (s.empty() || *end != '\0' || errno != 0)
        return error(key, fmt::format("expected an integer, got the string \"{}\"", s));
      x = parsed;
    } else {
      return error(key, fmt::format("expected an integer, got {}", type_name(*v)));
    }
    if (x < lo || x > hi) return error(key, fmt::format("{} is outside the range {} to {}", x, lo, hi));
    out = x;
    return Status::OK();
  }

  // Booleans; "true"/"false" strings too (the Kinesis Agent's own examples quote them).
  Status boolean(const std::string& key, bool& out) {
    const json* v = raw(key);
    if (!v) return Status::OK();
    if (v->is_boolean()) {
      out = v->get<bool>();
    } else if (v->is_string() && (*v == "true" || *v == "false")) {
      out = *v == "true";
    } else {
      return error(key, fmt::format("expected a boolean, got {}", type_name(*v)));
    }
    return Status::OK();
  }

  Status string_list(const std::string& key, std::vector<std::string>& out, bool required) {
    const json* v = raw(key);
    if (!v) return required ? error(key, "is required") : Status::OK();
    if (!v->is_array()) return error(key, fmt::format("expected an array of strings, got {}", type_name(*v)));
    out.clear();
    for (size_t i = 0; i < v->size(); ++i) {
      if (!(*v)[i].is_string())
        return error(fmt::format("{}[{}]", key, i), fmt::format("expected a string, got {}", type_name((*v)[i])));
      out.push_back((*v)[i].get<std::string>());
    }
    return Status::OK();
  }

  Status refuse(const std::string& key, std::string_view why) {
    if (!has(key)) return Status::OK();
    seen_.insert(key);
    return error(key, why);
  }

  // Marks keys that are accepted but change nothing here; records a note for the log.
  void accept(const std::string& key, std::string_view why, std::vector<std::string>& notes) {
    if (!has(key)) return;
    seen_.insert(key);
    notes.push_back(fmt::format("{}: {}", key_path(key), why));
  }

  Status no_unknown_keys() const {
    for (auto it = obj_.begin(); it != obj_.end(); ++it) {
      if (!seen_.count(it.key())) return error(it.key(), "unknown key");
    }
    return Status::OK();
  }

  void set_source(std::string s) { source_ = std::move(s); }

 private:
  const json& obj_;
  std::string path_;
  std::string source_ = "agent.json";
  std::set<std::string> seen_;
};

// Turns the Kinesis Agent's Java-regex delimiter into a plain string where it is one
// ("\\t" → tab, "\\|" → "|"); regular expressions with meta characters stay as they are.
std::string unescape_delimiter(const std::string& d) {
  if (d == "\\t") return "\t";
  if (d.size() == 2 && d[0] == '\\' && !std::isalnum(static_cast<unsigned char>(d[1]))) return d.substr(1);
  return d;
}

Status parse_processing(ObjectReader& flow, std::vector<ProcessingOption>& out, const std::string& source,
                        std::vector<std::string>& notes) {
  const json* v = flow.raw("dataProcessingOptions");
  if (!v) return Status::OK();
  if (!v->is_array())
    return flow.error("dataProcessingOptions", fmt::format("expected an array of objects, got {}", type_name(*v)));
  for (size_t i = 0; i < v->size(); ++i) {
    const json& o = (*v)[i];
    std::string path = flow.key_path(fmt::format("dataProcessingOptions[{}]", i));
    if (!o.is_object()) return Status::Errorf("{}: {}: expected an object, got {}", source, path, type_name(o));
    ObjectReader r(o, path);
    r.set_source(source);
    std::string name;
    ORDERLAKE_RETURN_IF_ERROR(r.str("optionName", name, true));
    ProcessingOption p;
    if (name == "SINGLELINE") {
      p.kind = ProcessingOption::Kind::kSingleLine;
    } else if (name == "CSVTOJSON") {
      p.kind = ProcessingOption::Kind::kCsvToJson;
      ORDERLAKE_RETURN_IF_ERROR(r.string_list("customFieldNames", p.field_names, true));
      if (p.field_names.empty()) return r.error("customFieldNames", "must name at least one field");
      std::string d = ",";
      ORDERLAKE_RETURN_IF_ERROR(r.str("delimiter", d));
      if (d.empty()) return r.error("delimiter", "must not be empty");
      p.delimiter = unescape_delimiter(d);
      if (p.delimiter.size() > 1) {
        try {
          std::regex test(p.delimiter, std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
          return r.error("delimiter", fmt::format("not a valid regular expression: {}", e.what()));
        }
      }
      r.accept("jsonFormat", "accepted; records are written as compact JSON", notes);
    } else if (name == "LOGTOJSON") {
      p.kind = ProcessingOption::Kind::kLogToJson;
      ORDERLAKE_RETURN_IF_ERROR(r.str("logFormat", p.log_format, true));
      static const std::set<std::string> kFormats = {"COMMONAPACHELOG", "COMBINEDAPACHELOG",
                                                     "APACHEERRORLOG", "SYSLOG", "RFC3339SYSLOG"};
      if (!kFormats.count(p.log_format))
        return r.error("logFormat", fmt::format("unknown log format \"{}\" (one of COMMONAPACHELOG, "
                                                "COMBINEDAPACHELOG, APACHEERRORLOG, SYSLOG, RFC3339SYSLOG)",
                                                p.log_format));
      ORDERLAKE_RETURN_IF_ERROR(r.str("matchPattern", p.match_pattern));
      ORDERLAKE_RETURN_IF_ERROR(r.string_list("customFieldNames", p.field_names, false));
      if (!p.match_pattern.empty()) {
        if (p.field_names.empty()) return r.error("matchPattern", "needs customFieldNames as well");
        try {
          std::regex test(p.match_pattern, std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
          return r.error("matchPattern", fmt::format("not a valid regular expression: {}", e.what()));
        }
      }
      r.accept("jsonFormat", "accepted; records are written as compact JSON", notes);
    } else if (name == "ADDMETADATA") {
      p.kind = ProcessingOption::Kind::kAddMetadata;
      const json* m = r.raw("metadata");
      p.metadata = m ? *m : json(nullptr);
      ORDERLAKE_RETURN_IF_ERROR(r.boolean("timestamp", p.timestamp));
      std::string data_type = "TEXT";
      ORDERLAKE_RETURN_IF_ERROR(r.str("dataType", data_type));
      if (data_type != "TEXT" && data_type != "JSON") return r.error("dataType", "must be TEXT or JSON");
      p.json_data = data_type == "JSON";
      r.accept("jsonFormat", "accepted; records are written as compact JSON", notes);
    } else if (name == "ADDEC2METADATA") {
      return r.error("optionName", "ADDEC2METADATA is not supported (it reads the EC2 instance metadata "
                                   "service); use ADDMETADATA with the values you need");
    } else {
      return r.error("optionName", fmt::format("unknown processing option \"{}\" (supported: SINGLELINE, "
                                               "CSVTOJSON, LOGTOJSON, ADDMETADATA)", name));
    }
    ORDERLAKE_RETURN_IF_ERROR(r.no_unknown_keys());
    out.push_back(std::move(p));
  }
  return Status::OK();
}

Status parse_flow(const json& f, size_t index, const std::string& source, FlowConfig& flow,
                  std::vector<std::string>& notes) {
  std::string path = fmt::format("flows[{}]", index);
  if (!f.is_object()) return Status::Errorf("{}: {}: expected an object, got {}", source, path, type_name(f));
  ObjectReader r(f, path);
  r.set_source(source);
  ORDERLAKE_RETURN_IF_ERROR(r.refuse("kinesisStream", "Kinesis Data Streams is not supported; use deliveryStream"));
  ORDERLAKE_RETURN_IF_ERROR(r.refuse("partitionKeyOption", "applies to Kinesis Data Streams only, which is not supported"));
  ORDERLAKE_RETURN_IF_ERROR(
      r.integer("aggregatedRecordSizeBytes", flow.aggregated_record_size_bytes, 0, 1'024'000));
  ORDERLAKE_RETURN_IF_ERROR(r.str("filePattern", flow.file_pattern, true));
  if (flow.file_pattern.empty()) return r.error("filePattern", "must not be empty");
  if (flow.file_pattern.front() != '/') return r.error("filePattern", "must be an absolute path");
  {
    std::error_code ec;
    const bool wild = flow.file_pattern.find_first_of("*?[") != std::string::npos;
    if (flow.file_pattern.back() == '/' || (!wild && std::filesystem::is_directory(flow.file_pattern, ec)))
      return r.error("filePattern", fmt::format("\"{}\" names a directory; give a pattern of the files in it, e.g. "
                                                "\"{}/*.log\"", flow.file_pattern,
                                                flow.file_pattern == "/" ? "/var/log"
                                                : flow.file_pattern.back() == '/'
                                                    ? flow.file_pattern.substr(0, flow.file_pattern.size() - 1)
                                                    : flow.file_pattern));
  }
  ORDERLAKE_RETURN_IF_ERROR(r.str("deliveryStream", flow.delivery_stream, true));
  static const std::regex kName("[a-zA-Z0-9_.-]{1,64}");
  if (!std::regex_match(flow.delivery_stream, kName))
    return r.error("deliveryStream", "a delivery stream name is 1 to 64 of a-z, A-Z, 0-9, '_', '.', '-'");
  std::string pos = "END_OF_FILE";
  ORDERLAKE_RETURN_IF_ERROR(r.str("initialPosition", pos));
  if (pos != "START_OF_FILE" && pos != "END_OF_FILE")
    return r.error("initialPosition", fmt::format("\"{}\" is neither START_OF_FILE nor END_OF_FILE", pos));
  flow.start_of_file = pos == "START_OF_FILE";
  ORDERLAKE_RETURN_IF_ERROR(r.integer("maxBufferAgeMillis", flow.max_buffer_age_ms, 1'000, 900'000));
  ORDERLAKE_RETURN_IF_ERROR(r.integer("maxBufferSizeRecords", flow.max_buffer_size_records, 1, 500));
  ORDERLAKE_RETURN_IF_ERROR(r.integer("maxBufferSizeBytes", flow.max_buffer_size_bytes, 1, 4 * 1024 * 1024));
  ORDERLAKE_RETURN_IF_ERROR(r.integer("minTimeBetweenFilePollsMillis", flow.min_time_between_file_polls_ms, 1, 3'600'000));
  ORDERLAKE_RETURN_IF_ERROR(r.integer("maxTimeBetweenFileTrackerRefreshMillis",
                                      flow.max_time_between_file_tracker_refresh_ms, 1, 3'600'000));
  ORDERLAKE_RETURN_IF_ERROR(r.integer("skipHeaderLines", flow.skip_header_lines, 0, 1'000'000));
  ORDERLAKE_RETURN_IF_ERROR(r.str("multiLineStartPattern", flow.multi_line_start_pattern));
  ORDERLAKE_RETURN_IF_ERROR(r.str("fileFooterPattern", flow.file_footer_pattern));
  for (const char* key : {"multiLineStartPattern", "fileFooterPattern"}) {
    const std::string& pat = std::string(key) == "multiLineStartPattern" ? flow.multi_line_start_pattern
                                                                         : flow.file_footer_pattern;
    if (pat.empty()) continue;
    try {
      std::regex test(pat, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return r.error(key, fmt::format("not a valid regular expression: {}", e.what()));
    }
  }
  ORDERLAKE_RETURN_IF_ERROR(r.integer("maxRecordSize", flow.max_record_size, 2, 1'024'000));
  ORDERLAKE_RETURN_IF_ERROR(r.integer("maxLineBytes", flow.max_line_bytes, 2, int64_t{1} << 40));
  ORDERLAKE_RETURN_IF_ERROR(r.str("truncatedRecordTerminator", flow.truncated_record_terminator));
  if (static_cast<int64_t>(flow.truncated_record_terminator.size()) >= flow.max_record_size)
    return r.error("truncatedRecordTerminator", "must be shorter than the maximum record size");
  ORDERLAKE_RETURN_IF_ERROR(r.integer("retryInitialBackoffMillis", flow.retry_initial_backoff_ms, 1, 3'600'000));
  ORDERLAKE_RETURN_IF_ERROR(r.integer("retryMaxBackoffMillis", flow.retry_max_backoff_ms, 1, 3'600'000));
  if (flow.retry_max_backoff_ms < flow.retry_initial_backoff_ms)
    return r.error("retryMaxBackoffMillis", "must not be below retryInitialBackoffMillis");
  ORDERLAKE_RETURN_IF_ERROR(r.integer("publishQueueCapacity", flow.publish_queue_capacity, 1, 1'000));
  // Queue tuning of the Java implementation: the read-ahead here is publishQueueCapacity.
  for (const char* key : {"waitOnFullPublishQueueMillis", "waitOnEmptyPublishQueueMillis", "waitOnFullRetryQueueMillis"}) {
    int64_t ignored = 0;
    ORDERLAKE_RETURN_IF_ERROR(r.integer(key, ignored, 0, 3'600'000));
    r.accept(key, "accepted; the sender waits on its queue without polling", notes);
  }
  bool b = false;
  ORDERLAKE_RETURN_IF_ERROR(r.boolean("log.emitInternalMetrics", b));
  r.accept("log.emitInternalMetrics", "accepted; every counter is on /metrics", notes);
  ORDERLAKE_RETURN_IF_ERROR(parse_processing(r, flow.processing, source, notes));
  return r.no_unknown_keys();
}

}  // namespace

std::optional<std::string> Environment::get(const char* name) const {
  for (const auto& [k, v] : overrides)
    if (k == name) return v;
  if (!use_process_env) return std::nullopt;
  const char* v = std::getenv(name);
  if (!v) return std::nullopt;
  return std::string(v);
}

std::string region_from_endpoint(std::string_view endpoint) {
  static const std::regex kHost(R"(^(?:https?://)?firehose(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?(?::\d+)?/?$)");
  std::cmatch m;
  std::string e(endpoint);
  if (std::regex_match(e.c_str(), m, kHost)) return m[1].str();
  return "";
}

// The top-level settings of the Kinesis Agent beside the flows: CloudWatch, sending threads,
// timeouts, logging, user agent. Those this agent has no use for are accepted with a note.
Status parse_agent_settings(ObjectReader& r, AgentConfig& cfg) {
  ORDERLAKE_RETURN_IF_ERROR(r.boolean("cloudwatch.emitMetrics", cfg.emit_metrics));
  if (r.has("cloudwatch.emitMetrics"))
    cfg.notes.push_back("cloudwatch.emitMetrics: metrics are served in the Prometheus format on /metrics "
                        "(--metrics-listen) instead of CloudWatch");
  for (const char* key : {"cloudwatch.endpoint", "cloudwatch.namespace", "sts.endpoint"}) {
    std::string ignored;
    ORDERLAKE_RETURN_IF_ERROR(r.str(key, ignored));
    r.accept(key, "accepted and unused (no CloudWatch or STS calls are made)", cfg.notes);
  }
  {
    bool ignored = false;
    ORDERLAKE_RETURN_IF_ERROR(r.boolean("cloudwatch.tagInstance", ignored));
    r.accept("cloudwatch.tagInstance", "accepted and unused (no CloudWatch calls are made)", cfg.notes);
  }
  for (const char* key : {"cloudwatch.metricsBufferTimeMillis", "cloudwatch.metricsQueueSize"}) {
    int64_t ignored = 0;
    ORDERLAKE_RETURN_IF_ERROR(r.integer(key, ignored, 0, INT64_MAX));
    r.accept(key, "accepted and unused (no CloudWatch calls are made)", cfg.notes);
  }
  ORDERLAKE_RETURN_IF_ERROR(r.integer("maxSendingThreads", cfg.max_sending_threads, 1, 10'000));
  r.accept("maxSendingThreads", "accepted; each flow has one sender so that each file's lines stay in order", cfg.notes);
  for (const char* key : {"maxSendingThreadsPerCore", "sendingThreadsMaxQueueSize", "sendingThreadsKeepAliveMillis",
                          "maxConnections", "connectionTTLMillis", "checkpointTimeToLiveDays"}) {
    int64_t ignored = 0;
    ORDERLAKE_RETURN_IF_ERROR(r.integer(key, ignored, 0, INT64_MAX));
    r.accept(key, "accepted and unused by this agent", cfg.notes);
  }
  ORDERLAKE_RETURN_IF_ERROR(r.integer("connectionTimeoutMillis", cfg.connection_timeout_ms, 1, 3'600'000));
  ORDERLAKE_RETURN_IF_ERROR(r.integer("socketTimeoutMillis", cfg.socket_timeout_ms, 1, 3'600'000));
  ORDERLAKE_RETURN_IF_ERROR(r.boolean("useHttpGzip", cfg.use_http_gzip));
  {
    bool ignored = false;
    ORDERLAKE_RETURN_IF_ERROR(r.boolean("useTcpKeepAlive", ignored));
    r.accept("useTcpKeepAlive", "accepted; connections are kept alive", cfg.notes);
    for (const char* key : {"log.emitMetrics", "log.emitInternalMetrics"}) {
      ORDERLAKE_RETURN_IF_ERROR(r.boolean(key, ignored));
      r.accept(key, "accepted; progress is logged every log.statusReportingPeriodSeconds", cfg.notes);
    }
  }
  ORDERLAKE_RETURN_IF_ERROR(r.integer("log.statusReportingPeriodSeconds", cfg.log_status_reporting_period_s, 1, 86'400));
  {
    std::string ua, ua_override;
    ORDERLAKE_RETURN_IF_ERROR(r.str("userAgent", ua));
    ORDERLAKE_RETURN_IF_ERROR(r.str("userAgentOverride", ua_override));
    cfg.user_agent = fmt::format("orderlake-agent/{}", kVersion);
    auto trimmed = [](std::string s) {
      size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
      return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
    };
    if (!trimmed(ua).empty()) cfg.user_agent = trimmed(ua) + " " + cfg.user_agent;
    if (r.has("userAgentOverride")) cfg.user_agent = ua_override;
  }
  return Status::OK();
}

// firehose.endpoint as a URL (a host name gets https://; none: the AWS endpoint of the
// environment's region), and the region it names (else the environment's).
Status resolve_endpoint(ObjectReader& r, const Environment& env, std::string endpoint, AgentConfig& cfg) {
  if (endpoint.empty()) {
    std::string region = env.get("AWS_REGION").value_or(env.get("AWS_DEFAULT_REGION").value_or("us-east-1"));
    endpoint = "https://firehose." + region + ".amazonaws.com";
  } else if (endpoint.find("://") == std::string::npos) {
    endpoint = "https://" + endpoint;
  } else if (endpoint.rfind("http://", 0) != 0 && endpoint.rfind("https://", 0) != 0) {
    return r.error("firehose.endpoint", "must be an http:// or https:// URL or a host name");
  }
  while (endpoint.size() > 8 && endpoint.back() == '/') endpoint.pop_back();
  cfg.endpoint = endpoint;
  cfg.region = region_from_endpoint(endpoint);
  if (cfg.region.empty())
    cfg.region = env.get("AWS_REGION").value_or(env.get("AWS_DEFAULT_REGION").value_or("us-east-1"));

  return Status::OK();
}

Result<AgentConfig> parse_config(std::string_view json_text, const Environment& env, std::string_view source_view) {
  const std::string source(source_view);
  json root;
  try {
    root = json::parse(json_text.begin(), json_text.end());
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number like 1E999
    return Status::Errorf("{}: not valid JSON: {}", source, e.what());
  }
  if (!root.is_object()) return Status::Errorf("{}: expected a JSON object at the top, got {}", source, type_name(root));
  AgentConfig cfg;
  ObjectReader r(root, "");
  r.set_source(source);

  ORDERLAKE_RETURN_IF_ERROR(r.refuse("assumeRoleARN", "assuming an IAM role is not supported; give keys with "
                                                      "awsAccessKeyId/awsSecretAccessKey or the AWS environment"));
  ORDERLAKE_RETURN_IF_ERROR(r.refuse("assumeRoleExternalId", "assuming an IAM role is not supported"));
  ORDERLAKE_RETURN_IF_ERROR(r.refuse("userDefinedCredentialsProvider.classname",
                                     "Java credential provider classes cannot be loaded by this native agent"));
  ORDERLAKE_RETURN_IF_ERROR(r.refuse("userDefinedCredentialsProvider.location",
                                     "Java credential provider classes cannot be loaded by this native agent"));
  ORDERLAKE_RETURN_IF_ERROR(r.refuse("kinesis.endpoint", "Kinesis Data Streams is not supported; use firehose.endpoint"));
  ORDERLAKE_RETURN_IF_ERROR(r.refuse("kinesis.region", "Kinesis Data Streams is not supported"));

  std::string endpoint;
  ORDERLAKE_RETURN_IF_ERROR(r.str("firehose.endpoint", endpoint));
  std::string key_id, secret;
  ORDERLAKE_RETURN_IF_ERROR(r.str("awsAccessKeyId", key_id));
  ORDERLAKE_RETURN_IF_ERROR(r.str("awsSecretAccessKey", secret));
  if (key_id.empty() != secret.empty())
    return r.error(key_id.empty() ? "awsAccessKeyId" : "awsSecretAccessKey",
                   "awsAccessKeyId and awsSecretAccessKey go together");
  ORDERLAKE_RETURN_IF_ERROR(r.str("checkpointFile", cfg.checkpoint_file));
  if (cfg.checkpoint_file.empty()) return r.error("checkpointFile", "must not be empty");
  ORDERLAKE_RETURN_IF_ERROR(r.integer("shutdownTimeoutMillis", cfg.shutdown_timeout_ms, 0, 3'600'000));
  ORDERLAKE_RETURN_IF_ERROR(parse_agent_settings(r, cfg));

  const json* flows = r.raw("flows");
  if (!flows) return r.error("flows", "is required (an array of flows)");
  if (!flows->is_array()) return r.error("flows", fmt::format("expected an array of objects, got {}", type_name(*flows)));
  if (flows->empty()) return r.error("flows", "must hold at least one flow");
  ORDERLAKE_RETURN_IF_ERROR(r.no_unknown_keys());
  std::set<std::string> ids;
  for (size_t i = 0; i < flows->size(); ++i) {
    FlowConfig f;
    ORDERLAKE_RETURN_IF_ERROR(parse_flow((*flows)[i], i, source, f, cfg.notes));
    if (!ids.insert(f.id()).second)
      return Status::Errorf("{}: flows[{}]: the same filePattern and deliveryStream appear twice", source, i);
    cfg.flows.push_back(std::move(f));
  }

  ORDERLAKE_RETURN_IF_ERROR(resolve_endpoint(r, env, endpoint, cfg));
  if (auto ca = env.get("AWS_CA_BUNDLE"); ca && !ca->empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(*ca, ec))
      return Status::Errorf("{}: AWS_CA_BUNDLE {} is not a readable file", source, *ca);
    cfg.ca_bundle = *ca;
  }

  // Credentials: the AWS chain (agent.json, environment, shared credentials file, config
  // file), reading the environment through `env`.
  aws::CredentialChain chain;
  chain.explicit_credentials = {key_id, secret, "", "agent.json"};
  chain.env = [&env](const char* name) { return env.get(name); };
  chain.home = env.home;
  auto creds = aws::resolve_credentials(chain);
  if (!creds.ok()) return Status::Errorf("{}: credentials: {}", source, creds.status().message());
  cfg.credentials = std::move(creds).value();
  return cfg;
}

Result<AgentConfig> load_config(const std::string& path, const Environment& env) {
  auto text = fs::read_file(path);
  if (!text.ok()) return text.status();
  std::string name = std::filesystem::path(path).filename().string();
  return parse_config(text.value(), env, name);
}

}  // namespace orderlake::agent
