// The AWS Glue API (JSON 1.1, X-Amz-Target AWSGlue.<Action>, SigV4 service "glue") over a
// data directory: the Data Catalog (catalog/catalog.h, the same SQLite file `orderlake
// crawl` and Athena DDL use), crawlers (this stage's crawler) and jobs (the etl as the
// Glue job).
//
// Promises: every location a request names (a table's or partition's Location, a crawler's
// S3Targets Path, a job run's --input and --lake) goes through store::Buckets::Resolve and is
// refused with AccessDeniedException naming it otherwise; names, strings, maps and
// MaxResults are bounded; catalog changes are visible at once to `orderlake query`, Athena
// and `orderlake crawl` (one SQLite file). Crawlers and job runs run on threads of this
// object; their definitions and the last max_runs_kept runs of each job persist in the
// catalog file, and runs a stopped process left RUNNING read back as FAILED.
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
  int max_runs_kept = 100;        // job runs kept per job (the oldest go), 1 .. 10,000
  int max_concurrent_runs = 4;    // crawlers and job runs at once over all of them, 1 .. 64
  Status Validate() const;
};

class GlueApi {
 public:
  static Result<std::unique_ptr<GlueApi>> Create(const GlueApiOptions& options);
  // Asks running crawlers to stop and waits for them and for job runs (an etl run is not
  // interrupted: it ends with its commit or without one).
  ~GlueApi();
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
