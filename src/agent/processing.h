// A flow's record processing: the Kinesis Agent's dataProcessingOptions (SINGLELINE,
// CSVTOJSON, LOGTOJSON, ADDMETADATA) applied in order, then the record size limit.
// Output formats follow the Kinesis Agent: compact JSON objects with keys in the configured
// order, each record ending in "\n".
#pragma once
#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config.h"

namespace orderlake::agent {

// The longest text a user's regex (LOGTOJSON's pattern, multiLineStartPattern,
// fileFooterPattern) is run over. std::regex matches by recursion, one stack frame per
// character or so, and a pattern like COMMONAPACHELOG's over a 100 KB field overflows the
// stack; so a longer line does not match LOGTOJSON (it is skipped and counted as rejected),
// and the start and footer patterns see its first kMaxRegexInput bytes.
inline constexpr size_t kMaxRegexInput = 16 << 10;

class RecordProcessor {
 public:
  explicit RecordProcessor(const FlowConfig& flow);

  // True when the flow changes records at all (otherwise records go out byte for byte).
  bool transforms() const { return !steps_.empty(); }

  // Applies the options to `record` (one record as read, with its line terminator) and
  // writes the result to `out`. Returns false when an option rejects the record (LOGTOJSON
  // on a line that does not match its pattern, or longer than kMaxRegexInput), as the
  // Kinesis Agent skips such records.
  bool process(std::string_view record, std::string& out) const;

  // Cuts a record longer than `max_size` to max_size - terminator bytes and appends the
  // terminator (the Kinesis Agent's truncatedRecordTerminator rule). True if it cut.
  static bool truncate(std::string& record, size_t max_size, std::string_view terminator);

 private:
  struct Step {
    ProcessingOption opt;
    std::shared_ptr<std::regex> pattern;  // LOGTOJSON pattern, or CSVTOJSON regex delimiter
    std::vector<std::string> fields;      // LOGTOJSON effective field names
    std::vector<bool> dash_is_null;       // LOGTOJSON: "-" means no value
  };
  bool apply(const Step& s, std::string& rec) const;
  std::vector<Step> steps_;
};

}  // namespace orderlake::agent
