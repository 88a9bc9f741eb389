// duckdb_sql: runs the statements of a SQL file through DuckDB's C API, for the benchmarks.
//
//   duckdb_sql [--threads N] [--database PATH] FILE.sql      (FILE '-' reads stdin)
//
// Opens an in-memory database (or PATH), splits the file into ';'-separated statements
// (quotes and comments respected) and runs them in order. A statement that returns rows
// prints them on stdout: a header line of column names, then one line per row, fields
// separated by tabs, NULL as "NULL". The first failing statement is printed with DuckDB's
// error on stderr and the exit code is 1 (2 for usage or I/O errors). The wall time of the
// whole file (open + every statement) is printed last on stderr, e.g.
//   duckdb_sql: 3 statements in 1.234 s (DuckDB v1.4.4, 2 threads)
#include <duckdb.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

void usage(FILE* to) {
  std::fputs(
      "Usage: duckdb_sql [--threads N] [--database PATH] FILE.sql\n"
      "Runs each ';'-separated statement of FILE.sql (- = stdin) in DuckDB (in-memory unless\n"
      "--database), prints the rows of queries tab-separated on stdout and the wall time of the\n"
      "whole file on stderr. Exits 1 on the first failing statement.\n"
      "  --threads N      DuckDB worker threads (default: DuckDB's, one per core)\n"
      "  --database PATH  database file instead of an in-memory database\n",
      to);
}

// Splits SQL text into statements at ';' outside '…' strings, "…" identifiers, $$…$$
// dollar-quoted strings, -- line comments and /* */ block comments. Statements that hold
// only whitespace and comments are dropped.
std::vector<std::string> split_statements(std::string_view sql) {
  std::vector<std::string> out;
  std::string cur;
  bool meaningful = false;  // cur has something besides whitespace and comments
  auto flush = [&] {
    if (meaningful) out.push_back(cur);
    cur.clear();
    meaningful = false;
  };
  size_t i = 0;
  const size_t n = sql.size();
  while (i < n) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {
      size_t j = i + 1;
      while (j < n) {
        if (sql[j] == c) {
          if (j + 1 < n && sql[j + 1] == c) {
            j += 2;  // doubled quote inside
            continue;
          }
          break;
        }
        ++j;
      }
      j = j < n ? j + 1 : n;
      cur.append(sql.substr(i, j - i));
      meaningful = true;
      i = j;
    } else if (c == '$' && i + 1 < n && sql[i + 1] == '$') {
      const size_t end = sql.find("$$", i + 2);
      const size_t j = end == std::string_view::npos ? n : end + 2;
      cur.append(sql.substr(i, j - i));
      meaningful = true;
      i = j;
    } else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      const size_t end = sql.find('\n', i);
      const size_t j = end == std::string_view::npos ? n : end;
      cur.append(sql.substr(i, j - i));
      i = j;
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      const size_t end = sql.find("*/", i + 2);
      const size_t j = end == std::string_view::npos ? n : end + 2;
      cur.append(sql.substr(i, j - i));
      i = j;
    } else if (c == ';') {
      flush();
      ++i;
    } else {
      if (!std::isspace(static_cast<unsigned char>(c))) meaningful = true;
      cur.push_back(c);
      ++i;
    }
  }
  flush();
  return out;
}

// Trims a statement for messages: surrounding whitespace, at most `max` characters.
std::string excerpt(const std::string& s, size_t max = 2000) {
  size_t b = s.find_first_not_of(" \t\r\n");
  size_t e = s.find_last_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  std::string t = s.substr(b, e - b + 1);
  if (t.size() > max) t = t.substr(0, max) + " …";
  return t;
}

std::string format_double(double v) {
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, p) : std::string("?");
}

std::string format_int128(__int128 v) {
  if (v == 0) return "0";
  const bool neg = v < 0;
  unsigned __int128 u = neg ? static_cast<unsigned __int128>(-(v + 1)) + 1 : static_cast<unsigned __int128>(v);
  char buf[48];
  char* p = buf + sizeof buf;
  while (u) {
    *--p = static_cast<char>('0' + static_cast<int>(u % 10));
    u /= 10;
  }
  if (neg) *--p = '-';
  return std::string(p, buf + sizeof buf);
}

std::string format_decimal(__int128 v, uint8_t scale) {
  std::string digits = format_int128(v < 0 ? -v : v);
  if (scale > 0) {
    if (digits.size() <= scale) digits.insert(0, scale - digits.size() + 1, '0');
    digits.insert(digits.size() - scale, 1, '.');
  }
  return v < 0 ? "-" + digits : digits;
}

std::string format_date(duckdb_date d) {
  const duckdb_date_struct s = duckdb_from_date(d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04" PRId32 "-%02d-%02d", s.year, static_cast<int>(s.month),
                static_cast<int>(s.day));
  return buf;
}

