// The buckets the AWS APIs of a data directory reach (`orderlake aws`, `orderlake up`'s AWS
// endpoint), and the one rule that confines every location arriving through them: a Glue
// or Athena LOCATION, a crawler's S3Targets path, an Athena OutputLocation, an S3 bucket and
// key.
//
// Local buckets live in the data directory:
//   - every directory <data-dir>/s3/<name>/ whose name is a valid S3 bucket name is the
//     bucket <name> (the firehose's raw bucket, the Athena results bucket, buckets made by
//     CreateBucket);
//   - the reserved name `orderlake-lake` is the curated lake, <data-dir>/lake/.
// With a remote S3 endpoint configured (BucketsOptions::remote), s3:// locations of any
// other bucket are allowed too and stay remote (read and written through store/s3_store).
//
// Resolve() accepts s3://, s3a:// and s3n:// URLs of those buckets (the prefix checked by
// store/keys.h: no "."/".." segment, no control character, at most 1,024 bytes), and a
// file:// URL or absolute path only when it lies inside a local bucket's directory, also
// once its existing part's symbolic links are resolved. Everything else (/etc, ../,
// file:///etc, http://…, a relative path, an unknown bucket) is an error naming the input,
// which the APIs answer with their access-denied or invalid-request error. Catalog entries
// keep the s3:// URL the user gave; readers map it to a directory with Resolve().
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/object_store.h"

namespace orderlake::store {

inline constexpr std::string_view kLakeBucket = "orderlake-lake";
inline constexpr std::string_view kResultsBucket = "orderlake-athena-results";

// S3's bucket naming rules: 3-63 characters of a-z 0-9 . -, starting and ending with a
// letter or digit, no "..", not shaped like an IP address.
bool ValidBucketName(std::string_view name);

struct BucketsOptions {
  std::filesystem::path data_dir;  // must exist; absolute or relative to the working directory
  // Allow s3:// locations of buckets that are not local, on this S3 endpoint.
  bool remote = false;
  S3Options s3;
  Status Validate() const;
};

// A location inside the buckets.
struct BucketLocation {
  std::string bucket;
  std::string prefix;          // key prefix inside the bucket ("" = the whole bucket), no leading '/'
  bool local = true;
  std::filesystem::path dir;   // local: the directory (<bucket dir>/<prefix>); remote: empty
  std::string url;             // s3://bucket/prefix, the canonical form
};

struct BucketInfo {
  std::string name;
  int64_t created_ms = 0;  // the directory's modification time for local buckets
};

class Buckets {
 public:
  static Result<Buckets> Open(const BucketsOptions& options);

  // See the top of this file. `what` names the input in the error ("LOCATION", "OutputLocation").
  Result<BucketLocation> Resolve(std::string_view location, std::string_view what = "location") const;

  // The local directory of a local bucket; an error when there is no such local bucket.
  Result<std::filesystem::path> LocalDir(std::string_view bucket) const;
  bool IsLocal(std::string_view bucket) const;
  // The local buckets, sorted by name.
  std::vector<BucketInfo> List() const;
  // Makes the local bucket (its directory); false when it already existed.
  Result<bool> Create(std::string_view bucket) const;
  // bucket -> directory of every local bucket now (for readers mapping s3:// URLs).
  std::map<std::string, std::filesystem::path> LocalDirs() const;

  // Opens the object store of a resolved location (a local directory or the remote bucket).
  Result<std::unique_ptr<ObjectStore>> OpenStore(const BucketLocation& location) const;

  const std::filesystem::path& data_dir() const { return data_dir_; }
  bool remote() const { return remote_; }
  const S3Options& s3() const { return s3_; }

 private:
  Buckets() = default;
  Result<BucketLocation> ResolveS3(std::string_view rest, std::string_view location, std::string_view what) const;
  Result<BucketLocation> ResolvePath(std::string_view path, std::string_view location, std::string_view what) const;
  std::filesystem::path data_dir_;  // absolute, lexically normal
  bool remote_ = false;
  S3Options s3_;
};

}  // namespace orderlake::store
