// The Glue crawler: looks at what a location holds and writes it into the catalog as a table
// with its partitions.
//
// What it does, for `Crawl(location, catalog, options)`:
// - Lists every object under the location through the object store (local directory or
//   s3://bucket/prefix). Objects whose key has a component starting with '.' or '_' are
//   skipped (writers' temporaries, _SUCCESS, _orderlake/, _quarantine/), as Glue does.
// - Directories between the location and an object are partitions: "key=value" gives the
//   key and the Hive-unescaped value, any other directory name gives Glue's
//   "partition_<i>". Every object must sit under the same keys, else a clear error names two
//   objects that disagree. Types of key=value keys: date (yyyy-MM-dd), int, bigint, else
//   string (__HIVE_DEFAULT_PARTITION__ is a NULL and does not count); partition_<i> keys are
//   string, as Glue makes them.
// - Samples the first 64 KiB of every object (gunzipped when it starts with gzip's magic
//   bytes) and classifies it: Parquet (magic "PAR1"; its schema is read through DuckDB from
//   the first Parquet object, downloaded to a temporary file when not local), JSON lines (a
//   line that is a JSON object), else CSV. Objects of two formats: an error naming one of
//   each.
// - CSV: the delimiter among , ; TAB | that splits most sampled lines into the same number
//   (> 1) of fields; lines with another field count are left out of the inference. Header
//   as Glue decides it: the first line is a header when all its fields are non-empty strings
//   while the other lines have a non-string type in some column; otherwise the columns are
//   col0, col1, ….
// - Value types (CSV fields, JSON values): int (fits 32 bits), bigint (fits 64 bits, no
//   leading zeros), double, boolean (true/false), date (yyyy-MM-dd), timestamp
//   (yyyy-MM-dd HH:mm:ss[.fff], Athena's text format), else string. A column's type is the
//   widest of its values (int < bigint < double; any other mix is string); empty fields and
//   JSON nulls do not count. The order log's "MM/dd/yyyy HH:mm" is therefore string, which
//   is how Athena would have to read it anyway. JSON strings stay string; nested JSON
//   objects and arrays are typed string.
// - Compression: gzip when every object is gzip, none when none is, else "mixed" (readers
//   detect it per object by its magic bytes).
// - Table name: options.table, else the location's last path component, lower-cased, every
//   character other than [a-z0-9] replaced by '_' (Glue's rule).
// - Writes table and partitions in one catalog transaction (Catalog::UpsertTable) and
//   reports what changed; a second crawl of unchanged data changes nothing.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "core/status.h"
#include "store/object_store.h"

namespace orderlake::crawl {

// What `orderlake crawl` maps its flags to; Infer and Crawl refuse options that fail
// Validate(), whose errors name the flags.
struct Options {
  std::string database = "default";        // --database
  std::string table;                       // --table; empty: derived from the location
  size_t sample_bytes = size_t{64} << 10;  // bytes sampled from the start of each object, 1 KiB .. 64 MiB
  // The URL the table's and its partitions' locations are given (the Glue API sets the
  // s3:// URL of a local bucket it crawls through its directory); empty: the store's url().
  std::string location_url;
  // Glob patterns (Glue's S3Targets Exclusions: * and ? within a path segment, ** across
  // segments) of object keys, relative to the location, to leave out. At most 64.
  std::vector<std::string> exclusions;

  Status Validate() const;
};

struct Report {
  catalog::Table table;                      // as inferred (before merging with the catalog)
  std::vector<catalog::Partition> partitions;
  size_t objects = 0;                        // objects crawled
  catalog::TableChange change;
  // "table default.orders created: 13 columns, 2 partition keys, format parquet; partitions added 42"
  // or "table default.orders: no changes".
  std::string Describe() const;
};

// Infers the table at `store`'s root without touching a catalog.
Result<Report> Infer(store::ObjectStore& store, const Options& options);

// Infers and writes into the catalog.
Result<Report> Crawl(store::ObjectStore& store, catalog::Catalog& catalog, const Options& options);

// Pieces, exposed for tests.
std::string TableNameFor(std::string_view location);
// The type of one CSV field ("" for an empty field).
std::string ValueType(std::string_view field);
// The type of a column holding values of types a and b ("" is no value).
std::string MergeTypes(const std::string& a, const std::string& b);
// Glue's exclusion glob: * and ? do not cross '/', ** does.
bool GlobMatch(std::string_view pattern, std::string_view key);
// Gunzips the beginning of a gzip stream (as much as `data` holds, at most max_out bytes).
Result<std::string> GunzipPrefix(std::string_view data, size_t max_out);

}  // namespace orderlake::crawl
