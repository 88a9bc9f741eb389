// A local copy of a lake that lives in an object store (s3://…), for the query engine:
// DuckDB's S3 support is not in the bundled library, so the table's Parquet files are read
// through orderlake's store into a cache directory. Sync() makes the copy equal to the
// store's listing at that moment — new and changed objects (by size and ETag) are
// downloaded, vanished ones removed — so a statement run after Sync() never reads a file
// from an older snapshot. Files appear in the copy atomically (temporary name, rename).
// When the table has a Delta log (orders/_delta_log/), the copy follows the log instead:
// only the files of the newest snapshot are fetched (never a file of a batch still being
// published, or one compaction removed), then the log's files up to that snapshot, last.
#pragma once
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "core/status.h"
#include "store/object_store.h"
#include "table/delta.h"

namespace orderlake::query {

class LakeMirror {
 public:
  // `cache_root` empty: $XDG_CACHE_HOME/orderlake/lakes or ~/.cache/orderlake/lakes.
  static Result<std::unique_ptr<LakeMirror>> Open(const std::string& lake_url,
                                                  const std::filesystem::path& cache_root = {});
  Status Sync();
  // The local lake directory the engine opens.
  const std::filesystem::path& local() const { return local_; }
  uint64_t downloads() const { return downloads_; }

 private:
  LakeMirror(std::unique_ptr<store::ObjectStore> store, std::filesystem::path local)
      : store_(std::move(store)), local_(std::move(local)) {}
  std::unique_ptr<store::ObjectStore> store_;
  std::filesystem::path local_;
  std::map<std::string, std::string> have_;  // key -> "size/etag" of the copy
  uint64_t downloads_ = 0;
  std::unique_ptr<table::DeltaLog> log_;  // set once the lake shows a Delta log
  table::Snapshot snapshot_;
  Status Fetch(const std::string& key, const std::string& version);
};

}  // namespace orderlake::query
