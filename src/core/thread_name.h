// Thread names, so that `top -H`, `perf` and /proc/<pid>/task/*/comm tell the stages of one
// process apart (bench/freshness.py sums CPU by them). Threads a named thread starts (an
// HTTP server's workers, DuckDB's) inherit its name.
#pragma once
#include <string_view>

namespace orderlake {

// Names the calling thread; Linux keeps at most 15 bytes, the rest is cut.
void SetThreadName(std::string_view name);

}  // namespace orderlake
