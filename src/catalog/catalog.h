// The Data Catalog (AWS Glue's): databases, tables and partitions, kept in one SQLite file
// (by default <data-dir>/catalog/catalog.db).
//
// Promises:
// - Persistent and shared: several orderlake processes may open the same file at once.
//   The file is in WAL mode (readers never block the writer), every connection waits up to
//   busy_timeout_ms for a lock instead of failing, and every change is one transaction
//   (BEGIN IMMEDIATE), so a reader sees a table with all of its partitions or none.
// - A table is a database name, a table name, a location URL ("file:///…" or
//   "s3://bucket/prefix"), a format (parquet, csv or json), a compression (none or gzip),
//   the CSV options (header, delimiter), columns and partition keys with Glue/Athena type
//   names (string, int, bigint, double, date, timestamp, boolean, …). Names keep their case
//   but are looked up as given.
// - A partition is one value per partition key (unescaped) and its location URL.
// - Errors are Status values that name the file and what failed.
//
// A Catalog object is one SQLite connection: use it from one thread at a time.
#pragma once
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/status.h"

struct sqlite3;

namespace orderlake::catalog {

struct Column {
  std::string name;
  std::string type;  // Glue/Athena type name: string, int, bigint, double, date, timestamp, boolean
  bool operator==(const Column&) const = default;
};
// For test failure messages: "name type".
inline void PrintTo(const Column& c, std::ostream* os) { *os << c.name << ' ' << c.type; }

struct Table {
  std::string database = "default";
  std::string name;
  std::string location;            // URL of the table's root
  std::string format;              // "parquet", "csv" or "json"
  std::string compression = "none";  // "none" or "gzip"
  bool has_header = false;         // csv only
  std::string delimiter = ",";     // csv only
  std::vector<Column> columns;
  std::vector<Column> partition_keys;
  bool operator==(const Table&) const = default;
};

struct Partition {
  std::vector<std::string> values;  // one per partition key, in key order, unescaped
  std::string location;             // URL of the partition's directory
  bool operator==(const Partition&) const = default;
};

// What UpsertTable changed; empty() when nothing did.
struct TableChange {
  bool created = false;
  std::vector<std::string> columns_added;
  std::vector<std::string> columns_changed;  // "name: old -> new"
  bool partition_keys_changed = false;       // old partitions were dropped
  std::vector<std::string> properties_changed;  // "location", "format", "compression", ...
  size_t partitions_added = 0;
  bool empty() const {
    return !created && columns_added.empty() && columns_changed.empty() && !partition_keys_changed &&
           properties_changed.empty() && partitions_added == 0;
  }
};

class Catalog {
 public:
  // Opens (creating when needed, with its parent directories) the catalog file.
  static Result<std::unique_ptr<Catalog>> Open(const std::filesystem::path& file, int busy_timeout_ms = 30000);
  ~Catalog();
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  // The default path under a data directory: <data-dir>/catalog/catalog.db.
  static std::filesystem::path DefaultPath(const std::filesystem::path& data_dir);

  Status CreateDatabase(const std::string& name);  // no error when it exists
  Result<std::vector<std::string>> Databases();    // sorted
  Result<std::vector<std::string>> Tables(const std::string& database);  // sorted
  Result<std::optional<Table>> GetTable(const std::string& database, const std::string& name);
  // Creates or replaces the table definition (its database is created when missing); keeps
  // its partitions unless the partition keys changed.
  Status PutTable(const Table& table);
  // Removes the table and its partitions; false when there was none.
  Result<bool> DropTable(const std::string& database, const std::string& name);
  // The table's partitions, sorted by values.
  Result<std::vector<Partition>> Partitions(const std::string& database, const std::string& table);
  // Adds the partitions that are not there yet (same values); returns how many were added.
  Result<size_t> AddPartitions(const std::string& database, const std::string& table,
                               const std::vector<Partition>& partitions);

  // The crawler's update, in one transaction, as a Glue crawler updates a table: creates the
  // table when missing; else keeps the existing columns in their order (updating a type the
  // new definition changes), appends new columns, takes the new location, format and CSV
  // options, and, when the partition keys differ, takes the new keys and drops the old
  // partitions. Then adds the partitions that are new.
  Result<TableChange> UpsertTable(const Table& table, const std::vector<Partition>& partitions);

  const std::filesystem::path& path() const { return path_; }

 private:
  Catalog(sqlite3* db, std::filesystem::path path, int busy_timeout_ms)
      : db_(db), path_(std::move(path)), busy_timeout_ms_(busy_timeout_ms) {}
  // Runs SQL; retried while the file is locked (SQLITE_BUSY), up to busy_timeout_ms, since
  // SQLite's busy handler does not cover every case (journal-mode switch, WAL recovery).
  Status Exec(const char* sql);
  Status Begin();
  Status Commit();
  void Rollback();
  Status PutTableLocked(const Table& table);
  Result<std::optional<Table>> GetTableLocked(const std::string& database, const std::string& name);
  Result<size_t> AddPartitionsLocked(const std::string& database, const std::string& table,
                                     const std::vector<Partition>& partitions);
  Status Error(const char* what) const;

  sqlite3* db_;
  std::filesystem::path path_;
  int busy_timeout_ms_;
};

}  // namespace orderlake::catalog
