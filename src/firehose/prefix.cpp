#include "firehose/prefix.h"

#include <chrono>

namespace orderlake::firehose {

uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

Result<std::string> format_timestamp(std::string_view pattern, int64_t epoch_ms) {
  using namespace std::chrono;
  auto tp = sys_time<milliseconds>(milliseconds(epoch_ms));
  auto day = floor<days>(tp);
  year_month_day ymd(day);
  hh_mm_ss hms(floor<seconds>(tp - day));
  int y = static_cast<int>(ymd.year());
  int fields[6] = {y, static_cast<int>(static_cast<unsigned>(ymd.month())),
                   static_cast<int>(static_cast<unsigned>(ymd.day())), static_cast<int>(hms.hours().count()),
                   static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count())};
  std::string out;
  for (size_t i = 0; i < pattern.size();) {
    char c = pattern[i];
    if (c == '\'') {
      size_t j = i + 1;
      if (j < pattern.size() && pattern[j] == '\'') {
        out += '\'';
        i = j + 1;
        continue;
      }
      for (;;) {
        if (j >= pattern.size()) return Status::Errorf("unterminated quoted text in timestamp pattern '{}'", pattern);
        if (pattern[j] == '\'') {
          if (j + 1 < pattern.size() && pattern[j + 1] == '\'') {
            out += '\'';
            j += 2;
            continue;
          }
          break;
        }
        out += pattern[j++];
      }
      i = j + 1;
      continue;
    }
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
      out += c;
      ++i;
      continue;
    }
    size_t n = 1;
    while (i + n < pattern.size() && pattern[i + n] == c) ++n;
    int idx = -1;
    switch (c) {
      case 'y':
      case 'u': idx = 0; break;
      case 'M': idx = 1; break;
      case 'd': idx = 2; break;
      case 'H': idx = 3; break;
      case 'm': idx = 4; break;
      case 's': idx = 5; break;
      default: break;
    }
    bool ok = idx >= 0 && (idx == 0 ? (n == 2 || n == 4) : (n <= 2));
    if (!ok)
      return Status::Errorf("unsupported pattern letters '{}' in timestamp pattern '{}' (supported: yyyy yy MM dd HH mm ss, 'quoted text')",
                            std::string(n, c), pattern);
    if (idx == 0 && n == 2) out += fmt::format("{:02}", ((y % 100) + 100) % 100);
    else if (idx == 0) out += fmt::format("{:04}", y);
    else if (n == 2) out += fmt::format("{:02}", fields[idx]);
    else out += std::to_string(fields[idx]);
    i += n;
  }
  return out;
}

Result<PrefixTemplate> PrefixTemplate::Parse(std::string_view text, bool error_prefix) {
  PrefixTemplate t;
  const char* what = error_prefix ? "ErrorOutputPrefix" : "Prefix";
  size_t i = 0;
  std::string lit;
  auto flush = [&] {
    if (!lit.empty()) t.parts_.push_back({Part::kLiteral, std::move(lit)});
    lit.clear();
  };
  bool has_timestamp = false;
  while (i < text.size()) {
    if (text.compare(i, 2, "!{") != 0) {
      lit += text[i++];
      continue;
    }
    size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos)
      return Status::Errorf("{} has an unterminated expression at position {}: '{}'", what, i, text);
    std::string_view expr = text.substr(i + 2, close - i - 2);
    size_t colon = expr.find(':');
    std::string_view ns = expr.substr(0, colon), arg = colon == std::string_view::npos ? "" : expr.substr(colon + 1);
    flush();
    if (ns == "timestamp") {
      if (arg.empty()) return Status::Errorf("{} expression !{{timestamp:}} needs a pattern", what);
      auto probe = format_timestamp(arg, 0);
      if (!probe.ok()) return Status::Errorf("{}: {}", what, probe.status().message());
      t.parts_.push_back({Part::kTimestamp, std::string(arg)});
      has_timestamp = true;
    } else if (ns == "firehose" && arg == "random-string") {
      t.parts_.push_back({Part::kRandom, {}});
    } else if (ns == "firehose" && arg == "error-output-type") {
      if (!error_prefix)
        return Status::Errorf("The expression !{{firehose:error-output-type}} is only allowed in ErrorOutputPrefix");
      t.parts_.push_back({Part::kErrorType, {}});
      t.has_error_type_ = true;
    } else if (ns == "partitionKeyFromQuery" || ns == "partitionKeyFromLambda") {
      return Status::Errorf("{} uses !{{{}}}, which needs DynamicPartitioningConfiguration (not supported)", what, expr);
    } else {
      return Status::Errorf("{} has an unsupported expression !{{{}}}", what, expr);
    }
    t.has_expressions_ = true;
    i = close + 1;
  }
  flush();
  if (!has_timestamp) t.parts_.push_back({Part::kTimestamp, "yyyy/MM/dd/HH/"});
  return t;
}

std::string PrefixTemplate::Evaluate(int64_t epoch_ms, uint64_t seed, std::string_view error_output_type) const {
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  uint64_t n = 0;
  for (auto& p : parts_) {
    switch (p.kind) {
      case Part::kLiteral: out += p.text; break;
      case Part::kTimestamp: {
        auto r = format_timestamp(p.text, epoch_ms);
        if (r.ok()) out += *r;  // patterns were checked at Parse
        break;
      }
      case Part::kRandom: {
        uint64_t r = mix64(seed ^ mix64(++n));
        for (int k = 0; k < 11; ++k) {
          out += kChars[r % 36];
          r /= 36;
        }
        break;
      }
      case Part::kErrorType: out += error_output_type; break;
    }
  }
  return out;
}

}  // namespace orderlake::firehose
