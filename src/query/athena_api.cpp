#include "query/athena_api.h"

#include <fmt/format.h>

#include "query/athena_internal.h"
#include "query/engine_util.h"
#include "store/buckets.h"

namespace orderlake::query {
namespace athena {

aws::JsonResponse ErrorResponse(const ApiError& e) {
  json body = {{"__type", e.type}, {"Message", e.message}, {"message", e.message}};
  if (e.type == "InvalidRequestException" && !e.code.empty()) body["AthenaErrorCode"] = e.code;
  return {e.status, body.dump(-1, ' ', false, json::error_handler_t::replace)};
}

std::optional<std::string> OptString(const json& req, const char* name, size_t max, std::string* error) {
  auto it = req.find(name);
  if (it == req.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) {
    if (error->empty()) *error = fmt::format("{} must be a string", name);
    return std::nullopt;
  }
  const std::string& s = it->get_ref<const std::string&>();
  if (s.size() > max) {
    if (error->empty()) *error = fmt::format("{} is longer than {} bytes", name, max);
    return std::nullopt;
  }
  return s;
}

int MaxResults(const json& req, int max, int deflt, std::string* error) {
  auto it = req.find("MaxResults");
  if (it == req.end() || it->is_null()) return deflt;
  if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > max) {
    if (error->empty()) *error = fmt::format("MaxResults must be between 1 and {}", max);
    return deflt;
  }
  return static_cast<int>(it->get<int64_t>());
}

namespace {

aws::JsonResponse Ok(const json& j) { return {200, j.dump(-1, ' ', false, json::error_handler_t::replace)}; }

// The result's base URL (ending in '/') from the request, the work group's default otherwise.
ApiResult<std::string> OutputBase(const json& req, const AthenaApiOptions& o) {
  std::string err;
  std::string location = o.default_output_location;
  if (auto rc = req.find("ResultConfiguration"); rc != req.end() && rc->is_object()) {
    auto l = OptString(*rc, "OutputLocation", 1024, &err);
    if (!err.empty()) return Invalid(err);
    if (l) location = *l;
  }
  auto loc = o.buckets->Resolve(location, "OutputLocation");
  if (!loc.ok()) return Invalid(loc.status().message());
  std::string url = loc->url;
  if (url.empty() || url.back() != '/') url += '/';
  return url;
}

aws::JsonResponse StartQuery(athena::Executions& ex, const AthenaApiOptions& o, const json& req) {
  std::string err;
  auto query = OptString(req, "QueryString", 262144, &err);
  auto token = OptString(req, "ClientRequestToken", 128, &err);
  auto workgroup = OptString(req, "WorkGroup", 128, &err);
  Execution e;
  if (auto ctx = req.find("QueryExecutionContext"); ctx != req.end() && ctx->is_object()) {
    auto db = OptString(*ctx, "Database", 255, &err);
    auto cat = OptString(*ctx, "Catalog", 256, &err);
    if (db && !db->empty()) e.database = internal::Lower(*db);
    if (cat && *cat != "AwsDataCatalog" && err.empty()) err = fmt::format("Catalog {} was not found: use AwsDataCatalog", *cat);
  }
  if (err.empty() && (!query || query->empty())) err = "QueryString is required";
  if (err.empty() && token && token->size() < 32) err = "ClientRequestToken must be 32 to 128 characters";
  if (err.empty() && workgroup && *workgroup != "primary") err = fmt::format("WorkGroup {} is not found.", *workgroup);
  if (err.empty() && e.database.find('"') != std::string::npos) err = "Database must not contain a double quote";
  if (!err.empty()) return ErrorResponse(Invalid(err));
  auto base = OutputBase(req, o);
  if (auto* bad = std::get_if<ApiError>(&base)) return ErrorResponse(*bad);
  e.query = *query;
  e.token = token.value_or("");
  e.output = std::get<std::string>(base);
  auto id = ex.Start(std::move(e));
  if (auto* bad = std::get_if<ApiError>(&id)) return ErrorResponse(*bad);
  return Ok({{"QueryExecutionId", std::get<std::string>(id)}});
}

aws::JsonResponse GetResults(athena::Executions& ex, const json& req) {
  std::string err;
  auto id = OptString(req, "QueryExecutionId", 128, &err);
  auto token = OptString(req, "NextToken", 1024, &err);
  const int max = MaxResults(req, 1000, 1000, &err);
  if (err.empty() && !id) err = "QueryExecutionId is required";
  if (!err.empty()) return ErrorResponse(Invalid(err));
  auto e = ex.Get(*id);
  if (!e) return ErrorResponse(Invalid(fmt::format("QueryExecution {} was not found", *id)));
  if (e->state == "FAILED") return ErrorResponse(Invalid(fmt::format("Query has failed: {}", e->reason)));
  if (e->state != "SUCCEEDED")
    return ErrorResponse(Invalid(fmt::format("Query has not yet finished. Current state: {}", e->state)));
  uint64_t offset = 0;
  if (token && (std::sscanf(token->c_str(), "%lu", &offset) != 1)) return ErrorResponse(Invalid("NextToken is not valid"));
  auto page = ReadPage(ex.ResultFile(*e), !e->text(), offset, static_cast<size_t>(max));
  if (!page.ok()) return ErrorResponse(Invalid(page.status().message()));
  json out = {{"UpdateCount", 0},
              {"ResultSet", {{"Rows", page->rows}, {"ResultSetMetadata", {{"ColumnInfo", ColumnInfo(*e)}}}}}};
  if (page->more) out["NextToken"] = std::to_string(page->next_offset);
  return Ok(out);
}

void AddExecutionOperations(aws::JsonService& s, athena::Executions& ex, const AthenaApiOptions& o) {
  s.Add("StartQueryExecution", [&ex, &o](const json& req, const aws::JsonCall&) { return StartQuery(ex, o, req); });
  s.Add("GetQueryResults", [&ex](const json& req, const aws::JsonCall&) { return GetResults(ex, req); });
  s.Add("GetQueryExecution", [&ex](const json& req, const aws::JsonCall&) {
    std::string err;
    auto id = OptString(req, "QueryExecutionId", 128, &err);
    if (!err.empty() || !id) return ErrorResponse(Invalid(err.empty() ? "QueryExecutionId is required" : err));
    auto e = ex.Get(*id);
    if (!e) return ErrorResponse(Invalid(fmt::format("QueryExecution {} was not found", *id)));
    return Ok({{"QueryExecution", QueryExecutionShape(*e)}});
  });
  s.Add("StopQueryExecution", [&ex](const json& req, const aws::JsonCall&) {
    std::string err;
    auto id = OptString(req, "QueryExecutionId", 128, &err);
    if (!err.empty() || !id) return ErrorResponse(Invalid(err.empty() ? "QueryExecutionId is required" : err));
    auto r = ex.Stop(*id);
    if (auto* bad = std::get_if<ApiError>(&r)) return ErrorResponse(*bad);
    return Ok(json::object());
  });
  s.Add("ListQueryExecutions", [&ex](const json& req, const aws::JsonCall&) {
    std::string err;
    const int max = MaxResults(req, 50, 50, &err);
    auto token = OptString(req, "NextToken", 1024, &err);
    auto wg = OptString(req, "WorkGroup", 128, &err);
    if (err.empty() && wg && *wg != "primary") err = fmt::format("WorkGroup {} is not found.", *wg);
    long long before = 0;
    if (err.empty() && token && (std::sscanf(token->c_str(), "%lld", &before) != 1 || before < 1))
      err = "NextToken is not valid";
    if (!err.empty()) return ErrorResponse(Invalid(err));
    int64_t next = 0;
    json out = {{"QueryExecutionIds", ex.List(before, static_cast<size_t>(max), &next)}};
    if (next > 0) out["NextToken"] = std::to_string(next);
    return Ok(out);
  });
  s.Add("BatchGetQueryExecution", [&ex](const json& req, const aws::JsonCall&) {
    auto ids = req.find("QueryExecutionIds");
    if (ids == req.end() || !ids->is_array() || ids->empty() || ids->size() > 50)
      return ErrorResponse(Invalid("QueryExecutionIds must list 1 to 50 ids"));
    json out = {{"QueryExecutions", json::array()}, {"UnprocessedQueryExecutionIds", json::array()}};
    for (const auto& id : *ids) {
      const std::string s = id.is_string() ? id.get<std::string>() : id.dump();
      auto e = ex.Get(s);
      if (e) out["QueryExecutions"].push_back(QueryExecutionShape(*e));
      else out["UnprocessedQueryExecutionIds"].push_back(
          {{"QueryExecutionId", s}, {"ErrorCode", "INVALID_INPUT"}, {"ErrorMessage", "QueryExecution " + s + " was not found"}});
    }
    return Ok(out);
  });
}

}  // namespace
}  // namespace athena

