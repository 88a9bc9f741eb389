// Internal to src/query: owners of DuckDB C API handles (a prepared statement, extracted
// statements, a result), each destroyed with its owner, and DuckDB's error messages
// condensed to one line.
#pragma once
#include <string>
#include <string_view>

#include "query/duckdb_convert.h"

// DuckDB 1.4's one way to a streaming result through the C API. duckdb.h marks it
// deprecated (hidden under DUCKDB_API_NO_DEPRECATED, which query/duckdb_convert.h sets), but
// libduckdb 1.4.4, which scripts/setup.sh pins, exports it and has no replacement yet:
// duckdb_pending_prepared materializes the whole result.
extern "C" duckdb_state duckdb_pending_prepared_streaming(duckdb_prepared_statement prepared_statement,
                                                          duckdb_pending_result* out_result);

namespace orderlake::query::internal {

// DuckDB's message condensed to one line: the first line, plus a "Did you mean" hint.
inline std::string OneLineError(const char* msg) {
  std::string_view m = msg ? msg : "unknown error";
  std::string out;
  size_t pos = 0;
  bool first = true;
  while (pos <= m.size()) {
    size_t eol = m.find('\n', pos);
    std::string_view line = m.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    if (first) {
      out = std::string(line);
      first = false;
    } else if (line.substr(0, 12) == "Did you mean") {
      out += " " + std::string(line);
    } else if (line.empty() || line.substr(0, 5) == "LINE ") {
      break;
    }
    if (eol == std::string_view::npos) break;
    pos = eol + 1;
  }
  return out;
}

class Prepared {
 public:
  Prepared() = default;
  ~Prepared() { duckdb_destroy_prepare(&st_); }
  Prepared(const Prepared&) = delete;
  Prepared& operator=(const Prepared&) = delete;
  duckdb_prepared_statement* out() { return &st_; }
  duckdb_prepared_statement get() const { return st_; }
  std::string error() const { return OneLineError(duckdb_prepare_error(st_)); }

 private:
  duckdb_prepared_statement st_ = nullptr;
};

class Extracted {
 public:
  Extracted() = default;
  ~Extracted() { duckdb_destroy_extracted(&ex_); }
  Extracted(const Extracted&) = delete;
  Extracted& operator=(const Extracted&) = delete;
  duckdb_extracted_statements* out() { return &ex_; }
  duckdb_extracted_statements get() const { return ex_; }

 private:
  duckdb_extracted_statements ex_ = nullptr;
};

class OwnedResult {
 public:
  OwnedResult() = default;
  ~OwnedResult() { duckdb_destroy_result(&r_); }
  OwnedResult(const OwnedResult&) = delete;
  OwnedResult& operator=(const OwnedResult&) = delete;
  duckdb_result* get() { return &r_; }

 private:
  duckdb_result r_{};
};

}  // namespace orderlake::query::internal
