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
#include <cstdint>
#include <filesystem>
#include <map>
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

// Glue's members of a database (CreateDatabase's DatabaseInput).
struct Database {
  std::string name;
  std::string description;
  std::string location_uri;
  std::map<std::string, std::string> parameters;
  int64_t create_time = 0;  // epoch seconds, set by the catalog when created; 0 = unknown (older files)
};

// Glue's members of a table kept beside Table (which holds what readers need): what Glue's
// GetTable gives back as it was given. A table made without them (DDL, crawler) has the
// defaults; UpsertTable and PutTable(table) keep what a table had.
struct TableInfo {
  std::string description;
  std::string table_type = "EXTERNAL_TABLE";
  std::map<std::string, std::string> parameters;  // e.g. classification, table_type
  std::string serde_library, input_format, output_format;  // empty: derived from the format
  std::map<std::string, std::string> serde_parameters;
  int64_t create_time = 0, update_time = 0;  // epoch seconds, set by the catalog
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
  // The partitions with exactly these values (each looked up by its key, not by listing
  // the table's), sorted by values; values with no partition are left out.
  Result<std::vector<Partition>> FindPartitions(const std::string& database, const std::string& table,
                                                const std::vector<std::vector<std::string>>& values);
  // Adds the partitions that are not there yet (same values); returns how many were added.
  Result<size_t> AddPartitions(const std::string& database, const std::string& table,
                               const std::vector<Partition>& partitions);

  // The crawler's update, in one transaction, as a Glue crawler updates a table: creates the
  // table when missing; else keeps the existing columns in their order (updating a type the
  // new definition changes), appends new columns, takes the new location, format and CSV
  // options, and, when the partition keys differ, takes the new keys and drops the old
  // partitions. Then adds the partitions that are new.
  Result<TableChange> UpsertTable(const Table& table, const std::vector<Partition>& partitions);

  // --- Glue's view (crawl/glue_api.h). Schema version 1 added these; older files are
  // migrated when opened (their tables and databases get the defaults).
  // Creates the database; false (and no change) when it exists.
  Result<bool> CreateDatabase(const Database& database);
  Result<std::optional<Database>> GetDatabase(const std::string& name);
  // Replaces description, location and parameters; false when there is no such database.
  Result<bool> UpdateDatabase(const Database& database);
  // Removes the database with its tables and partitions; false when there was none.
  Result<bool> DropDatabase(const std::string& name);
  // PutTable with Glue's members (create_time kept when the table existed).
  Status PutTable(const Table& table, const TableInfo& info);
  Result<std::optional<TableInfo>> GetTableInfo(const std::string& database, const std::string& name);
  // Removes the partitions with these values; returns how many were there.
  Result<size_t> DropPartitions(const std::string& database, const std::string& table,
                                const std::vector<std::vector<std::string>>& values);

  // Named JSON documents of the Glue API (kind "crawler" or "job"), sorted by name.
  // PutDocument with create_only returns false when the name exists (nothing written).
  Result<bool> PutDocument(const std::string& kind, const std::string& name, const std::string& doc,
                           bool create_only);
  Result<std::optional<std::string>> GetDocument(const std::string& kind, const std::string& name);
  Result<std::vector<std::pair<std::string, std::string>>> Documents(const std::string& kind);
  // Deleting a job's document deletes its runs too; false when there was none.
  Result<bool> DeleteDocument(const std::string& kind, const std::string& name);
  // A job's runs (JSON documents): PutJobRun inserts or replaces one, then keeps only the
  // `keep` newest of the job (by started_ms); JobRuns lists them newest first.
  Status PutJobRun(const std::string& job, const std::string& run_id, int64_t started_ms,
                   const std::string& doc, size_t keep);
  Result<std::optional<std::string>> GetJobRun(const std::string& job, const std::string& run_id);
  Result<std::vector<std::string>> JobRuns(const std::string& job);

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
  Status Migrate();  // brings an older file's schema to the current version (in a transaction)
  Status PutTableInfoLocked(const Table& table, const TableInfo* info);

  sqlite3* db_;
  std::filesystem::path path_;
  int busy_timeout_ms_;
};

}  // namespace orderlake::catalog
