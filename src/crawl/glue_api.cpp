// The Glue API: Create, its threads, and the request helpers every operation uses.
#include "crawl/glue_api.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>

#include "crawl/glue_internal.h"

namespace orderlake::crawl {
namespace glue {

JsonResponse Error(std::string_view type, std::string_view message) { return aws::json_error(400, type, message); }
JsonResponse Ok(const json& body) { return {200, body.dump()}; }
JsonResponse Internal(const Status& st) { return aws::json_error(500, "InternalServiceException", st.message()); }
ApiError Invalid(std::string message) { return {"InvalidInputException", std::move(message)}; }
ApiError NotFound(std::string message) { return {"EntityNotFoundException", std::move(message)}; }

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {
bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}
}  // namespace

std::optional<ApiError> GetString(const json& req, const char* key, std::string& out, bool required, size_t max_len) {
  auto it = req.find(key);
  if (it == req.end() || it->is_null()) {
    if (required) return Invalid(fmt::format("{} is required", key));
    out.clear();
    return std::nullopt;
  }
  if (!it->is_string()) return Invalid(fmt::format("{} must be a string", key));
  out = it->get<std::string>();
  if (required && out.empty()) return Invalid(fmt::format("{} must not be empty", key));
  if (out.size() > max_len) return Invalid(fmt::format("{} is longer than {} characters", key, max_len));
  if (HasControl(out)) return Invalid(fmt::format("{} contains a control character", key));
  return std::nullopt;
}

std::optional<ApiError> CheckName(std::string_view what, const std::string& name, bool catalog_name) {
  if (name.empty() || name.size() > 255)
    return Invalid(fmt::format("{} must have 1 to 255 characters, got {}", what, name.size()));
  if (HasControl(name)) return Invalid(fmt::format("{} contains a control character", what));
  if (catalog_name && name.find_first_of("./`\"") != std::string::npos)
    return Invalid(fmt::format("{} '{}' must not contain . / ` or \"", what, name));
  return std::nullopt;
}

std::optional<ApiError> GetName(const json& req, const char* key, std::string& out, bool catalog_name) {
  if (auto e = GetString(req, key, out, true, 255)) return e;
  if (auto e = CheckName(key, out, catalog_name)) return e;
  if (catalog_name)
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::nullopt;
}

std::optional<ApiError> GetStringMap(const json& req, const char* key, std::map<std::string, std::string>& out) {
  out.clear();
  auto it = req.find(key);
  if (it == req.end() || it->is_null()) return std::nullopt;
  if (!it->is_object()) return Invalid(fmt::format("{} must be a map of strings", key));
  if (it->size() > 256) return Invalid(fmt::format("{} has more than 256 entries", key));
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string()) return Invalid(fmt::format("{}.{} must be a string", key, k));
    if (k.empty() || k.size() > 255 || HasControl(k))
      return Invalid(fmt::format("{} has a key that is empty, longer than 255 characters or with control characters", key));
    std::string value = v.get<std::string>();
    if (value.size() > 512000) return Invalid(fmt::format("{}.{} is longer than 512,000 characters", key, k));
    out[k] = std::move(value);
  }
  return std::nullopt;
}

JsonResponse Fail(const ApiError& e) { return Error(e.type, e.message); }

std::optional<ApiError> GetValues(const json& j, const char* key, std::vector<std::string>& out) {
  out.clear();
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return Invalid(fmt::format("{} is required (a list of strings)", key));
  if (it->size() > 100) return Invalid(fmt::format("{} has more than 100 values", key));
  for (const auto& v : *it) {
    if (!v.is_string()) return Invalid(fmt::format("{} must be strings", key));
    if (v.get_ref<const std::string&>().size() > 1024) return Invalid(fmt::format("{} has a value over 1,024 characters", key));
    out.push_back(v.get<std::string>());
  }
  return std::nullopt;
}

