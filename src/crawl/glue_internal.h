// The Glue API's pieces, shared by its files (glue_api.h is the interface):
//   glue_api.cpp      Create, the operation table, request helpers (names, paging, errors);
//   glue_shapes.cpp   catalog tables, databases and partitions <-> Glue's JSON shapes;
//   glue_tables.cpp   databases and tables;
//   glue_partitions.cpp partitions;
//   glue_expr.cpp     GetTables' name pattern and GetPartitions' Expression;
//   glue_crawlers.cpp crawlers (the crawler on a thread);
//   glue_jobs.cpp     jobs (the etl on a thread) and their runs.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "catalog/catalog.h"
#include "crawl/glue_api.h"

namespace orderlake::crawl::glue {
using nlohmann::json;
using aws::JsonResponse;

// A failed request: the Glue error type and message.
struct ApiError {
  std::string type, message;
};
template <class T>
using Api = std::variant<T, ApiError>;

JsonResponse Error(std::string_view type, std::string_view message);  // 400 with the type
JsonResponse Ok(const json& body);
JsonResponse Internal(const Status& st);  // InternalServiceException (500)
ApiError Invalid(std::string message);    // InvalidInputException
ApiError NotFound(std::string message);   // EntityNotFoundException

int64_t NowMs();
JsonResponse Fail(const ApiError& e);  // the error's type, 400
#define GLUE_TRY(expr)                                     \
  do {                                                     \
    if (auto glue_err_ = (expr)) return Fail(*glue_err_); \
  } while (0)

// A list of strings (partition values), at most 100 of at most 1,024 characters.
std::optional<ApiError> GetValues(const json& j, const char* key, std::vector<std::string>& out);
// A list member of at most `max` entries.
std::optional<ApiError> GetList(const json& req, const char* key, size_t max, const json*& out);
json ErrorDetail(const std::string& code, const std::string& message);  // Glue's ErrorDetail

// Request members. Missing optional strings are ""; a required one that is missing or
// empty, or one over max_len characters or with control characters, is an error naming it.
std::optional<ApiError> GetString(const json& req, const char* key, std::string& out, bool required,
                                  size_t max_len = 2048);
// Glue names: 1-255 characters, no control characters; catalog names (databases, tables)
// also no . / ` " and are lower-cased as Glue stores them.
std::optional<ApiError> GetName(const json& req, const char* key, std::string& out, bool catalog_name = false);
std::optional<ApiError> CheckName(std::string_view what, const std::string& name, bool catalog_name);
// String -> string maps (Parameters, DefaultArguments): at most 256 entries of bounded size.
std::optional<ApiError> GetStringMap(const json& req, const char* key, std::map<std::string, std::string>& out);
// Paging: NextToken is the offset of the next item; MaxResults 1..max (default max).
struct Page {
  size_t offset = 0, limit = 0;
};
std::optional<ApiError> GetPage(const json& req, size_t max, Page& out);
// Adds NextToken when more than offset + limit of `total` remain.
void SetNextToken(json& body, const Page& page, size_t total);

// Shapes (glue_shapes.cpp).
json DatabaseJson(const catalog::Database& d, const std::string& catalog_id);
json TableJson(const catalog::Table& t, const catalog::TableInfo& info, const std::string& catalog_id);
json PartitionJson(const catalog::Table& t, const catalog::Partition& p, const std::string& catalog_id);
// A TableInput into the catalog's Table and TableInfo; locations are checked by the caller.
Api<std::pair<catalog::Table, catalog::TableInfo>> TableFromInput(const json& input, const std::string& database);
// A PartitionInput's values and location (checked against the table's key count).
Api<catalog::Partition> PartitionFromInput(const json& input, const catalog::Table& t);

// Expressions (glue_expr.cpp).
// GetTables' Expression: alternatives split by '|', '*' (or ".*") any characters, case-insensitive.
bool NameMatches(std::string_view pattern, std::string_view name);
// GetPartitions' Expression, parsed once: comparisons of partition keys with literals
// (= != <> < <= > >=, IN (...), BETWEEN, LIKE), AND, OR, NOT, parentheses. Numbers compare
// numerically when the key's type is numeric.
class PartitionFilter {
 public:
  static Api<std::shared_ptr<PartitionFilter>> Parse(std::string_view expression,
                                                     const std::vector<catalog::Column>& keys);
  bool Matches(const std::vector<std::string>& values) const;
  struct Node;
  ~PartitionFilter();

 private:
  std::unique_ptr<Node> root_;
  std::vector<catalog::Column> keys_;
};

}  // namespace orderlake::crawl::glue

namespace orderlake::crawl {

struct GlueApi::Impl {
  GlueApiOptions opt;
  aws::JsonService service{"AWSGlue", "glue"};
  std::mutex mu;  // guards cat and the run state below
  std::unique_ptr<catalog::Catalog> cat;

  struct CrawlerRun {
    std::string state = "RUNNING";  // RUNNING, STOPPING
    std::atomic<bool> stop{false};
    int64_t start_ms = 0;
  };
  std::map<std::string, std::shared_ptr<CrawlerRun>> crawling;  // running crawlers by name
  std::map<std::string, int> job_running;                          // running runs by job name
  std::atomic<bool> closing{false};
  struct Worker {
    std::shared_ptr<std::atomic<bool>> done;
    std::thread thread;
  };
  std::list<Worker> workers;  // under mu; finished ones are joined on the next start

  // Runs fn on a thread (mu held by the caller).
  void Spawn(std::function<void()> fn);
  void JoinAll();

  void RegisterCatalog();   // glue_tables.cpp
  void RegisterCrawlers();  // glue_crawlers.cpp
  void RegisterJobs();      // glue_jobs.cpp
  // A location through the Buckets policy: AccessDeniedException naming it when refused.
  std::variant<store::BucketLocation, glue::ApiError> Resolve(const std::string& location, std::string_view what) const;
  // Marks runs a previous process left RUNNING as FAILED (at Create).
  Status RecoverRuns();
};

}  // namespace orderlake::crawl
