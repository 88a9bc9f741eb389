// Athena's DDL over the Data Catalog (src/catalog), as `orderlake query` runs it:
//
//   CREATE EXTERNAL TABLE [IF NOT EXISTS] [db.]name (col type [COMMENT '…'], …)
//       [COMMENT '…'] [PARTITIONED BY (key type, …)]
//       [ROW FORMAT DELIMITED FIELDS TERMINATED BY 'c' … | ROW FORMAT SERDE 'class'
//        [WITH SERDEPROPERTIES ('k'='v', …)]]
//       [STORED AS PARQUET|TEXTFILE|JSON | STORED AS INPUTFORMAT '…' OUTPUTFORMAT '…']
//       LOCATION 's3://bucket/prefix/' | 'file:///dir' | '/dir'
//       [TBLPROPERTIES ('skip.header.line.count'='1', …)]
//     -> a catalog table (format parquet, csv or json; the CSV delimiter and header). Types
//        are Athena's: boolean, tinyint, smallint, int/integer, bigint, float/real, double,
//        decimal(p,s), string, varchar(n), char(n), date, timestamp, binary, array<…>,
//        map<…,…>, struct<name:type,…>. Columns declared both as columns and as partition
//        keys (as the original project's DDL did with Country and InvoiceDateOnly, which
//        Athena itself rejects) are partition keys, with a warning. Table and database
//        names are lower-cased (as Athena does); column names keep their case. A
//        partitioned table starts with no partitions, as in Athena.
//   MSCK REPAIR TABLE t
//     -> lists the location through the object store and adds every key=value/… directory
//        (keys matched without regard to case, values Hive-unescaped) that holds a file and
//        is not in the catalog yet; answers one row per partition added.
//   ALTER TABLE t ADD [IF NOT EXISTS] PARTITION (k='v', …) [LOCATION '…'] [PARTITION …]
//     -> those partitions (default location <table location>/k=v/…, Hive-escaped).
//   ALTER TABLE orders SET TBLPROPERTIES ('delta.logRetentionDuration'='interval 1 hours', …)
//     -> for the lake's own Delta table: one commit of a metaData action with the merged
//        configuration (table/properties.h: delta.checkpointInterval,
//        delta.logRetentionDuration, delta.deletedFileRetentionDuration validated, other
//        delta.* keys refused, keys without the prefix kept as user properties).
//   SHOW TBLPROPERTIES orders
//     -> the table's properties as set, then the Delta ones it does not set with their
//        defaults (marked so in a second column).
//   SHOW TABLES [IN db] ['pattern'], SHOW DATABASES, SHOW PARTITIONS t,
//   DESCRIBE [FORMATTED] t, DROP TABLE [IF EXISTS] t (the catalog entry only: data is never
//   deleted, as with Athena's external tables).
//
// The lake's own tables (`orders`, `tbsm_red_transformed`) are listed, described and
// shown like catalog tables while the catalog has no table of that name; MSCK REPAIR on
// them has nothing to do (their partitions are found at every statement) and DROP TABLE
// refuses them. An engine without a catalog (the dashboard's read-only endpoint) answers
// SHOW and DESCRIBE and refuses the statements that change the catalog.
//
// Syntax errors name the line and column within the statement and show that line with a
// caret under the position.
#pragma once
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "catalog/catalog.h"
#include "core/status.h"
#include "query/value.h"
#include "store/object_store.h"

namespace orderlake::query {

struct TableRef {
  std::string database = "default";  // lower case
  std::string name;                  // lower case
  std::string qualified() const { return database + "." + name; }
};

struct CreateTableDdl {
  bool if_not_exists = false;
  catalog::Table table;               // location normalized (s3://… or file:///…, no trailing '/')
  std::vector<std::string> warnings;  // shown as notices
};
struct MsckRepairDdl {
  TableRef table;
};
struct AddPartitionsDdl {
  TableRef table;
  bool if_not_exists = false;
  struct Spec {
    std::vector<std::pair<std::string, std::string>> values;  // key as written, value
    std::string location;                                      // empty: the default
    size_t offset = 0;                                         // of PARTITION, for errors
  };
  std::vector<Spec> partitions;
};
struct ShowTablesDdl {
  std::optional<std::string> database;
  std::optional<std::string> pattern;  // Athena's: '*' any characters, '|' alternatives
};
struct ShowDatabasesDdl {};
struct ShowPartitionsDdl {
  TableRef table;
};
struct DescribeDdl {
  TableRef table;
  bool formatted = false;  // FORMATTED or EXTENDED
};
struct DropTableDdl {
  TableRef table;
  bool if_exists = false;
};
struct SetTblPropertiesDdl {
  TableRef table;
  std::vector<std::pair<std::string, std::string>> properties;  // keys as written
};
struct ShowTblPropertiesDdl {
  TableRef table;
};
using DdlStatement = std::variant<CreateTableDdl, MsckRepairDdl, AddPartitionsDdl, ShowTablesDdl, ShowDatabasesDdl,
                                  ShowPartitionsDdl, DescribeDdl, DropTableDdl, SetTblPropertiesDdl,
                                  ShowTblPropertiesDdl>;

// std::nullopt when `sql` is none of the statements above (a query for DuckDB); otherwise
// the statement, or a syntax error pointing at the position. Unqualified table names (and
// SHOW TABLES without IN) are in `default_database` (Athena's QueryExecutionContext).
std::optional<Result<DdlStatement>> ParseAthenaDdl(std::string_view sql, std::string_view default_database = "default");

// True for the statements that change the catalog.
bool ChangesCatalog(const DdlStatement& statement);
// "CREATE EXTERNAL TABLE", "MSCK REPAIR TABLE", … for messages.
std::string StatementName(const DdlStatement& statement);

// Every word, quoted identifier and string of `sql`, lower-cased: the names a statement
// may refer to (more than it does: a superset is enough to know which tables to prepare).
std::set<std::string> ReferencedNames(std::string_view sql);

// A location as the catalog keeps it: s3://bucket/prefix or file:///absolute/path, without
// a trailing '/'. Plain paths are made absolute.
Result<std::string> NormalizeLocation(std::string_view location);

// A table of the lake itself, queryable while the catalog has no table of its name.
struct BuiltinTable {
  std::string name;                     // "orders"
  std::string location;                 // for display: s3://… or file:///…
  std::filesystem::path local;          // its local directory (a mirror for s3 lakes)
  std::vector<catalog::Column> columns;          // Athena types
  std::vector<catalog::Column> partition_keys;   // Athena types
};

// What running DDL needs from the engine.
struct DdlContext {
  catalog::Catalog* catalog = nullptr;  // nullptr: none; statements that change it are refused
  std::vector<BuiltinTable> builtins;
  // Opens the store of a location (for MSCK REPAIR).
  std::function<Result<std::unique_ptr<store::ObjectStore>>(const std::string& url)> open_store;
};

// Runs a parsed statement: its answer (columns and rows, possibly none) and notices.
Result<QueryResult> RunAthenaDdl(const DdlStatement& statement, const DdlContext& context);

}  // namespace orderlake::query