std::string format_timestamp(duckdb_timestamp t) {
  const duckdb_timestamp_struct s = duckdb_from_timestamp(t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04" PRId32 "-%02d-%02d %02d:%02d:%02d", s.date.year, static_cast<int>(s.date.month),
                static_cast<int>(s.date.day), static_cast<int>(s.time.hour), static_cast<int>(s.time.min),
                static_cast<int>(s.time.sec));
  std::string out = buf;
  if (s.time.micros) {
    std::snprintf(buf, sizeof buf, ".%06" PRId32, s.time.micros);
    out += buf;
  }
  return out;
}

__int128 to_int128(duckdb_hugeint h) {
  return static_cast<__int128>((static_cast<unsigned __int128>(static_cast<uint64_t>(h.upper)) << 64) | h.lower);
}

// One value of a vector as text; types this tool does not know print as <type N>: CAST them
// to VARCHAR in the query.
std::string format_value(duckdb_vector vec, duckdb_logical_type type, idx_t row) {
  uint64_t* validity = duckdb_vector_get_validity(vec);
  if (validity && !duckdb_validity_row_is_valid(validity, row)) return "NULL";
  void* data = duckdb_vector_get_data(vec);
  switch (duckdb_get_type_id(type)) {
    case DUCKDB_TYPE_BOOLEAN: return static_cast<bool*>(data)[row] ? "true" : "false";
    case DUCKDB_TYPE_TINYINT: return std::to_string(static_cast<int8_t*>(data)[row]);
    case DUCKDB_TYPE_SMALLINT: return std::to_string(static_cast<int16_t*>(data)[row]);
    case DUCKDB_TYPE_INTEGER: return std::to_string(static_cast<int32_t*>(data)[row]);
    case DUCKDB_TYPE_BIGINT: return std::to_string(static_cast<int64_t*>(data)[row]);
    case DUCKDB_TYPE_UTINYINT: return std::to_string(static_cast<uint8_t*>(data)[row]);
    case DUCKDB_TYPE_USMALLINT: return std::to_string(static_cast<uint16_t*>(data)[row]);
    case DUCKDB_TYPE_UINTEGER: return std::to_string(static_cast<uint32_t*>(data)[row]);
    case DUCKDB_TYPE_UBIGINT: return std::to_string(static_cast<uint64_t*>(data)[row]);
    case DUCKDB_TYPE_HUGEINT: return format_int128(to_int128(static_cast<duckdb_hugeint*>(data)[row]));
    case DUCKDB_TYPE_FLOAT: return format_double(static_cast<float*>(data)[row]);
    case DUCKDB_TYPE_DOUBLE: return format_double(static_cast<double*>(data)[row]);
    case DUCKDB_TYPE_DATE: return format_date(static_cast<duckdb_date*>(data)[row]);
    case DUCKDB_TYPE_TIMESTAMP: return format_timestamp(static_cast<duckdb_timestamp*>(data)[row]);
    case DUCKDB_TYPE_VARCHAR: {
      auto* s = static_cast<duckdb_string_t*>(data) + row;
      return std::string(duckdb_string_t_data(s), duckdb_string_t_length(*s));
    }
    case DUCKDB_TYPE_DECIMAL: {
      const uint8_t scale = duckdb_decimal_scale(type);
      switch (duckdb_decimal_internal_type(type)) {
        case DUCKDB_TYPE_SMALLINT: return format_decimal(static_cast<int16_t*>(data)[row], scale);
        case DUCKDB_TYPE_INTEGER: return format_decimal(static_cast<int32_t*>(data)[row], scale);
        case DUCKDB_TYPE_BIGINT: return format_decimal(static_cast<int64_t*>(data)[row], scale);
        case DUCKDB_TYPE_HUGEINT: return format_decimal(to_int128(static_cast<duckdb_hugeint*>(data)[row]), scale);
        default: return "<DECIMAL>";
      }
    }
    default: return "<type " + std::to_string(static_cast<int>(duckdb_get_type_id(type))) + ">";
  }
}

