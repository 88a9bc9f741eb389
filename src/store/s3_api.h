// The S3 REST API over a data directory's buckets (store/buckets.h), so `aws s3 ls`,
// `aws s3 cp`, boto3's s3 client and a client downloading Athena results work against
// orderlake: see the S3 section of the README for the operations.
//
// Promises: every bucket goes through Buckets and every key through store/keys.h, so no
// request reads or writes outside the local bucket directories (symlinks resolved, hidden
// names starting with '.' never listed, served or written); writes to read-only buckets are
// AccessDenied; a put is atomic (temporary + rename); a GET streams the file in pieces (memory
// does not grow with the object) and a HEAD does not read it; multipart uploads are bounded
// (open uploads, parts, age). Errors are S3's XML <Error> documents.
#pragma once
#include <httplib.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "store/buckets.h"

namespace orderlake::store {

struct S3ApiOptions {
  // access key id -> secret; empty = requests accepted unsigned or with any well-formed
  // signature (loopback listeners only, see aws/json_service.h check_unsigned_listener).
  std::map<std::string, std::string> keys;
  std::string region = "us-east-1";
  // Buckets no request may write to (PutObject, DeleteObject, ...): AccessDenied.
  std::function<bool(std::string_view bucket)> read_only;
  // Multipart uploads: their parts wait in this directory (empty = <data-dir>/.s3-uploads);
  // at most max_uploads open at once and max_parts parts each; an upload untouched for
  // upload_ttl is removed (checked whenever an upload starts).
  std::filesystem::path uploads_dir;
  size_t max_uploads = 64;
  int max_parts = 10000;
  std::chrono::seconds upload_ttl{24 * 3600};
  // Buckets CreateBucket may make in all (S3's default account limit is 100).
  size_t max_buckets = 100;
  Status Validate() const;
};

// The request body an S3 client may send in one request: an 8 MiB part (the AWS CLI's
// default multipart_chunksize) plus its aws-chunked framing and trailer. The endpoint's
// HttpServer::max_body_bytes should be at least this.
inline constexpr size_t kS3MaxRequestBody = (size_t{8} << 20) + (size_t{256} << 10);

class S3Api {
 public:
  // `buckets` must outlive the API.
  S3Api(const Buckets& buckets, S3ApiOptions options);
  ~S3Api();
  // Answers one S3 REST request (path-style /bucket/key or virtual-host bucket.host/key).
  void Handle(const httplib::Request& req, httplib::Response& res) const;

 private:
  struct State;  // request ids, the multipart lock (s3_api.cpp)
  const Buckets& buckets_;
  S3ApiOptions opt_;
  std::unique_ptr<State> state_;
};

}  // namespace orderlake::store
