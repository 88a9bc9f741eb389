#include "dashboard/console.h"

#include <httplib.h>

#include <algorithm>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/metrics.h"
#include "dashboard/endpoints.h"

namespace orderlake::dashboard {
namespace {
using json = nlohmann::json;

std::string ErrorBody(std::string_view message) { return json{{"error", message}}.dump(); }

void SendError(httplib::Response& res, int status, std::string_view message) {
  res.status = status;
  res.set_content(ErrorBody(message), "application/json");
}

}  // namespace

SqlConsole::SqlConsole(const ServeOptions& opt, std::function<TableVersion()> current, metrics::Counter* statements,
                       metrics::Counter* errors)
    : opt_(opt), current_(std::move(current)), statements_(statements), errors_(errors) {}

Result<std::unique_ptr<SqlConsole>> SqlConsole::Create(const ServeOptions& opt, std::function<TableVersion()> current,
                                                       metrics::Counter* statements,
                                                       metrics::Counter* errors) {
  query::IsolatedOptions io;
  io.lake = opt.lake;
  io.executable = opt.sql_worker;
  io.timeout = opt.sql_timeout;
  io.memory_mb = opt.sql_memory_mb;
  io.workers = opt.sql_workers;
  io.threads = opt.sql_threads;
  io.max_result_bytes = opt.sql_result_mb << 20;
  auto ex = query::IsolatedExecutor::Create(io);
  if (!ex.ok()) return ex.status();
  std::unique_ptr<SqlConsole> c(new SqlConsole(opt, std::move(current), statements, errors));
  c->executor_ = std::move(ex).value();
  return c;
}

bool SqlConsole::Enter(const std::string& client) {
  std::lock_guard<std::mutex> lock(clients_mu_);
  int& n = clients_[client];
  if (n >= opt_.sql_per_client) return false;
  ++n;
  return true;
}

void SqlConsole::Leave(const std::string& client) {
  std::lock_guard<std::mutex> lock(clients_mu_);
  if (--clients_[client] <= 0) clients_.erase(client);
}

SqlConsole::Reply SqlConsole::Answered(const std::string& sql, const std::string& format, size_t limit) {
  const bool csv = format == "csv";
  const TableVersion v = current_();
  auto r = executor_->Run(sql, limit, csv);
  if (!r.ok()) {
    const std::string& m = r.status().message();
    return Reply{m.rfind(query::kBusyPrefix, 0) == 0 ? 503 : 400, ErrorBody(m), false};
  }
  if (csv) return Reply{200, std::move(r->csv), r->truncated};
  json out = {{"columns", std::move(r->columns)}, {"rows", std::move(r->rows)}, {"rows_returned", r->rows_returned},
              {"truncated", r->truncated},         {"seconds", r->seconds},      {"notices", r->notices},
              {"version", v.ToJson()}};
  return Reply{200, out.dump(-1, ' ', false, json::error_handler_t::replace), r->truncated};
}

void SqlConsole::Handle(const httplib::Request& req, httplib::Response& res) {
  for (const auto& [k, v] : req.params)
    if (k != "format" && k != "token" && k != "sql" && k != "limit")
      return SendError(res, 400, fmt::format("unknown parameter '{}' (this endpoint takes: sql, format, limit)", k.substr(0, 40)));
  std::string format = req.has_param("format") ? req.get_param_value("format") : "json";
  if (format != "json" && format != "csv")
    return SendError(res, 400, "parameter 'format': expected json or csv");
  size_t limit = format == "csv" ? opt_.csv_max_rows : opt_.sql_max_rows;
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

  // One client's statements at once: beyond sql_per_client, 429 (before any work).
  const std::string client = req.remote_addr;
  if (!Enter(client)) {
    res.set_header("Retry-After", "1");
    return SendError(res, 429,
                     fmt::format("too many statements at once from {}: at most {} run at a time (--sql-per-client); "
                                 "wait for one to finish",
                                 client, opt_.sql_per_client));
  }
  Reply a;
  try {
    a = Answered(sql, format, limit);
  } catch (...) {
    Leave(client);
    throw;
  }
  Leave(client);
  statements_->Inc();
  if (a.status != 200) errors_->Inc();
  if (a.status == 503) res.set_header("Retry-After", "1");
  res.set_header("X-Orderlake-Cache", "miss");  // every statement runs (nothing is kept)
  res.set_header("Cache-Control", "no-store");
  res.status = a.status;
  if (a.status != 200 || format != "csv") return res.set_content(a.body, "application/json");
  res.set_header("Content-Disposition", "attachment; filename=\"orderlake-query.csv\"");
  if (a.truncated) res.set_header("X-Orderlake-Truncated", fmt::format("first {} rows", limit));
  res.set_content(a.body, "text/csv; charset=utf-8");
}

}  // namespace orderlake::dashboard
