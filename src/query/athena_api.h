// The Amazon Athena API (JSON 1.1, X-Amz-Target AmazonAthena.<Action>, SigV4 service
// "athena") over a data directory: query executions run asynchronously, each statement in
// its own bounded worker process (query/isolated.h), over the lake and the Data Catalog.
#pragma once
#include <filesystem>
#include <memory>
#include <string>

#include "aws/json_service.h"
#include "core/status.h"
#include "query/isolated.h"
#include "store/buckets.h"

namespace orderlake::query {

struct AthenaApiOptions {
  std::filesystem::path data_dir;  // executions and named queries are kept under <data-dir>/athena/
  std::filesystem::path lake;      // the lake directory (need not exist: the catalog alone serves)
  std::filesystem::path catalog;   // the Data Catalog file (catalog::Catalog::DefaultPath(data_dir))
  const store::Buckets* buckets = nullptr;  // every location is confined to these; must outlive the API
  IsolatedOptions limits;          // the SQL console's bounds (its lake is set from `lake`)
  std::string default_output_location = "s3://orderlake-athena-results/";
  // History, as Athena keeps 45 days: finished executions (and their local result copies)
  // older than max_history_days, or beyond the newest max_executions, are forgotten.
  size_t max_executions = 10000;   // 10-1,000,000
  int max_history_days = 45;       // 1-3650
  // Statements waiting for one of limits.workers; more: TooManyRequestsException.
  size_t max_queued = 100;         // 1-10,000
  std::string region = "us-east-1";
  std::string account_id = "123456789012";
  // buckets set, the bounds in their ranges, default_output_location an s3:// URL.
  Status Validate() const;
};

class AthenaApi {
 public:
  static Result<std::unique_ptr<AthenaApi>> Create(const AthenaApiOptions& options);
  ~AthenaApi();  // cancels what runs and waits for it
  AthenaApi(const AthenaApi&) = delete;
  AthenaApi& operator=(const AthenaApi&) = delete;
  // Target prefix AmazonAthena, SigV4 service "athena"; to mount on an aws::JsonRouter.
  const aws::JsonService& service() const;

  struct Impl;

 private:
  explicit AthenaApi(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace orderlake::query
