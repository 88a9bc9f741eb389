// Firehose's S3 prefix expression language, for Prefix and ErrorOutputPrefix:
//   !{timestamp:<pattern>}          the arrival time of the oldest record of the object (UTC),
//                                   formatted with a Java DateTimeFormatter pattern; supported
//                                   letters: yyyy yy MM M dd d HH H mm m ss s, 'quoted' text
//                                   ('' is a quote); other letters are refused
//   !{firehose:random-string}       11 random characters [a-z0-9], new at each use
//   !{firehose:error-output-type}   the failure kind (ErrorOutputPrefix only)
// A prefix without a timestamp expression gets "yyyy/MM/dd/HH/" appended when evaluated.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace orderlake::firehose {

// Formats `epoch_ms` (UTC) with a DateTimeFormatter pattern; an error names an unsupported
// letter. Used at validation (to reject bad patterns) and at delivery.
Result<std::string> format_timestamp(std::string_view pattern, int64_t epoch_ms);

class PrefixTemplate {
 public:
  // Parses a Prefix (`error_prefix` false) or an ErrorOutputPrefix (true).
  static Result<PrefixTemplate> Parse(std::string_view text, bool error_prefix);
  bool has_expressions() const { return has_expressions_; }
  bool has_error_output_type() const { return has_error_type_; }
  // Evaluates the prefix for an object whose oldest record arrived at `epoch_ms`; the
  // random strings come from `seed` (deterministic, so a redelivery gets the same name).
  std::string Evaluate(int64_t epoch_ms, uint64_t seed, std::string_view error_output_type = {}) const;

 private:
  struct Part {
    enum Kind { kLiteral, kTimestamp, kRandom, kErrorType } kind;
    std::string text;  // literal text or timestamp pattern
  };
  std::vector<Part> parts_;
  bool has_expressions_ = false, has_error_type_ = false;
};

// A 64-bit mix (splitmix64) used to derive names from (stream, version, sequence).
uint64_t mix64(uint64_t x);

}  // namespace orderlake::firehose
