// Named queries (CreateNamedQuery, GetNamedQuery, ListNamedQueries, DeleteNamedQuery,
// BatchGetNamedQuery), kept in <data-dir>/athena/named_queries.json (written atomically at
// every change, at most max_named_queries). A new data directory starts with the seed's six
// queries: the first six statements of sql/queries.sql, built into the binary.
#include <mutex>

#include <fmt/format.h>

#include "core/fs.h"
#include "query/athena_internal.h"
#include "query/script.h"

#ifndef ORDERLAKE_SQL_FILE
#error "ORDERLAKE_SQL_FILE must be defined (CMakeLists.txt, the Athena API's named queries)"
#endif

// The bytes of sql/queries.sql, by the assembler's .incbin (as dashboard/assets.cpp does).
__asm__(".section .rodata\n"
        ".global orderlake_athena_queries_sql_begin\n"
        ".balign 16\n"
        "orderlake_athena_queries_sql_begin:\n"
        ".incbin \"" ORDERLAKE_SQL_FILE "\"\n"
        ".global orderlake_athena_queries_sql_end\n"
        "orderlake_athena_queries_sql_end:\n"
        ".byte 0\n"
        ".previous\n");
extern "C" const char orderlake_athena_queries_sql_begin[];
extern "C" const char orderlake_athena_queries_sql_end[];

namespace orderlake::query::athena {

namespace {
constexpr size_t kMaxNamedQueries = 1000;
constexpr size_t kSeedQueries = 6;
}  // namespace

struct NamedQueries {
  std::filesystem::path file;
  std::mutex mu;
  json queries = json::array();  // [{NamedQueryId, Name, Description, Database, QueryString, WorkGroup}]

