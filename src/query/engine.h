// The Athena stage: read-only SQL over the curated lake and the Data Catalog's tables,
// through an in-memory DuckDB.
//
// Engine::Open(lake) defines the table `orders` and its alias `tbsm_red_transformed`
// (the original project's name) over <lake>/orders/Country=*/InvoiceDateOnly=*/*.parquet:
// the SPEC §3 columns in order, then the partition columns Country (VARCHAR) and
// InvoiceDateOnly (DATE), whose values come from the Hive-escaped directory names
// (unescaped: "Country=Côte d%27Ivoire" reads back as "Côte d'Ivoire";
// __HIVE_DEFAULT_PARTITION__ reads as NULL). Files whose name starts with '.' or '_' or
// does not end in ".parquet" are never read. Filters on the partition columns prune
// directories. Files are found at every statement, so new commits show up at once; an
// empty lake gives the same columns and no rows.
//
// With a catalog (EngineOptions::catalog, the file `orderlake crawl` fills), every table of
// the catalog is queryable too, by its name (`db.name` outside the database `default`): the
// catalog's definition (format, columns, partition keys, registered partitions) is read
// again at every statement that names the table, and its files are listed then (see
// table_source.h; an s3:// location is read through a local mirror synced first, see
// lake_mirror.h). A catalog table named `orders` or `tbsm_red_transformed` takes the place
// of the lake's own table of that name until it is dropped. Athena DDL (athena_ddl.h:
// CREATE EXTERNAL TABLE, MSCK REPAIR TABLE, ALTER TABLE ADD PARTITION, SHOW TABLES /
// DATABASES / PARTITIONS, DESCRIBE [FORMATTED], DROP TABLE) runs against that catalog;
// without a catalog only SHOW and DESCRIBE do, and statements that would change it are
// refused.
//
// Only reading is possible otherwise: statements other than queries (SELECT, WITH, VALUES,
// FROM, DESCRIBE, SHOW, SUMMARIZE, read-only PRAGMAs) and EXPLAIN [ANALYZE] of a query are
// refused before they run (INSERT, CREATE TABLE AS, COPY, …), and DuckDB itself is locked
// down (no file access outside the lake and the catalog tables' locations, not even through
// a symbolic link inside them (see EngineOptions::confine_links), no extension loading,
// configuration locked).
//
// An Engine is one DuckDB connection: use it from one thread at a time.
#pragma once
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "query/value.h"

namespace orderlake::query {

// The table names every lake has.
inline constexpr std::string_view kOrdersTable = "orders";
inline constexpr std::string_view kLegacyOrdersTable = "tbsm_red_transformed";

// The engine's options, defaults in place. Validate() is what Engine::Open checks first;
// its errors name the `orderlake query` option the user sets.
struct EngineOptions {
  // The Data Catalog file (SQLite, see catalog.h) whose tables are queryable and which
  // Athena DDL changes; empty: none (a read-only endpoint such as the dashboard's). The
  // file is created by the first statement that changes the catalog, not before.
  std::filesystem::path catalog;
  // Where copies of s3:// table locations are kept; empty: LakeMirror's default.
  std::filesystem::path cache_root;
  // The lake's URL as the user named it (s3://… when the lake directory is a mirror), for
  // SHOW and DESCRIBE; empty: the lake directory.
  std::string lake_url;
  // DuckDB's own bounds (0: DuckDB's defaults): its memory_limit and threads, and how much
  // it may spill to its temporary directory (query/isolated.h sets them for each statement).
  size_t duckdb_memory_mb = 0;
  int duckdb_threads = 0;
  size_t duckdb_temp_mb = 0;
  // Before every statement, walk what DuckDB may read and withhold what a symbolic link
  // could lead out of it (query/confine.h); costs about one stat per directory of the
  // lake. false only for engines that run no user SQL (the dashboard's visuals).
  bool confine_links = true;
  // The database whose tables unqualified names mean (Athena's QueryExecutionContext;
  // lower case): its tables are found first, then `default`'s and the lake's.
  std::string database = "default";
  // A lake directory that does not exist is accepted (the catalog alone serves): the
  // lake's own tables `orders` and `tbsm_red_transformed` are then absent (not listed, not
  // queryable), unless the catalog has tables of those names.
  bool lake_optional = false;
  // The data directory's buckets (store/buckets.h), bucket -> directory: a catalog
  // location s3://<bucket>/prefix of one of them is read from <dir>/prefix directly.
  std::map<std::string, std::filesystem::path> local_buckets;
  // Every location a table is read from, or DDL puts in the catalog, must be in
  // local_buckets (or, with remote_s3, any s3:// location): others fail with a reason and
  // are never read (the AWS APIs' engines).
  bool buckets_only = false;
  bool remote_s3 = false;

  // The catalog path is not a directory; cache_root, when it exists, is one; lake_url is
  // empty, s3://… or file://….
  Status Validate() const;
};

class Engine {
 public:
  // Opens the lake directory (which must exist; its orders/ folder need not yet), after
  // options.Validate().
  static Result<std::unique_ptr<Engine>> Open(const std::filesystem::path& lake, const EngineOptions& options = {});
  // Calls `before_statement` before every statement (and Check/Tables), e.g. to bring a
  // mirrored copy of a remote lake up to date; its error fails that statement.
  void set_before_statement(std::function<Status()> before_statement);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Runs exactly one statement and keeps its whole result.
  Result<QueryResult> Execute(std::string_view sql);

  // Runs exactly one statement, handing the rows to `sink` as they are read; notices and
  // the wall time are returned in a QueryResult without rows.
  Result<QueryResult> Execute(std::string_view sql, RowSink& sink);

  // Checks that a statement would be allowed, without running it; the error says why not.
  Status Check(std::string_view sql);

  // The tables and views a user can query (the catalog's as well), sorted.
  Result<std::vector<std::string>> Tables();

  // The lake directory, absolute.
  const std::filesystem::path& lake() const;

  // The Delta log version of the lake's own table that the last statement read (its views
  // are defined over that snapshot's files); -1 when the table has no log.
  int64_t table_version() const;

  // Asks the statement running on this engine to stop (callable from another thread).
  void Interrupt();

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace orderlake::query
