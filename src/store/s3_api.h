// The S3 REST API over a data directory's buckets (store/buckets.h), so `aws s3 ls`,
// `aws s3 cp`, boto3's s3 client and a client downloading Athena results work against
// orderlake: see the issue-15 section of the README for the operations.
#pragma once
#include <httplib.h>

#include <functional>
#include <map>
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
  Status Validate() const;
};

class S3Api {
 public:
  // `buckets` must outlive the API.
  S3Api(const Buckets& buckets, S3ApiOptions options);
  // Answers one S3 REST request (path-style /bucket/key or virtual-host bucket.host/key).
  void Handle(const httplib::Request& req, httplib::Response& res) const;

 private:
  const Buckets& buckets_;
  S3ApiOptions opt_;
};

}  // namespace orderlake::store
