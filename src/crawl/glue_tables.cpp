// The Glue API's Data Catalog operations: databases, tables and partitions over the catalog.
#include <fmt/format.h>

#include "crawl/glue_internal.h"

namespace orderlake::crawl {
using namespace glue;

namespace {

// The table a request names (DatabaseName + key), or the error to answer.
struct TableRef {
  std::string database, name;
};
std::optional<ApiError> GetTableRef(const json& req, const char* key, TableRef& out) {
  if (auto e = GetName(req, "DatabaseName", out.database, true)) return e;
  return GetName(req, key, out.name, true);
}

std::string DbNotFound(const std::string& db) { return fmt::format("Database {} not found.", db); }
std::string TableNotFound(const TableRef& r) { return fmt::format("Table {} not found.", r.name); }

}  // namespace

namespace {

// The database handlers.
struct Databases {
  GlueApi::Impl& g;

  std::optional<ApiError> Input(const json& req, catalog::Database& d) {
    auto in = req.find("DatabaseInput");
    if (in == req.end() || !in->is_object()) return Invalid("DatabaseInput is required");
    if (auto e = GetName(*in, "Name", d.name, true)) return e;
    if (auto e = GetString(*in, "Description", d.description, false)) return e;
    if (auto e = GetString(*in, "LocationUri", d.location_uri, false, 1024)) return e;
    if (auto e = GetStringMap(*in, "Parameters", d.parameters)) return e;
    if (!d.location_uri.empty())
      if (auto r = g.Resolve(d.location_uri, "LocationUri"); r.index() == 1) return std::get<1>(r);
    return std::nullopt;
  }

  JsonResponse Create(const json& req) {
    catalog::Database d;
    GLUE_TRY(Input(req, d));
    std::lock_guard lk(g.mu);
    auto r = g.cat->CreateDatabase(d);
    if (!r.ok()) return Internal(r.status());
    if (!r.value()) return Error("AlreadyExistsException", "Database already exists.");
    return Ok(json::object());
  }
  JsonResponse Update(const json& req) {
    catalog::Database d;
    std::string name;
    GLUE_TRY(GetName(req, "Name", name, true));
    GLUE_TRY(Input(req, d));
    if (d.name != name) return Error("InvalidInputException", "renaming a database is not supported");
    std::lock_guard lk(g.mu);
    auto r = g.cat->UpdateDatabase(d);
    if (!r.ok()) return Internal(r.status());
    if (!r.value()) return Error("EntityNotFoundException", DbNotFound(name));
    return Ok(json::object());
  }
  JsonResponse Get(const json& req) {
    std::string name;
    GLUE_TRY(GetName(req, "Name", name, true));
    std::lock_guard lk(g.mu);
    auto r = g.cat->GetDatabase(name);
    if (!r.ok()) return Internal(r.status());
    if (!r.value()) return Error("EntityNotFoundException", DbNotFound(name));
    return Ok({{"Database", DatabaseJson(*r.value(), g.opt.account_id)}});
  }
  JsonResponse List(const json& req) {
    Page page;
    GLUE_TRY(GetPage(req, 100, page));
    std::lock_guard lk(g.mu);
    auto names = g.cat->Databases();
    if (!names.ok()) return Internal(names.status());
    json list = json::array();
    for (size_t i = page.offset; i < names->size() && i < page.offset + page.limit; ++i) {
      auto d = g.cat->GetDatabase((*names)[i]);
      if (!d.ok()) return Internal(d.status());
      if (d.value()) list.push_back(DatabaseJson(*d.value(), g.opt.account_id));
    }
    json body{{"DatabaseList", list}};
    SetNextToken(body, page, names->size());
    return Ok(body);
  }
  JsonResponse Delete(const json& req) {
    std::string name;
    GLUE_TRY(GetName(req, "Name", name, true));
    std::lock_guard lk(g.mu);
    auto r = g.cat->DropDatabase(name);
    if (!r.ok()) return Internal(r.status());
    if (!r.value()) return Error("EntityNotFoundException", DbNotFound(name));
    return Ok(json::object());
  }
};

// The table handlers.
struct Tables {
  GlueApi::Impl& g;

