// Running Athena DDL (athena_ddl.h) against the Data Catalog and the lake's own tables.
#include <fmt/format.h>

#include <functional>
#include <map>
#include <set>

#include "core/hive.h"
#include "query/athena_ddl_parser.h"

namespace orderlake::query {
namespace {
namespace fs = std::filesystem;
using catalog::Column;
using catalog::Partition;
using catalog::Table;
using ddl::IEquals;
using ddl::IsDigits;
using ddl::Lower;
using ddl::QName;

// ---- running --------------------------------------------------------------------------

QueryResult Answer(std::vector<std::string> columns) {
  QueryResult r;
  for (auto& c : columns) r.columns.push_back({std::move(c), "VARCHAR", false});
  return r;
}

void AddRow(QueryResult& r, std::vector<std::string> cells) {
  std::vector<Value> row;
  for (auto& c : cells) row.push_back(Value::Text(std::move(c)));
  r.rows.push_back(std::move(row));
}

// "Country=France/InvoiceDateOnly=2010-12-01"
std::string PartitionName(const std::vector<Column>& keys, const std::vector<std::string>& values) {
  std::string out;
  for (size_t i = 0; i < keys.size() && i < values.size(); ++i)
    out += (i ? "/" : "") + hive::segment(keys[i].name, values[i]);
  return out;
}

// Whether a partition value fits its key's type (NULL's directory fits every type).
bool ValueFits(std::string_view type, std::string_view v) {
  if (v == hive::kDefaultPartition) return true;
  if (type == "int" || type == "bigint" || type == "smallint" || type == "tinyint")
    return IsDigits(v[0] == '-' ? v.substr(1) : v);
  if (type == "date")
    return v.size() == 10 && v[4] == '-' && v[7] == '-' && IsDigits(v.substr(0, 4)) && IsDigits(v.substr(5, 2)) &&
           IsDigits(v.substr(8, 2));
  return true;
}

// A table, the catalog's or the lake's own; nullopt when neither has it.
struct Resolved {
  Table table;
  bool builtin = false;
  const BuiltinTable* lake = nullptr;
};

Result<std::optional<Resolved>> Resolve(const DdlContext& ctx, const TableRef& ref) {
  if (ctx.catalog) {
    auto t = ctx.catalog->GetTable(ref.database, ref.name);
    if (!t.ok()) return t.status();
    if (t.value()) return std::optional<Resolved>(Resolved{std::move(*t.value()), false, nullptr});
  }
  if (ref.database == "default")
    for (const auto& b : ctx.builtins)
      if (b.name == ref.name) {
        Resolved r;
        r.builtin = true;
        r.lake = &b;
        r.table.database = "default";
        r.table.name = b.name;
        r.table.location = b.location;
        r.table.format = "parquet";
        r.table.columns = b.columns;
        r.table.partition_keys = b.partition_keys;
        return std::optional<Resolved>(std::move(r));
      }
  return std::optional<Resolved>();
}

Status NoTable(const TableRef& ref, std::string_view statement) {
  return Status::Errorf("{}: no table {} in the catalog (SHOW TABLES lists them)", statement, ref.qualified());
}

// Athena's SHOW TABLES pattern: '*' is any run of characters, '|' separates alternatives.
bool PatternMatches(std::string_view pattern, std::string_view name) {
  std::function<bool(std::string_view, std::string_view)> glob = [&](std::string_view p, std::string_view n) {
    if (p.empty()) return n.empty();
    if (p[0] == '*') return glob(p.substr(1), n) || (!n.empty() && glob(p, n.substr(1)));
    return !n.empty() && std::tolower(static_cast<unsigned char>(p[0])) == std::tolower(static_cast<unsigned char>(n[0])) &&
           glob(p.substr(1), n.substr(1));
  };
  size_t start = 0;
  while (start <= pattern.size()) {
    size_t bar = pattern.find('|', start);
    std::string_view alt = pattern.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start);
    while (!alt.empty() && alt.front() == ' ') alt.remove_prefix(1);
    while (!alt.empty() && alt.back() == ' ') alt.remove_suffix(1);
    if (glob(alt, name)) return true;
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  return false;
}

Result<QueryResult> RunCreate(const CreateTableDdl& d, const DdlContext& ctx) {
  const Table& t = d.table;
  QueryResult r;
  auto old = ctx.catalog->GetTable(t.database, t.name);
  if (!old.ok()) return old.status();
  if (old.value()) {
    if (!d.if_not_exists)
      return Status::Errorf("CREATE EXTERNAL TABLE: table {} already exists in the catalog (at {}); DROP TABLE it "
                            "first, or say IF NOT EXISTS",
                            QName(t), old.value()->location);
    r.notices.push_back(fmt::format("table {} already exists: unchanged", QName(t)));
    return r;
  }
  ORDERLAKE_RETURN_IF_ERROR(ctx.catalog->PutTable(t));
  r.notices.push_back(fmt::format("table {} created: {} columns, {} partition keys, format {}, location {}",
                                  QName(t), t.columns.size(), t.partition_keys.size(), t.format, t.location));
  for (const auto& w : d.warnings) r.notices.push_back(w);
  if (t.database == "default")
    for (const auto& b : ctx.builtins)
      if (b.name == t.name)
        r.notices.push_back(fmt::format("{} now reads the catalog's definition (the lake's own table of that name, "
                                        "at {}, answers again after DROP TABLE {})",
                                        t.name, b.location, t.name));
  if (!t.partition_keys.empty())
    r.notices.push_back(fmt::format("no partitions yet: run MSCK REPAIR TABLE {} (or ALTER TABLE {} ADD PARTITION) "
                                    "to add those under {}",
                                    t.name, t.name, t.location));
  return r;
}

// What MSCK REPAIR finds in a listing of the table's location.
struct MsckScan {
  std::map<std::vector<std::string>, Partition> found;  // new partitions, sorted by values
  std::set<std::string> skipped;                       // directories that are not partitions of these keys
  std::set<std::string> bad_values;                    // directories whose values do not fit the keys' types
};

MsckScan ScanListing(const Table& t, const std::vector<store::ObjectInfo>& listed,
                     const std::set<std::vector<std::string>>& have) {
  MsckScan scan;
  std::map<std::vector<std::string>, Partition>& found = scan.found;
  std::set<std::string>& skipped = scan.skipped;
  std::set<std::string>& bad_values = scan.bad_values;
  const size_t nkeys = t.partition_keys.size();
  for (const auto& o : listed) {
    std::vector<std::string_view> parts;
    std::string_view key = o.key;
    bool hidden = false;
    for (size_t start = 0; start <= key.size();) {
      size_t slash = key.find('/', start);
      if (slash == std::string_view::npos) slash = key.size();
      if (slash > start) {
        std::string_view part = key.substr(start, slash - start);
        hidden = hidden || part[0] == '.' || part[0] == '_';
        parts.push_back(part);
      }
      start = slash + 1;
    }
    if (hidden || o.size == 0) continue;
    if (parts.size() <= nkeys) {
      if (parts.size() > 1) skipped.insert(std::string(key.substr(0, key.rfind('/'))));
      continue;
    }
    std::vector<std::string> values;
    std::string dir;
    bool ok = true;
    for (size_t k = 0; k < nkeys && ok; ++k) {
      std::string_view p = parts[k];
      size_t eq = p.find('=');
      ok = eq != std::string_view::npos && IEquals(p.substr(0, eq), t.partition_keys[k].name);
      if (ok) values.push_back(hive::unescape(p.substr(eq + 1)));
      dir += (k ? "/" : "") + std::string(p);
    }
    if (!ok) {
      skipped.insert(dir);
      continue;
    }
    bool fits = true;
    for (size_t k = 0; k < nkeys; ++k) fits = fits && ValueFits(t.partition_keys[k].type, values[k]);
    if (!fits) {
      bad_values.insert(dir);
      continue;
    }
    if (have.count(values) || found.count(values)) continue;
    found[values] = Partition{values, t.location + "/" + dir};
  }
  return scan;
}

Result<QueryResult> RunMsck(const MsckRepairDdl& d, const DdlContext& ctx) {
  auto res = Resolve(ctx, d.table);
  if (!res.ok()) return res.status();
  if (!res.value()) return NoTable(d.table, "MSCK REPAIR TABLE");
  QueryResult r = Answer({"partition"});
  const Table& t = res.value()->table;
  if (res.value()->builtin) {
    r.notices.push_back(fmt::format("MSCK REPAIR TABLE {}: nothing to do: the lake's own table finds its partitions "
                                    "in {} at every statement",
                                    t.name, t.location));
    return r;
  }
  if (t.partition_keys.empty()) {
    r.notices.push_back(fmt::format("MSCK REPAIR TABLE {}: the table is not partitioned: nothing to do", QName(t)));
    return r;
  }
  auto store = ctx.open_store(t.location);
  if (!store.ok()) return Status::Errorf("MSCK REPAIR TABLE {}: {}", QName(t), store.status().message());
  auto listed = store.value()->List("");
  if (!listed.ok()) return Status::Errorf("MSCK REPAIR TABLE {}: {}", QName(t), listed.status().message());
  auto existing = ctx.catalog->Partitions(t.database, t.name);
  if (!existing.ok()) return existing.status();
  std::set<std::vector<std::string>> have;
  for (const auto& p : existing.value()) have.insert(p.values);

  MsckScan scan = ScanListing(t, listed.value(), have);
  std::map<std::vector<std::string>, Partition>& found = scan.found;
  std::set<std::string>& skipped = scan.skipped;
  std::set<std::string>& bad_values = scan.bad_values;
  std::vector<Partition> add;
  for (auto& [v, p] : found) add.push_back(p);
  if (!add.empty()) {
    auto n = ctx.catalog->AddPartitions(t.database, t.name, add);
    if (!n.ok()) return n.status();
  }
  for (const auto& p : add) AddRow(r, {PartitionName(t.partition_keys, p.values)});
  r.notices.push_back(fmt::format("MSCK REPAIR TABLE {}: {} partition{} added ({} already in the catalog)",
                                  QName(t), add.size(), add.size() == 1 ? "" : "s", have.size()));
  auto list = [](const std::set<std::string>& s) {
    std::vector<std::string> v(s.begin(), s.end());
    if (v.size() > 5) {
      size_t more = v.size() - 5;
      v.resize(5);
      v.push_back(fmt::format("and {} more", more));
    }
    return fmt::format("{}", fmt::join(v, ", "));
  };
  std::vector<std::string> key_names;
  for (const auto& k : t.partition_keys) key_names.push_back(k.name + "=…");
  if (!skipped.empty())
    r.notices.push_back(fmt::format("warning: {} director{} not of the form {} skipped: {}", skipped.size(),
                                    skipped.size() == 1 ? "y" : "ies", fmt::join(key_names, "/"), list(skipped)));
  if (!bad_values.empty())
    r.notices.push_back(fmt::format("warning: {} director{} whose values do not fit the keys' types skipped: {}",
                                    bad_values.size(), bad_values.size() == 1 ? "y" : "ies", list(bad_values)));
  return r;
}

Result<QueryResult> RunAddPartitions(const AddPartitionsDdl& d, const DdlContext& ctx) {
  auto res = Resolve(ctx, d.table);
  if (!res.ok()) return res.status();
  if (!res.value()) return NoTable(d.table, "ALTER TABLE ADD PARTITION");
  if (res.value()->builtin)
    return Status::Errorf("ALTER TABLE ADD PARTITION: {} is the lake's own table, not in the catalog: its partitions "
                          "are found at every statement",
                          d.table.name);
  const Table& t = res.value()->table;
  if (t.partition_keys.empty()) return Status::Errorf("ALTER TABLE ADD PARTITION: table {} is not partitioned", QName(t));
  auto existing = ctx.catalog->Partitions(t.database, t.name);
  if (!existing.ok()) return existing.status();
  std::set<std::vector<std::string>> have;
  for (const auto& p : existing.value()) have.insert(p.values);
  std::vector<std::string> key_names;
  for (const auto& k : t.partition_keys) key_names.push_back(k.name);

  QueryResult r = Answer({"partition"});
  std::vector<Partition> add;
  std::set<std::vector<std::string>> in_statement;
  for (const auto& spec : d.partitions) {
    std::vector<std::optional<std::string>> values(t.partition_keys.size());
    for (const auto& [k, v] : spec.values) {
      size_t i = 0;
      while (i < t.partition_keys.size() && !IEquals(t.partition_keys[i].name, k)) ++i;
      if (i == t.partition_keys.size())
        return Status::Errorf("ALTER TABLE ADD PARTITION: {} has no partition key '{}' (its keys: {})", QName(t),
                              k, fmt::join(key_names, ", "));
      if (values[i]) return Status::Errorf("ALTER TABLE ADD PARTITION: key '{}' given twice", k);
      if (!ValueFits(t.partition_keys[i].type, v))
        return Status::Errorf("ALTER TABLE ADD PARTITION: '{}' is not a valid {} for key '{}'", v, t.partition_keys[i].type,
                              t.partition_keys[i].name);
      values[i] = v;
    }
    Partition p;
    for (size_t i = 0; i < values.size(); ++i) {
      if (!values[i])
        return Status::Errorf("ALTER TABLE ADD PARTITION: a value for every partition key is needed ({}); '{}' is missing",
                              fmt::join(key_names, ", "), t.partition_keys[i].name);
      p.values.push_back(*values[i]);
    }
    p.location = spec.location.empty() ? t.location + "/" + PartitionName(t.partition_keys, p.values) : spec.location;
    if (have.count(p.values) || !in_statement.insert(p.values).second) {
      if (!d.if_not_exists)
        return Status::Errorf("ALTER TABLE ADD PARTITION: partition {} of {} already exists (say ADD IF NOT EXISTS)",
                              PartitionName(t.partition_keys, p.values), QName(t));
      continue;
    }
    add.push_back(std::move(p));
  }
  if (!add.empty()) {
    auto n = ctx.catalog->AddPartitions(t.database, t.name, add);
    if (!n.ok()) return n.status();
  }
  for (const auto& p : add) AddRow(r, {PartitionName(t.partition_keys, p.values)});
  r.notices.push_back(fmt::format("ALTER TABLE {} ADD PARTITION: {} added, {} already there", QName(t),
                                  add.size(), d.partitions.size() - add.size()));
  return r;
}

Result<QueryResult> RunShowTables(const ShowTablesDdl& d, const DdlContext& ctx) {
  std::string db = d.database ? Lower(*d.database) : "default";
  std::set<std::string> names;
  if (ctx.catalog) {
    if (db != "default") {
      auto dbs = ctx.catalog->Databases();
      if (!dbs.ok()) return dbs.status();
      if (std::find(dbs->begin(), dbs->end(), db) == dbs->end())
        return Status::Errorf("SHOW TABLES: no database '{}' in the catalog (SHOW DATABASES lists them)", db);
    }
    auto tables = ctx.catalog->Tables(db);
    if (!tables.ok()) return tables.status();
    names.insert(tables->begin(), tables->end());
  } else if (db != "default") {
    return Status::Errorf("SHOW TABLES: no database '{}' (this endpoint has only the lake's tables)", db);
  }
  if (db == "default")
    for (const auto& b : ctx.builtins) names.insert(b.name);
  QueryResult r = Answer({"tab_name"});
  for (const auto& n : names)
    if (!d.pattern || PatternMatches(*d.pattern, n)) AddRow(r, {n});
  return r;
}

Result<QueryResult> RunShowDatabases(const DdlContext& ctx) {
  std::set<std::string> names = {"default"};
  if (ctx.catalog) {
    auto dbs = ctx.catalog->Databases();
    if (!dbs.ok()) return dbs.status();
    names.insert(dbs->begin(), dbs->end());
  }
  QueryResult r = Answer({"database_name"});
  for (const auto& n : names) AddRow(r, {n});
  return r;
}

// The lake's own partitions: key=value/key=value directories holding a visible .parquet file.
std::vector<std::string> LakePartitions(const BuiltinTable& b) {
  std::vector<std::string> out;
  std::function<void(const fs::path&, size_t, const std::string&)> walk = [&](const fs::path& dir, size_t depth,
                                                                              const std::string& name) {
    std::error_code ec;
    if (depth == b.partition_keys.size()) {
      for (fs::directory_iterator f(dir, ec), end; !ec && f != end; f.increment(ec)) {
        std::string n = f->path().filename().string();
        if (n[0] != '.' && n[0] != '_' && n.ends_with(".parquet")) {
          out.push_back(name);
          return;
        }
      }
      return;
    }
    std::string prefix = b.partition_keys[depth].name + "=";
    std::vector<fs::path> dirs;
    for (fs::directory_iterator d(dir, ec), end; !ec && d != end; d.increment(ec))
      if (d->path().filename().string().starts_with(prefix) && d->is_directory(ec)) dirs.push_back(d->path());
    std::sort(dirs.begin(), dirs.end());
    for (const auto& d : dirs)
      walk(d, depth + 1, name + (depth ? "/" : "") + d.filename().string());
  };
  walk(b.local, 0, "");
  return out;
}

Result<QueryResult> RunShowPartitions(const ShowPartitionsDdl& d, const DdlContext& ctx) {
  auto res = Resolve(ctx, d.table);
  if (!res.ok()) return res.status();
  if (!res.value()) return NoTable(d.table, "SHOW PARTITIONS");
  const Table& t = res.value()->table;
  if (t.partition_keys.empty()) return Status::Errorf("SHOW PARTITIONS: table {} is not partitioned", QName(t));
  QueryResult r = Answer({"partition"});
  if (res.value()->builtin) {
    for (auto& p : LakePartitions(*res.value()->lake)) AddRow(r, {std::move(p)});
    return r;
  }
  auto parts = ctx.catalog->Partitions(t.database, t.name);
  if (!parts.ok()) return parts.status();
  for (const auto& p : parts.value()) AddRow(r, {PartitionName(t.partition_keys, p.values)});
  return r;
}

std::string DelimiterName(const std::string& d) {
  if (d == "\t") return "\\t";
  if (d.size() == 1 && static_cast<unsigned char>(d[0]) < 0x20) return fmt::format("\\{:03o}", static_cast<unsigned char>(d[0]));
  return d;
}

Result<QueryResult> RunDescribe(const DescribeDdl& d, const DdlContext& ctx) {
  auto res = Resolve(ctx, d.table);
  if (!res.ok()) return res.status();
  if (!res.value()) return NoTable(d.table, "DESCRIBE");
  const Table& t = res.value()->table;
  QueryResult r = Answer({"col_name", "data_type", "comment"});
  for (const auto& c : t.columns) AddRow(r, {c.name, c.type, ""});
  for (const auto& c : t.partition_keys) AddRow(r, {c.name, c.type, ""});
  if (!t.partition_keys.empty()) {
    AddRow(r, {"", "", ""});
    AddRow(r, {"# Partition Information", "", ""});
    AddRow(r, {"# col_name", "data_type", "comment"});
    for (const auto& c : t.partition_keys) AddRow(r, {c.name, c.type, ""});
  }
  if (!d.formatted) return r;
  AddRow(r, {"", "", ""});
  AddRow(r, {"# Detailed Table Information", "", ""});
  AddRow(r, {"Database:", t.database, ""});
  AddRow(r, {"Table:", t.name, ""});
  AddRow(r, {"Location:", t.location, ""});
  AddRow(r, {"Table Type:", res.value()->builtin ? "the lake's own table (not in the catalog)" : "EXTERNAL_TABLE", ""});
  AddRow(r, {"", "", ""});
  AddRow(r, {"# Storage Information", "", ""});
  AddRow(r, {"Format:", t.format, ""});
  if (!res.value()->builtin) AddRow(r, {"Compression:", t.compression, ""});
  if (t.format == "csv") {
    AddRow(r, {"Field delimiter:", DelimiterName(t.delimiter), ""});
    AddRow(r, {"Header line:", t.has_header ? "yes (skip.header.line.count=1)" : "no", ""});
  }
  if (!t.partition_keys.empty()) {
    size_t n = 0;
    if (res.value()->builtin) {
      n = LakePartitions(*res.value()->lake).size();
    } else {
      auto parts = ctx.catalog->Partitions(t.database, t.name);
      if (!parts.ok()) return parts.status();
      n = parts->size();
    }
    AddRow(r, {"Partitions:", std::to_string(n), ""});
  }
  return r;
}

Result<QueryResult> RunDrop(const DropTableDdl& d, const DdlContext& ctx) {
  QueryResult r;
  auto t = ctx.catalog->GetTable(d.table.database, d.table.name);
  if (!t.ok()) return t.status();
  if (!t.value()) {
    if (d.table.database == "default")
      for (const auto& b : ctx.builtins)
        if (b.name == d.table.name)
          return Status::Errorf("DROP TABLE: {} is the lake's own table, not in the catalog: there is nothing to drop "
                                "(and DROP TABLE never deletes data)",
                                d.table.name);
    if (d.if_exists) {
      r.notices.push_back(fmt::format("DROP TABLE: no table {}: nothing to do", d.table.qualified()));
      return r;
    }
    return NoTable(d.table, "DROP TABLE");
  }
  auto dropped = ctx.catalog->DropTable(d.table.database, d.table.name);
  if (!dropped.ok()) return dropped.status();
  r.notices.push_back(fmt::format("table {} dropped from the catalog; its files at {} are untouched",
                                  d.table.qualified(), t.value()->location));
  return r;
}

}  // namespace

bool ChangesCatalog(const DdlStatement& s) {
  return std::holds_alternative<CreateTableDdl>(s) || std::holds_alternative<MsckRepairDdl>(s) ||
         std::holds_alternative<AddPartitionsDdl>(s) || std::holds_alternative<DropTableDdl>(s) ||
         std::holds_alternative<SetTblPropertiesDdl>(s);
}

std::string StatementName(const DdlStatement& s) {
  struct V {
    std::string operator()(const CreateTableDdl&) const { return "CREATE EXTERNAL TABLE"; }
    std::string operator()(const MsckRepairDdl&) const { return "MSCK REPAIR TABLE"; }
    std::string operator()(const AddPartitionsDdl&) const { return "ALTER TABLE ADD PARTITION"; }
    std::string operator()(const ShowTablesDdl&) const { return "SHOW TABLES"; }
    std::string operator()(const ShowDatabasesDdl&) const { return "SHOW DATABASES"; }
    std::string operator()(const ShowPartitionsDdl&) const { return "SHOW PARTITIONS"; }
    std::string operator()(const DescribeDdl&) const { return "DESCRIBE"; }
    std::string operator()(const DropTableDdl&) const { return "DROP TABLE"; }
    std::string operator()(const SetTblPropertiesDdl&) const { return "ALTER TABLE SET TBLPROPERTIES"; }
    std::string operator()(const ShowTblPropertiesDdl&) const { return "SHOW TBLPROPERTIES"; }
  };
  return std::visit(V{}, s);
}

Result<QueryResult> RunAthenaDdl(const DdlStatement& s, const DdlContext& ctx) {
  if (ChangesCatalog(s) && !ctx.catalog)
    return Status::Errorf("refused: {} changes the catalog, and this SQL endpoint is read-only (run Athena DDL with "
                          "`orderlake query`)",
                          StatementName(s));
  struct V {
    const DdlContext& ctx;
    Result<QueryResult> operator()(const CreateTableDdl& d) const { return RunCreate(d, ctx); }
    Result<QueryResult> operator()(const MsckRepairDdl& d) const { return RunMsck(d, ctx); }
    Result<QueryResult> operator()(const AddPartitionsDdl& d) const { return RunAddPartitions(d, ctx); }
    Result<QueryResult> operator()(const ShowTablesDdl& d) const { return RunShowTables(d, ctx); }
    Result<QueryResult> operator()(const ShowDatabasesDdl&) const { return RunShowDatabases(ctx); }
    Result<QueryResult> operator()(const ShowPartitionsDdl& d) const { return RunShowPartitions(d, ctx); }
    Result<QueryResult> operator()(const DescribeDdl& d) const { return RunDescribe(d, ctx); }
    Result<QueryResult> operator()(const DropTableDdl& d) const { return RunDrop(d, ctx); }
    Result<QueryResult> operator()(const SetTblPropertiesDdl& d) const { return ddl::RunSetTblProperties(d, ctx); }
    Result<QueryResult> operator()(const ShowTblPropertiesDdl& d) const { return ddl::RunShowTblProperties(d, ctx); }
  };
  return std::visit(V{ctx}, s);
}

}  // namespace orderlake::query
