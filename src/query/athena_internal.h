// The parts of the Athena API (athena_api.h), shared by its files:
//   - athena_executions.cpp: the query executions, their runner and their persistence;
//   - athena_results.cpp: result files (Athena's .csv/.txt), their pages and ColumnInfo;
//   - athena_metadata.cpp: work groups, data catalogs, databases, table metadata;
//   - athena_named.cpp: named queries (the seed's six on a new data directory);
//   - athena_api.cpp: the JSON operations over those.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/json_service.h"
#include "core/status.h"
#include "query/athena_api.h"
#include "query/engine_util.h"
#include "query/engine.h"
#include "query/isolated.h"

namespace orderlake::query::athena {

using json = nlohmann::json;


// An error answer of the Athena API: InvalidRequestException carries AthenaErrorCode.
struct ApiError {
  int status = 400;
  std::string type = "InvalidRequestException";
  std::string message;
  std::string code;  // AthenaErrorCode (InvalidRequestException only)
};
aws::JsonResponse ErrorResponse(const ApiError& e);
inline ApiError Invalid(std::string message, std::string code = "INVALID_INPUT") {
  return {400, "InvalidRequestException", std::move(message), std::move(code)};
}
template <class T>
using ApiResult = std::variant<T, ApiError>;

double NowSeconds();
std::string NewId();  // UUID-shaped (Athena's QueryExecutionId and NamedQueryId)
bool ValidId(std::string_view id);

// One query execution, as kept in <data-dir>/athena/executions/<id>.json.
struct Execution {
  std::string id;
  int64_t seq = 0;                 // submission order (ListQueryExecutions' newest first)
  std::string query;
  std::string database = "default";
  std::string catalog = "AwsDataCatalog";
  std::string workgroup = "primary";
  std::string output;              // the result's URL: <OutputLocation>/<id>.csv (or .txt)
  std::string token;               // ClientRequestToken
  std::string statement_type = "DML";  // DML, DDL or UTILITY
  std::string state = "QUEUED";    // QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED
  std::string reason;              // StateChangeReason
  int error_category = 0, error_type = 0;  // AthenaError when FAILED
  double submitted = 0, started = 0, completed = 0;  // epoch seconds
  int64_t engine_ms = 0, scanned_bytes = 0;
  json columns = json::array();    // [{name, type}] with DuckDB's type names
  int64_t rows = 0;
  bool finished() const { return state == "SUCCEEDED" || state == "FAILED" || state == "CANCELLED"; }
  bool text() const { return statement_type != "DML"; }  // .txt result, no header row
};
json ToJson(const Execution& e);
Execution FromJson(const json& j);
// The QueryExecution shape of GetQueryExecution.
json QueryExecutionShape(const Execution& e);

// DDL (CREATE, ALTER, DROP, MSCK), UTILITY (SHOW, DESCRIBE, EXPLAIN) or DML.
std::string StatementType(std::string_view sql);

// The runner: at most limits.workers statements at once, more QUEUED (up to max_queued),
// each in an isolated worker; every change of an execution is saved before it is visible.
class Executions {
 public:
  static Result<std::unique_ptr<Executions>> Open(const AthenaApiOptions& options);
  ~Executions();  // cancels what runs and waits for it
  // A new execution (or the one `token` made before).
  ApiResult<std::string> Start(Execution e);
  std::optional<Execution> Get(const std::string& id) const;
  ApiResult<bool> Stop(const std::string& id);
  // Ids newest first, from sequence `before` (exclusive; 0 = the newest); next: the token.
  std::vector<std::string> List(int64_t before, size_t max, int64_t* next) const;
  // The local result file of a finished execution.
  std::filesystem::path ResultFile(const Execution& e) const;

 private:
  explicit Executions(AthenaApiOptions options) : opt_(std::move(options)) {}
  void Worker();
  void Run(const std::string& id);
  void Save(const Execution& e);
  void Prune();  // requires mu_
  Status Publish(Execution& e);  // copies the result to its output location
  AthenaApiOptions opt_;
  std::filesystem::path dir_, results_;
  std::unique_ptr<IsolatedExecutor> executor_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Execution> by_id_;
  std::map<int64_t, std::string> by_seq_;
  std::map<std::string, std::string> tokens_;
  std::map<std::string, std::shared_ptr<std::atomic<bool>>> cancels_;
  std::deque<std::string> queue_;
  int64_t next_seq_ = 1;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// Results. A page of a result file from byte `offset`: up to max_rows rows (the header row
// of a .csv counts as a row, as Athena's first page has it), and where the next begins.
struct Page {
  json rows = json::array();  // [{"Data": [{"VarCharValue": "…"} | {}]}]
  uint64_t next_offset = 0;
  bool more = false;
};
Result<Page> ReadPage(const std::filesystem::path& file, bool csv, uint64_t offset, size_t max_rows);
// ResultSetMetadata.ColumnInfo from the columns' DuckDB types.
json ColumnInfo(const Execution& e);
// Athena's type name of a DuckDB type ("VARCHAR" -> "varchar", "DECIMAL(18,3)" -> "decimal").
std::string AthenaType(std::string_view duckdb_type, bool ddl);
// Honest bytes the statement's tables cover: the sizes of the files under the locations of
// the tables it names (catalog tables and the lake's own); 0 for DDL and utility statements.
int64_t CoveredBytes(const AthenaApiOptions& options, const Execution& e);

// Metadata operations (athena_metadata.cpp) and named queries (athena_named.cpp).
void AddMetadataOperations(aws::JsonService& service, const AthenaApiOptions& options);
class NamedQueries;
Result<std::shared_ptr<NamedQueries>> OpenNamedQueries(const AthenaApiOptions& options);
void AddNamedQueryOperations(aws::JsonService& service, std::shared_ptr<NamedQueries> named);

// Request members, checked (SerializationException-free: a wrong type is InvalidRequest).
std::optional<std::string> OptString(const json& req, const char* name, size_t max, std::string* error);
int MaxResults(const json& req, int max, int deflt, std::string* error);

}  // namespace orderlake::query::athena
