// Running one execution and its result: the worker writes Athena's .csv (or .txt) to
// <data-dir>/athena/results/<id>.<ext>; once it succeeded the file is copied to
// <OutputLocation>/<id>.<ext> (with <id>.csv.metadata, our JSON of the ColumnInfo) in the
// output bucket, local or remote. GetQueryResults pages from the local copy, reading only
// the page.
#include <fstream>
#include <limits>

#include <fmt/format.h>

#include "core/fs.h"
#include "query/athena_ddl.h"
#include "query/athena_internal.h"
#include "query/engine_util.h"
#include "store/buckets.h"

namespace orderlake::query::athena {
namespace stdfs = std::filesystem;

namespace {

constexpr size_t kMaxPageBytes = 16 << 20;  // a page ends early past this many bytes of text
constexpr size_t kMaxScannedFiles = 200000;  // CoveredBytes walks at most this many files

// Athena's error category and type for a failed statement (see Athena's error catalog).
std::pair<int, int> ErrorKind(const std::string& m) {
  if (m.find("ran longer than") != std::string::npos) return {1, 206};                // query timed out
  if (m.find("MB and was stopped") != std::string::npos || m.find("larger than") != std::string::npos)
    return {1, 0};                                                                   // exhausted resources
  if (m.rfind(kBusyPrefix, 0) == 0 || m.find("worker process ended") != std::string::npos) return {1, 100};
  return {2, 1000};                                                                  // user error
}

uint64_t DirBytes(const stdfs::path& dir, size_t* files) {
  uint64_t total = 0;
  std::error_code ec;
  for (stdfs::recursive_directory_iterator it(dir, ec), end; !ec && it != end && *files < kMaxScannedFiles; it.increment(ec)) {
    if (it->is_regular_file(ec)) {
      total += it->file_size(ec);
      ++*files;
    }
  }
  return total;
}

}  // namespace

int64_t CoveredBytes(const AthenaApiOptions& options, const Execution& e) {
  if (e.statement_type != "DML") return 0;
  const std::set<std::string> names = ReferencedNames(e.query);
  auto cat = catalog::Catalog::Open(options.catalog);
  std::set<std::string> in_default;
  uint64_t total = 0;
  size_t files = 0;
  if (cat.ok()) {
    auto dbs = (*cat)->Databases();
    for (const auto& db : dbs.ok() ? *dbs : std::vector<std::string>{}) {
      auto tables = (*cat)->Tables(db);
      for (const auto& name : tables.ok() ? *tables : std::vector<std::string>{}) {
        if (db == "default") in_default.insert(name);
        if (!names.count(internal::Lower(name))) continue;
        auto t = (*cat)->GetTable(db, name);
        if (!t.ok() || !t.value()) continue;
        auto loc = options.buckets->Resolve((*t)->location);
        if (loc.ok() && loc->local) total += DirBytes(loc->dir, &files);
      }
    }
  }
  for (std::string_view b : {kOrdersTable, kLegacyOrdersTable})
    if (names.count(std::string(b)) && !in_default.count(std::string(b))) {
      total += DirBytes(options.lake / kOrdersTable, &files);
      break;
    }
  return static_cast<int64_t>(total);
}

std::string AthenaType(std::string_view t, bool ddl) {
  const std::string s = internal::Lower(t);
  if (s.ends_with("[]")) return "array";
  if (s.starts_with("decimal")) return "decimal";
  if (s.starts_with("struct")) return "row";
  if (s.starts_with("map")) return "map";
  if (s == "varchar" || s == "uuid" || s == "enum" || s == "\"null\"") return ddl ? "string" : "varchar";
  if (s == "integer") return "integer";
  if (s == "hugeint" || s == "ubigint" || s == "uhugeint" || s == "bignum") return "decimal";
  if (s == "uinteger") return "bigint";
  if (s == "usmallint") return "integer";
  if (s == "utinyint") return "smallint";
  if (s == "float") return "float";
  if (s == "blob") return "varbinary";
  if (s.starts_with("timestamp with time zone")) return "timestamp with time zone";
  if (s.starts_with("timestamp")) return "timestamp";
  if (s.starts_with("time")) return "time";
  if (s == "interval") return "interval day to second";
  return s;  // bigint, smallint, tinyint, double, boolean, date
}

json ColumnInfo(const Execution& e) {
  json out = json::array();
  for (const auto& c : e.columns) {
    const std::string duck = c.value("type", "VARCHAR"), type = AthenaType(duck, e.text());
    int precision = 0, scale = 0;
    if (type == "varchar" || type == "string") precision = 2147483647;
    else if (type == "bigint") precision = 19;
    else if (type == "integer") precision = 10;
    else if (type == "smallint") precision = 5;
    else if (type == "tinyint") precision = 3;
    else if (type == "double") precision = 17;
    else if (type == "float") precision = 9;
    else if (type == "timestamp") precision = 3;
    else if (type == "decimal" && std::sscanf(duck.c_str(), "DECIMAL(%d,%d)", &precision, &scale) != 2)
      precision = 38, scale = 0;
    const std::string name = c.value("name", "");
    out.push_back({{"CatalogName", "hive"}, {"SchemaName", ""}, {"TableName", ""}, {"Name", name}, {"Label", name},
                   {"Type", type}, {"Precision", precision}, {"Scale", scale}, {"Nullable", "UNKNOWN"},
                   {"CaseSensitive", type == "varchar" || type == "string"}});
  }
  return out;
}

// size: a small state machine (quotes, doubled quotes, fields, rows) reads best whole.
Result<Page> ReadPage(const stdfs::path& file, bool csv, uint64_t offset, size_t max_rows) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::Errorf("the result file of this execution is gone ({})", file.filename().string());
  in.seekg(static_cast<std::streamoff>(offset));
  Page page;
  json row = json::array();
  std::string field;
  bool quoted = false, in_quotes = false, quote_pending = false;
  uint64_t pos = offset;
  size_t bytes = 0;
  auto end_field = [&] {
    if (csv && !quoted && field.empty()) row.push_back(json::object());  // NULL: no VarCharValue
    else row.push_back({{"VarCharValue", field}});
    field.clear();
    quoted = false;
  };
  auto end_row = [&] {
    end_field();
    page.rows.push_back({{"Data", std::move(row)}});
    row = json::array();
  };
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    const std::streamsize n = in.gcount();
    for (std::streamsize i = 0; i < n; ++i) {
      const char c = buf[i];
      ++pos;
      ++bytes;
      if (csv && quote_pending) {
        quote_pending = false;
        if (c == '"') {
          field += '"';
          continue;
        }
        in_quotes = false;
      }
      if (csv && in_quotes) {
        if (c == '"') quote_pending = true;
        else field += c;
        continue;
      }
      if (csv && c == '"') {
        in_quotes = quoted = true;
      } else if (c == (csv ? ',' : '\t')) {
        end_field();
      } else if (c == '\n') {
        end_row();
        if (page.rows.size() >= max_rows || bytes > kMaxPageBytes) {
          std::error_code ec;
          page.next_offset = pos;
          page.more = pos < stdfs::file_size(file, ec);
          return page;
        }
      } else {
        field += c;
      }
    }
  }
  if (!field.empty() || quoted || !row.empty()) end_row();
  page.next_offset = pos;
  return page;
}

