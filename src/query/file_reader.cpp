#include "query/file_reader.h"

#include <fmt/format.h>

#include "core/sql.h"
#include "query/duckdb_handles.h"
#include "table/duck.h"

namespace orderlake::query {
namespace fs = std::filesystem;
using internal::OneLineError;
using internal::OwnedResult;

struct FileReader::Impl {
  duckdb_database db = nullptr;
  duckdb_connection con = nullptr;
  ~Impl() {
    if (con) duckdb_disconnect(&con);
    if (db) duckdb_close(&db);
  }

  Status Run(const std::string& sql, QueryResult* out) {
    OwnedResult r;
    if (duckdb_query(con, sql.c_str(), r.get()) != DuckDBSuccess)
      return Status::Error(OneLineError(duckdb_result_error(r.get())));
    return out ? Drain(r.get(), *out) : Status::OK();
  }

  static Status Drain(duckdb_result* r, QueryResult& out) {
    const idx_t nc = duckdb_column_count(r);
    std::vector<Column> columns(nc);
    std::vector<duckdb_logical_type> types(nc);
    for (idx_t c = 0; c < nc; ++c) {
      types[c] = duckdb_column_logical_type(r, c);
      columns[c].name = duckdb_column_name(r, c);
      columns[c].type = internal::TypeName(types[c]);
      columns[c].numeric = internal::IsNumericType(types[c]);
    }
    Status st = out.Begin(columns);
    std::vector<Value> row(nc);
    while (st.ok()) {
      duckdb_data_chunk chunk = duckdb_fetch_chunk(*r);
      if (!chunk) break;
      const idx_t n = duckdb_data_chunk_get_size(chunk);
      std::vector<duckdb_vector> vecs(nc);
      for (idx_t c = 0; c < nc; ++c) vecs[c] = duckdb_data_chunk_get_vector(chunk, c);
      for (idx_t i = 0; i < n && st.ok(); ++i) {
        for (idx_t c = 0; c < nc; ++c) row[c] = internal::ReadValue(vecs[c], types[c], i);
        st = out.Row(row);
      }
      duckdb_destroy_data_chunk(&chunk);
    }
    for (auto& t : types) duckdb_destroy_logical_type(&t);
    return st;
  }
};

FileReader::FileReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FileReader::~FileReader() = default;

Result<std::unique_ptr<FileReader>> FileReader::Open(const fs::path& dir, int threads) {
  std::error_code ec;
  const fs::path root = fs::canonical(dir, ec);
  if (ec) return Status::Errorf("cannot read files under {}: {}", dir.string(), ec.message());
  auto impl = std::make_unique<Impl>();
  duckdb_config config = nullptr;
  if (duckdb_create_config(&config) != DuckDBSuccess) return Status::Error("cannot create DuckDB configuration");
  // Bounded memory: a fold reads a few new files, a rebuild scans the table once.
  if (Status st = table::BaseDuckConfig(config, "1GB", threads); !st.ok()) {
    duckdb_destroy_config(&config);
    return st;
  }
  char* error = nullptr;
  const duckdb_state opened = duckdb_open_ext(nullptr, &impl->db, config, &error);
  duckdb_destroy_config(&config);
  if (opened != DuckDBSuccess) {
    std::string msg = error ? error : "unknown error";
    duckdb_free(error);
    return Status::Errorf("cannot open DuckDB: {}", msg);
  }
  if (duckdb_connect(impl->db, &impl->con) != DuckDBSuccess) return Status::Error("cannot connect to DuckDB");
  std::string allowed = root.string();
  if (allowed.back() != '/') allowed += '/';
  for (const std::string& sql : {fmt::format("SET allowed_directories = [{}]", sql::literal(allowed)),
                                 std::string("SET enable_external_access = false"), std::string("SET lock_configuration = true")}) {
    Status st = impl->Run(sql, nullptr);
    if (!st.ok()) return Status::Errorf("setting DuckDB up: {}", st.message());
  }
  return std::unique_ptr<FileReader>(new FileReader(std::move(impl)));
}

Result<QueryResult> FileReader::Execute(const std::string& sql) {
  QueryResult r;
  ORDERLAKE_RETURN_IF_ERROR(impl_->Run(sql, &r));
  return r;
}

Result<std::vector<std::string>> FileReader::ParquetColumns(const fs::path& file) {
  auto r = Execute(fmt::format("DESCRIBE SELECT * FROM read_parquet({}, binary_as_string = true)", sql::literal(file.string())));
  if (!r.ok()) return Status::Errorf("cannot read the columns of {}: {}", file.string(), r.status().message());
  std::vector<std::string> names;
  for (const auto& row : r->rows) names.push_back(row.at(0).ToString());
  return names;
}

}  // namespace orderlake::query
