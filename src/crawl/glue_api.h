// The AWS Glue API (JSON 1.1, X-Amz-Target AWSGlue.<Action>, SigV4 service "glue") over a
// data directory: the Data Catalog (catalog/catalog.h, the same SQLite file `orderlake
// crawl` and Athena DDL use), crawlers (this stage's crawler) and jobs (the etl as the
// Glue job).
#pragma once
#include <filesystem>
#include <memory>
#include <string>

#include "aws/json_service.h"
#include "core/status.h"
#include "store/buckets.h"

namespace orderlake::crawl {

struct GlueApiOptions {
  std::filesystem::path data_dir;
  std::filesystem::path catalog;   // the Data Catalog file (catalog::Catalog::DefaultPath(data_dir))
  std::filesystem::path lake;      // the lake directory (the default output of a job)
  const store::Buckets* buckets = nullptr;  // every location is confined to these; must outlive the API
  std::string region = "us-east-1";
  std::string account_id = "123456789012";
  Status Validate() const;
};

class GlueApi {
 public:
  static Result<std::unique_ptr<GlueApi>> Create(const GlueApiOptions& options);
  ~GlueApi();  // stops running crawlers and jobs and waits for them
  GlueApi(const GlueApi&) = delete;
  GlueApi& operator=(const GlueApi&) = delete;
  // Target prefix AWSGlue, SigV4 service "glue"; to mount on an aws::JsonRouter.
  const aws::JsonService& service() const;

  struct Impl;

 private:
  explicit GlueApi(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace orderlake::crawl
