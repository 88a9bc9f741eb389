#include "query/engine.h"

#include <cctype>
#include <chrono>
#include <system_error>

#include "query/athena_ddl.h"
#include "query/duckdb_convert.h"
#include "query/schema.h"
#include "store/object_store.h"
#include "table/delta.h"

namespace orderlake::query {
namespace fs = std::filesystem;
using internal::IsNumericType;
using internal::ReadValue;
using internal::TypeName;

namespace {

constexpr std::string_view kHiveDefaultPartition = "__HIVE_DEFAULT_PARTITION__";

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool EndsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

std::string SqlString(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

// A data file as the ETL publishes it: visible name ending in ".parquet".
bool IsDataFileName(const std::string& name) {
  return !name.empty() && name[0] != '.' && name[0] != '_' && EndsWith(name, ".parquet");
}

// True when <orders>/Country=*/InvoiceDateOnly=*/ holds at least one data file.
bool HasDataFiles(const fs::path& orders) {
  std::error_code ec;
  for (fs::directory_iterator c(orders, ec), end; !ec && c != end; c.increment(ec)) {
    if (!StartsWith(c->path().filename().string(), "Country=") || !c->is_directory(ec)) continue;
    for (fs::directory_iterator d(c->path(), ec); !ec && d != end; d.increment(ec)) {
      if (!StartsWith(d->path().filename().string(), "InvoiceDateOnly=") || !d->is_directory(ec)) continue;
      for (fs::directory_iterator f(d->path(), ec); !ec && f != end; f.increment(ec))
        if (IsDataFileName(f->path().filename().string()) && f->is_regular_file(ec)) return true;
      ec.clear();
    }
    ec.clear();
  }
  return false;
}

// DuckDB's message condensed to one line: the first line, plus a "Did you mean" hint.
std::string OneLineError(const char* msg) {
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
    } else if (StartsWith(line, "Did you mean")) {
      out += " " + std::string(line);
    } else if (line.empty() || StartsWith(line, "LINE ")) {
      break;
    }
    if (eol == std::string_view::npos) break;
    pos = eol + 1;
  }
  return out;
}

const char* KindName(duckdb_statement_type t) {
  switch (t) {
    case DUCKDB_STATEMENT_TYPE_INSERT: return "INSERT";
    case DUCKDB_STATEMENT_TYPE_UPDATE: return "UPDATE";
    case DUCKDB_STATEMENT_TYPE_DELETE: return "DELETE";
    case DUCKDB_STATEMENT_TYPE_PREPARE: return "PREPARE";
    case DUCKDB_STATEMENT_TYPE_EXECUTE: return "EXECUTE";
    case DUCKDB_STATEMENT_TYPE_CREATE: return "CREATE";
    case DUCKDB_STATEMENT_TYPE_CREATE_FUNC: return "CREATE FUNCTION";
    case DUCKDB_STATEMENT_TYPE_ALTER: return "ALTER";
    case DUCKDB_STATEMENT_TYPE_DROP: return "DROP";
    case DUCKDB_STATEMENT_TYPE_TRANSACTION: return "transaction (BEGIN/COMMIT/ROLLBACK)";
    case DUCKDB_STATEMENT_TYPE_COPY: return "COPY";
    case DUCKDB_STATEMENT_TYPE_EXPORT: return "EXPORT";
    case DUCKDB_STATEMENT_TYPE_ANALYZE:
    case DUCKDB_STATEMENT_TYPE_VACUUM: return "ANALYZE/VACUUM";
    case DUCKDB_STATEMENT_TYPE_VARIABLE_SET:
    case DUCKDB_STATEMENT_TYPE_SET: return "SET/RESET/USE";
    case DUCKDB_STATEMENT_TYPE_PRAGMA: return "PRAGMA (one that changes settings)";
    case DUCKDB_STATEMENT_TYPE_CALL: return "CALL";
    case DUCKDB_STATEMENT_TYPE_LOAD: return "INSTALL/LOAD";
    case DUCKDB_STATEMENT_TYPE_EXTENSION: return "extension";
    case DUCKDB_STATEMENT_TYPE_ATTACH: return "ATTACH";
    case DUCKDB_STATEMENT_TYPE_DETACH: return "DETACH";
    case DUCKDB_STATEMENT_TYPE_MULTI: return "multi-part";
    default: return "this kind of";
  }
}

Status Refused(const char* kind) {
  return Status::Errorf(
      "refused: {} statements are not allowed: the query endpoint is read-only (allowed: SELECT, WITH, "
      "VALUES, DESCRIBE, SHOW, SUMMARIZE, read-only PRAGMAs and EXPLAIN of a query)",
      kind);
}

std::string_view SkipSpaceAndComments(std::string_view s) {
  for (;;) {
    size_t i = 0;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    s.remove_prefix(i);
    if (StartsWith(s, "--")) {
      size_t eol = s.find('\n');
      s.remove_prefix(eol == std::string_view::npos ? s.size() : eol + 1);
    } else if (StartsWith(s, "/*")) {
      size_t close = s.find("*/", 2);
      s.remove_prefix(close == std::string_view::npos ? s.size() : close + 2);
    } else {
      return s;
    }
  }
}

// Consumes `word` (case-insensitive, whole word) at the start of s.
bool ConsumeKeyword(std::string_view& s, std::string_view word) {
  std::string_view t = SkipSpaceAndComments(s);
  if (t.size() < word.size()) return false;
  for (size_t i = 0; i < word.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(t[i])) != word[i]) return false;
  if (t.size() > word.size() && (std::isalnum(static_cast<unsigned char>(t[word.size()])) || t[word.size()] == '_'))
    return false;
  s = t.substr(word.size());
  return true;
}

