#include "crawl/glue_api.h"

namespace orderlake::crawl {

// Placeholder until the Glue API lands (issue 15, part `glue`).
struct GlueApi::Impl {
  aws::JsonService service{"AWSGlue", "glue"};
};

Status GlueApiOptions::Validate() const {
  if (!buckets) return Status::Error("the Glue API needs the data directory's buckets");
  return Status::OK();
}

Result<std::unique_ptr<GlueApi>> GlueApi::Create(const GlueApiOptions& options) {
  ORDERLAKE_RETURN_IF_ERROR(options.Validate());
  return std::unique_ptr<GlueApi>(new GlueApi(std::make_unique<Impl>()));
}

GlueApi::GlueApi(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GlueApi::~GlueApi() = default;
const aws::JsonService& GlueApi::service() const { return impl_->service; }

}  // namespace orderlake::crawl
