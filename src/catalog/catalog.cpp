#include "catalog/catalog.h"

#include <algorithm>

#include <sqlite3.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string_view>
#include <system_error>
#include <thread>

#include "catalog/sqlite_stmt.h"

namespace orderlake::catalog {
namespace {
using nlohmann::json;

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS databases (
  name TEXT PRIMARY KEY NOT NULL
);
CREATE TABLE IF NOT EXISTS tables (
  database TEXT NOT NULL,
  name TEXT NOT NULL,
  location TEXT NOT NULL,
  format TEXT NOT NULL,
  compression TEXT NOT NULL,
  has_header INTEGER NOT NULL,
  delimiter TEXT NOT NULL,
  columns TEXT NOT NULL,         -- JSON [[name, type], ...]
  partition_keys TEXT NOT NULL,  -- JSON [[name, type], ...]
  PRIMARY KEY (database, name)
);
CREATE TABLE IF NOT EXISTS partitions (
  database TEXT NOT NULL,
  table_name TEXT NOT NULL,
  vals TEXT NOT NULL,            -- JSON [value, ...]
  location TEXT NOT NULL,
  PRIMARY KEY (database, table_name, vals)
);
)";

std::vector<Column> ColumnsFromJson(const std::string& text) {
  std::vector<Column> out;
  json a = json::parse(text, nullptr, false);
  if (!a.is_array()) return out;
  for (const auto& c : a)
    if (c.is_array() && c.size() == 2) out.push_back({c[0].get<std::string>(), c[1].get<std::string>()});
  return out;
}

}  // namespace

std::filesystem::path Catalog::DefaultPath(const std::filesystem::path& data_dir) {
  return data_dir / "catalog" / "catalog.db";
}

Status Catalog::Error(const char* what) const {
  return Status::Errorf("catalog {}: {}: {}", path_.string(), what, sqlite3_errmsg(db_));
}

Result<std::unique_ptr<Catalog>> Catalog::Open(const std::filesystem::path& file, int busy_timeout_ms) {
  std::error_code ec;
  if (file.has_parent_path()) {
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) return Status::Errorf("catalog {}: cannot create its directory: {}", file.string(), ec.message());
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Status::Errorf("catalog {}: cannot open: {}", file.string(), msg);
  }
  std::unique_ptr<Catalog> c(new Catalog(db, file, busy_timeout_ms));
  sqlite3_busy_timeout(db, busy_timeout_ms);
  // Switching to WAL needs a moment of exclusive access; the busy handler covers it.
  ORDERLAKE_RETURN_IF_ERROR(c->Exec("PRAGMA journal_mode=WAL"));
  ORDERLAKE_RETURN_IF_ERROR(c->Exec("PRAGMA synchronous=NORMAL"));
  ORDERLAKE_RETURN_IF_ERROR(c->Begin());
  Status st = c->Exec(kSchema);
  if (st.ok()) st = c->Migrate();
  if (!st.ok()) {
    c->Rollback();
    return st;
  }
  ORDERLAKE_RETURN_IF_ERROR(c->Commit());
  return c;
}

Catalog::~Catalog() { sqlite3_close(db_); }

Status Catalog::Exec(const char* sql) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_timeout_ms_);
  for (;;) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
    if (rc == SQLITE_OK) return Status::OK();
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    // Inside a transaction only COMMIT may be retried; anything else gives up (and rolls back).
    const bool retryable = sqlite3_get_autocommit(db_) != 0 || std::string_view(sql) == "COMMIT";
    if ((rc & 0xff) == SQLITE_BUSY && retryable && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    return Status::Errorf("catalog {}: {}", path_.string(), msg);
  }
}

Status Catalog::Begin() { return Exec("BEGIN IMMEDIATE"); }
Status Catalog::Commit() { return Exec("COMMIT"); }
void Catalog::Rollback() { (void)Exec("ROLLBACK"); }