// The leading keyword of a statement (upper case), after comments, opening parentheses
// and empty statements.
std::string LeadingKeyword(std::string_view s) {
  for (;;) {
    s = SkipSpaceAndComments(s);
    if (!StartsWith(s, "(") && !StartsWith(s, ";")) break;
    s.remove_prefix(1);
  }
  std::string word;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') break;
    word += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return word;
}

// PRAGMAs that only report (DuckDB turns them into queries).
bool IsReadOnlyPragma(std::string_view sql) {
  std::string_view rest = sql;
  if (!ConsumeKeyword(rest, "PRAGMA")) return false;
  std::string name = LeadingKeyword(rest);
  for (const char* ok : {"TABLE_INFO", "SHOW_TABLES", "SHOW_TABLES_EXPANDED", "SHOW_DATABASES", "DATABASE_LIST",
                         "DATABASE_SIZE", "SHOW", "VERSION", "PLATFORM", "FUNCTIONS", "COLLATIONS", "STORAGE_INFO",
                         "METADATA_INFO", "USER_AGENT"})
    if (name == ok) return true;
  return false;
}

// The first line of defence, before DuckDB even binds the statement (binding can act:
// EXPORT DATABASE creates its directory while being prepared): the statement must start
// like a query. The statement type DuckDB reports after preparing is checked as well.
Status CheckLeadingKeyword(std::string_view sql, int depth) {
  std::string word = LeadingKeyword(sql);
  for (const char* ok : {"SELECT", "WITH", "VALUES", "FROM", "TABLE", "DESCRIBE", "DESC", "SHOW", "SUMMARIZE",
                         "PIVOT", "UNPIVOT", "PIVOT_WIDER", "PIVOT_LONGER"})
    if (word == ok) return Status::OK();
  if (word == "PRAGMA") {
    if (IsReadOnlyPragma(SkipSpaceAndComments(sql))) return Status::OK();
    return Refused("PRAGMA (other than the read-only ones)");
  }
  if (word == "EXPLAIN") {
    if (depth > 3) return Status::Error("refused: EXPLAIN nested too deeply");
    std::string_view rest = sql;
    for (;;) {  // skip to EXPLAIN past any opening parentheses
      rest = SkipSpaceAndComments(rest);
      if (!StartsWith(rest, "(")) break;
      rest.remove_prefix(1);
    }
    ConsumeKeyword(rest, "EXPLAIN");
    if (!ConsumeKeyword(rest, "ANALYZE")) ConsumeKeyword(rest, "ANALYSE");
    Status direct = CheckLeadingKeyword(rest, depth + 1);
    if (direct.ok()) return direct;
    // EXPLAIN (FORMAT json, ANALYZE) <statement>: skip the option list.
    std::string_view t = SkipSpaceAndComments(rest);
    if (StartsWith(t, "(")) {
      size_t close = t.find(')');
      if (close != std::string_view::npos) return CheckLeadingKeyword(t.substr(close + 1), depth + 1);
    }
    return direct;
  }
  if (word.empty()) {
    if (SkipSpaceAndComments(sql).find_first_not_of("(; \t\r\n") == std::string_view::npos)
      return Status::Error("no SQL statement given");
    return Status::Error("refused: the statement does not start with a keyword");
  }
  return Refused(word.c_str());
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

}  // namespace