  JsonResponse Put(const json& req, bool create) {
    std::string db;
    GLUE_TRY(GetName(req, "DatabaseName", db, true));
    auto in = TableFromInput(req.value("TableInput", json()), db);
    if (auto* e = std::get_if<ApiError>(&in)) return Fail(*e);
    auto& [t, info] = std::get<0>(in);
    if (!t.location.empty())
      if (auto r = g.Resolve(t.location, "StorageDescriptor.Location"); r.index() == 1) return Fail(std::get<1>(r));
    std::lock_guard lk(g.mu);
    auto d = g.cat->GetDatabase(db);
    if (!d.ok()) return Internal(d.status());
    if (!d.value()) return Error("EntityNotFoundException", DbNotFound(db));
    auto old = g.cat->GetTable(db, t.name);
    if (!old.ok()) return Internal(old.status());
    if (create && old.value()) return Error("AlreadyExistsException", "Table already exists.");
    if (!create && !old.value()) return Error("EntityNotFoundException", TableNotFound({db, t.name}));
    if (Status st = g.cat->PutTable(t, info); !st.ok()) return Internal(st);
    return Ok(json::object());
  }
  JsonResponse Get(const json& req) {
    TableRef r;
    GLUE_TRY(GetTableRef(req, "Name", r));
    std::lock_guard lk(g.mu);
    auto t = g.cat->GetTable(r.database, r.name);
    auto i = g.cat->GetTableInfo(r.database, r.name);
    if (!t.ok() || !i.ok()) return Internal(t.ok() ? i.status() : t.status());
    if (!t.value() || !i.value()) return Error("EntityNotFoundException", TableNotFound(r));
    return Ok({{"Table", TableJson(*t.value(), *i.value(), g.opt.account_id)}});
  }
  JsonResponse List(const json& req) {
    std::string db, expr;
    Page page;
    GLUE_TRY(GetName(req, "DatabaseName", db, true));
    GLUE_TRY(GetString(req, "Expression", expr, false, 2048));
    GLUE_TRY(GetPage(req, 100, page));
    std::lock_guard lk(g.mu);
    auto d = g.cat->GetDatabase(db);
    if (!d.ok()) return Internal(d.status());
    if (!d.value()) return Error("EntityNotFoundException", DbNotFound(db));
    auto names = g.cat->Tables(db);
    if (!names.ok()) return Internal(names.status());
    std::vector<std::string> matched;
    for (auto& n : *names)
      if (expr.empty() || NameMatches(expr, n)) matched.push_back(std::move(n));
    json list = json::array();
    for (size_t k = page.offset; k < matched.size() && k < page.offset + page.limit; ++k) {
      auto t = g.cat->GetTable(db, matched[k]);
      auto i = g.cat->GetTableInfo(db, matched[k]);
      if (!t.ok() || !i.ok()) return Internal(t.ok() ? i.status() : t.status());
      if (t.value() && i.value()) list.push_back(TableJson(*t.value(), *i.value(), g.opt.account_id));
    }
    json body{{"TableList", list}};
    SetNextToken(body, page, matched.size());
    return Ok(body);
  }
  JsonResponse Delete(const json& req) {
    TableRef r;
    GLUE_TRY(GetTableRef(req, "Name", r));
    std::lock_guard lk(g.mu);
    auto n = g.cat->DropTable(r.database, r.name);
    if (!n.ok()) return Internal(n.status());
    if (!n.value()) return Error("EntityNotFoundException", TableNotFound(r));
    return Ok(json::object());
  }
  JsonResponse BatchDelete(const json& req) {
    std::string db;
    const json* names = nullptr;
    GLUE_TRY(GetName(req, "DatabaseName", db, true));
    GLUE_TRY(GetList(req, "TablesToDelete", 100, names));
    json errors = json::array();
    std::lock_guard lk(g.mu);
    for (const auto& n : *names) {
      std::string name = n.is_string() ? n.get<std::string>() : "";
      if (auto e = CheckName("TablesToDelete", name, true)) {
        errors.push_back({{"TableName", name}, {"ErrorDetail", ErrorDetail(e->type, e->message)}});
        continue;
      }
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      auto r = g.cat->DropTable(db, name);
      if (!r.ok()) return Internal(r.status());
      if (!r.value())
        errors.push_back({{"TableName", name},
                          {"ErrorDetail", ErrorDetail("EntityNotFoundException", TableNotFound({db, name}))}});
    }
    return Ok({{"Errors", errors}});
  }
};

}  // namespace

void RegisterPartitions(GlueApi::Impl& g);  // glue_partitions.cpp

void GlueApi::Impl::RegisterCatalog() {
  auto dbs = std::make_shared<Databases>(Databases{*this});
  auto tables = std::make_shared<Tables>(Tables{*this});
  service.Add("CreateDatabase", [dbs](const json& r, const aws::JsonCall&) { return dbs->Create(r); });
  service.Add("GetDatabase", [dbs](const json& r, const aws::JsonCall&) { return dbs->Get(r); });
  service.Add("GetDatabases", [dbs](const json& r, const aws::JsonCall&) { return dbs->List(r); });
  service.Add("UpdateDatabase", [dbs](const json& r, const aws::JsonCall&) { return dbs->Update(r); });
  service.Add("DeleteDatabase", [dbs](const json& r, const aws::JsonCall&) { return dbs->Delete(r); });
  service.Add("CreateTable", [tables](const json& r, const aws::JsonCall&) { return tables->Put(r, true); });
  service.Add("UpdateTable", [tables](const json& r, const aws::JsonCall&) { return tables->Put(r, false); });
  service.Add("GetTable", [tables](const json& r, const aws::JsonCall&) { return tables->Get(r); });
  service.Add("GetTables", [tables](const json& r, const aws::JsonCall&) { return tables->List(r); });
  service.Add("DeleteTable", [tables](const json& r, const aws::JsonCall&) { return tables->Delete(r); });
  service.Add("BatchDeleteTable", [tables](const json& r, const aws::JsonCall&) { return tables->BatchDelete(r); });
  RegisterPartitions(*this);
}

}  // namespace orderlake::crawl