Status Catalog::CreateDatabase(const std::string& name) {
  Stmt st(db_, "INSERT OR IGNORE INTO databases(name, glue) VALUES (?, ?)");
  if (!st.ok()) return Error("prepare");
  st.Bind(1, name).Bind(2, json{{"create_time", NowSeconds()}}.dump());
  if (st.Step() != SQLITE_DONE) return Error("create database");
  return Status::OK();
}

Result<std::vector<std::string>> Catalog::Databases() {
  Stmt st(db_, "SELECT name FROM databases ORDER BY name");
  if (!st.ok()) return Error("prepare");
  std::vector<std::string> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) out.push_back(st.Text(0));
  if (rc != SQLITE_DONE) return Error("list databases");
  return out;
}

Result<std::vector<std::string>> Catalog::Tables(const std::string& database) {
  Stmt st(db_, "SELECT name FROM tables WHERE database = ? ORDER BY name");
  if (!st.ok()) return Error("prepare");
  st.Bind(1, database);
  std::vector<std::string> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) out.push_back(st.Text(0));
  if (rc != SQLITE_DONE) return Error("list tables");
  return out;
}

Result<std::optional<Table>> Catalog::GetTable(const std::string& database, const std::string& name) {
  return GetTableLocked(database, name);
}

Result<std::optional<Table>> Catalog::GetTableLocked(const std::string& database, const std::string& name) {
  Stmt st(db_,
          "SELECT location, format, compression, has_header, delimiter, columns, partition_keys "
          "FROM tables WHERE database = ? AND name = ?");
  if (!st.ok()) return Error("prepare");
  st.Bind(1, database).Bind(2, name);
  int rc = st.Step();
  if (rc == SQLITE_DONE) return std::optional<Table>();
  if (rc != SQLITE_ROW) return Error("read table");
  Table t;
  t.database = database;
  t.name = name;
  t.location = st.Text(0);
  t.format = st.Text(1);
  t.compression = st.Text(2);
  t.has_header = st.Int(3) != 0;
  t.delimiter = st.Text(4);
  t.columns = ColumnsFromJson(st.Text(5));
  t.partition_keys = ColumnsFromJson(st.Text(6));
  return std::optional<Table>(std::move(t));
}

Status Catalog::PutTableLocked(const Table& t) { return PutTableInfoLocked(t, nullptr); }

Status Catalog::PutTable(const Table& table) {
  ORDERLAKE_RETURN_IF_ERROR(Begin());
  if (Status st = PutTableLocked(table); !st.ok()) {
    Rollback();
    return st;
  }
  return Commit();
}

Result<bool> Catalog::DropTable(const std::string& database, const std::string& name) {
  ORDERLAKE_RETURN_IF_ERROR(Begin());
  Stmt p(db_, "DELETE FROM partitions WHERE database = ? AND table_name = ?");
  Stmt t(db_, "DELETE FROM tables WHERE database = ? AND name = ?");
  if (!p.ok() || !t.ok()) {
    Status st = Error("prepare");
    Rollback();
    return st;
  }
  p.Bind(1, database).Bind(2, name);
  t.Bind(1, database).Bind(2, name);
  if (p.Step() != SQLITE_DONE || t.Step() != SQLITE_DONE) {
    Status st = Error("drop table");
    Rollback();
    return st;
  }
  bool dropped = sqlite3_changes(db_) > 0;
  ORDERLAKE_RETURN_IF_ERROR(Commit());
  return dropped;
}

Result<std::vector<Partition>> Catalog::Partitions(const std::string& database, const std::string& table) {
  Stmt st(db_, "SELECT vals, location FROM partitions WHERE database = ? AND table_name = ? ORDER BY vals");
  if (!st.ok()) return Error("prepare");
  st.Bind(1, database).Bind(2, table);
  std::vector<Partition> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    Partition p;
    json v = json::parse(st.Text(0), nullptr, false);
    if (v.is_array())
      for (const auto& x : v) p.values.push_back(x.is_string() ? x.get<std::string>() : x.dump());
    p.location = st.Text(1);
    out.push_back(std::move(p));
  }
  if (rc != SQLITE_DONE) return Error("list partitions");
  return out;
}