struct Engine::Impl {
  duckdb_database db = nullptr;
  duckdb_connection con = nullptr;
  fs::path lake;
  fs::path orders;
  std::function<Status()> before_statement;  // see Engine::set_before_statement
  // The table's Delta log, when it has one: every statement reads the newest snapshot.
  std::unique_ptr<store::ObjectStore> lake_store;
  std::unique_ptr<table::DeltaLog> log;
  table::Snapshot snapshot;
  int64_t view_version = -2;
  Status Prepare() {
    if (before_statement) ORDERLAKE_RETURN_IF_ERROR(before_statement());
    return RefreshViews();
  }
  enum class Views { kNone, kEmpty, kData } views = Views::kNone;

  ~Impl() {
    if (con) duckdb_disconnect(&con);
    if (db) duckdb_close(&db);
  }

  // Runs SQL of our own (setup, catalog look-ups), unchecked.
  Status RunInternal(const std::string& sql, QueryResult* out = nullptr) {
    OwnedResult r;
    if (duckdb_query(con, sql.c_str(), r.get()) != DuckDBSuccess)
      return Status::Errorf("internal statement failed: {}: {}", OneLineError(duckdb_result_error(r.get())), sql);
    if (out) return Drain(r.get(), *out);
    return Status::OK();
  }

