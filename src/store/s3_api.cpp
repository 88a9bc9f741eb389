#include "store/s3_api.h"

namespace orderlake::store {

Status S3ApiOptions::Validate() const { return Status::OK(); }

S3Api::S3Api(const Buckets& buckets, S3ApiOptions options) : buckets_(buckets), opt_(std::move(options)) {}

void S3Api::Handle(const httplib::Request&, httplib::Response& res) const {
  // Placeholder until the S3 REST API lands (issue 15, part `s3`).
  res.status = 501;
  res.set_content(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NotImplemented</Code><Message>S3 REST API not built "
      "yet</Message></Error>",
      "application/xml");
}

}  // namespace orderlake::store