Result<std::vector<Partition>> Catalog::FindPartitions(const std::string& database, const std::string& table,
                                                       const std::vector<std::vector<std::string>>& values) {
  Stmt st(db_, "SELECT location FROM partitions WHERE database = ? AND table_name = ? AND vals = ?");
  if (!st.ok()) return Error("prepare");
  std::vector<Partition> out;
  for (const auto& v : values) {
    st.Reset();
    st.Bind(1, database).Bind(2, table).Bind(3, json(v).dump());
    const int rc = st.Step();
    if (rc == SQLITE_ROW) out.push_back({v, st.Text(0)});
    else if (rc != SQLITE_DONE) return Error("find partitions");
  }
  std::sort(out.begin(), out.end(), [](const Partition& a, const Partition& b) { return a.values < b.values; });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<size_t> Catalog::AddPartitionsLocked(const std::string& database, const std::string& table,
                                            const std::vector<Partition>& partitions) {
  Stmt st(db_, "INSERT OR IGNORE INTO partitions(database, table_name, vals, location) VALUES (?, ?, ?, ?)");
  if (!st.ok()) return Error("prepare");
  size_t added = 0;
  for (const auto& p : partitions) {
    st.Reset();
    st.Bind(1, database).Bind(2, table).Bind(3, json(p.values).dump()).Bind(4, p.location);
    if (st.Step() != SQLITE_DONE) return Error("add partition");
    added += static_cast<size_t>(sqlite3_changes(db_));
  }
  return added;
}

Result<size_t> Catalog::AddPartitions(const std::string& database, const std::string& table,
                                      const std::vector<Partition>& partitions) {
  ORDERLAKE_RETURN_IF_ERROR(Begin());
  auto t = GetTableLocked(database, table);
  if (!t.ok() || !t.value()) {
    Rollback();
    if (!t.ok()) return t.status();
    return Status::Errorf("catalog {}: no table {}.{}", path_.string(), database, table);
  }
  auto n = AddPartitionsLocked(database, table, partitions);
  if (!n.ok()) {
    Rollback();
    return n.status();
  }
  ORDERLAKE_RETURN_IF_ERROR(Commit());
  return n.value();
}

Result<TableChange> Catalog::UpsertTable(const Table& table, const std::vector<Partition>& partitions) {
  ORDERLAKE_RETURN_IF_ERROR(Begin());
  auto run = [&]() -> Result<TableChange> {
    TableChange change;
    auto old_r = GetTableLocked(table.database, table.name);
    if (!old_r.ok()) return old_r.status();
    Table merged = table;
    if (!old_r.value()) {
      change.created = true;
    } else {
      const Table& old = *old_r.value();
      merged.columns = old.columns;
      for (auto& c : merged.columns)
        for (const auto& n : table.columns)
          if (n.name == c.name && n.type != c.type) {
            change.columns_changed.push_back(c.name + ": " + c.type + " -> " + n.type);
            c.type = n.type;
          }
      for (const auto& n : table.columns) {
        bool found = false;
        for (const auto& c : old.columns) found = found || c.name == n.name;
        if (!found) {
          merged.columns.push_back(n);
          change.columns_added.push_back(n.name);
        }
      }
      change.partition_keys_changed = old.partition_keys != table.partition_keys;
      if (old.location != table.location) change.properties_changed.push_back("location");
      if (old.format != table.format) change.properties_changed.push_back("format");
      if (old.compression != table.compression) change.properties_changed.push_back("compression");
      if (old.has_header != table.has_header) change.properties_changed.push_back("has_header");
      if (old.delimiter != table.delimiter) change.properties_changed.push_back("delimiter");
    }
    if (!change.empty()) ORDERLAKE_RETURN_IF_ERROR(PutTableLocked(merged));
    auto n = AddPartitionsLocked(table.database, table.name, partitions);
    if (!n.ok()) return n.status();
    change.partitions_added = n.value();
    return change;
  };
  auto r = run();
  if (!r.ok()) {
    Rollback();
    return r.status();
  }
  ORDERLAKE_RETURN_IF_ERROR(Commit());
  return r;
}

}  // namespace orderlake::catalog
