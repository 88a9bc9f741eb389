#include "dashboard/endpoints.h"

#include <cmath>
#include <memory>

#include <fmt/format.h>

#include "dashboard/cube.h"
#include "etl/runs.h"
#include "query/script.h"
#include "store/object_store.h"

namespace orderlake::dashboard {
namespace fs = std::filesystem;
using json = nlohmann::json;
using query::Engine;
using query::QueryResult;
using query::Value;

namespace {

// Rows as objects keyed by column name.
json Objects(const QueryResult& r) {
  json out = json::array();
  for (const auto& row : r.rows) {
    json o = json::object();
    for (size_t c = 0; c < r.columns.size() && c < row.size(); ++c) o[r.columns[c].name] = query::ToJson(row[c]);
    out.push_back(std::move(o));
  }
  return out;
}

Result<QueryResult> Run(Engine& e, const std::string& sql) {
  auto r = e.Execute(sql);
  if (!r.ok()) return Status::Errorf("query failed: {} [SQL: {}]", r.status().message(), query::OneLine(sql, 400));
  return std::move(r).value();
}

// Every choice the filters offer, in one scan; the lists come back as JSON text.
Result<json> FilterChoices(Engine& e) {
  auto r = Run(e, "SELECT CAST(to_json(coalesce(list(DISTINCT Country ORDER BY Country) FILTER "
                  "(WHERE Country IS NOT NULL), [])) AS VARCHAR) AS countries, "
                  "CAST(to_json(coalesce(list(DISTINCT Region ORDER BY Region) FILTER "
                  "(WHERE Region IS NOT NULL), [])) AS VARCHAR) AS regions, "
                  "CAST(min(InvoiceDateOnly) AS VARCHAR) AS date_min, "
                  "CAST(max(InvoiceDateOnly) AS VARCHAR) AS date_max FROM orders");
  if (!r.ok()) return r.status();
  json o = Objects(*r).at(0);
  for (const char* k : {"countries", "regions"}) {
    json list = o[k].is_string() ? json::parse(o[k].get<std::string>(), nullptr, false) : json();
    o[k] = list.is_array() ? list : json::array();
  }
  return o;
}

// What the etl's published runs say about the data's quality (not affected by the filters):
// the roll-up of older runs plus the recent run records (etl/runs.h), read incrementally.
Result<json> Quality(const fs::path& lake, etl::RunTotalsReader& reader) {
  auto store = store::OpenLocal(lake.string());
  auto t = reader.Totals(store.get());
  if (!t.ok()) return t.status();
  return etl::QualityJson(t.value());
}

}  // namespace

Result<int> ParseLimit(const Params& p, int def, int max) {
  auto it = p.find("limit");
  if (it == p.end()) return def;
  const std::string& s = it->second;
  if (s.empty() || s.size() > 4 || s.find_first_not_of("0123456789") != std::string::npos)
    return Status::Errorf("parameter 'limit': '{}' is not a whole number from 1 to {}", s.substr(0, 20), max);
  int v = std::stoi(s);
  if (v < 1 || v > max) return Status::Errorf("parameter 'limit': {} is out of range (1 to {})", v, max);
  return v;
}

Result<bool> ParseSourceIsTable(const Params& p) {
  auto it = p.find("source");
  if (it == p.end() || it->second == "cube") return false;
  if (it->second == "table") return true;
  return Status::Errorf("parameter 'source': '{}' is neither 'cube' (the default: kept aggregates) nor 'table' (SQL over the table)",
                        it->second.substr(0, 40));
}

std::vector<Endpoint> MakeEndpoints(const fs::path& lake) {
  std::vector<Endpoint> eps;
  eps.push_back({"summary", {}, true, [](Engine& e, const Filters& f, const Params&) -> Result<json> {
                   auto r = Run(e, fmt::format(
                                       "SELECT count(*) AS orders, coalesce(sum(TotalAmountUSD), 0) AS revenue_usd, "
                                       "avg(TotalAmountUSD) AS avg_order_value_usd, "
                                       "count(*) FILTER (WHERE OrderTag = 'High') AS high_orders FROM orders WHERE {}",
                                       f.Where()));
                   if (!r.ok()) return r.status();
                   json o = Objects(*r).at(0);
                   int64_t n = o["orders"].get<int64_t>();
                   o["high_share"] = n ? json(static_cast<double>(o["high_orders"].get<int64_t>()) / static_cast<double>(n))
                                       : json(nullptr);
                   return o;
                 }});
  eps.push_back({"daily", {}, true, [](Engine& e, const Filters& f, const Params&) -> Result<json> {
                   auto r = Run(e, fmt::format("SELECT CAST(InvoiceDateOnly AS VARCHAR) AS date, count(*) AS orders, "
                                               "sum(TotalAmountUSD) AS revenue_usd FROM orders WHERE {} "
                                               "GROUP BY InvoiceDateOnly ORDER BY InvoiceDateOnly",
                                               f.Where()));
                   if (!r.ok()) return r.status();
                   return Objects(*r);
                 }});
  eps.push_back({"heatmap", {}, true, [](Engine& e, const Filters& f, const Params&) -> Result<json> {
                   auto r = Run(e, fmt::format("SELECT Region AS region, InvoiceHour AS hour, count(*) AS orders "
                                               "FROM orders WHERE {} GROUP BY Region, InvoiceHour ORDER BY Region, InvoiceHour",
                                               f.Where()));
                   if (!r.ok()) return r.status();
                   return Objects(*r);
                 }});
  eps.push_back({"hourly", {}, true, [](Engine& e, const Filters& f, const Params&) -> Result<json> {
                   auto r = Run(e, fmt::format("SELECT InvoiceHour AS hour, count(*) AS orders, sum(TotalAmountUSD) AS "
                                               "revenue_usd FROM orders WHERE {} GROUP BY InvoiceHour ORDER BY InvoiceHour",
                                               f.Where()));
                   if (!r.ok()) return r.status();
                   return Objects(*r);
                 }});
  eps.push_back({"top-orders", {"limit"}, true, [](Engine& e, const Filters& f, const Params& p) -> Result<json> {
                   auto limit = ParseLimit(p, 10, 100);
                   if (!limit.ok()) return limit.status();
                   auto r = Run(e, fmt::format("SELECT OrderID, InvoiceNo, StockCode, Description, CustomerID, Country, "
                                               "CAST(InvoiceDateOnly AS VARCHAR) AS InvoiceDateOnly, Quantity, UnitPrice, "
                                               "TotalAmount, TotalAmountUSD FROM orders WHERE {} "
                                               "ORDER BY TotalAmountUSD DESC, OrderID LIMIT {}",
                                               f.Where({"OrderTag = 'High'"}), *limit));
                   if (!r.ok()) return r.status();
                   return Objects(*r);
                 }});
  eps.push_back({"aov-by-country", {}, true, [](Engine& e, const Filters& f, const Params&) -> Result<json> {
                   auto r = Run(e, fmt::format("SELECT Country AS country, count(*) AS orders, avg(TotalAmountUSD) AS "
                                               "avg_order_value_usd FROM orders WHERE {} GROUP BY Country "
                                               "ORDER BY avg_order_value_usd DESC, Country",
                                               f.Where()));
                   if (!r.ok()) return r.status();
                   return Objects(*r);
                 }});
  eps.push_back({"filters", {}, false, [](Engine& e, const Filters&, const Params&) { return FilterChoices(e); }});
  auto runs = std::make_shared<etl::RunTotalsReader>("orders");
  eps.push_back({"quality", {}, false,
                 [lake, runs](Engine&, const Filters&, const Params&) { return Quality(lake, *runs); }});
  for (auto& ep : eps) {
    ep.cube = Cube::Answers(ep.name);
    if (ep.cube) ep.extra.insert("source");
  }
  return eps;
}


}  // namespace orderlake::dashboard