// Prints a query's rows: a header line, then tab-separated rows.
void print_result(duckdb_result* res) {
  const idx_t ncols = duckdb_column_count(res);
  if (ncols == 0) return;
  std::string line;
  for (idx_t c = 0; c < ncols; ++c) {
    if (c) line += '\t';
    line += duckdb_column_name(res, c);
  }
  line += '\n';
  std::fputs(line.c_str(), stdout);
  std::vector<duckdb_logical_type> types(ncols);
  for (idx_t c = 0; c < ncols; ++c) types[c] = duckdb_column_logical_type(res, c);
  for (;;) {
    duckdb_data_chunk chunk = duckdb_fetch_chunk(*res);
    if (!chunk) break;
    const idx_t rows = duckdb_data_chunk_get_size(chunk);
    std::vector<duckdb_vector> vecs(ncols);
    for (idx_t c = 0; c < ncols; ++c) vecs[c] = duckdb_data_chunk_get_vector(chunk, c);
    for (idx_t r = 0; r < rows; ++r) {
      line.clear();
      for (idx_t c = 0; c < ncols; ++c) {
        if (c) line += '\t';
        line += format_value(vecs[c], types[c], r);
      }
      line += '\n';
      std::fputs(line.c_str(), stdout);
    }
    duckdb_destroy_data_chunk(&chunk);
  }
  for (auto& t : types) duckdb_destroy_logical_type(&t);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::string threads, database, file;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      usage(stdout);
      return 0;
    } else if ((arg == "--threads" || arg == "--database") && i + 1 < argc) {
      (arg == "--threads" ? threads : database) = argv[++i];
    } else if (arg.starts_with("--threads=")) {
      threads = std::string(arg.substr(10));
    } else if (arg.starts_with("--database=")) {
      database = std::string(arg.substr(11));
    } else if (file.empty() && (arg == "-" || !arg.starts_with("-"))) {
      file = arg;
    } else {
      std::fprintf(stderr, "duckdb_sql: unexpected argument '%s'\n", argv[i]);
      usage(stderr);
      return 2;
    }
  }
  if (file.empty()) {
    usage(stderr);
    return 2;
  }
  if (!threads.empty()) {
    unsigned long n = 0;
    auto [p, ec] = std::from_chars(threads.data(), threads.data() + threads.size(), n);
    if (ec != std::errc() || p != threads.data() + threads.size() || n == 0 || n > 4096) {
      std::fprintf(stderr, "duckdb_sql: --threads: '%s' is not a thread count (1-4096)\n", threads.c_str());
      return 2;
    }
  }

  std::string sql;
  if (file == "-") {
    sql.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "duckdb_sql: cannot open '%s': %s\n", file.c_str(), std::strerror(errno));
      return 2;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    sql = ss.str();
  }
  const std::vector<std::string> statements = split_statements(sql);

  const auto t0 = std::chrono::steady_clock::now();
  duckdb_config config = nullptr;
  if (duckdb_create_config(&config) != DuckDBSuccess) {
    std::fprintf(stderr, "duckdb_sql: cannot create a DuckDB configuration\n");
    return 2;
  }
  if (!threads.empty() && duckdb_set_config(config, "threads", threads.c_str()) != DuckDBSuccess) {
    std::fprintf(stderr, "duckdb_sql: DuckDB rejected threads=%s\n", threads.c_str());
    duckdb_destroy_config(&config);
    return 2;
  }
  duckdb_database db = nullptr;
  char* open_error = nullptr;
  if (duckdb_open_ext(database.empty() ? nullptr : database.c_str(), &db, config, &open_error) != DuckDBSuccess) {
    std::fprintf(stderr, "duckdb_sql: cannot open database%s%s: %s\n", database.empty() ? "" : " ",
                 database.c_str(), open_error ? open_error : "unknown error");
    if (open_error) duckdb_free(open_error);
    duckdb_destroy_config(&config);
    return 2;
  }
  duckdb_destroy_config(&config);
  duckdb_connection con = nullptr;
  if (duckdb_connect(db, &con) != DuckDBSuccess) {
    std::fprintf(stderr, "duckdb_sql: cannot connect to the database\n");
    duckdb_close(&db);
    return 2;
  }

  int rc = 0;
  size_t done = 0;
  for (const auto& stmt : statements) {
    duckdb_result res;
    if (duckdb_query(con, stmt.c_str(), &res) != DuckDBSuccess) {
      const char* err = duckdb_result_error(&res);
      std::fprintf(stderr, "duckdb_sql: %s: statement %zu failed:\n%s\nerror: %s\n", file.c_str(), done + 1,
                   excerpt(stmt).c_str(), err ? err : "unknown error");
      duckdb_destroy_result(&res);
      rc = 1;
      break;
    }
    if (duckdb_result_return_type(res) == DUCKDB_RESULT_TYPE_QUERY_RESULT) print_result(&res);
    duckdb_destroy_result(&res);
    ++done;
  }

  // The effective thread count, for the timing line.
  std::string effective_threads = threads;
  if (effective_threads.empty()) {
    duckdb_result res;
    if (duckdb_query(con, "SELECT current_setting('threads')", &res) == DuckDBSuccess) {
      duckdb_data_chunk chunk = duckdb_fetch_chunk(res);
      if (chunk) {
        duckdb_logical_type t = duckdb_column_logical_type(&res, 0);
        effective_threads = format_value(duckdb_data_chunk_get_vector(chunk, 0), t, 0);
        duckdb_destroy_logical_type(&t);
        duckdb_destroy_data_chunk(&chunk);
      }
    }
    duckdb_destroy_result(&res);
  }
  duckdb_disconnect(&con);
  duckdb_close(&db);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "duckdb_sql: %zu statement%s in %.3f s (DuckDB %s, %s threads)%s\n", done,
               done == 1 ? "" : "s", secs, duckdb_library_version(), effective_threads.c_str(),
               rc ? ", stopped at the first error" : "");
  return rc;
}