  // (Re)defines the views: over the files of the newest snapshot when the table has a
  // Delta log (when its version changed), else over the Hive layout (when the lake went
  // from empty to holding data or back).
  Status RefreshViews(bool force = false) {
    std::error_code ec;
    std::string source;
    Views want;
    if (log || fs::exists(orders / "_delta_log", ec)) {
      if (!log) {
        lake_store = store::OpenLocal(lake.string());
        log = std::make_unique<table::DeltaLog>(lake_store.get(), std::string(kOrdersTable));
      }
      Status st;
      if (snapshot.version < 0) {  // the first look starts from the last checkpoint
        auto loaded = log->Load();
        if (loaded.ok()) snapshot = std::move(loaded).value();
        else st = loaded.status();
      } else {
        st = log->Update(&snapshot);
      }
      if (!st.ok()) return Status::Errorf("reading the table's Delta log: {}", st.message());
      if (snapshot.version == view_version && views != Views::kNone && !force) return Status::OK();
      std::string list;
      for (const auto& [path, f] : snapshot.files) {
        auto rel = table::decode_path(path);
        if (!rel.ok()) return Status::Errorf("the table's Delta log: {}", rel.status().message());
        list += list.empty() ? "[" : ", ";
        list += SqlString((orders / rel.value()).string());
      }
      want = list.empty() ? Views::kEmpty : Views::kData;
      source = list + "]";
      view_version = snapshot.version;
    } else {
      want = HasDataFiles(orders) ? Views::kData : Views::kEmpty;
      if (want == views && !force) return Status::OK();
      source = SqlString((orders / "Country=*" / "InvoiceDateOnly=*" / "[!._]*.parquet").string());
    }
    std::string select = "SELECT ";
    for (const TableColumn& c : kOrdersSchema) {
      if (c.partition) continue;
      if (want == Views::kData)
        select += fmt::format("CAST(\"{0}\" AS {1}) AS \"{0}\", ", c.name, c.type);
      else
        select += fmt::format("CAST(NULL AS {1}) AS \"{0}\", ", c.name, c.type);
    }
    if (want == Views::kData) {
      select += fmt::format(
          "NULLIF(\"Country\", {}) AS \"Country\", \"InvoiceDateOnly\" FROM read_parquet({}, "
          "hive_partitioning = true, hive_types = {{'Country': VARCHAR, 'InvoiceDateOnly': DATE}}, "
          "binary_as_string = true)",
          SqlString(kHiveDefaultPartition), source);
    } else {
      select += "CAST(NULL AS VARCHAR) AS \"Country\", CAST(NULL AS DATE) AS \"InvoiceDateOnly\" WHERE false";
    }
    ORDERLAKE_RETURN_IF_ERROR(RunInternal(fmt::format("CREATE OR REPLACE VIEW {} AS {}", kOrdersTable, select)));
    if (views == Views::kNone)
      ORDERLAKE_RETURN_IF_ERROR(RunInternal(
          fmt::format("CREATE OR REPLACE VIEW {} AS SELECT * FROM {}", kLegacyOrdersTable, kOrdersTable)));
    views = want;
    return Status::OK();
  }

  Status Drain(duckdb_result* r, RowSink& sink) {
    idx_t nc = duckdb_column_count(r);
    std::vector<Column> columns(nc);
    std::vector<duckdb_logical_type> types(nc);
    for (idx_t c = 0; c < nc; ++c) {
      types[c] = duckdb_column_logical_type(r, c);
      columns[c].name = duckdb_column_name(r, c);
      columns[c].type = TypeName(types[c]);
      columns[c].numeric = IsNumericType(types[c]);
    }
    Status st = sink.Begin(columns);
    std::vector<Value> row(nc);
    while (st.ok()) {
      duckdb_data_chunk chunk = duckdb_fetch_chunk(*r);
      if (!chunk) break;
      idx_t n = duckdb_data_chunk_get_size(chunk);
      std::vector<duckdb_vector> vecs(nc);
      for (idx_t c = 0; c < nc; ++c) vecs[c] = duckdb_data_chunk_get_vector(chunk, c);
      for (idx_t i = 0; i < n && st.ok(); ++i) {
        for (idx_t c = 0; c < nc; ++c) row[c] = ReadValue(vecs[c], types[c], i);
        st = sink.Row(row);
      }
      duckdb_destroy_data_chunk(&chunk);
    }
    for (auto& t : types) duckdb_destroy_logical_type(&t);
    if (st.ok()) st = sink.End();
    return st;
  }

