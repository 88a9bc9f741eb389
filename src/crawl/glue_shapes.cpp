// Glue's JSON shapes of the catalog: Database, Table (StorageDescriptor, SerDeInfo), Partition,
// and the mapping between Glue's SerDe/InputFormat/classification and the catalog's format,
// compression and CSV options.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "core/hive.h"
#include "crawl/glue_internal.h"

namespace orderlake::crawl::glue {
namespace {

constexpr const char* kParquetSerde = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe";
constexpr const char* kParquetIn = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat";
constexpr const char* kParquetOut = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat";
constexpr const char* kTextIn = "org.apache.hadoop.mapred.TextInputFormat";
constexpr const char* kTextOut = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat";
constexpr const char* kLazySimple = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe";
constexpr const char* kJsonSerde = "org.openx.data.jsonserde.JsonSerDe";

bool Contains(const std::string& s, std::string_view part) {
  std::string a = s, b(part);
  std::transform(a.begin(), a.end(), a.begin(), ::tolower);
  std::transform(b.begin(), b.end(), b.begin(), ::tolower);
  return a.find(b) != std::string::npos;
}

json ColumnsJson(const std::vector<catalog::Column>& cols) {
  json a = json::array();
  for (const auto& c : cols) a.push_back({{"Name", c.name}, {"Type", c.type}});
  return a;
}

// Format-derived members a table made by DDL or the crawler shows.
void DefaultSerde(const catalog::Table& t, catalog::TableInfo& i) {
  if (t.format == "parquet") {
    if (i.serde_library.empty()) i.serde_library = kParquetSerde;
    if (i.input_format.empty()) i.input_format = kParquetIn;
    if (i.output_format.empty()) i.output_format = kParquetOut;
    i.serde_parameters.emplace("serialization.format", "1");
    return;
  }
  if (i.input_format.empty()) i.input_format = kTextIn;
  if (i.output_format.empty()) i.output_format = kTextOut;
  if (t.format == "json") {
    if (i.serde_library.empty()) i.serde_library = kJsonSerde;
    i.serde_parameters.emplace("paths", [&] {
      std::string p;
      for (const auto& c : t.columns) p += (p.empty() ? "" : ",") + c.name;
      return p;
    }());
  } else {
    if (i.serde_library.empty()) i.serde_library = kLazySimple;
    i.serde_parameters.emplace("field.delim", t.delimiter);
  }
}

json StorageJson(const catalog::Table& t, const std::vector<catalog::Column>& cols, const std::string& location,
                 const catalog::TableInfo& i) {
  json serde{{"SerializationLibrary", i.serde_library}, {"Parameters", i.serde_parameters}};
  return json{{"Columns", ColumnsJson(cols)},
              {"Location", location},
              {"InputFormat", i.input_format},
              {"OutputFormat", i.output_format},
              {"Compressed", t.compression == "gzip"},
              {"NumberOfBuckets", -1},
              {"SerdeInfo", serde},
              {"BucketColumns", json::array()},
              {"SortColumns", json::array()},
              {"Parameters", json::object()},
              {"StoredAsSubDirectories", false}};
}

Api<std::vector<catalog::Column>> ColumnsFromJson(const json& j, const char* what) {
  std::vector<catalog::Column> out;
  if (j.is_null()) return out;
  if (!j.is_array()) return Invalid(fmt::format("{} must be a list", what));
  if (j.size() > 10000) return Invalid(fmt::format("{} has more than 10,000 columns", what));
  std::set<std::string> seen;
  for (const auto& c : j) {
    if (!c.is_object()) return Invalid(fmt::format("{} must be a list of Column objects", what));
    catalog::Column col;
    if (auto e = GetString(c, "Name", col.name, true, 255)) return Invalid(fmt::format("{}: {}", what, e->message));
    if (auto e = GetString(c, "Type", col.type, false, 131072)) return Invalid(fmt::format("{}: {}", what, e->message));
    std::transform(col.name.begin(), col.name.end(), col.name.begin(), ::tolower);
    std::transform(col.type.begin(), col.type.end(), col.type.begin(), ::tolower);
    if (col.type.empty()) col.type = "string";
    if (!seen.insert(col.name).second) return Invalid(fmt::format("{}: column {} appears twice", what, col.name));
    out.push_back(std::move(col));
  }
  return out;
}

// The catalog's format from Glue's hints; "" when they name a SerDe this engine cannot read.
std::string FormatOf(const catalog::TableInfo& i) {
  auto cls = i.parameters.find("classification");
  if (cls != i.parameters.end()) {
    std::string c = cls->second;
    std::transform(c.begin(), c.end(), c.begin(), ::tolower);
    if (c == "parquet" || c == "csv" || c == "json") return c;
  }
  if (Contains(i.serde_library, "parquet") || Contains(i.input_format, "parquet")) return "parquet";
  if (Contains(i.serde_library, "json")) return "json";
  if (Contains(i.serde_library, "LazySimpleSerDe") || Contains(i.serde_library, "OpenCSVSerde")) return "csv";
  if (i.serde_library.empty() && Contains(i.input_format, "TextInputFormat")) return "csv";
  if (i.serde_library.empty() && i.input_format.empty()) return "parquet";  // Athena's default (CTAS)
  return "";
}

}  // namespace

json DatabaseJson(const catalog::Database& d, const std::string& catalog_id) {
  json j{{"Name", d.name}, {"Parameters", d.parameters}, {"CatalogId", catalog_id}};
  if (!d.description.empty()) j["Description"] = d.description;
  if (!d.location_uri.empty()) j["LocationUri"] = d.location_uri;
  if (d.create_time > 0) j["CreateTime"] = d.create_time;
  j["CreateTableDefaultPermissions"] = json::array();
  return j;
}

json TableJson(const catalog::Table& t, const catalog::TableInfo& info, const std::string& catalog_id) {
  catalog::TableInfo i = info;
  DefaultSerde(t, i);
  i.parameters.emplace("classification", t.format);
  if (t.compression != "none") i.parameters.emplace("compressionType", t.compression);
  if (t.format == "csv" && t.has_header) i.parameters.emplace("skip.header.line.count", "1");
  json j{{"Name", t.name},
         {"DatabaseName", t.database},
         {"TableType", i.table_type},
         {"Parameters", i.parameters},
         {"PartitionKeys", ColumnsJson(t.partition_keys)},
         {"StorageDescriptor", StorageJson(t, t.columns, t.location, i)},
         {"Retention", 0},
         {"IsRegisteredWithLakeFormation", false},
         {"CatalogId", catalog_id}};
  if (!i.description.empty()) j["Description"] = i.description;
  if (i.create_time > 0) j["CreateTime"] = i.create_time;
  if (i.update_time > 0) j["UpdateTime"] = i.update_time;
  return j;
}

json PartitionJson(const catalog::Table& t, const catalog::Partition& p, const std::string& catalog_id) {
  catalog::TableInfo i;
  DefaultSerde(t, i);
  return json{{"Values", p.values},
              {"DatabaseName", t.database},
              {"TableName", t.name},
              {"StorageDescriptor", StorageJson(t, t.columns, p.location, i)},
              {"Parameters", json::object()},
              {"CatalogId", catalog_id}};
}

Api<std::pair<catalog::Table, catalog::TableInfo>> TableFromInput(const json& in, const std::string& database) {
  if (!in.is_object()) return Invalid("TableInput is required");
  catalog::Table t;
  catalog::TableInfo i;
  t.database = database;
  if (auto e = GetName(in, "Name", t.name, true)) return *e;
  if (auto e = GetString(in, "Description", i.description, false)) return *e;
  if (auto e = GetString(in, "TableType", i.table_type, false, 255)) return *e;
  if (i.table_type.empty()) i.table_type = "EXTERNAL_TABLE";
  if (auto e = GetStringMap(in, "Parameters", i.parameters)) return *e;
  auto keys = ColumnsFromJson(in.value("PartitionKeys", json()), "PartitionKeys");
  if (auto* e = std::get_if<ApiError>(&keys)) return *e;
  t.partition_keys = std::get<0>(std::move(keys));
  const json sd = in.value("StorageDescriptor", json::object());
  if (!sd.is_object()) return Invalid("StorageDescriptor must be an object");
  auto cols = ColumnsFromJson(sd.value("Columns", json()), "StorageDescriptor.Columns");
  if (auto* e = std::get_if<ApiError>(&cols)) return *e;
  t.columns = std::get<0>(std::move(cols));
  for (const auto& k : t.partition_keys)
    for (const auto& c : t.columns)
      if (k.name == c.name) return Invalid(fmt::format("column {} is both a column and a partition key", c.name));
  if (auto e = GetString(sd, "Location", t.location, false)) return *e;
  if (auto e = GetString(sd, "InputFormat", i.input_format, false, 255)) return *e;
  if (auto e = GetString(sd, "OutputFormat", i.output_format, false, 255)) return *e;
  const json serde = sd.value("SerdeInfo", json::object());
  if (!serde.is_object()) return Invalid("StorageDescriptor.SerdeInfo must be an object");
  if (auto e = GetString(serde, "SerializationLibrary", i.serde_library, false, 255)) return *e;
  if (auto e = GetStringMap(serde, "Parameters", i.serde_parameters)) return *e;
  t.format = FormatOf(i);
  if (t.format.empty())
    return Invalid(fmt::format("table {}: SerializationLibrary {} is not one this engine reads (Parquet, "
                               "LazySimpleSerDe/OpenCSVSerde with field.delim, a JSON SerDe)",
                               t.name, i.serde_library));
  const bool gz = sd.value("Compressed", false) == true ||
                  Contains(i.parameters.count("compressionType") ? i.parameters["compressionType"] : "", "gzip");
  t.compression = gz ? "gzip" : "none";
  if (t.format == "csv") {
    auto& sp = i.serde_parameters;
    std::string delim = sp.count("field.delim") ? sp["field.delim"] : sp.count("separatorChar") ? sp["separatorChar"] : ",";
    if (delim.size() != 1) return Invalid(fmt::format("table {}: field.delim must be one character, got \"{}\"", t.name, delim));
    t.delimiter = delim;
    t.has_header = i.parameters.count("skip.header.line.count") && i.parameters["skip.header.line.count"] == "1";
  }
  return std::pair{std::move(t), std::move(i)};
}

Api<catalog::Partition> PartitionFromInput(const json& in, const catalog::Table& t) {
  if (!in.is_object()) return Invalid("PartitionInput must be an object");
  catalog::Partition p;
  auto v = in.find("Values");
  if (v == in.end() || !v->is_array()) return Invalid("PartitionInput.Values is required");
  for (const auto& x : *v) {
    if (!x.is_string()) return Invalid("PartitionInput.Values must be strings");
    std::string s = x.get<std::string>();
    if (s.size() > 1024) return Invalid("a partition value is longer than 1,024 characters");
    p.values.push_back(std::move(s));
  }
  if (p.values.size() != t.partition_keys.size())
    return Invalid(fmt::format("table {}.{} has {} partition keys but the partition has {} values", t.database, t.name,
                               t.partition_keys.size(), p.values.size()));
  const json sd = in.value("StorageDescriptor", json::object());
  if (sd.is_object())
    if (auto e = GetString(sd, "Location", p.location, false)) return *e;
  if (p.location.empty() && !t.location.empty()) {  // Hive's layout under the table
    std::string loc = t.location;
    while (!loc.empty() && loc.back() == '/') loc.pop_back();
    for (size_t k = 0; k < p.values.size(); ++k) loc += "/" + t.partition_keys[k].name + "=" + hive::escape(p.values[k]);
    p.location = loc;
  }
  return p;
}

}  // namespace orderlake::crawl::glue
