#include "query/athena_api.h"

namespace orderlake::query {

// Placeholder until the Athena API lands (issue 15, part `athena`).
struct AthenaApi::Impl {
  aws::JsonService service{"AmazonAthena", "athena"};
};

Status AthenaApiOptions::Validate() const {
  if (!buckets) return Status::Error("the Athena API needs the data directory's buckets");
  return Status::OK();
}

Result<std::unique_ptr<AthenaApi>> AthenaApi::Create(const AthenaApiOptions& options) {
  ORDERLAKE_RETURN_IF_ERROR(options.Validate());
  return std::unique_ptr<AthenaApi>(new AthenaApi(std::make_unique<Impl>()));
}

AthenaApi::AthenaApi(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AthenaApi::~AthenaApi() = default;
const aws::JsonService& AthenaApi::service() const { return impl_->service; }

}  // namespace orderlake::query