  // Allows queries and EXPLAIN of queries; refuses everything else.
  Status CheckPrepared(duckdb_prepared_statement p, std::string_view sql, int depth) {
    duckdb_statement_type t = duckdb_prepared_statement_type(p);
    if (t == DUCKDB_STATEMENT_TYPE_SELECT) return Status::OK();
    if (t != DUCKDB_STATEMENT_TYPE_EXPLAIN) return Refused(KindName(t));
    if (depth > 3) return Status::Error("refused: EXPLAIN nested too deeply");
    // EXPLAIN [ANALYZE] [(options)] <statement>: the statement must itself be allowed,
    // since EXPLAIN ANALYZE runs it.
    std::string_view rest = sql;
    if (!ConsumeKeyword(rest, "EXPLAIN")) return Status::Error("refused: cannot find the statement inside EXPLAIN");
    if (!ConsumeKeyword(rest, "ANALYZE")) ConsumeKeyword(rest, "ANALYSE");
    std::vector<std::string_view> candidates = {rest};
    std::string_view t2 = SkipSpaceAndComments(rest);
    if (StartsWith(t2, "(")) {
      int level = 0;
      size_t i = 0;
      for (; i < t2.size(); ++i) {
        if (t2[i] == '(') ++level;
        if (t2[i] == ')' && --level == 0) break;
      }
      if (i < t2.size()) candidates.push_back(t2.substr(i + 1));
    }
    std::string first_error;
    for (std::string_view cand : candidates) {
      Prepared inner;
      std::string text(cand);
      if (duckdb_prepare(con, text.c_str(), inner.out()) == DuckDBSuccess) return CheckPrepared(inner.get(), text, depth + 1);
      if (first_error.empty()) first_error = inner.error();
    }
    return Status::Errorf("refused: cannot check the statement inside EXPLAIN: {}", first_error);
  }

