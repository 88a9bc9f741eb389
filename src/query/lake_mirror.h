// A local copy of objects that live in an object store (s3://…), for the query engine:
// DuckDB's S3 support is not in the bundled library, so the files a statement reads are
// fetched through orderlake's store into a cache directory. One mirror copies one location
// (a lake, or one table's location); Sync() makes the copy equal to the store's listing at
// that moment — new and changed objects (by size and ETag) are downloaded, vanished ones
// removed — so a statement run after Sync() never reads a file from an older snapshot.
// Files appear in the copy atomically (temporary name, rename). Keys keep their path below
// the location, so Hive partition directories ("Country=France/") stay as they are.
#pragma once
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/object_store.h"
#include "table/delta.h"

namespace orderlake::query {

class LakeMirror {
 public:
  // Mirrors the objects under `location_url` (s3://bucket/prefix, or any store URL).
  // `cache_root` empty: $XDG_CACHE_HOME/orderlake/lakes or ~/.cache/orderlake/lakes; the copy
  // is <cache_root>/<hash of the location's URL>.
  static Result<std::unique_ptr<LakeMirror>> Open(const std::string& location_url,
                                                  const std::filesystem::path& cache_root = {});
  // Makes the copy of the objects under `prefix` that `want` accepts (every object when
  // `want` is empty) equal to the store's; anything else in the copy is removed.
  Status Sync(std::string_view prefix = {}, const std::function<bool(std::string_view key)>& want = {});
  // For a Delta table at `prefix` ("orders/", or "" when the location is the table): the
  // copy follows the table's log instead of the listing. Only the files of the newest
  // snapshot are fetched (never a file of a batch still being published, or one that
  // compaction removed), then the log's files up to that snapshot, last, so the copy's log
  // never names a file the copy lacks. Anything else under the prefix is removed.
  Status SyncDelta(std::string_view prefix);
  // True when the store holds a Delta log at <prefix>_delta_log/.
  Result<bool> IsDelta(std::string_view prefix);
  // A table at `prefix`: SyncDelta when it has a Delta log (looked for until it has one),
  // else Sync(prefix, want).
  Status SyncTable(std::string_view prefix, const std::function<bool(std::string_view key)>& want = {});
  // The local directory holding the copy (the location's root).
  const std::filesystem::path& local() const { return local_; }
  // The location's URL as the store names it.
  std::string url() const { return store_->url(); }
  uint64_t downloads() const { return downloads_; }

 private:
  LakeMirror(std::unique_ptr<store::ObjectStore> store, std::filesystem::path local)
      : store_(std::move(store)), local_(std::move(local)) {}
  std::unique_ptr<store::ObjectStore> store_;
  std::filesystem::path local_;
  using Want = std::map<std::string, std::string>;  // key -> "size/etag" (or size)
  Status Fetch(const std::string& key, const std::string& version);
  // Makes the copy hold exactly the wanted keys (files under `scan` not wanted go), fetching
  // the missing ones in the order of `wants`.
  Status Reconcile(const std::filesystem::path& scan, const std::vector<const Want*>& wants);
  std::map<std::string, std::string> have_;  // key -> "size/etag" of the copy
  uint64_t downloads_ = 0;
  // SyncDelta's state: the log read through the store, and its newest snapshot.
  std::string delta_prefix_;
  std::unique_ptr<table::DeltaLog> log_;
  table::Snapshot snapshot_;
};

}  // namespace orderlake::query
