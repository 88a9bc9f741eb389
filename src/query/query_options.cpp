#include "query/query_options.h"

#include <filesystem>

#include "query/engine.h"
#include "query/format.h"

namespace orderlake::query {

Status QueryOptions::Validate() const {
  if (!ParseOutputFormat(format))
    return Status::Errorf("--format must be table, csv, json or jsonl, got '{}'", format);
  if (!file.empty() && !sql.empty())
    return Status::Error("--file and SQL arguments exclude each other: give the statements one way");
  if (lake.empty() && data_dir.empty())
    return Status::Error("--data-dir must not be empty when --lake is not given (the lake is DATA_DIR/lake)");
  return Status::OK();
}

Status EngineOptions::Validate() const {
  std::error_code ec;
  if (!catalog.empty() && std::filesystem::is_directory(catalog, ec))
    return Status::Errorf("--catalog '{}' is a directory: give the catalog file (e.g. DATA_DIR/catalog/catalog.db)",
                          catalog.string());
  if (!cache_root.empty() && std::filesystem::exists(cache_root, ec) && !std::filesystem::is_directory(cache_root, ec))
    return Status::Errorf("the mirror cache root '{}' is not a directory", cache_root.string());
  if (!lake_url.empty() && !lake_url.starts_with("s3://") && !lake_url.starts_with("file://"))
    return Status::Errorf("--lake '{}': the lake's URL must be s3://bucket/prefix or file://DIR", lake_url);
  if (database.empty() || database.size() > 255 || database.find('"') != std::string::npos)
    return Status::Errorf("database name '{}' is not valid (1-255 characters, no double quote)", database);
  for (const auto& [bucket, dir] : local_buckets)
    if (!dir.is_absolute()) return Status::Errorf("bucket '{}': its directory '{}' must be absolute", bucket, dir.string());
  return Status::OK();
}

}  // namespace orderlake::query
