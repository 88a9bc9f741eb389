#include "table/duck.h"

#include <utility>
#include <vector>

#include <fmt/format.h>

namespace orderlake::table {

Status BaseDuckConfig(duckdb_config config, const std::string& memory_limit, int threads) {
  std::vector<std::pair<std::string, std::string>> settings = {{"autoinstall_known_extensions", "false"},
                                                               {"autoload_known_extensions", "false"},
                                                               {"allow_community_extensions", "false"},
                                                               {"enable_external_file_cache", "false"}};
  if (!memory_limit.empty()) settings.emplace_back("memory_limit", memory_limit);
  if (threads > 0) settings.emplace_back("threads", std::to_string(threads));
  for (const auto& [name, value] : settings)
    if (duckdb_set_config(config, name.c_str(), value.c_str()) != DuckDBSuccess)
      return Status::Errorf("cannot set DuckDB's {} to {}", name, value);
  return Status::OK();
}

Result<std::unique_ptr<Duck>> Duck::Open(int threads, const std::string& memory_limit) {
  std::unique_ptr<Duck> d(new Duck());
  duckdb_config config = nullptr;
  if (duckdb_create_config(&config) != DuckDBSuccess) return Status::Error("cannot create DuckDB configuration");
  if (Status st = BaseDuckConfig(config, memory_limit, threads); !st.ok()) {
    duckdb_destroy_config(&config);
    return st;
  }
  char* err = nullptr;
  const bool ok = duckdb_open_ext(nullptr, &d->db_, config, &err) == DuckDBSuccess;
  duckdb_destroy_config(&config);
  if (!ok) {
    std::string e = err ? err : "unknown error";
    duckdb_free(err);
    return Status::Errorf("cannot open DuckDB: {}", e);
  }
  if (duckdb_connect(d->db_, &d->con_) != DuckDBSuccess) return Status::Error("cannot connect to DuckDB");
  return d;
}

Duck::~Duck() {
  if (con_) duckdb_disconnect(&con_);
  if (db_) duckdb_close(&db_);
}

Status Duck::Sql(const std::string& sql, duckdb_result* out) {
  duckdb_result r;
  if (duckdb_query(con_, sql.c_str(), &r) != DuckDBSuccess) {
    std::string err = duckdb_result_error(&r) ? duckdb_result_error(&r) : "unknown error";
    duckdb_destroy_result(&r);
    return Status::Errorf("DuckDB: {}", err.substr(0, err.find('\n')));
  }
  if (out) *out = r;
  else duckdb_destroy_result(&r);
  return Status::OK();
}

}  // namespace orderlake::table