// The largest result written to a remote (S3) OutputLocation: it is uploaded from memory.
constexpr uintmax_t kMaxRemoteResultBytes = uintmax_t{512} << 20;

Status Executions::Publish(Execution& e) {
  const stdfs::path local = ResultFile(e);
  const size_t slash = e.output.rfind('/');
  const std::string base = e.output.substr(0, slash + 1), name = e.output.substr(slash + 1);
  auto loc = opt_.buckets->Resolve(base, "OutputLocation");
  if (!loc.ok()) return loc.status();
  const std::string metadata = json{{"ColumnInfo", ColumnInfo(e)}}.dump();
  if (loc->local) {
    ORDERLAKE_RETURN_IF_ERROR(orderlake::fs::create_directories(loc->dir));
    const stdfs::path tmp = loc->dir / ("." + name + ".tmp");
    std::error_code ec;
    // A second name for the same bytes when the bucket is on the same file system (results
    // may be gigabytes), else a copy.
    stdfs::remove(tmp, ec);
    stdfs::create_hard_link(local, tmp, ec);
    if (ec) stdfs::copy_file(local, tmp, stdfs::copy_options::overwrite_existing, ec);
    if (!ec) stdfs::rename(tmp, loc->dir / name, ec);
    if (ec) return Status::Errorf("cannot write {}: {}", e.output, ec.message());
    if (!e.text()) ORDERLAKE_RETURN_IF_ERROR(orderlake::fs::write_file_atomic(loc->dir / (name + ".metadata"), metadata));
    return Status::OK();
  }
  auto store = opt_.buckets->OpenStore(*loc);
  if (!store.ok()) return store.status();
  // The object store puts whole objects from memory: bound what one result may take.
  std::error_code size_ec;
  const uintmax_t size = stdfs::file_size(local, size_ec);
  if (!size_ec && size > kMaxRemoteResultBytes)
    return Status::Errorf("the result is {} MB, more than the {} MB a remote OutputLocation takes; use a bucket of the "
                          "data directory (s3://{}/)",
                          size >> 20, kMaxRemoteResultBytes >> 20, store::kResultsBucket);
  auto data = orderlake::fs::read_file(local);
  if (!data.ok()) return data.status();
  ORDERLAKE_RETURN_IF_ERROR((*store)->Put(name, *data));
  if (!e.text()) ORDERLAKE_RETURN_IF_ERROR((*store)->Put(name + ".metadata", metadata));
  return Status::OK();
}

