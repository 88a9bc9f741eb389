// The catalog's Glue members: the schema migration, databases with their Glue members,
// tables' TableInfo, and the Glue API's documents (crawlers, jobs, job runs).
#include <sqlite3.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "catalog/sqlite_stmt.h"

namespace orderlake::catalog {
namespace {
using nlohmann::json;

constexpr int kSchemaVersion = 1;

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

json Parse(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  return j.is_object() ? j : json::object();
}

std::map<std::string, std::string> StringMap(const json& j) {
  std::map<std::string, std::string> out;
  if (j.is_object())
    for (const auto& [k, v] : j.items())
      if (v.is_string()) out[k] = v.get<std::string>();
  return out;
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t Int(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

json InfoToJson(const TableInfo& i) {
  return json{{"description", i.description},         {"table_type", i.table_type},
              {"parameters", i.parameters},           {"serde_library", i.serde_library},
              {"input_format", i.input_format},       {"output_format", i.output_format},
              {"serde_parameters", i.serde_parameters}, {"create_time", i.create_time},
              {"update_time", i.update_time}};
}

TableInfo InfoFromJson(const json& j) {
  TableInfo i;
  i.description = Str(j, "description");
  if (std::string tt = Str(j, "table_type"); !tt.empty()) i.table_type = tt;
  i.parameters = StringMap(j.value("parameters", json::object()));
  i.serde_library = Str(j, "serde_library");
  i.input_format = Str(j, "input_format");
  i.output_format = Str(j, "output_format");
  i.serde_parameters = StringMap(j.value("serde_parameters", json::object()));
  i.create_time = Int(j, "create_time");
  i.update_time = Int(j, "update_time");
  return i;
}

bool HasColumn(sqlite3* db, const char* table, const char* column) {
  Stmt st(db, (std::string("PRAGMA table_info(") + table + ")").c_str());
  while (st.ok() && st.Step() == SQLITE_ROW)
    if (st.Text(1) == column) return true;
  return false;
}

}  // namespace

Status Catalog::Migrate() {
  int version = 0;
  {
    Stmt st(db_, "PRAGMA user_version");
    if (!st.ok() || st.Step() != SQLITE_ROW) return Error("read the schema version");
    version = static_cast<int>(st.Int(0));
  }
  if (version > kSchemaVersion)
    return Status::Errorf("catalog {}: schema version {} is newer than this orderlake's ({}); upgrade orderlake",
                          path_.string(), version, kSchemaVersion);
  if (version == kSchemaVersion) return Status::OK();
  // Version 1: Glue's members (a JSON object per database and table), the Glue API's documents.
  for (const char* t : {"databases", "tables"})
    if (!HasColumn(db_, t, "glue"))
      ORDERLAKE_RETURN_IF_ERROR(Exec((std::string("ALTER TABLE ") + t + " ADD COLUMN glue TEXT NOT NULL DEFAULT '{}'").c_str()));
  ORDERLAKE_RETURN_IF_ERROR(Exec(R"(
CREATE TABLE IF NOT EXISTS documents (
  kind TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (kind, name)
);
CREATE TABLE IF NOT EXISTS job_runs (
  job TEXT NOT NULL, id TEXT NOT NULL, started INTEGER NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (job, id)
);
PRAGMA user_version = 1;
)"));
  return Status::OK();
}

Result<bool> Catalog::CreateDatabase(const Database& d) {
  json g{{"description", d.description}, {"location_uri", d.location_uri}, {"parameters", d.parameters},
         {"create_time", Now()}};
  Stmt st(db_, "INSERT OR IGNORE INTO databases(name, glue) VALUES (?, ?)");
  if (!st.ok()) return Error("prepare");
  st.Bind(1, d.name).Bind(2, g.dump());
  if (st.Step() != SQLITE_DONE) return Error("create database");
  return sqlite3_changes(db_) > 0;
}

Result<std::optional<Database>> Catalog::GetDatabase(const std::string& name) {
  Stmt st(db_, "SELECT glue FROM databases WHERE name = ?");
  if (!st.ok()) return Error("prepare");
  st.Bind(1, name);
  int rc = st.Step();
  if (rc == SQLITE_DONE) return std::optional<Database>();
  if (rc != SQLITE_ROW) return Error("read database");
  json g = Parse(st.Text(0));
  Database d;
  d.name = name;
  d.description = Str(g, "description");
  d.location_uri = Str(g, "location_uri");
  d.parameters = StringMap(g.value("parameters", json::object()));
  d.create_time = Int(g, "create_time");
  return std::optional<Database>(std::move(d));
}

Result<bool> Catalog::UpdateDatabase(const Database& d) {
  auto old = GetDatabase(d.name);
  if (!old.ok()) return old.status();
  if (!old.value()) return false;
  json g{{"description", d.description}, {"location_uri", d.location_uri}, {"parameters", d.parameters},
         {"create_time", old.value()->create_time}};
  Stmt st(db_, "UPDATE databases SET glue = ? WHERE name = ?");
  if (!st.ok()) return Error("prepare");
  st.Bind(1, g.dump()).Bind(2, d.name);
  if (st.Step() != SQLITE_DONE) return Error("update database");
  return sqlite3_changes(db_) > 0;
}

Result<bool> Catalog::DropDatabase(const std::string& name) {
  ORDERLAKE_RETURN_IF_ERROR(Begin());
  bool dropped = false;
  for (const char* sql : {"DELETE FROM partitions WHERE database = ?", "DELETE FROM tables WHERE database = ?",
                          "DELETE FROM databases WHERE name = ?"}) {
    Stmt st(db_, sql);
    if (!st.ok() || (st.Bind(1, name), st.Step()) != SQLITE_DONE) {
      Status e = Error("drop database");
      Rollback();
      return e;
    }
    dropped = sqlite3_changes(db_) > 0;  // the last statement's: the database row
  }
  ORDERLAKE_RETURN_IF_ERROR(Commit());
  return dropped;
}

Status Catalog::PutTableInfoLocked(const Table& t, const TableInfo* info) {
  ORDERLAKE_RETURN_IF_ERROR(CreateDatabase(t.database));
  auto old = GetTableLocked(t.database, t.name);
  if (!old.ok()) return old.status();
  TableInfo kept;
  if (old.value()) {
    auto oi = GetTableInfo(t.database, t.name);
    if (!oi.ok()) return oi.status();
    if (oi.value()) kept = *oi.value();
    if (old.value()->partition_keys != t.partition_keys) {
      Stmt del(db_, "DELETE FROM partitions WHERE database = ? AND table_name = ?");
      if (!del.ok()) return Error("prepare");
      del.Bind(1, t.database).Bind(2, t.name);
      if (del.Step() != SQLITE_DONE) return Error("drop partitions");
    }
  }
  TableInfo next = info ? *info : kept;
  next.create_time = old.value() && kept.create_time ? kept.create_time : Now();
  next.update_time = Now();
  Stmt st(db_,
          "INSERT OR REPLACE INTO tables(database, name, location, format, compression, has_header, delimiter, "
          "columns, partition_keys, glue) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!st.ok()) return Error("prepare");
  json cols = json::array(), keys = json::array();
  for (const auto& c : t.columns) cols.push_back({c.name, c.type});
  for (const auto& c : t.partition_keys) keys.push_back({c.name, c.type});
  st.Bind(1, t.database).Bind(2, t.name).Bind(3, t.location).Bind(4, t.format).Bind(5, t.compression);
  st.Bind(6, int64_t{t.has_header ? 1 : 0}).Bind(7, t.delimiter).Bind(8, cols.dump()).Bind(9, keys.dump());
  st.Bind(10, InfoToJson(next).dump());
  if (st.Step() != SQLITE_DONE) return Error("write table");
  return Status::OK();
}

Status Catalog::PutTable(const Table& table, const TableInfo& info) {
  ORDERLAKE_RETURN_IF_ERROR(Begin());
  if (Status st = PutTableInfoLocked(table, &info); !st.ok()) {
    Rollback();
    return st;
  }
  return Commit();
}

Result<std::optional<TableInfo>> Catalog::GetTableInfo(const std::string& database, const std::string& name) {
  Stmt st(db_, "SELECT glue FROM tables WHERE database = ? AND name = ?");
  if (!st.ok()) return Error("prepare");
  st.Bind(1, database).Bind(2, name);
  int rc = st.Step();
  if (rc == SQLITE_DONE) return std::optional<TableInfo>();
  if (rc != SQLITE_ROW) return Error("read table");
  return std::optional<TableInfo>(InfoFromJson(Parse(st.Text(0))));
}

Result<size_t> Catalog::DropPartitions(const std::string& database, const std::string& table,
                                       const std::vector<std::vector<std::string>>& values) {
  ORDERLAKE_RETURN_IF_ERROR(Begin());
  Stmt st(db_, "DELETE FROM partitions WHERE database = ? AND table_name = ? AND vals = ?");
  if (!st.ok()) {
    Status e = Error("prepare");
    Rollback();
    return e;
  }
  size_t n = 0;
  for (const auto& v : values) {
    st.Reset();
    st.Bind(1, database).Bind(2, table).Bind(3, json(v).dump());
    if (st.Step() != SQLITE_DONE) {
      Status e = Error("drop partition");
      Rollback();
      return e;
    }
    n += static_cast<size_t>(sqlite3_changes(db_));
  }
  ORDERLAKE_RETURN_IF_ERROR(Commit());
  return n;
}

Result<bool> Catalog::PutDocument(const std::string& kind, const std::string& name, const std::string& doc,
                                  bool create_only) {
  Stmt st(db_, create_only ? "INSERT OR IGNORE INTO documents(kind, name, doc) VALUES (?, ?, ?)"
                           : "INSERT OR REPLACE INTO documents(kind, name, doc) VALUES (?, ?, ?)");
  if (!st.ok()) return Error("prepare");
  st.Bind(1, kind).Bind(2, name).Bind(3, doc);
  if (st.Step() != SQLITE_DONE) return Error("write document");
  return sqlite3_changes(db_) > 0;
}

Result<std::optional<std::string>> Catalog::GetDocument(const std::string& kind, const std::string& name) {
  Stmt st(db_, "SELECT doc FROM documents WHERE kind = ? AND name = ?");
  if (!st.ok()) return Error("prepare");
  st.Bind(1, kind).Bind(2, name);
  int rc = st.Step();
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return Error("read document");
  return std::optional<std::string>(st.Text(0));
}

Result<std::vector<std::pair<std::string, std::string>>> Catalog::Documents(const std::string& kind) {
  Stmt st(db_, "SELECT name, doc FROM documents WHERE kind = ? ORDER BY name");
  if (!st.ok()) return Error("prepare");
  st.Bind(1, kind);
  std::vector<std::pair<std::string, std::string>> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) out.emplace_back(st.Text(0), st.Text(1));
  if (rc != SQLITE_DONE) return Error("list documents");
  return out;
}

Result<bool> Catalog::DeleteDocument(const std::string& kind, const std::string& name) {
  ORDERLAKE_RETURN_IF_ERROR(Begin());
  Stmt st(db_, "DELETE FROM documents WHERE kind = ? AND name = ?");
  Stmt runs(db_, "DELETE FROM job_runs WHERE job = ?");
  if (!st.ok() || !runs.ok() || (st.Bind(1, kind).Bind(2, name), st.Step()) != SQLITE_DONE) {
    Status e = Error("delete document");
    Rollback();
    return e;
  }
  bool deleted = sqlite3_changes(db_) > 0;
  if (kind == "job" && (runs.Bind(1, name), runs.Step()) != SQLITE_DONE) {
    Status e = Error("delete job runs");
    Rollback();
    return e;
  }
  ORDERLAKE_RETURN_IF_ERROR(Commit());
  return deleted;
}

Status Catalog::PutJobRun(const std::string& job, const std::string& run_id, int64_t started_ms,
                          const std::string& doc, size_t keep) {
  ORDERLAKE_RETURN_IF_ERROR(Begin());
  Stmt put(db_, "INSERT OR REPLACE INTO job_runs(job, id, started, doc) VALUES (?, ?, ?, ?)");
  Stmt trim(db_,
            "DELETE FROM job_runs WHERE job = ?1 AND id NOT IN "
            "(SELECT id FROM job_runs WHERE job = ?1 ORDER BY started DESC, id DESC LIMIT ?2)");
  bool ok = put.ok() && trim.ok();
  ok = ok && (put.Bind(1, job).Bind(2, run_id).Bind(3, started_ms).Bind(4, doc), put.Step()) == SQLITE_DONE;
  ok = ok && (trim.Bind(1, job).Bind(2, static_cast<int64_t>(keep)), trim.Step()) == SQLITE_DONE;
  if (!ok) {
    Status e = Error("write job run");
    Rollback();
    return e;
  }
  return Commit();
}

Result<std::optional<std::string>> Catalog::GetJobRun(const std::string& job, const std::string& run_id) {
  Stmt st(db_, "SELECT doc FROM job_runs WHERE job = ? AND id = ?");
  if (!st.ok()) return Error("prepare");
  st.Bind(1, job).Bind(2, run_id);
  int rc = st.Step();
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return Error("read job run");
  return std::optional<std::string>(st.Text(0));
}

Result<std::vector<std::string>> Catalog::JobRuns(const std::string& job) {
  Stmt st(db_, "SELECT doc FROM job_runs WHERE job = ? ORDER BY started DESC, id DESC");
  if (!st.ok()) return Error("prepare");
  st.Bind(1, job);
  std::vector<std::string> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) out.push_back(st.Text(0));
  if (rc != SQLITE_DONE) return Error("list job runs");
  return out;
}

}  // namespace orderlake::catalog
