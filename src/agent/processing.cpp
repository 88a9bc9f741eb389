#include "agent/processing.h"

#include <chrono>
#include <ctime>

#include "core/csv.h"

namespace orderlake::agent {
namespace {

using json = nlohmann::ordered_json;

std::string_view strip_newline(std::string_view s) {
  if (!s.empty() && s.back() == '\n') s.remove_suffix(1);
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  return s;
}

// Compact JSON plus the record's "\n"; invalid UTF-8 becomes U+FFFD, as Java's decoder does.
void dump_record(const json& j, std::string& out) {
  out = j.dump(-1, ' ', false, json::error_handler_t::replace);
  out.push_back('\n');
}

std::string utc_millis_now() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

struct LogFormat {
  const char* pattern;
  std::vector<std::string> fields;
};

// The log formats of the Kinesis Agent's LOGTOJSON, written from their documented layouts.
const LogFormat* log_format(const std::string& name) {
  static const std::string kCommon = R"re(^(\S+) (\S+) (\S+) \[([^\]]+)\] "([^"]*)" (-|[+-]?\d+) (-|[+-]?\d+))re";
  static const LogFormat kCommonFmt{nullptr, {"host", "ident", "authuser", "datetime", "request", "response", "bytes"}};
  static const std::string kCombined = kCommon + R"re( "([^"]*)" "([^"]*)")re";
  static const LogFormat kCombinedFmt{nullptr, {"host", "ident", "authuser", "datetime", "request", "response",
                                                "bytes", "referrer", "agent"}};
  static const LogFormat kError{
      R"re(^\[([^\]]+)\] \[(?:(\w+):)?(\w+)\] \[pid (\d+)(?::tid (\d+))?\] \[client ([^\]]+)\] (.*))re",
      {"timestamp", "module", "severity", "processid", "threadid", "client", "message"}};
  static const LogFormat kSyslog{
      R"re(^([A-Z][a-z]{2}\s+\d{1,2} \d{2}:\d{2}:\d{2}) (?:<\d+\.\d+> )?(\S+) ([\w._/%-]+)(?:\[(\d+)\])?: (.*))re",
      {"timestamp", "hostname", "program", "processid", "message"}};
  static const LogFormat kRfc3339{
      R"re(^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})) (?:<\d+\.\d+> )?(\S+) ([\w._/%-]+)(?:\[(\d+)\])?: (.*))re",
      {"timestamp", "hostname", "program", "processid", "message"}};
  static LogFormat common{kCommon.c_str(), kCommonFmt.fields};
  static LogFormat combined{kCombined.c_str(), kCombinedFmt.fields};
  if (name == "COMMONAPACHELOG") return &common;
  if (name == "COMBINEDAPACHELOG") return &combined;
  if (name == "APACHEERRORLOG") return &kError;
  if (name == "SYSLOG") return &kSyslog;
  if (name == "RFC3339SYSLOG") return &kRfc3339;
  return nullptr;
}

}  // namespace

RecordProcessor::RecordProcessor(const FlowConfig& flow) {
  for (const ProcessingOption& o : flow.processing) {
    Step s{o, nullptr, {}, {}};
    if (o.kind == ProcessingOption::Kind::kCsvToJson && o.delimiter.size() > 1) {
      s.pattern = std::make_shared<std::regex>(o.delimiter, std::regex::ECMAScript | std::regex::optimize);
    } else if (o.kind == ProcessingOption::Kind::kLogToJson) {
      const LogFormat* f = log_format(o.log_format);
      std::string pat = o.match_pattern.empty() ? f->pattern : o.match_pattern;
      s.pattern = std::make_shared<std::regex>(pat, std::regex::ECMAScript | std::regex::optimize);
      s.fields = f->fields;
      if (!o.field_names.empty()) s.fields = o.field_names;
      // "-" stands for "no value" in the Apache formats.
      bool apache = o.match_pattern.empty() &&
                    (o.log_format == "COMMONAPACHELOG" || o.log_format == "COMBINEDAPACHELOG");
      s.dash_is_null.assign(s.fields.size(), apache);
    }
    steps_.push_back(std::move(s));
  }
}

bool RecordProcessor::truncate(std::string& record, size_t max_size, std::string_view terminator) {
  if (record.size() <= max_size) return false;
  size_t keep = max_size > terminator.size() ? max_size - terminator.size() : 0;
  record.resize(keep);
  record.append(terminator);
  return true;
}

bool RecordProcessor::process(std::string_view record, std::string& out) const {
  out.assign(record);
  for (const Step& s : steps_) {
    if (!apply(s, out)) return false;
  }
  return true;
}

bool RecordProcessor::apply(const Step& s, std::string& rec) const {
  switch (s.opt.kind) {
    case ProcessingOption::Kind::kSingleLine: {
      // Every line trimmed of surrounding white space, joined without separator, then "\n".
      std::string res;
      res.reserve(rec.size());
      size_t start = 0;
      while (start <= rec.size()) {
        size_t nl = rec.find('\n', start);
        size_t end = nl == std::string::npos ? rec.size() : nl;
        std::string_view line(rec.data() + start, end - start);
        size_t a = 0, b = line.size();
        while (a < b && static_cast<unsigned char>(line[a]) <= ' ') ++a;
        while (b > a && static_cast<unsigned char>(line[b - 1]) <= ' ') --b;
        res.append(line.substr(a, b - a));
        if (nl == std::string::npos) break;
        start = nl + 1;
      }
      res.push_back('\n');
      rec.swap(res);
      return true;
    }
    case ProcessingOption::Kind::kCsvToJson: {
      std::string_view line = strip_newline(rec);
      std::vector<std::string> cols;
      if (!s.pattern) {
        // One delimiter character: RFC 4180 fields (quoted fields may hold the delimiter).
        std::vector<std::string_view> views(s.opt.field_names.size() + 1);
        std::string scratch;
        int n = csv::split(line, views.data(), static_cast<int>(views.size()), scratch, s.opt.delimiter[0]);
        if (n < 0) {
          // Broken quoting: split on the delimiter alone, as the Kinesis Agent does.
          size_t start = 0;
          for (;;) {
            size_t d = line.find(s.opt.delimiter[0], start);
            cols.emplace_back(line.substr(start, d == std::string_view::npos ? std::string_view::npos : d - start));
            if (d == std::string_view::npos) break;
            start = d + 1;
          }
        } else {
          for (int i = 0; i < std::min<int>(n, static_cast<int>(views.size())); ++i) cols.emplace_back(views[i]);
        }
      } else {
        std::string l(line);
        std::sregex_token_iterator it(l.begin(), l.end(), *s.pattern, -1), end;
        for (; it != end; ++it) cols.push_back(*it);
      }
      // Java's String.split drops trailing empty fields; those keys then hold null.
      while (!cols.empty() && cols.back().empty()) cols.pop_back();
      json j = json::object();
      for (size_t i = 0; i < s.opt.field_names.size(); ++i) {
        if (i < cols.size()) {
          j[s.opt.field_names[i]] = cols[i];
        } else {
          j[s.opt.field_names[i]] = nullptr;
        }
      }
      dump_record(j, rec);
      return true;
    }
    case ProcessingOption::Kind::kLogToJson: {
      if (strip_newline(rec).size() > kMaxRegexInput) return false;  // see kMaxRegexInput
      std::string line(strip_newline(rec));
      std::smatch m;
      if (!std::regex_search(line, m, *s.pattern) || m.position(0) != 0) return false;
      json j = json::object();
      for (size_t i = 0; i < s.fields.size(); ++i) {
        size_t g = i + 1;
        if (g >= m.size() || !m[g].matched || (s.dash_is_null[i] && m[g].str() == "-")) {
          j[s.fields[i]] = nullptr;
        } else {
          j[s.fields[i]] = m[g].str();
        }
      }
      dump_record(j, rec);
      return true;
    }
    case ProcessingOption::Kind::kAddMetadata: {
      json j = json::object();
      j["metadata"] = s.opt.metadata;
      j["dataType"] = s.opt.json_data ? "JSON" : "TEXT";
      std::string_view data = rec;
      if (!data.empty() && data.back() == '\n') data.remove_suffix(1);
      if (s.opt.json_data) {
        json parsed = json::parse(data.begin(), data.end(), nullptr, false);
        if (parsed.is_discarded()) return false;
        j["data"] = std::move(parsed);
      } else {
        j["data"] = std::string(data);
      }
      if (s.opt.timestamp) j["ts"] = utc_millis_now();
      dump_record(j, rec);
      return true;
    }
  }
  return true;
}

}  // namespace orderlake::agent
