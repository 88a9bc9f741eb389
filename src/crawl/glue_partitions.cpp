// The Glue API's partition operations: Create/BatchCreate/Get/GetPartitions/BatchGet/
// Delete/BatchDelete over the catalog's partitions.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "crawl/glue_internal.h"

namespace orderlake::crawl {
using namespace glue;

namespace {

struct Partitions {
  GlueApi::Impl& g;

  // The table a request names (DatabaseName, TableName), read under g.mu.
  std::variant<catalog::Table, JsonResponse> Load(const json& req) {
    std::string db, name;
    if (auto e = GetName(req, "DatabaseName", db, true)) return Fail(*e);
    if (auto e = GetName(req, "TableName", name, true)) return Fail(*e);
    auto t = g.cat->GetTable(db, name);
    if (!t.ok()) return Internal(t.status());
    if (!t.value()) return Error("EntityNotFoundException", fmt::format("Table {} not found.", name));
    return *t.value();
  }

  // A PartitionInput checked against the table, its location through the Buckets policy.
  Api<catalog::Partition> Input(const json& in, const catalog::Table& t) {
    auto p = PartitionFromInput(in, t);
    if (auto* e = std::get_if<ApiError>(&p)) return *e;
    const auto& part = std::get<0>(p);
    if (!part.location.empty())
      if (auto r = g.Resolve(part.location, "StorageDescriptor.Location"); r.index() == 1) return std::get<1>(r);
    return p;
  }

  JsonResponse Create(const json& req) {
    std::lock_guard lk(g.mu);
    auto t = Load(req);
    if (auto* r = std::get_if<JsonResponse>(&t)) return *r;
    auto p = Input(req.value("PartitionInput", json()), std::get<0>(t));
    if (auto* e = std::get_if<ApiError>(&p)) return Fail(*e);
    const auto& tbl = std::get<0>(t);
    auto n = g.cat->AddPartitions(tbl.database, tbl.name, {std::get<0>(p)});
    if (!n.ok()) return Internal(n.status());
    if (n.value() == 0) return Error("AlreadyExistsException", "Partition already exists.");
    return Ok(json::object());
  }

  JsonResponse BatchCreate(const json& req) {
    const json* list = nullptr;
    GLUE_TRY(GetList(req, "PartitionInputList", 100, list));
    std::lock_guard lk(g.mu);
    auto t = Load(req);
    if (auto* r = std::get_if<JsonResponse>(&t)) return *r;
    const auto& tbl = std::get<0>(t);
    json errors = json::array();
    std::vector<catalog::Partition> good;
    std::vector<json> good_values;
    for (const auto& in : *list) {
      auto p = Input(in, tbl);
      if (auto* e = std::get_if<ApiError>(&p)) {
        errors.push_back({{"PartitionValues", in.is_object() ? in.value("Values", json::array()) : json::array()},
                          {"ErrorDetail", ErrorDetail(e->type, e->message)}});
        continue;
      }
      good.push_back(std::get<0>(std::move(p)));
    }
    auto existing = g.cat->Partitions(tbl.database, tbl.name);
    if (!existing.ok()) return Internal(existing.status());
    std::set<std::vector<std::string>> have;
    for (const auto& p : *existing) have.insert(p.values);
    std::vector<catalog::Partition> add;
    for (auto& p : good) {
      if (!have.insert(p.values).second) {
        errors.push_back({{"PartitionValues", p.values},
                          {"ErrorDetail", ErrorDetail("AlreadyExistsException", "Partition already exists.")}});
        continue;
      }
      add.push_back(std::move(p));
    }
    auto n = g.cat->AddPartitions(tbl.database, tbl.name, add);
    if (!n.ok()) return Internal(n.status());
    return Ok({{"Errors", errors}});
  }

  JsonResponse Get(const json& req) {
    std::vector<std::string> values;
    GLUE_TRY(GetValues(req, "PartitionValues", values));
    std::lock_guard lk(g.mu);
    auto t = Load(req);
    if (auto* r = std::get_if<JsonResponse>(&t)) return *r;
    const auto& tbl = std::get<0>(t);
    auto parts = g.cat->FindPartitions(tbl.database, tbl.name, {values});
    if (!parts.ok()) return Internal(parts.status());
    if (!parts->empty()) return Ok({{"Partition", PartitionJson(tbl, parts->front(), g.opt.account_id)}});
    return Error("EntityNotFoundException", "Cannot find partition.");
  }

