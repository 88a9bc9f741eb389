// Query executions: the runner (a bounded queue, limits.workers threads, each statement in
// an isolated worker) and their persistence, one JSON file per execution under
// <data-dir>/athena/executions/, written atomically at every change of state.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <random>

#include <fmt/format.h>

#include "core/fs.h"
#include "query/athena_ddl.h"
#include "query/athena_internal.h"
#include "query/engine_util.h"
#include "store/buckets.h"

namespace orderlake::query::athena {
namespace stdfs = std::filesystem;

double NowSeconds() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count() / 1000.0;
}

std::string NewId() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard<std::mutex> lock(mu);
  const uint64_t a = rng(), b = rng();
  return fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xfff,
                     0x8000 | ((b >> 48) & 0x3fff), b & 0xffffffffffffULL);
}

bool ValidId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; });
}

std::string StatementType(std::string_view sql) {
  if (auto ddl = ParseAthenaDdl(sql)) {
    if (!ddl->ok()) return "DDL";
    const auto& s = ddl->value();
    if (std::holds_alternative<ShowTablesDdl>(s) || std::holds_alternative<ShowDatabasesDdl>(s) ||
        std::holds_alternative<ShowPartitionsDdl>(s) || std::holds_alternative<DescribeDdl>(s))
      return "UTILITY";
    return "DDL";
  }
  size_t i = 0;
  while (i < sql.size()) {  // skip blanks, comments and opening parentheses
    if (std::isspace(static_cast<unsigned char>(sql[i])) || sql[i] == '(') ++i;
    else if (sql.substr(i, 2) == "--") i = std::min(sql.find('\n', i), sql.size());
    else if (sql.substr(i, 2) == "/*") i = std::min(sql.find("*/", i) + 2, sql.size());
    else break;
  }
  size_t end = i;
  while (end < sql.size() && std::isalpha(static_cast<unsigned char>(sql[end]))) ++end;
  const std::string word = internal::Lower(sql.substr(i, end - i));
  for (const char* w : {"show", "describe", "desc", "explain", "summarize"})
    if (word == w) return "UTILITY";
  for (const char* w : {"create", "alter", "drop", "msck"})
    if (word == w) return "DDL";
  return "DML";
}

json ToJson(const Execution& e) {
  return {{"id", e.id}, {"seq", e.seq}, {"query", e.query}, {"database", e.database}, {"catalog", e.catalog},
          {"workgroup", e.workgroup}, {"output", e.output}, {"token", e.token}, {"statement_type", e.statement_type},
          {"state", e.state}, {"reason", e.reason}, {"error_category", e.error_category}, {"error_type", e.error_type},
          {"submitted", e.submitted}, {"started", e.started}, {"completed", e.completed}, {"engine_ms", e.engine_ms},
          {"scanned_bytes", e.scanned_bytes}, {"columns", e.columns}, {"rows", e.rows}};
}

Execution FromJson(const json& j) {
  Execution e;
  e.id = j.at("id");
  e.seq = j.at("seq");
  e.query = j.at("query");
  e.database = j.at("database");
  e.catalog = j.at("catalog");
  e.workgroup = j.at("workgroup");
  e.output = j.at("output");
  e.token = j.at("token");
  e.statement_type = j.at("statement_type");
  e.state = j.at("state");
  e.reason = j.at("reason");
  e.error_category = j.at("error_category");
  e.error_type = j.at("error_type");
  e.submitted = j.at("submitted");
  e.started = j.at("started");
  e.completed = j.at("completed");
  e.engine_ms = j.at("engine_ms");
  e.scanned_bytes = j.at("scanned_bytes");
  e.columns = j.at("columns");
  e.rows = j.at("rows");
  return e;
}

