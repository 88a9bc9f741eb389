// Athena's metadata operations over the Data Catalog: GetWorkGroup/ListWorkGroups (the one
// work group `primary`), ListDataCatalogs/GetDataCatalog (AwsDataCatalog), ListDatabases,
// GetDatabase, ListTableMetadata, GetTableMetadata (every catalog table, and the lake's own
// `orders` and `tbsm_red_transformed` in `default` while the lake exists and the catalog has
// no table of that name).
#include <fmt/format.h>

#include "catalog/catalog.h"
#include "query/athena_internal.h"
#include "query/engine_util.h"

namespace orderlake::query::athena {
namespace {

constexpr const char* kCatalog = "AwsDataCatalog";
const json kEngine = {{"SelectedEngineVersion", "AUTO"}, {"EffectiveEngineVersion", "Athena engine version 3"}};

aws::JsonResponse Ok(const json& j) { return {200, j.dump()}; }
aws::JsonResponse Metadata(const std::string& m) { return ErrorResponse({400, "MetadataException", m, ""}); }

json Columns(const std::vector<catalog::Column>& cols) {
  json out = json::array();
  for (const auto& c : cols) out.push_back({{"Name", c.name}, {"Type", c.type}});
  return out;
}

json TableShape(const catalog::Table& t, const std::string& location) {
  const bool parquet = t.format == "parquet";
  json params = {{"EXTERNAL", "TRUE"},
                 {"classification", t.format},
                 {"location", location},
                 {"inputformat", parquet ? "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
                                         : "org.apache.hadoop.mapred.TextInputFormat"},
                 {"outputformat", parquet ? "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
                                          : "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"},
                 {"serde.serialization.lib",
                  parquet ? "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
                          : t.format == "json" ? "org.openx.data.jsonserde.JsonSerDe"
                                               : "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"}};
  if (t.format == "csv") {
    params["field.delim"] = t.delimiter;
    if (t.has_header) params["skip.header.line.count"] = "1";
  }
  if (t.compression != "none") params["compressionType"] = t.compression;
  return {{"Name", t.name}, {"TableType", "EXTERNAL_TABLE"}, {"Columns", Columns(t.columns)},
          {"PartitionKeys", Columns(t.partition_keys)}, {"Parameters", params}};
}

// The catalog's tables of `database` (sorted), with the lake's own in `default`.
Result<std::vector<catalog::Table>> Tables(const AthenaApiOptions& o, const std::string& database) {
  std::vector<catalog::Table> out;
  std::set<std::string> names;
  std::error_code ec;
  if (std::filesystem::exists(o.catalog, ec)) {
    auto cat = catalog::Catalog::Open(o.catalog);
    if (!cat.ok()) return cat.status();
    auto dbs = (*cat)->Databases();
    if (!dbs.ok()) return dbs.status();
    if (database != "default" && std::find(dbs->begin(), dbs->end(), database) == dbs->end())
      return Status::Errorf("Database {} was not found in catalog {}", database, kCatalog);
    auto tables = (*cat)->Tables(database);
    if (!tables.ok()) return tables.status();
    for (const auto& name : *tables) {
      auto t = (*cat)->GetTable(database, name);
      if (!t.ok()) return t.status();
      if (t.value()) out.push_back(**t), names.insert(internal::Lower(name));
    }
  } else if (database != "default") {
    return Status::Errorf("Database {} was not found in catalog {}", database, kCatalog);
  }
  if (database == "default" && std::filesystem::is_directory(o.lake, ec)) {
    for (std::string_view n : {kOrdersTable, kLegacyOrdersTable}) {
      if (names.count(std::string(n))) continue;
      catalog::Table t;
      t.name = std::string(n);
      t.location = "s3://orderlake-lake/orders";
      t.format = "parquet";
      t.columns = internal::LakeColumns(false);
      t.partition_keys = internal::LakeColumns(true);
      out.push_back(std::move(t));
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  }
  return out;
}

Result<std::vector<std::string>> Databases(const AthenaApiOptions& o) {
  std::vector<std::string> out = {"default"};
  std::error_code ec;
  if (!std::filesystem::exists(o.catalog, ec)) return out;
  auto cat = catalog::Catalog::Open(o.catalog);
  if (!cat.ok()) return cat.status();
  auto dbs = (*cat)->Databases();
  if (!dbs.ok()) return dbs.status();
  for (const auto& d : *dbs)
    if (d != "default") out.push_back(d);
  std::sort(out.begin(), out.end());
  return out;
}

// ListTableMetadata's Expression as Athena's table patterns read: alternatives separated
// by '|', '*' (or ".*") any characters, matched against the whole name without regard to
// case. No regular-expression engine: nothing a request sends can make it slow.
bool Glob(std::string_view name, std::string_view pattern) {
  size_t n = 0, p = 0, star = std::string_view::npos, mark = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++, mark = n;
    } else if (p < pattern.size() && pattern[p] == name[n]) {
      ++p, ++n;
    } else if (star != std::string_view::npos) {
      p = star + 1, n = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool Matches(const std::string& name, const std::string& expression) {
  std::string e = internal::Lower(expression);
  for (size_t at = e.find(".*"); at != std::string::npos; at = e.find(".*", at)) e.replace(at, 2, "*");
  for (size_t start = 0;;) {
    const size_t bar = e.find('|', start);
    if (Glob(internal::Lower(name), std::string_view(e).substr(start, bar == std::string::npos ? bar : bar - start)))
      return true;
    if (bar == std::string::npos) return false;
    start = bar + 1;
  }
}

// CatalogName must be AwsDataCatalog; "" when it is.
std::string CheckCatalog(const json& req, std::string* err) {
  auto c = OptString(req, "CatalogName", 256, err);
  if (err->empty() && (!c || *c != kCatalog)) *err = fmt::format("CatalogName must be {}", kCatalog);
  return *err;
}

// "" = from the start; an index otherwise.
bool Token(const json& req, size_t* start, std::string* err) {
  auto t = OptString(req, "NextToken", 1024, err);
  *start = 0;
  if (!err->empty()) return false;
  if (t && std::sscanf(t->c_str(), "%zu", start) != 1) *err = "NextToken is not valid";
  return err->empty();
}

}  // namespace

// size: one registration per operation, each a few lines.
void AddMetadataOperations(aws::JsonService& service, const AthenaApiOptions& o) {
  const json result_config = {{"OutputLocation", o.default_output_location}};
  service.Add("GetWorkGroup", [result_config](const json& req, const aws::JsonCall&) {
    std::string err;
    auto wg = OptString(req, "WorkGroup", 128, &err);
    if (!err.empty() || !wg) return ErrorResponse(Invalid(err.empty() ? "WorkGroup is required" : err));
    if (*wg != "primary") return ErrorResponse(Invalid(fmt::format("WorkGroup {} is not found.", *wg)));
    return Ok({{"WorkGroup",
                {{"Name", "primary"}, {"State", "ENABLED"}, {"Description", "orderlake's one work group"},
                 {"CreationTime", 0},
                 {"Configuration",
                  {{"ResultConfiguration", result_config}, {"EnforceWorkGroupConfiguration", false},
                   {"PublishCloudWatchMetricsEnabled", false}, {"RequesterPaysEnabled", false},
                   {"EngineVersion", kEngine}}}}}});
  });
  service.Add("ListWorkGroups", [](const json&, const aws::JsonCall&) {
    return Ok({{"WorkGroups", json::array({{{"Name", "primary"}, {"State", "ENABLED"},
                                            {"Description", "orderlake's one work group"}, {"CreationTime", 0},
                                            {"EngineVersion", kEngine}}})}});
  });
  service.Add("ListDataCatalogs", [](const json&, const aws::JsonCall&) {
    return Ok({{"DataCatalogsSummary", json::array({{{"CatalogName", kCatalog}, {"Type", "GLUE"}}})}});
  });
  service.Add("GetDataCatalog", [account = o.account_id](const json& req, const aws::JsonCall&) {
    std::string err;
    auto name = OptString(req, "Name", 256, &err);
    if (err.empty() && (!name || *name != kCatalog)) err = fmt::format("Catalog {} was not found", name.value_or(""));
    if (!err.empty()) return ErrorResponse(Invalid(err));
    return Ok({{"DataCatalog", {{"Name", kCatalog}, {"Type", "GLUE"}, {"Description", "the Data Catalog of orderlake"},
                                {"Parameters", {{"catalog-id", account}}}}}});
  });
  service.Add("ListDatabases", [o](const json& req, const aws::JsonCall&) {
    std::string err;
    size_t start = 0;
    const int max = MaxResults(req, 50, 50, &err);
    if (!CheckCatalog(req, &err).empty() || !Token(req, &start, &err)) return ErrorResponse(Invalid(err));
    auto dbs = Databases(o);
    if (!dbs.ok()) return ErrorResponse({500, "InternalServerException", dbs.status().message(), ""});
    json out = {{"DatabaseList", json::array()}};
    for (size_t i = start; i < dbs->size(); ++i) {
      if (out["DatabaseList"].size() == static_cast<size_t>(max)) {
        out["NextToken"] = std::to_string(i);
        break;
      }
      out["DatabaseList"].push_back({{"Name", (*dbs)[i]}, {"Parameters", json::object()}});
    }
    return Ok(out);
  });
  service.Add("GetDatabase", [o](const json& req, const aws::JsonCall&) {
    std::string err;
    auto name = OptString(req, "DatabaseName", 255, &err);
    if (CheckCatalog(req, &err).empty() && !name) err = "DatabaseName is required";
    if (!err.empty()) return ErrorResponse(Invalid(err));
    auto dbs = Databases(o);
    if (!dbs.ok()) return ErrorResponse({500, "InternalServerException", dbs.status().message(), ""});
    if (std::find(dbs->begin(), dbs->end(), *name) == dbs->end())
      return Metadata(fmt::format("Database {} was not found in catalog {}", *name, kCatalog));
    return Ok({{"Database", {{"Name", *name}, {"Parameters", json::object()}}}});
  });
  service.Add("ListTableMetadata", [o](const json& req, const aws::JsonCall&) {
    std::string err;
    size_t start = 0;
    const int max = MaxResults(req, 50, 50, &err);
    auto db = OptString(req, "DatabaseName", 255, &err);
    auto expr = OptString(req, "Expression", 256, &err);
    if (CheckCatalog(req, &err).empty() && Token(req, &start, &err) && !db) err = "DatabaseName is required";
    if (!err.empty()) return ErrorResponse(Invalid(err));
    auto tables = Tables(o, *db);
    if (!tables.ok()) return Metadata(tables.status().message());
    json out = {{"TableMetadataList", json::array()}};
    size_t i = 0;
    for (const auto& t : *tables) {
      if (expr && !expr->empty() && !Matches(t.name, *expr)) continue;
      if (i++ < start) continue;
      if (out["TableMetadataList"].size() == static_cast<size_t>(max)) {
        out["NextToken"] = std::to_string(i - 1);
        break;
      }
      out["TableMetadataList"].push_back(TableShape(t, t.location));
    }
    return Ok(out);
  });
  service.Add("GetTableMetadata", [o](const json& req, const aws::JsonCall&) {
    std::string err;
    auto db = OptString(req, "DatabaseName", 255, &err);
    auto name = OptString(req, "TableName", 255, &err);
    if (CheckCatalog(req, &err).empty() && (!db || !name)) err = "DatabaseName and TableName are required";
    if (!err.empty()) return ErrorResponse(Invalid(err));
    auto tables = Tables(o, *db);
    if (!tables.ok()) return Metadata(tables.status().message());
    for (const auto& t : *tables)
      if (t.name == internal::Lower(*name)) return Ok({{"TableMetadata", TableShape(t, t.location)}});
    return Metadata(fmt::format("Table {} was not found in database {}", *name, *db));
  });
}

}  // namespace orderlake::query::athena
