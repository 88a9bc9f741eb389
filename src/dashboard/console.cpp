#include "dashboard/console.h"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "core/metrics.h"
#include "dashboard/endpoints.h"
#include "query/engine.h"
#include "query/format.h"

namespace orderlake::dashboard {
namespace {
using json = nlohmann::json;
using query::Engine;
using query::QueryResult;
using query::Value;

std::string ErrorBody(std::string_view message) { return json{{"error", message}}.dump(); }

void SendError(httplib::Response& res, int status, std::string_view message) {
  res.status = status;
  res.set_content(ErrorBody(message), "application/json");
}

// Keeps up to `limit` rows; then stops the statement (reported as truncated, not failed).
class LimitSink final : public query::RowSink {
 public:
  static constexpr std::string_view kStop = "\x01limit reached";
  LimitSink(query::RowSink& inner, size_t limit) : inner_(inner), limit_(limit) {}
  Status Begin(const std::vector<query::Column>& c) override {
    columns = c;
    return inner_.Begin(c);
  }
  Status Row(const std::vector<Value>& row) override {
    if (rows >= limit_) {
      truncated = true;
      return Status::Error(std::string(kStop));
    }
    ++rows;
    return inner_.Row(row);
  }
  Status End() override { return inner_.End(); }
  std::vector<query::Column> columns;
  size_t rows = 0;
  bool truncated = false;

 private:
  query::RowSink& inner_;
  size_t limit_;
};

// Interrupts the engine's statement after a timeout unless disarmed first.
class Watchdog {
 public:
  Watchdog(Engine& e, std::chrono::seconds timeout) {
    thread_ = std::thread([this, &e, timeout] {
      std::unique_lock<std::mutex> lock(mu_);
      if (!cv_.wait_for(lock, timeout, [&] { return done_; })) {
        fired = true;
        e.Interrupt();
      }
    });
  }
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  std::atomic<bool> fired{false};

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace

SqlConsole::SqlConsole(const ServeOptions& o, ConsistentFn consistent, metrics::Counter* statements,
                       metrics::Counter* errors)
    : opt(o), Consistent(std::move(consistent)), sql_statements(statements), sql_errors(errors) {}

void SqlConsole::Handle(const httplib::Request& req, httplib::Response& res) {
  for (const auto& [k, v] : req.params)
    if (k != "format" && k != "token" && k != "sql" && k != "limit")
      return SendError(res, 400, fmt::format("unknown parameter '{}' (this endpoint takes: sql, format, limit)", k.substr(0, 40)));
  std::string format = req.has_param("format") ? req.get_param_value("format") : "json";
  if (format != "json" && format != "csv")
    return SendError(res, 400, "parameter 'format': expected json or csv");
  size_t limit = format == "csv" ? opt.csv_max_rows : opt.sql_max_rows;
  std::string sql;
  const std::string ctype = req.get_header_value("Content-Type");
  if (ctype.rfind("application/json", 0) == 0) {
    json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("sql") || !body["sql"].is_string())
      return SendError(res, 400, "the body must be a JSON object with a string \"sql\": {\"sql\": \"SELECT ...\"}");
    sql = body["sql"].get<std::string>();
    for (auto& [k, v] : body.items())
      if (k != "sql") return SendError(res, 400, fmt::format("unknown field '{}' in the body (expected only \"sql\")", k.substr(0, 40)));
  } else if (req.has_param("sql")) {
    sql = req.get_param_value("sql");
  } else {
    sql = req.body;
  }
  if (req.has_param("limit")) {
    auto l = ParseLimit(req.params, 1, static_cast<int>(std::min<size_t>(limit, 9999)));
    if (!l.ok()) return SendError(res, 400, l.status().message());
    limit = static_cast<size_t>(*l);
  }
  if (sql.find_first_not_of(" \t\r\n;") == std::string::npos) return SendError(res, 400, "no SQL statement given");
  if (sql.size() > kMaxSqlBytes) return SendError(res, 400, fmt::format("the statement is longer than {} bytes", kMaxSqlBytes));

  const bool csv = format == "csv";
  bool hit = false;
  auto a = Consistent(
      fmt::format("sql|{}|{}|{}", format, limit, sql),
      [&](Engine& e) -> Result<json> {
        std::ostringstream text;
        std::unique_ptr<query::RowSink> writer;
        QueryResult kept;
        if (csv) writer = query::MakeWriter(query::OutputFormat::kCsv, text);
        LimitSink sink(csv ? *writer : static_cast<query::RowSink&>(kept), limit);
        Watchdog dog(e, opt.sql_timeout);
        auto r = e.Execute(sql, sink);
        if (!r.ok() && !(sink.truncated && r.status().message() == LimitSink::kStop)) {
          if (dog.fired) return Status::Errorf("the statement ran longer than {} s and was stopped", opt.sql_timeout.count());
          return r.status();
        }
        if (csv && sink.truncated) writer->End().ok();
        json out = {{"rows_returned", sink.rows}, {"truncated", sink.truncated}, {"seconds", r.ok() ? r->seconds : 0.0}};
        out["notices"] = r.ok() ? json(r->notices) : json::array();
        if (csv) {
          out["csv"] = text.str();
        } else {
          json cols = json::array();
          for (auto& c : sink.columns) cols.push_back({{"name", c.name}, {"type", c.type}, {"numeric", c.numeric}});
          json rows = json::array();
          for (auto& row : kept.rows) {
            json jr = json::array();
            for (auto& v : row) jr.push_back(ToJson(v));
            rows.push_back(std::move(jr));
          }
          out["columns"] = std::move(cols);
          out["rows"] = std::move(rows);
        }
        return out;
      },
      [&](const TableVersion& v, json data) {
        data["version"] = v.ToJson();
        return data;
      },
      !csv, &hit);
  sql_statements->Inc();
  if (a->status != 200) sql_errors->Inc();
  res.set_header("X-Orderlake-Cache", hit ? "hit" : "miss");
  res.set_header("Cache-Control", "no-store");
  if (a->status != 200 || !csv) {
    res.status = a->status;
    res.set_content(a->body, "application/json");
    return;
  }
  json body = json::parse(a->body);
  res.set_header("Content-Disposition", "attachment; filename=\"orderlake-query.csv\"");
  if (body["truncated"].get<bool>()) res.set_header("X-Orderlake-Truncated", fmt::format("first {} rows", limit));
  res.set_content(body["csv"].get<std::string>(), "text/csv; charset=utf-8");
}

}  // namespace orderlake::dashboard