void Executions::Run(const std::string& id) {
  Execution e;
  std::shared_ptr<std::atomic<bool>> cancel;
  {
    std::lock_guard<std::mutex> lock(mu_);
    e = by_id_.at(id);
    cancel = cancels_[id];
  }
  IsolatedRun run;
  run.max_rows = static_cast<size_t>(std::numeric_limits<int64_t>::max());
  run.csv = run.athena = true;
  run.athena_text = e.text();
  run.csv_file = ResultFile(e);
  run.database = e.database;
  const auto buckets = opt_.buckets->LocalDirs();  // CreateBucket may have made one since
  run.local_buckets = &buckets;
  run.cancel = cancel.get();
  run.on_start = [&] {
    std::lock_guard<std::mutex> lock(mu_);
    Execution& live = by_id_.at(id);
    live.state = "RUNNING";
    live.started = NowSeconds();
    e = live;
    Save(live);
  };
  auto r = executor_->Run(e.query, run);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;  // stays RUNNING on disk: the next start reads it as FAILED (stopped)
  }
  if (r.ok()) {
    e.columns = json::array();
    for (const auto& c : r->columns) e.columns.push_back({{"name", c.at("name")}, {"type", c.at("type")}});
    e.rows = static_cast<int64_t>(r->rows_returned);
    e.engine_ms = static_cast<int64_t>(r->seconds * 1000 + 0.5);
    e.scanned_bytes = CoveredBytes(opt_, e);
    Status published = Publish(e);
    if (!published.ok()) {
      e.state = "FAILED";
      e.reason = fmt::format("cannot write the query's result to {}: {}", e.output, published.message());
      e.error_category = 1, e.error_type = 401;
    } else {
      e.state = "SUCCEEDED";
      if (r->truncated)
        e.reason = fmt::format("the result was cut at {} MB (the SQL console's result limit)",
                               opt_.limits.max_result_bytes >> 20);
    }
  } else if (r.status().message().rfind(kCancelledPrefix, 0) == 0) {
    e.state = "CANCELLED";
    e.reason = "Query was cancelled by the user (StopQueryExecution)";
  } else {
    e.state = "FAILED";
    e.reason = r.status().message();
    std::tie(e.error_category, e.error_type) = ErrorKind(e.reason);
  }
  if (e.state != "SUCCEEDED") {
    std::error_code ec;
    stdfs::remove(ResultFile(e), ec);
  }
  e.completed = NowSeconds();
  std::lock_guard<std::mutex> lock(mu_);
  cancels_.erase(id);
  Execution& live = by_id_.at(id);
  e.started = live.started;
  live = e;
  Save(live);
}

}  // namespace orderlake::query::athena