  // Prepares the single statement in `sql` and checks it is allowed.
  Status PrepareChecked(std::string_view sql, Prepared& prepared) {
    std::string text(sql);
    for (int attempt = 0;; ++attempt) {
      Extracted ex;  // parsing only: nothing is bound or run yet
      idx_t n = duckdb_extract_statements(con, text.c_str(), ex.out());
      if (n == 0) {
        const char* err = duckdb_extract_statements_error(ex.get());
        if (err && *err) return Status::Error(OneLineError(err));
        return Status::Error("no SQL statement given");
      }
      if (n > 1) return Status::Errorf("expected one statement, got {}: run them one at a time", n);
      if (attempt == 0) ORDERLAKE_RETURN_IF_ERROR(CheckLeadingKeyword(sql, 0));
      if (duckdb_prepare_extracted_statement(con, ex.get(), 0, prepared.out()) != DuckDBSuccess) {
        std::string err = prepared.error();
        // The lake may have been emptied (or filled) since the last look: look again once.
        if (attempt == 0 && err.find("No files found that match the pattern") != std::string::npos) {
          duckdb_destroy_prepare(prepared.out());
          ORDERLAKE_RETURN_IF_ERROR(RefreshViews(true));
          continue;
        }
        if (StartsWith(err, "Permission Error"))
          err += fmt::format(" (the query endpoint can read only the lake at {})", lake.string());
        return Status::Error(err);
      }
      break;
    }
    ORDERLAKE_RETURN_IF_ERROR(CheckPrepared(prepared.get(), sql, 0));
    if (idx_t np = duckdb_nparams(prepared.get()); np > 0)
      return Status::Errorf("the statement has {} parameter(s) ($1, ? ...): give literal values instead", np);
    return Status::OK();
  }
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::Open(const fs::path& lake_dir) {
  std::error_code ec;
  if (!fs::exists(lake_dir, ec)) return Status::Errorf("lake directory '{}' does not exist", lake_dir.string());
  if (!fs::is_directory(lake_dir, ec)) return Status::Errorf("lake '{}' is not a directory", lake_dir.string());
  fs::path lake = fs::canonical(lake_dir, ec);
  if (ec) return Status::Errorf("cannot resolve lake directory '{}': {}", lake_dir.string(), ec.message());
  if (lake.string().find_first_of("*?[") != std::string::npos)
    return Status::Errorf("lake directory '{}' has a glob character (*, ? or [) in its path: not supported",
                          lake.string());

  auto impl = std::make_unique<Impl>();
  impl->lake = lake;
  impl->orders = lake / kOrdersTable;

  duckdb_config config = nullptr;
  if (duckdb_create_config(&config) != DuckDBSuccess) return Status::Error("cannot create DuckDB configuration");
  // No extension downloads or loading from disk: what is built in (parquet, json, icu) is all.
  for (const char* option : {"autoinstall_known_extensions", "autoload_known_extensions", "allow_community_extensions"})
    duckdb_set_config(config, option, "false");
  char* open_error = nullptr;
  duckdb_state opened = duckdb_open_ext(nullptr, &impl->db, config, &open_error);
  duckdb_destroy_config(&config);
  if (opened != DuckDBSuccess) {
    std::string msg = open_error ? open_error : "unknown error";
    duckdb_free(open_error);
    return Status::Errorf("cannot open DuckDB: {}", msg);
  }
  if (duckdb_connect(impl->db, &impl->con) != DuckDBSuccess) return Status::Error("cannot connect to DuckDB");

  // Lock DuckDB down: files only under the lake, nothing else external, no more SET.
  std::string allowed = lake.string();
  if (allowed.back() != '/') allowed += '/';
  ORDERLAKE_RETURN_IF_ERROR(impl->RunInternal(fmt::format("SET allowed_directories = [{}]", SqlString(allowed))));
  ORDERLAKE_RETURN_IF_ERROR(impl->RunInternal("SET enable_external_access = false"));
  ORDERLAKE_RETURN_IF_ERROR(impl->RunInternal("SET lock_configuration = true"));
  ORDERLAKE_RETURN_IF_ERROR(impl->RefreshViews());
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Result<QueryResult> Engine::Execute(std::string_view sql) {
  QueryResult r;
  Result<QueryResult> info = Execute(sql, r);
  if (!info.ok()) return info.status();
  r.notices = std::move(info->notices);
  r.seconds = info->seconds;
  return r;
}

Result<QueryResult> Engine::Execute(std::string_view sql, RowSink& sink) {
  auto t0 = std::chrono::steady_clock::now();
  QueryResult info;
  if (auto ddl = AthenaDdlNoOp(sql, impl_->orders.string())) {
    if (!ddl->ok()) return ddl->status();
    info.notices = std::move(ddl->value());
    ORDERLAKE_RETURN_IF_ERROR(sink.Begin({}));
    ORDERLAKE_RETURN_IF_ERROR(sink.End());
    return info;
  }
  ORDERLAKE_RETURN_IF_ERROR(impl_->Prepare());
  Prepared prepared;
  ORDERLAKE_RETURN_IF_ERROR(impl_->PrepareChecked(sql, prepared));
  OwnedResult result;
  if (duckdb_execute_prepared(prepared.get(), result.get()) != DuckDBSuccess) {
    std::string err = OneLineError(duckdb_result_error(result.get()));
    if (StartsWith(err, "Permission Error"))
      err += fmt::format(" (the query endpoint can read only the lake at {})", impl_->lake.string());
    return Status::Error(err);
  }
  ORDERLAKE_RETURN_IF_ERROR(impl_->Drain(result.get(), sink));
  info.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return info;
}

void Engine::set_before_statement(std::function<Status()> before_statement) {
  impl_->before_statement = std::move(before_statement);
}

Status Engine::Check(std::string_view sql) {
  if (auto ddl = AthenaDdlNoOp(sql, impl_->orders.string())) return ddl->status();
  ORDERLAKE_RETURN_IF_ERROR(impl_->Prepare());
  Prepared prepared;
  return impl_->PrepareChecked(sql, prepared);
}

Result<std::vector<std::string>> Engine::Tables() {
  QueryResult r;
  ORDERLAKE_RETURN_IF_ERROR(impl_->RunInternal(
      "SELECT view_name FROM duckdb_views() WHERE NOT internal UNION "
      "SELECT table_name FROM duckdb_tables() ORDER BY 1",
      &r));
  std::vector<std::string> names;
  for (const auto& row : r.rows) names.push_back(row[0].ToString());
  return names;
}

const fs::path& Engine::lake() const { return impl_->lake; }

void Engine::Interrupt() { duckdb_interrupt(impl_->con); }

}  // namespace orderlake::query