std::optional<ApiError> GetList(const json& req, const char* key, size_t max, const json*& out) {
  auto it = req.find(key);
  if (it == req.end() || !it->is_array()) return Invalid(fmt::format("{} is required (a list)", key));
  if (it->size() > max) return Invalid(fmt::format("{} has more than {} entries", key, max));
  out = &*it;
  return std::nullopt;
}

json ErrorDetail(const std::string& code, const std::string& message) {
  return {{"ErrorCode", code}, {"ErrorMessage", message}};
}

std::optional<ApiError> GetPage(const json& req, size_t max, Page& out) {
  out.limit = max;
  out.offset = 0;
  if (auto it = req.find("MaxResults"); it != req.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > static_cast<int64_t>(max))
      return Invalid(fmt::format("MaxResults must be an integer between 1 and {}", max));
    out.limit = it->get<size_t>();
  }
  std::string token;
  if (auto e = GetString(req, "NextToken", token, false, 64)) return e;
  if (!token.empty()) {
    auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), out.offset);
    if (ec != std::errc() || p != token.data() + token.size()) return Invalid("NextToken is not one this service gave");
  }
  return std::nullopt;
}

void SetNextToken(json& body, const Page& page, size_t total) {
  if (page.offset + page.limit < total) body["NextToken"] = std::to_string(page.offset + page.limit);
}

}  // namespace glue

Status GlueApiOptions::Validate() const {
  if (!buckets) return Status::Error("the Glue API needs the data directory's buckets");
  if (catalog.empty()) return Status::Error("the Glue API needs a catalog file");
  if (lake.empty()) return Status::Error("the Glue API needs the lake directory (the jobs' default output)");
  if (max_runs_kept < 1 || max_runs_kept > 10000)
    return Status::Errorf("the Glue API keeps 1 to 10,000 runs per job, got {}", max_runs_kept);
  if (max_concurrent_runs < 1 || max_concurrent_runs > 64)
    return Status::Errorf("the Glue API runs 1 to 64 jobs and crawlers at once, got {}", max_concurrent_runs);
  return Status::OK();
}

void GlueApi::Impl::Spawn(std::function<void()> fn) {
  for (auto it = workers.begin(); it != workers.end();) {
    if (it->done->load()) {
      it->thread.join();
      it = workers.erase(it);
    } else {
      ++it;
    }
  }
  auto done = std::make_shared<std::atomic<bool>>(false);
  workers.push_back({done, std::thread([fn = std::move(fn), done] {
                       fn();
                       done->store(true);
                     })});
}

void GlueApi::Impl::JoinAll() {
  std::list<Worker> all;
  {
    std::lock_guard lk(mu);
    closing = true;
    for (auto& [name, run] : crawling) run->stop = true;
    all.swap(workers);
  }
  for (auto& w : all) w.thread.join();
}

std::variant<store::BucketLocation, glue::ApiError> GlueApi::Impl::Resolve(const std::string& location,
                                                                           std::string_view what) const {
  auto r = opt.buckets->Resolve(location, what);
  if (!r.ok()) return glue::ApiError{"AccessDeniedException", r.status().message()};
  return std::move(r).value();
}

Result<std::unique_ptr<GlueApi>> GlueApi::Create(const GlueApiOptions& options) {
  ORDERLAKE_RETURN_IF_ERROR(options.Validate());
  auto impl = std::make_unique<Impl>();
  impl->opt = options;
  auto cat = catalog::Catalog::Open(options.catalog);
  if (!cat.ok()) return cat.status();
  impl->cat = std::move(cat).value();
  ORDERLAKE_RETURN_IF_ERROR(impl->cat->CreateDatabase("default"));  // every Glue catalog has it
  ORDERLAKE_RETURN_IF_ERROR(impl->RecoverRuns());
  impl->RegisterCatalog();
  impl->RegisterCrawlers();
  impl->RegisterJobs();
  return std::unique_ptr<GlueApi>(new GlueApi(std::move(impl)));
}

GlueApi::GlueApi(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GlueApi::~GlueApi() { impl_->JoinAll(); }
const aws::JsonService& GlueApi::service() const { return impl_->service; }

}  // namespace orderlake::crawl