json QueryExecutionShape(const Execution& e) {
  auto ms = [](double a, double b) { return b > a ? static_cast<int64_t>((b - a) * 1000 + 0.5) : int64_t{0}; };
  json status = {{"State", e.state}, {"SubmissionDateTime", e.submitted}};
  if (!e.reason.empty()) status["StateChangeReason"] = e.reason;
  if (e.finished()) status["CompletionDateTime"] = e.completed;
  if (e.state == "FAILED")
    status["AthenaError"] = {{"ErrorCategory", e.error_category}, {"ErrorType", e.error_type},
                             {"Retryable", e.error_category == 1}, {"ErrorMessage", e.reason}};
  const double queue_end = e.started > 0 ? e.started : (e.finished() ? e.completed : NowSeconds());
  json stats = {{"EngineExecutionTimeInMillis", e.engine_ms}, {"DataScannedInBytes", e.scanned_bytes},
                {"TotalExecutionTimeInMillis", ms(e.submitted, e.finished() ? e.completed : NowSeconds())},
                {"QueryQueueTimeInMillis", ms(e.submitted, queue_end)},
                {"ServicePreProcessingTimeInMillis", 0}, {"QueryPlanningTimeInMillis", 0},
                {"ServiceProcessingTimeInMillis", 0}};
  if (e.state == "SUCCEEDED") stats["ResultReuseInformation"] = {{"ReusedPreviousResult", false}};
  return {{"QueryExecutionId", e.id},
          {"Query", e.query},
          {"StatementType", e.statement_type},
          {"ResultConfiguration", {{"OutputLocation", e.output}}},
          {"ResultReuseConfiguration", {{"ResultReuseByAgeConfiguration", {{"Enabled", false}}}}},
          {"QueryExecutionContext", {{"Database", e.database}, {"Catalog", e.catalog}}},
          {"Status", status},
          {"Statistics", stats},
          {"WorkGroup", e.workgroup},
          {"EngineVersion", {{"SelectedEngineVersion", "AUTO"}, {"EffectiveEngineVersion", "Athena engine version 3"}}},
          {"SubstatementType", e.statement_type == "DML" ? "SELECT" : e.statement_type == "DDL" ? "CREATE_TABLE" : "SHOW_TABLES"}};
}

Result<std::unique_ptr<Executions>> Executions::Open(const AthenaApiOptions& options) {
  std::unique_ptr<Executions> ex(new Executions(options));
  ex->dir_ = options.data_dir / "athena" / "executions";
  ex->results_ = options.data_dir / "athena" / "results";
  ORDERLAKE_RETURN_IF_ERROR(orderlake::fs::create_directories(ex->dir_));
  ORDERLAKE_RETURN_IF_ERROR(orderlake::fs::create_directories(ex->results_));
  IsolatedOptions limits = options.limits;
  limits.lake = options.lake;
  limits.catalog = options.catalog;
  limits.lake_optional = true;
  limits.buckets_only = true;
  limits.remote_s3 = options.buckets->remote();
  limits.local_buckets = options.buckets->LocalDirs();
  auto executor = IsolatedExecutor::Create(limits);
  if (!executor.ok()) return executor.status();
  ex->executor_ = std::move(executor).value();
  // Executions of an earlier run; one that was QUEUED or RUNNING then never finished.
  std::error_code ec;
  for (const auto& entry : stdfs::directory_iterator(ex->dir_, ec)) {
    if (entry.path().extension() != ".json" || entry.path().filename().string().front() == '.') continue;
    auto text = orderlake::fs::read_file(entry.path());
    if (!text.ok()) continue;
    json j = json::parse(*text, nullptr, false);
    Execution e;
    try {
      e = FromJson(j);
    } catch (const std::exception&) {
      continue;  // not one of ours: left alone
    }
    if (!e.finished()) {
      e.state = "FAILED";
      e.reason = "orderlake aws stopped while the statement was queued or running: run it again";
      e.error_category = 1;
      e.error_type = 100;
      e.completed = NowSeconds();
      ex->Save(e);
    }
    ex->next_seq_ = std::max(ex->next_seq_, e.seq + 1);
    ex->by_seq_[e.seq] = e.id;
    if (!e.token.empty()) ex->tokens_[e.token] = e.id;
    ex->by_id_[e.id] = std::move(e);
  }
  {
    std::lock_guard<std::mutex> lock(ex->mu_);
    ex->Prune();
  }
  for (int i = 0; i < options.limits.workers; ++i) ex->threads_.emplace_back([p = ex.get()] { p->Worker(); });
  return ex;
}

