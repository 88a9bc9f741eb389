// Small helpers of the engine (engine.cpp), and the one function that maps a table's
// location URL to the directory the engine reads (MapLocation), so the rule of which
// locations may be read lives in one place.
#pragma once
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "core/status.h"
#include "query/athena_ddl.h"

namespace orderlake::query::internal {

bool StartsWith(std::string_view s, std::string_view p);
std::string Lower(std::string_view s);
// The lake's own table columns with Athena's type names (partition keys or the others).
std::vector<catalog::Column> LakeColumns(bool partition);
// False for keys with a path segment starting with '.' or '_' (hidden, as Hive has it).
bool VisibleKey(std::string_view key);
bool IsS3(std::string_view url);
// A file:// URL's path (a plain path as it is).
std::filesystem::path LocalPath(std::string_view url);

// Where the engine may read table locations from (EngineOptions' bucket fields).
struct LocationRules {
  std::map<std::string, std::filesystem::path> local_buckets;  // bucket -> directory
  bool buckets_only = false;  // refuse locations outside local_buckets (and remote S3 unless remote_s3)
  bool remote_s3 = false;     // with buckets_only: s3:// of other buckets is read remotely
};

// The local directory of a location: s3://bucket/prefix (also s3a://, s3n://) of a local
// bucket is <bucket dir>/<prefix>; a file:// URL or path is itself. std::nullopt: a remote
// s3:// location (read through a mirror). With buckets_only, a file:// URL or path outside
// every local bucket (also once its existing part's links are resolved), a prefix with a
// "." or ".." segment, or an s3:// URL of a bucket that is not local (unless remote_s3) is
// an error naming the location: it is never read.
Result<std::optional<std::filesystem::path>> MapLocation(std::string_view url, const LocationRules& rules);

// With rules.buckets_only, the locations a DDL statement would put in the catalog
// (CREATE EXTERNAL TABLE's LOCATION, ADD PARTITION's LOCATION) must pass MapLocation.
Status CheckLocations(const DdlStatement& statement, const LocationRules& rules);

}  // namespace orderlake::query::internal
