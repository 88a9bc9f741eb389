// The generate stage (LogGenerator.py on EC2): order lines into rotating log files in a
// directory, at a chosen rate, until a count, a duration or a stop request.
//
// Files are named orders-<UTC yyyyMMdd-HHmmss>-<seq>.log (seq: 6 digits, rising within a
// run), so names sort in creation order and the Kinesis Agent pattern *.log matches; the
// newest file is the one being written. Files are created exclusively (an existing file is
// never appended to or overwritten) and only ever hold complete lines: data is written in
// large chunks that always end at a line boundary.
#pragma once
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/status.h"
#include "generate/generator.h"

namespace orderlake::generate {

// One generate run; `orderlake generate` maps its flags here and `up` builds one. Validate()
// is the one check for every caller (run_generate refuses options that fail it); its errors
// name the flags.
struct RunOptions {
  std::filesystem::path out_dir = "orderlake-data/logs";  // --out (or <--data-dir>/logs)
  uint64_t count = 0;                   // --count: stop after this many lines; 0 = no limit
  double duration_s = 0;                // --duration: stop after this many seconds; 0 = no limit
  double rate = 0;                      // --rate: lines per second; 0 = as fast as possible
  uint64_t rotate_size = 64ull << 20;   // --rotate-size: start a new file before exceeding this; 0 = never
  double rotate_interval_s = 0;         // --rotate-interval: a new file after this many seconds; 0 = never
  double progress_interval_s = 5;       // --progress-interval: progress line every so often; 0 = never
  std::atomic<uint64_t>* lines_written = nullptr;  // when set, the lines in the files so far
  GeneratorConfig generator;            // --profile, --seed, the rates, --start/--days

  Status Validate() const;
};

struct RunReport {
  uint64_t lines = 0;
  uint64_t bytes = 0;
  std::vector<std::string> files;  // paths (out_dir/name), in the order written
  double elapsed_s = 0;
  bool interrupted = false;        // stopped by the stop flag before count/duration
  uint64_t seed = 0;               // the generator's seed (to reproduce the run)
  std::shared_ptr<SummaryBuilder> summary;

  // {"lines", "files", "kinds", "expected", "seed"} (see the generate command's --help).
  nlohmann::ordered_json to_json() const;
  // One line for people: counts by kind, files, time, speed.
  std::string human_line() const;
};

// A file name for the given UTC time and sequence number.
std::string log_file_name(int64_t unix_seconds, uint64_t seq);

// Runs the generator until options.count lines, options.duration_s seconds, or *stop
// becoming true (checked before every line: the current line is finished, data flushed).
Result<RunReport> run_generate(const RunOptions& options, const std::atomic<bool>* stop = nullptr);

}  // namespace orderlake::generate
