// One object-store interface for every stage (raw deliveries, the etl's reads and table
// writes, the query engine's reads), selected by URL: a local directory (a plain path or
// file://…) or S3 (s3://bucket/prefix on any S3-compatible endpoint). Keys are relative to
// the store's root and use '/' separators. Every Put is atomic: a reader sees the old
// object or the new one, never a part.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/credentials.h"
#include "core/status.h"

namespace orderlake::store {

struct ObjectInfo {
  std::string key;  // relative to the store's root
  uint64_t size = 0;
  int64_t mtime_ms = 0;  // last modification, ms since the epoch
  std::string etag;      // S3's ETag; empty for local files
};

// How to reach S3. The defaults below are the only ones; OpenS3 checks Validate().
struct S3Options {
  std::string endpoint;   // e.g. http://127.0.0.1:5000; empty = AWS (https://s3.<region>.amazonaws.com)
  std::string region;     // empty = AWS_REGION / AWS_DEFAULT_REGION / us-east-1
  bool path_style = true;  // http://endpoint/bucket/key, else http://bucket.endpoint/key
  // Empty = the AWS credential chain (aws/credentials.h: environment, ~/.aws/credentials,
  // ~/.aws/config); anonymous requests when that finds none.
  aws::Credentials credentials;
  size_t multipart_threshold = size_t{16} << 20;  // larger objects go up in parts
  size_t part_size = size_t{8} << 20;              // S3's minimum is 5 MiB
  int max_attempts = 5;                            // on throttling, 5xx and network errors
  int connect_timeout_ms = 3000;
  // "HOST:PORT:CONNECT-HOST:CONNECT-PORT" entries (curl's CONNECT_TO): reach a
  // virtual-host name such as bucket.localhost:9000 at another address.
  std::vector<std::string> connect_to;

  // The options are set from the environment (s3_options_from_env), so errors name the
  // variables: AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL for the endpoint.
  Status Validate() const;
};

S3Options s3_options_from_env();

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Every object under prefix (recursively), sorted by key; with start_after, only keys
  // after it (S3's start-after). Temporary objects of writers in progress (names starting
  // with '.') are left out.
  virtual Result<std::vector<ObjectInfo>> List(std::string_view prefix, std::string_view start_after = {}) = 0;
  virtual Result<std::optional<ObjectInfo>> Head(std::string_view key) = 0;
  // The bytes [offset, offset + length) of the object (to its end when length is nullopt).
  virtual Result<std::string> Get(std::string_view key, uint64_t offset = 0,
                                  std::optional<uint64_t> length = std::nullopt) = 0;
  virtual Status Put(std::string_view key, std::string_view data) = 0;
  // Creates the object only if no object has the key; false when one already exists.
  virtual Result<bool> PutIfAbsent(std::string_view key, std::string_view data) = 0;
  virtual Status Delete(std::string_view key) = 0;

  // The URL of the store's root ("file:///…" or "s3://bucket/prefix").
  virtual std::string url() const = 0;
  // The local directory when the store is one, else empty.
  virtual std::string local_root() const { return {}; }
};

// Opens the store a location names: a path, file://path or s3://bucket[/prefix].
Result<std::unique_ptr<ObjectStore>> Open(const std::string& location,
                                          const S3Options& s3 = s3_options_from_env());

std::unique_ptr<ObjectStore> OpenLocal(const std::string& directory);
Result<std::unique_ptr<ObjectStore>> OpenS3(std::string_view bucket, std::string_view prefix,
                                            const S3Options& options);

}  // namespace orderlake::store
