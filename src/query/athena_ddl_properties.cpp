// ALTER TABLE … SET TBLPROPERTIES and SHOW TBLPROPERTIES (athena_ddl.h) for the lake's own
// Delta table: its properties are the metaData configuration of its log (table/properties.h).
#include <fmt/format.h>

#include <map>

#include "query/athena_ddl_parser.h"
#include "table/properties.h"

namespace orderlake::query::ddl {
namespace {

// The lake's own table `ref` names (while the catalog has no table of that name), or the
// reason the statement cannot run on it.
Result<const BuiltinTable*> LakeTable(const DdlContext& ctx, const TableRef& ref, std::string_view statement) {
  if (ctx.catalog) {
    auto t = ctx.catalog->GetTable(ref.database, ref.name);
    if (!t.ok()) return t.status();
    if (t.value())
      return Status::Errorf("{}: {} is a catalog table; table properties are kept for the lake's own Delta table "
                            "(orders) only",
                            statement, ref.qualified());
  }
  if (ref.database == "default")
    for (const auto& b : ctx.builtins)
      if (b.name == ref.name) return &b;
  return Status::Errorf("{}: no table {} (the lake's own Delta table is orders)", statement, ref.qualified());
}

// The store holding the lake and the table's name in it: <lake URL>/<table>.
struct LakeStore {
  std::unique_ptr<store::ObjectStore> store;
  std::string table;
};

Result<LakeStore> OpenLakeStore(const DdlContext& ctx, const BuiltinTable& b) {
  const size_t slash = b.location.rfind('/');
  if (slash == std::string::npos || !ctx.open_store) return Status::Errorf("the lake of {} cannot be opened", b.name);
  LakeStore out;
  out.table = b.location.substr(slash + 1);
  auto st = ctx.open_store(b.location.substr(0, slash));
  if (!st.ok()) return st.status();
  out.store = std::move(st).value();
  return out;
}

// Delta's property names as Delta spells them, whatever case the statement used.
std::string Canonical(const std::string& key) {
  for (const char* k : {table::kCheckpointInterval, table::kLogRetention, table::kDeletedFileRetention})
    if (IEquals(key, k)) return k;
  return key;
}

}  // namespace

Result<QueryResult> RunSetTblProperties(const SetTblPropertiesDdl& d, const DdlContext& ctx) {
  const std::string what = "ALTER TABLE SET TBLPROPERTIES";
  auto b = LakeTable(ctx, d.table, what);
  if (!b.ok()) return b.status();
  std::map<std::string, std::string> props;
  for (const auto& [k, v] : d.properties) {
    const std::string key = Canonical(k);
    Status valid = table::ValidateTableProperty(key, v);
    if (!valid.ok()) return Status::Errorf("{}: {}", what, valid.message());
    props[key] = v;
  }
  auto lake = OpenLakeStore(ctx, *b.value());
  if (!lake.ok()) return lake.status();
  auto before = table::GetTableProperties(lake->store.get(), lake->table);
  if (!before.ok()) return Status::Errorf("{}: {}", what, before.status().message());
  auto v = table::SetTableProperties(lake->store.get(), lake->table, props);
  if (!v.ok()) return Status::Errorf("{}: {}", what, v.status().message());
  QueryResult r;
  bool changed = false;
  for (const auto& [k, val] : props) {
    auto it = before->find(k);
    changed |= it == before->end() || it->second != val;
  }
  r.notices.push_back(changed ? fmt::format("table {}: properties set at version {}", d.table.name, v.value())
                              : fmt::format("table {}: the properties already had these values", d.table.name));
  return r;
}

Result<QueryResult> RunShowTblProperties(const ShowTblPropertiesDdl& d, const DdlContext& ctx) {
  auto b = LakeTable(ctx, d.table, "SHOW TBLPROPERTIES");
  if (!b.ok()) return b.status();
  auto lake = OpenLakeStore(ctx, *b.value());
  if (!lake.ok()) return lake.status();
  auto props = table::GetTableProperties(lake->store.get(), lake->table);
  if (!props.ok()) return Status::Errorf("SHOW TBLPROPERTIES: {}", props.status().message());
  QueryResult r;
  r.columns = {{"key", "VARCHAR", false}, {"value", "VARCHAR", false}, {"source", "VARCHAR", false}};
  auto row = [&](const std::string& k, const std::string& v, const std::string& src) {
    r.rows.push_back({Value::Text(k), Value::Text(v), Value::Text(src)});
  };
  for (const auto& [k, v] : props.value()) row(k, v, "set");
  const table::TableProperties defaults;
  if (!props->count(table::kCheckpointInterval))
    row(table::kCheckpointInterval, std::to_string(defaults.checkpoint_interval), "default");
  if (!props->count(table::kLogRetention))
    row(table::kLogRetention, table::FormatDeltaInterval(defaults.log_retention_ms), "default");
  if (!props->count(table::kDeletedFileRetention))
    row(table::kDeletedFileRetention, table::FormatDeltaInterval(defaults.deleted_file_retention_ms), "default");
  return r;
}

}  // namespace orderlake::query::ddl