struct AthenaApi::Impl {
  AthenaApiOptions options;
  aws::JsonService service{"AmazonAthena", "athena"};
  std::unique_ptr<athena::Executions> executions;
  std::shared_ptr<athena::NamedQueries> named;
};

Status AthenaApiOptions::Validate() const {
  if (!buckets) return Status::Error("the Athena API needs the data directory's buckets");
  if (data_dir.empty()) return Status::Error("the Athena API needs the data directory");
  if (max_executions < 10 || max_executions > 1000000)
    return Status::Errorf("the Athena history must keep 10 to 1,000,000 executions, got {}", max_executions);
  if (max_history_days < 1 || max_history_days > 3650)
    return Status::Errorf("the Athena history must keep 1 to 3650 days, got {}", max_history_days);
  if (max_queued < 1 || max_queued > 10000)
    return Status::Errorf("the Athena queue must hold 1 to 10,000 statements, got {}", max_queued);
  if (auto loc = buckets->Resolve(default_output_location, "the default OutputLocation"); !loc.ok()) return loc.status();
  return limits.Validate();
}

Result<std::unique_ptr<AthenaApi>> AthenaApi::Create(const AthenaApiOptions& options) {
  ORDERLAKE_RETURN_IF_ERROR(options.Validate());
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  auto ex = athena::Executions::Open(options);
  if (!ex.ok()) return ex.status();
  impl->executions = std::move(ex).value();
  auto named = athena::OpenNamedQueries(options);
  if (!named.ok()) return named.status();
  impl->named = std::move(named).value();
  athena::AddExecutionOperations(impl->service, *impl->executions, impl->options);
  athena::AddMetadataOperations(impl->service, impl->options);
  athena::AddNamedQueryOperations(impl->service, impl->named);
  return std::unique_ptr<AthenaApi>(new AthenaApi(std::move(impl)));
}

AthenaApi::AthenaApi(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AthenaApi::~AthenaApi() = default;
const aws::JsonService& AthenaApi::service() const { return impl_->service; }

}  // namespace orderlake::query