Executions::~Executions() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (auto& [id, flag] : cancels_) flag->store(true);
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void Executions::Save(const Execution& e) {
  Status st = orderlake::fs::write_file_atomic(dir_ / (e.id + ".json"), ToJson(e).dump());
  if (!st.ok()) fmt::print(stderr, "orderlake aws: athena: cannot save execution {}: {}\n", e.id, st.message());
}

void Executions::Prune() {
  const double oldest = NowSeconds() - static_cast<double>(opt_.max_history_days) * 86400;
  while (!by_seq_.empty()) {
    auto e = by_id_.find(by_seq_.begin()->second);
    if (e == by_id_.end()) {
      by_seq_.erase(by_seq_.begin());
      continue;
    }
    const bool over = by_id_.size() > opt_.max_executions, old = e->second.submitted < oldest;
    if ((!over && !old) || !e->second.finished()) break;  // the oldest still runs: pruned later
    std::error_code ec;
    stdfs::remove(dir_ / (e->first + ".json"), ec);
    stdfs::remove(ResultFile(e->second), ec);
    if (!e->second.token.empty()) tokens_.erase(e->second.token);
    by_id_.erase(e);
    by_seq_.erase(by_seq_.begin());
  }
}

stdfs::path Executions::ResultFile(const Execution& e) const { return results_ / (e.id + (e.text() ? ".txt" : ".csv")); }

ApiResult<std::string> Executions::Start(Execution e) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!e.token.empty()) {
    auto t = tokens_.find(e.token);
    if (t != tokens_.end()) {
      const Execution& old = by_id_.at(t->second);
      if (old.query != e.query || old.database != e.database)
        return Invalid("ClientRequestToken was used before with another query or context: use a new token",
                       "IDEMPOTENCY_CONFLICT");  // a conflict as Athena reports it
      return old.id;
    }
  }
  if (stopping_) return ApiError{503, "InternalServerException", "orderlake aws is stopping", ""};
  if (queue_.size() >= opt_.max_queued)
    return ApiError{400, "TooManyRequestsException",
                    fmt::format("{} statements are queued already (at most {} run at once): try again later",
                                queue_.size(), opt_.limits.workers), ""};
  e.id = NewId();
  e.seq = next_seq_++;
  e.state = "QUEUED";
  e.submitted = NowSeconds();
  e.statement_type = StatementType(e.query);
  e.output += e.id + (e.text() ? ".txt" : ".csv");
  Save(e);
  by_seq_[e.seq] = e.id;
  if (!e.token.empty()) tokens_[e.token] = e.id;
  cancels_[e.id] = std::make_shared<std::atomic<bool>>(false);
  queue_.push_back(e.id);
  const std::string id = e.id;
  by_id_[id] = std::move(e);
  Prune();
  cv_.notify_one();
  return id;
}

std::optional<Execution> Executions::Get(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second;
}

ApiResult<bool> Executions::Stop(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return Invalid(fmt::format("QueryExecution {} was not found", id));
  if (it->second.finished()) return true;  // as Athena: stopping a finished query is no error
  auto c = cancels_.find(id);
  if (c != cancels_.end()) c->second->store(true);
  auto q = std::find(queue_.begin(), queue_.end(), id);
  if (q != queue_.end()) {  // never started
    queue_.erase(q);
    cancels_.erase(id);
    it->second.state = "CANCELLED";
    it->second.reason = "Query was cancelled by the user (StopQueryExecution)";
    it->second.completed = NowSeconds();
    Save(it->second);
  }
  return true;
}

std::vector<std::string> Executions::List(int64_t before, size_t max, int64_t* next) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  *next = 0;
  auto it = before > 0 ? by_seq_.lower_bound(before) : by_seq_.end();
  while (it != by_seq_.begin()) {
    --it;
    if (out.size() == max) {
      *next = it->first + 1;
      break;
    }
    out.push_back(it->second);
  }
  return out;
}

void Executions::Worker() {
  for (;;) {
    std::string id;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      id = queue_.front();
      queue_.pop_front();
    }
    Run(id);
  }
}

}  // namespace orderlake::query::athena
