// How DuckDB reads one table: TableSource() turns a table's definition (format, columns,
// partition keys) and the local directory of its location into the SELECT a view is made
// of — the table's columns in order, then its partition keys. It is the one place that
// decides which files a table is made of.
//
// - Which files: for a partitioned catalog table, the files under the directory of each
//   partition in the catalog (Athena reads only registered partitions: a directory MSCK
//   REPAIR TABLE has not added is not read); for an unpartitioned table, every file under
//   the location. Names (or directories) starting with '.' or '_' and empty files are never
//   read. For the lake's own table (`partitions` unset) DuckDB finds every
//   key=value/…/*.parquet file at each statement. For a Delta table, the files of its
//   newest snapshot (`files`), so a file being written or one compaction removed is never
//   read.
// - Formats: every file is recognised by its first bytes (Parquet's "PAR1", gzip's magic,
//   a JSON object, else CSV text); a file that does not have the table's format is an error
//   naming it (a location with mixed formats is never read silently wrong). gzip is read by
//   its magic bytes, whatever the file's name.
// - Parquet columns are matched by name without regard to case; a declared column that the
//   first file lacks reads as NULL (as Athena does). CSV fields are matched by position
//   (RFC 4180 quotes, missing trailing fields are NULL, extra ones ignored, '\N' and empty
//   non-string fields are NULL, values that do not convert are NULL, as Hive reads text).
//   JSON keys are matched by name without regard to case.
// - Partition values: read from the path by DuckDB's Hive partitioning when the partition
//   sits at <location>/key=value/… under the catalog's key names (filters on the keys then
//   skip whole directories), else the catalog's values as constants for that partition's
//   files. __HIVE_DEFAULT_PARTITION__ is NULL.
#pragma once
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "core/status.h"

namespace orderlake::query {

// Athena type text -> DuckDB type ("int" -> "INTEGER", "array<string>" -> "VARCHAR[]").
Result<std::string> DuckDbType(std::string_view athena_type);

struct LocalPartition {
  std::vector<std::string> values;  // the catalog's, one per key, unescaped
  std::filesystem::path dir;        // the local directory holding its files
  // dir is <root>/<key>=<escaped value>/… with the catalog's key names, so DuckDB can read
  // the values from the path.
  bool hive_layout = false;
};

struct SourceSpec {
  std::string table;                // "default.orders", for messages
  std::string location;             // the location's URL, for messages
  std::filesystem::path root;       // the location's local directory (a mirror for s3://)
  std::string format = "parquet";   // parquet, csv, json
  bool has_header = false;          // csv
  std::string delimiter = ",";      // csv
  std::vector<catalog::Column> columns;         // Athena types
  std::vector<catalog::Column> partition_keys;  // Athena types
  // The partitions to read; unset: every key=value/… directory under root, found by DuckDB
  // at each statement (the lake's own table, Parquet only).
  std::optional<std::vector<LocalPartition>> partitions;
  // A Delta table (a _delta_log/ at root): exactly these data files, its newest snapshot's,
  // read with their partition values from the key=value directories of their paths.
  // Registered partitions do not matter then: the log says what the table holds.
  std::optional<std::vector<std::filesystem::path>> files;
};

// What the first bytes of each file say, remembered by path, size and modification time.
class FileKinds {
 public:
  enum class Kind { kParquet, kCsv, kJson };
  struct Info {
    Kind kind = Kind::kCsv;
    bool gzip = false;
    std::optional<std::vector<std::string>> parquet_columns;  // filled when first asked
  };
  Result<Info*> Get(const std::filesystem::path& file, uint64_t size, int64_t mtime);

 private:
  struct Entry {
    uint64_t size;
    int64_t mtime;
    Info info;
  };
  std::map<std::string, Entry> entries_;
};

// The column names of a Parquet file (DuckDB reads them for TableSource).
using ParquetColumnsFn = std::function<Result<std::vector<std::string>>(const std::filesystem::path& file)>;

// The SELECT reading the table (see the top of this file). Lists the files now.
Result<std::string> TableSource(const SourceSpec& spec, FileKinds& kinds, const ParquetColumnsFn& parquet_columns);

}  // namespace orderlake::query