  JsonResponse List(const json& req) {
    std::string expr;
    Page page;
    GLUE_TRY(GetString(req, "Expression", expr, false, 2048));
    GLUE_TRY(GetPage(req, 1000, page));
    std::lock_guard lk(g.mu);
    auto t = Load(req);
    if (auto* r = std::get_if<JsonResponse>(&t)) return *r;
    const auto& tbl = std::get<0>(t);
    std::shared_ptr<PartitionFilter> filter;
    if (!expr.empty()) {
      auto f = PartitionFilter::Parse(expr, tbl.partition_keys);
      if (auto* e = std::get_if<ApiError>(&f)) return Fail(*e);
      filter = std::get<0>(f);
    }
    auto parts = g.cat->Partitions(tbl.database, tbl.name);
    if (!parts.ok()) return Internal(parts.status());
    json list = json::array();
    size_t matched = 0;
    for (const auto& p : *parts) {
      if (filter && !filter->Matches(p.values)) continue;
      if (matched >= page.offset && matched < page.offset + page.limit)
        list.push_back(PartitionJson(tbl, p, g.opt.account_id));
      ++matched;
    }
    json body{{"Partitions", list}};
    SetNextToken(body, page, matched);
    return Ok(body);
  }

  JsonResponse BatchGet(const json& req) {
    const json* keys = nullptr;
    GLUE_TRY(GetList(req, "PartitionsToGet", 1000, keys));
    std::vector<std::vector<std::string>> wanted;
    for (const auto& k : *keys) {
      std::vector<std::string> v;
      if (!k.is_object()) return Error("InvalidInputException", "PartitionsToGet must be PartitionValueList objects");
      GLUE_TRY(GetValues(k, "Values", v));
      wanted.push_back(std::move(v));
    }
    std::lock_guard lk(g.mu);
    auto t = Load(req);
    if (auto* r = std::get_if<JsonResponse>(&t)) return *r;
    const auto& tbl = std::get<0>(t);
    auto parts = g.cat->FindPartitions(tbl.database, tbl.name, wanted);
    if (!parts.ok()) return Internal(parts.status());
    json list = json::array();
    for (const auto& p : *parts) list.push_back(PartitionJson(tbl, p, g.opt.account_id));
    return Ok({{"Partitions", list}, {"UnprocessedKeys", json::array()}});
  }

  JsonResponse Delete(const json& req, bool batch) {
    std::vector<std::vector<std::string>> values;
    if (batch) {
      const json* keys = nullptr;
      GLUE_TRY(GetList(req, "PartitionsToDelete", 25, keys));
      for (const auto& k : *keys) {
        std::vector<std::string> v;
        if (!k.is_object()) return Error("InvalidInputException", "PartitionsToDelete must be PartitionValueList objects");
        GLUE_TRY(GetValues(k, "Values", v));
        values.push_back(std::move(v));
      }
    } else {
      values.emplace_back();
      GLUE_TRY(GetValues(req, "PartitionValues", values.back()));
    }
    std::lock_guard lk(g.mu);
    auto t = Load(req);
    if (auto* r = std::get_if<JsonResponse>(&t)) return *r;
    const auto& tbl = std::get<0>(t);
    json errors = json::array();
    for (const auto& v : values) {  // one by one: the answer names those that were not there
      auto n = g.cat->DropPartitions(tbl.database, tbl.name, {v});
      if (!n.ok()) return Internal(n.status());
      if (n.value() > 0) continue;
      if (!batch) return Error("EntityNotFoundException", "Cannot find partition.");
      errors.push_back(
          {{"PartitionValues", v}, {"ErrorDetail", ErrorDetail("EntityNotFoundException", "Cannot find partition.")}});
    }
    return batch ? Ok({{"Errors", errors}}) : Ok(json::object());
  }
};

}  // namespace

void RegisterPartitions(GlueApi::Impl& g) {
  auto p = std::make_shared<Partitions>(Partitions{g});
  auto& s = g.service;
  s.Add("CreatePartition", [p](const json& r, const aws::JsonCall&) { return p->Create(r); });
  s.Add("BatchCreatePartition", [p](const json& r, const aws::JsonCall&) { return p->BatchCreate(r); });
  s.Add("GetPartition", [p](const json& r, const aws::JsonCall&) { return p->Get(r); });
  s.Add("GetPartitions", [p](const json& r, const aws::JsonCall&) { return p->List(r); });
  s.Add("BatchGetPartition", [p](const json& r, const aws::JsonCall&) { return p->BatchGet(r); });
  s.Add("DeletePartition", [p](const json& r, const aws::JsonCall&) { return p->Delete(r, false); });
  s.Add("BatchDeletePartition", [p](const json& r, const aws::JsonCall&) { return p->Delete(r, true); });
}

}  // namespace orderlake::crawl