  Status Save() { return orderlake::fs::write_file_atomic(file, json{{"NamedQueries", queries}}.dump(1)); }
  const json* Find(const std::string& id) const {
    for (const auto& q : queries)
      if (q.at("NamedQueryId") == id) return &q;
    return nullptr;
  }
};

Result<std::shared_ptr<NamedQueries>> OpenNamedQueries(const AthenaApiOptions& options) {
  auto n = std::make_shared<NamedQueries>();
  n->file = options.data_dir / "athena" / "named_queries.json";
  std::error_code ec;
  if (std::filesystem::exists(n->file, ec)) {
    auto text = orderlake::fs::read_file(n->file);
    if (!text.ok()) return text.status();
    json j = json::parse(*text, nullptr, false);
    if (!j.is_object() || !j.contains("NamedQueries") || !j["NamedQueries"].is_array())
      return Status::Errorf("{} is not a named-query file of orderlake: move it away", n->file.string());
    n->queries = j["NamedQueries"];
    return n;
  }
  const std::string_view sql(orderlake_athena_queries_sql_begin,
                             static_cast<size_t>(orderlake_athena_queries_sql_end - orderlake_athena_queries_sql_begin));
  auto statements = ScriptStatements(sql);
  for (size_t i = 0; i < statements.size() && i < kSeedQueries; ++i) {
    const auto& s = statements[i];
    n->queries.push_back({{"NamedQueryId", NewId()}, {"Name", s.title.empty() ? fmt::format("query {}", i + 1) : s.title},
                          {"Description", "A sample query of the original project (sql/queries.sql)"},
                          {"Database", "default"}, {"QueryString", s.sql}, {"WorkGroup", "primary"}});
  }
  ORDERLAKE_RETURN_IF_ERROR(orderlake::fs::create_directories(n->file.parent_path()));
  ORDERLAKE_RETURN_IF_ERROR(n->Save());
  return n;
}

void AddNamedQueryOperations(aws::JsonService& service, std::shared_ptr<NamedQueries> named) {
  service.Add("CreateNamedQuery", [named](const json& req, const aws::JsonCall&) {
    std::string err;
    auto name = OptString(req, "Name", 128, &err);
    auto database = OptString(req, "Database", 255, &err);
    auto query = OptString(req, "QueryString", 262144, &err);
    auto description = OptString(req, "Description", 1024, &err);
    auto workgroup = OptString(req, "WorkGroup", 128, &err);
    if (err.empty() && (!name || !database || !query || name->empty() || query->empty()))
      err = "Name, Database and QueryString are required";
    if (err.empty() && workgroup && *workgroup != "primary") err = fmt::format("WorkGroup {} is not found", *workgroup);
    if (!err.empty()) return ErrorResponse(Invalid(err));
    std::lock_guard<std::mutex> lock(named->mu);
    if (named->queries.size() >= kMaxNamedQueries)
      return ErrorResponse(Invalid(fmt::format("at most {} named queries: delete some first", kMaxNamedQueries)));
    const std::string id = NewId();
    named->queries.push_back({{"NamedQueryId", id}, {"Name", *name}, {"Description", description.value_or("")},
                              {"Database", *database}, {"QueryString", *query}, {"WorkGroup", "primary"}});
    if (Status st = named->Save(); !st.ok()) {
      named->queries.erase(named->queries.end() - 1);
      return ErrorResponse({500, "InternalServerException", st.message(), ""});
    }
    return aws::JsonResponse{200, json{{"NamedQueryId", id}}.dump()};
  });
  service.Add("GetNamedQuery", [named](const json& req, const aws::JsonCall&) {
    std::string err;
    auto id = OptString(req, "NamedQueryId", 128, &err);
    if (!err.empty() || !id) return ErrorResponse(Invalid(err.empty() ? "NamedQueryId is required" : err));
    std::lock_guard<std::mutex> lock(named->mu);
    const json* q = named->Find(*id);
    if (!q) return ErrorResponse(Invalid(fmt::format("NamedQuery {} was not found", *id)));
    return aws::JsonResponse{200, json{{"NamedQuery", *q}}.dump()};
  });
  service.Add("DeleteNamedQuery", [named](const json& req, const aws::JsonCall&) {
    std::string err;
    auto id = OptString(req, "NamedQueryId", 128, &err);
    if (!err.empty() || !id) return ErrorResponse(Invalid(err.empty() ? "NamedQueryId is required" : err));
    std::lock_guard<std::mutex> lock(named->mu);
    for (auto it = named->queries.begin(); it != named->queries.end(); ++it)
      if ((*it)["NamedQueryId"] == *id) {
        named->queries.erase(it);
        if (Status st = named->Save(); !st.ok()) return ErrorResponse({500, "InternalServerException", st.message(), ""});
        return aws::JsonResponse{200, "{}"};
      }
    return ErrorResponse(Invalid(fmt::format("NamedQuery {} was not found", *id)));
  });
  service.Add("ListNamedQueries", [named](const json& req, const aws::JsonCall&) {
    std::string err;
    const int max = MaxResults(req, 50, 50, &err);
    auto token = OptString(req, "NextToken", 1024, &err);
    if (!err.empty()) return ErrorResponse(Invalid(err));
    size_t start = 0;
    if (token && (std::sscanf(token->c_str(), "%zu", &start) != 1)) return ErrorResponse(Invalid("NextToken is not valid"));
    std::lock_guard<std::mutex> lock(named->mu);
    json out = {{"NamedQueryIds", json::array()}};
    for (size_t i = start; i < named->queries.size(); ++i) {
      if (out["NamedQueryIds"].size() == static_cast<size_t>(max)) {
        out["NextToken"] = std::to_string(i);
        break;
      }
      out["NamedQueryIds"].push_back(named->queries[i]["NamedQueryId"]);
    }
    return aws::JsonResponse{200, out.dump()};
  });
  service.Add("BatchGetNamedQuery", [named](const json& req, const aws::JsonCall&) {
    if (!req.contains("NamedQueryIds") || !req["NamedQueryIds"].is_array() || req["NamedQueryIds"].empty() ||
        req["NamedQueryIds"].size() > 50)
      return ErrorResponse(Invalid("NamedQueryIds must list 1 to 50 ids"));
    std::lock_guard<std::mutex> lock(named->mu);
    json out = {{"NamedQueries", json::array()}, {"UnprocessedNamedQueryIds", json::array()}};
    for (const auto& id : req["NamedQueryIds"]) {
      const std::string s = id.is_string() ? id.get<std::string>() : id.dump();
      if (const json* q = named->Find(s)) out["NamedQueries"].push_back(*q);
      else out["UnprocessedNamedQueryIds"].push_back(
          {{"NamedQueryId", s}, {"ErrorCode", "INVALID_INPUT"}, {"ErrorMessage", "NamedQuery " + s + " was not found"}});
    }
    return aws::JsonResponse{200, out.dump()};
  });
}

}  // namespace orderlake::query::athena
