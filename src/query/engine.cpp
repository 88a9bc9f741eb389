#include "query/engine.h"

#include <chrono>
#include <system_error>

#include <map>
#include <functional>
#include <set>

#include "core/hive.h"
#include "core/sql.h"
#include "query/athena_ddl.h"
#include "query/confine.h"
#include "query/duckdb_convert.h"
#include "query/duckdb_handles.h"
#include "query/engine_util.h"
#include "query/lake_mirror.h"
#include "query/read_only.h"
#include "query/table_source.h"
#include "store/object_store.h"
#include "table/delta.h"
#include "table/duck.h"

namespace orderlake::query {
namespace fs = std::filesystem;
using internal::Extracted;
using internal::IsNumericType;
using internal::OneLineError;
using internal::OwnedResult;
using internal::Prepared;
using internal::ReadValue;
using internal::TypeName;
using internal::IsS3;
using internal::LakeColumns;
using internal::LocalPath;
using internal::Lower;
using internal::StartsWith;
using internal::VisibleKey;
using internal::CheckLocations;

struct Engine::Impl {
  duckdb_database db = nullptr;
  duckdb_connection con = nullptr;
  fs::path lake;
  bool lake_exists = true;
  EngineOptions options;
  internal::LocationRules Rules() const { return {options.local_buckets, options.buckets_only, options.remote_s3}; }
  // The store MSCK REPAIR lists: a local bucket's directory, or the location's own store.
  Result<std::unique_ptr<store::ObjectStore>> OpenStore(const std::string& url) const {
    auto mapped = internal::MapLocation(url, Rules());
    if (!mapped.ok()) return mapped.status();
    if (mapped->has_value()) return store::OpenLocal((*mapped)->string());
    return store::Open(url);
  }
  std::function<Status()> before_statement;  // see Engine::set_before_statement
  std::unique_ptr<catalog::Catalog> catalog;  // opened when first needed
  std::map<std::string, std::unique_ptr<LakeMirror>> mirrors;  // copies of s3:// locations, by URL
  // Delta tables met so far, by their local root: the log and its newest snapshot.
  struct Delta {
    std::unique_ptr<store::ObjectStore> store;
    std::unique_ptr<table::DeltaLog> log;
    table::Snapshot snapshot;
  };
  std::map<std::string, Delta> deltas;

  // The data files of the newest snapshot when `root` holds a Delta table, else nullopt.
  Result<std::optional<std::vector<fs::path>>> DeltaFiles(const fs::path& root) {
    auto it = deltas.find(root.string());
    if (it == deltas.end()) {
      std::error_code ec;
      if (!fs::exists(root / "_delta_log", ec)) return std::optional<std::vector<fs::path>>();
      Delta d;
      d.store = store::OpenLocal(root.parent_path().string());
      d.log = std::make_unique<table::DeltaLog>(d.store.get(), root.filename().string());
      it = deltas.emplace(root.string(), std::move(d)).first;
    }
    Status st = it->second.log->Refresh(&it->second.snapshot);  // the first time from the checkpoint
    if (!st.ok()) return Status::Errorf("reading the Delta log of {}: {}", root.string(), st.message());
    std::vector<fs::path> files;
    for (const auto& [path, f] : it->second.snapshot.files) {
      auto rel = table::decode_path(path);
      if (!rel.ok()) return Status::Errorf("the Delta log of {}: {}", root.string(), rel.status().message());
      files.push_back(root / rel.value());
    }
    return std::optional<std::vector<fs::path>>(std::move(files));
  }
  FileKinds kinds;
  std::set<std::string> allowed;                 // directories DuckDB may read, ending in '/'
  Confinement reach;                             // what of them it may read (links resolved)
  Confiner confiner;
  std::set<std::string> schemas;                 // DuckDB schemas made for catalog databases
  struct View {
    std::string name;    // the table's name (lower case)
    std::string select;  // what it is made of
  };
  std::map<std::string, View> views;  // by qualified name ("main"."orders"), as installed
  // Tables the statement may use that could not be defined now (their view is dropped):
  // the error is the statement's only if it does use one of them.
  std::map<std::string, Status> failed;

  // The reason a table the statement uses is missing, when it could not be defined.
  std::optional<Status> FailureFor(const std::string& error) const {
    for (const auto& [name, st] : failed)
      if (error.find("Table with name " + name + " does not exist") != std::string::npos ||
          Lower(error).find("table with name " + name + " does not exist") != std::string::npos)
        return st;
    return std::nullopt;
  }

  ~Impl() { CloseDuckDb(); }

  void CloseDuckDb() {
    if (con) duckdb_disconnect(&con);
    if (db) duckdb_close(&db);
    con = nullptr;
    db = nullptr;
  }

  // (Re)opens DuckDB locked down to `allowed`, with the schemas and views it had.
  Status OpenDuckDb() {
    CloseDuckDb();
    duckdb_config config = nullptr;
    if (duckdb_create_config(&config) != DuckDBSuccess) return Status::Error("cannot create DuckDB configuration");
    // No extension downloads or loading from disk, no cache of file contents (table/duck.h).
    const std::string memory = options.duckdb_memory_mb > 0 ? fmt::format("{}MB", options.duckdb_memory_mb) : "",
                      temp = fmt::format("{}MB", options.duckdb_temp_mb);
    if (Status st = table::BaseDuckConfig(config, memory, options.duckdb_threads); !st.ok()) {
      duckdb_destroy_config(&config);
      return st;
    }
    if (options.duckdb_temp_mb > 0) duckdb_set_config(config, "max_temp_directory_size", temp.c_str());
    char* open_error = nullptr;
    duckdb_state opened = duckdb_open_ext(nullptr, &db, config, &open_error);
    duckdb_destroy_config(&config);
    if (opened != DuckDBSuccess) {
      std::string msg = open_error ? open_error : "unknown error";
      duckdb_free(open_error);
      return Status::Errorf("cannot open DuckDB: {}", msg);
    }
    if (duckdb_connect(db, &con) != DuckDBSuccess) return Status::Error("cannot connect to DuckDB");
    // Lock DuckDB down: files only under the lake (and the catalog tables' locations),
    // nothing else external, no more SET.
    std::vector<std::string> dirs, files;
    for (const auto& d : reach.directories) dirs.push_back(sql::literal(d));
    for (const auto& f : reach.files) files.push_back(sql::literal(f));
    ORDERLAKE_RETURN_IF_ERROR(RunInternal(fmt::format("SET allowed_directories = [{}]", fmt::join(dirs, ", "))));
    if (!files.empty()) ORDERLAKE_RETURN_IF_ERROR(RunInternal(fmt::format("SET allowed_paths = [{}]", fmt::join(files, ", "))));
    if (options.database != "default") {  // unqualified names: that database's tables first
      schemas.insert(options.database);
      ORDERLAKE_RETURN_IF_ERROR(RunInternal("CREATE SCHEMA IF NOT EXISTS " + sql::ident(options.database)));
      ORDERLAKE_RETURN_IF_ERROR(RunInternal("SET search_path = " + sql::literal(options.database + ",main")));
    }
    ORDERLAKE_RETURN_IF_ERROR(RunInternal("SET enable_external_access = false"));
    ORDERLAKE_RETURN_IF_ERROR(RunInternal("SET lock_configuration = true"));
    for (const auto& schema : schemas) ORDERLAKE_RETURN_IF_ERROR(RunInternal("CREATE SCHEMA IF NOT EXISTS " + sql::ident(schema)));
    for (const auto& [qualified, view] : views)
      ORDERLAKE_RETURN_IF_ERROR(RunInternal(fmt::format("CREATE OR REPLACE VIEW {} AS {}", qualified, view.select)));
    return Status::OK();
  }

  // Lets DuckDB read these directories too (reopening it when one is new).
  Status Allow(const std::set<std::string>& dirs) {
    bool grew = false;
    for (const auto& d : dirs) {
      bool covered = false;
      for (const auto& a : allowed) covered = covered || StartsWith(d, a);
      if (!covered) grew = allowed.insert(d).second || grew;
    }
    return Reconfine(grew);
  }

  // Walks what DuckDB may read again (confine.h); reopens it when that changed (or `force`).
  Status Reconfine(bool force) {
    std::vector<std::string> roots(allowed.begin(), allowed.end());
    auto c = options.confine_links ? confiner.Confine(roots) : Result<Confinement>(Confinement{roots, {}, {}});
    if (!c.ok()) return c.status();
    if (!force && db && *c == reach) return Status::OK();
    reach = std::move(c).value();
    return OpenDuckDb();
  }

  // The catalog, or nullptr when there is none (no file configured, or no file yet and
  // `create` is false).
  Result<catalog::Catalog*> Catalog(bool create) {
    if (catalog) return catalog.get();
    if (options.catalog.empty()) return static_cast<catalog::Catalog*>(nullptr);
    std::error_code ec;
    if (!create && !fs::exists(options.catalog, ec)) return static_cast<catalog::Catalog*>(nullptr);
    auto c = catalog::Catalog::Open(options.catalog);
    if (!c.ok()) return c.status();
    catalog = std::move(c).value();
    return catalog.get();
  }

  // Calls fn(catalog, database, table name) for every table of the catalog; nothing when
  // there is no catalog. Stops at fn's first error.
  Status ForEachCatalogTable(
      const std::function<Status(catalog::Catalog&, const std::string&, const std::string&)>& fn) {
    auto cat = Catalog(false);
    if (!cat.ok()) return cat.status();
    if (!cat.value()) return Status::OK();
    auto dbs = cat.value()->Databases();
    if (!dbs.ok()) return dbs.status();
    for (const auto& db : *dbs) {
      auto tables = cat.value()->Tables(db);
      if (!tables.ok()) return tables.status();
      for (const auto& name : *tables) ORDERLAKE_RETURN_IF_ERROR(fn(*cat.value(), db, name));
    }
    return Status::OK();
  }

  std::vector<BuiltinTable> Builtins() const {
    std::vector<BuiltinTable> out;
    if (!lake_exists) return out;  // a catalog alone: no `orders`
    std::string location = options.lake_url.empty() ? "file://" + lake.string() : options.lake_url;
    while (!location.empty() && location.back() == '/') location.pop_back();
    for (std::string_view name : {kOrdersTable, kLegacyOrdersTable})
      out.push_back({std::string(name), location + "/" + std::string(kOrdersTable), lake / kOrdersTable,
                     LakeColumns(false), LakeColumns(true)});
    return out;
  }

  // The local copy of an s3:// location, brought up to date (only the keys `want` accepts).
  Result<fs::path> Mirror(const std::string& url, const std::function<bool(std::string_view)>& want) {
    auto& m = mirrors[url];
    if (!m) {
      auto opened = LakeMirror::Open(url, options.cache_root);
      if (!opened.ok()) {
        mirrors.erase(url);
        return opened.status();
      }
      m = std::move(opened).value();
    }
    ORDERLAKE_RETURN_IF_ERROR(m->SyncTable("", want));  // a Delta table through its log
    return m->local();
  }

  // How to read a catalog table now: its location's local directory (synced when remote)
  // and the local directories of its partitions. `dirs` gets what DuckDB must be allowed.
  Result<SourceSpec> CatalogSpec(const catalog::Table& t, std::set<std::string>& dirs) {
    SourceSpec spec;
    spec.table = t.database + "." + t.name;
    spec.location = t.location;
    spec.format = t.format;
    spec.has_header = t.has_header;
    spec.delimiter = t.delimiter;
    spec.columns = t.columns;
    spec.partition_keys = t.partition_keys;
    std::vector<catalog::Partition> parts;
    if (!t.partition_keys.empty()) {
      auto p = catalog->Partitions(t.database, t.name);
      if (!p.ok()) return p.status();
      parts = std::move(p).value();
    }
    const std::string prefix = t.location + "/";
    auto mapped = internal::MapLocation(t.location, Rules());
    if (!mapped.ok()) return Status::Errorf("table {}: {}", spec.table, mapped.status().message());
    if (!mapped->has_value()) {
      // Only the registered partitions' objects are copied.
      std::set<std::string, std::less<>> rel_dirs;
      for (const auto& p : parts)
        if (StartsWith(p.location, prefix)) rel_dirs.insert(p.location.substr(prefix.size()));
      const bool partitioned = !t.partition_keys.empty();
      auto root = Mirror(t.location, [&](std::string_view key) {
        if (!VisibleKey(key)) return false;
        if (!partitioned) return true;
        for (size_t slash = key.find('/'); slash != std::string_view::npos; slash = key.find('/', slash + 1))
          if (rel_dirs.count(key.substr(0, slash))) return true;
        return false;
      });
      if (!root.ok()) return Status::Errorf("table {}: {}", spec.table, root.status().message());
      spec.root = *root;
    } else {
      spec.root = **mapped;
      std::error_code ec;
      if (fs::exists(spec.root, ec)) spec.root = fs::canonical(spec.root, ec);
    }
    dirs.insert(AllowedDirectory(spec.root));
    if (t.format == "parquet") {
      // A Delta table: the files of its newest snapshot, and of a partitioned table only
      // those in the registered partitions (as Athena reads only those).
      auto delta = DeltaFiles(spec.root);
      if (!delta.ok()) return Status::Errorf("table {}: {}", spec.table, delta.status().message());
      if (delta.value()) {
        std::set<std::string> registered;
        for (const auto& p : parts)
          if (StartsWith(p.location, prefix)) {
            std::string rel = p.location.substr(prefix.size());
            while (!rel.empty() && rel.back() == '/') rel.pop_back();
            registered.insert((spec.root / rel).string() + "/");
          }
        spec.files.emplace();
        for (auto& f : *delta.value()) {
          bool in = t.partition_keys.empty();
          for (auto it = registered.begin(); !in && it != registered.end(); ++it) in = StartsWith(f.string(), *it);
          if (in) spec.files->push_back(std::move(f));
        }
        return spec;
      }
    }
    if (t.partition_keys.empty()) {
      spec.partitions.emplace();
      return spec;
    }
    auto local = LocalPartitions(t, parts, spec, dirs);
    if (!local.ok()) return local.status();
    spec.partitions = std::move(local).value();
    return spec;
  }

  // Where each registered partition of a catalog table is read from (mirrored when remote).
  Result<std::vector<LocalPartition>> LocalPartitions(const catalog::Table& t, const std::vector<catalog::Partition>& parts,
                                                      const SourceSpec& spec, std::set<std::string>& dirs) {
    const std::string prefix = t.location + "/";
    std::vector<LocalPartition> local;
    for (const auto& p : parts) {
      LocalPartition lp;
      lp.values = p.values;
      if (StartsWith(p.location, prefix)) {
        const std::string rel = p.location.substr(prefix.size());
        lp.dir = spec.root / rel;
        std::string hive_rel;
        for (size_t i = 0; i < t.partition_keys.size() && i < p.values.size(); ++i)
          hive_rel += (i ? "/" : "") + hive::segment(t.partition_keys[i].name, p.values[i]);
        lp.hive_layout = rel == hive_rel;
      } else {
        auto mapped = internal::MapLocation(p.location, Rules());
        auto dir = !mapped.ok() ? Result<fs::path>(mapped.status())
                   : mapped->has_value() ? Result<fs::path>(**mapped) : Mirror(p.location, VisibleKey);
        if (!dir.ok()) return Status::Errorf("table {}: partition at {}: {}", spec.table, p.location, dir.status().message());
        lp.dir = *dir;
        dirs.insert(AllowedDirectory(lp.dir));
      }
      local.push_back(std::move(lp));
    }
    return local;
  }

  // Installs a view when its SELECT changed.
  Status Install(const std::string& qualified, const std::string& name, const std::string& select) {
    auto it = views.find(qualified);
    if (it != views.end() && it->second.select == select) return Status::OK();
    OwnedResult r;
    const std::string sql = fmt::format("CREATE OR REPLACE VIEW {} AS {}", qualified, select);
    if (duckdb_query(con, sql.c_str(), r.get()) != DuckDBSuccess) {
      std::string err = OneLineError(duckdb_result_error(r.get()));
      if (StartsWith(err, "Permission Error")) err += Reach();
      return Status::Errorf("table {}: {}", name, err);
    }
    views[qualified] = View{name, select};
    return Status::OK();
  }

  Result<std::vector<std::string>> ParquetColumns(const fs::path& file) {
    QueryResult r;
    OwnedResult res;
    const std::string sql =
        fmt::format("DESCRIBE SELECT * FROM read_parquet({}, binary_as_string = true)", sql::literal(file.string()));
    if (duckdb_query(con, sql.c_str(), res.get()) != DuckDBSuccess)
      return Status::Errorf("cannot read the columns of {}: {}", file.string(), OneLineError(duckdb_result_error(res.get())));
    ORDERLAKE_RETURN_IF_ERROR(Drain(res.get(), r));
    std::vector<std::string> names;
    for (const auto& row : r.rows) names.push_back(row[0].ToString());
    return names;
  }

  // Defines the views the statement may use: the lake's own tables (unless the catalog
  // has a table of that name), and the catalog's tables the statement names, each read as
  // it is now (remote locations synced, partitions and files listed).
  Status Prepare(std::string_view sql) {
    if (before_statement) ORDERLAKE_RETURN_IF_ERROR(before_statement());
    return DefineViews(sql);
  }

  Status DefineViews(std::string_view sql) {
    const std::set<std::string> names = ReferencedNames(sql);
    std::vector<catalog::Table> wanted;  // catalog tables to define
    std::set<std::string> in_catalog;    // default-database names the catalog has
    ORDERLAKE_RETURN_IF_ERROR(ForEachCatalogTable(
        [&](catalog::Catalog& cat, const std::string& db, const std::string& name) -> Status {
          if (db == "default") in_catalog.insert(name);
          if (!names.count(Lower(name))) return Status::OK();
          auto t = cat.GetTable(db, name);
          if (!t.ok()) return t.status();
          if (t.value()) wanted.push_back(std::move(*t.value()));
          return Status::OK();
        }));
    // Specs first (syncing remote locations), so DuckDB can be allowed to read them all.
    std::set<std::string> dirs;
    struct Wanted {
      std::string qualified, name;
      SourceSpec spec;
    };
    std::vector<Wanted> specs;
    failed.clear();
    for (const auto& t : wanted) {
      auto spec = CatalogSpec(t, dirs);
      if (!spec.ok()) {
        failed[Lower(t.name)] = spec.status();
        continue;
      }
      std::string schema = "main";
      if (t.database != "default") {
        schema = t.database;
        if (!schemas.count(schema)) {
          ORDERLAKE_RETURN_IF_ERROR(RunInternal("CREATE SCHEMA IF NOT EXISTS " + sql::ident(schema)));
          schemas.insert(schema);
        }
      }
      specs.push_back({sql::ident(schema) + "." + sql::ident(t.name), Lower(t.name), std::move(spec).value()});
    }
    // The built-in names share the lake's own table: its log is read once a statement.
    std::map<std::string, Result<std::optional<std::vector<fs::path>>>> lake_files;
    for (const auto& b : Builtins()) {
      if (in_catalog.count(b.name)) continue;
      SourceSpec spec;
      spec.table = b.name;
      spec.location = b.location;
      spec.root = b.local;
      spec.columns = b.columns;
      spec.partition_keys = b.partition_keys;
      auto read = lake_files.find(spec.root.string());
      if (read == lake_files.end()) read = lake_files.emplace(spec.root.string(), DeltaFiles(spec.root)).first;
      if (!read->second.ok()) {
        failed[b.name] = read->second.status();
        continue;
      }
      spec.files = read->second.value();
      specs.push_back({"\"main\"." + sql::ident(b.name), b.name, std::move(spec)});
    }
    ORDERLAKE_RETURN_IF_ERROR(Allow(dirs));
    std::set<std::string> defined;
    for (const auto& w : specs) {
      auto select = TableSource(w.spec, kinds, [this](const fs::path& f) { return ParquetColumns(f); });
      Status st = select.ok() ? Install(w.qualified, w.name, *select) : select.status();
      if (!st.ok()) {
        failed[w.name] = st;
        continue;
      }
      defined.insert(w.qualified);
    }
    // Views of tables that are gone (dropped from the catalog by now).
    for (auto it = views.begin(); it != views.end();) {
      if (!defined.count(it->first) && names.count(it->second.name)) {
        ORDERLAKE_RETURN_IF_ERROR(RunInternal("DROP VIEW IF EXISTS " + it->first));
        it = views.erase(it);
      } else {
        ++it;
      }
    }
    return Status::OK();
  }

  // The Athena DDL in `sql`, unless it is none or DuckDB should answer it (DESCRIBE of a
  // table the catalog does not have).
  std::optional<Result<DdlStatement>> AthenaStatement(std::string_view sql) {
    auto ddl = ParseAthenaDdl(sql, options.database);
    if (!ddl || !ddl->ok()) return ddl;
    if (auto* d = std::get_if<DescribeDdl>(&ddl->value()); d && !d->formatted) {
      auto cat = Catalog(false);
      if (!cat.ok()) return Result<DdlStatement>(cat.status());
      if (!cat.value()) return std::nullopt;
      auto t = cat.value()->GetTable(d->table.database, d->table.name);
      if (!t.ok()) return Result<DdlStatement>(t.status());
      if (!t.value()) return std::nullopt;
    }
    return ddl;
  }

  // What a permission error adds: where reading is allowed.
  std::string Reach() const {
    return fmt::format(" (the query endpoint can read only the lake at {}{}){}", lake.string(),
                       options.catalog.empty() ? "" : " and the locations of the catalog's tables", reach.Explain());
  }

  // Runs SQL of our own (setup, catalog look-ups), unchecked.
  Status RunInternal(const std::string& sql, QueryResult* out = nullptr) {
    OwnedResult r;
    if (duckdb_query(con, sql.c_str(), r.get()) != DuckDBSuccess)
      return Status::Errorf("internal statement failed: {}: {}", OneLineError(duckdb_result_error(r.get())), sql);
    if (out) return Drain(r.get(), *out);
    return Status::OK();
  }

  Status Drain(duckdb_result* r, RowSink& sink) {
    idx_t nc = duckdb_column_count(r);
    std::vector<Column> columns(nc);
    std::vector<duckdb_logical_type> types(nc);
    for (idx_t c = 0; c < nc; ++c) {
      types[c] = duckdb_column_logical_type(r, c);
      columns[c].name = duckdb_column_name(r, c);
      columns[c].type = TypeName(types[c]);
      columns[c].numeric = IsNumericType(types[c]);
    }
    Status st = sink.Begin(columns);
    std::vector<Value> row(nc);
    while (st.ok()) {
      duckdb_data_chunk chunk = duckdb_fetch_chunk(*r);
      if (!chunk) break;
      idx_t n = duckdb_data_chunk_get_size(chunk);
      std::vector<duckdb_vector> vecs(nc);
      for (idx_t c = 0; c < nc; ++c) vecs[c] = duckdb_data_chunk_get_vector(chunk, c);
      for (idx_t i = 0; i < n && st.ok(); ++i) {
        for (idx_t c = 0; c < nc; ++c) row[c] = ReadValue(vecs[c], types[c], i);
        st = sink.Row(row);
      }
      duckdb_destroy_data_chunk(&chunk);
    }
    for (auto& t : types) duckdb_destroy_logical_type(&t);
    // A streamed result that failed part way ends its chunks early and says why here.
    if (const char* e = st.ok() ? duckdb_result_error(r) : nullptr; e && *e) st = Status::Error(OneLineError(e));
    if (st.ok()) st = sink.End();
    return st;
  }

  // Allows queries and EXPLAIN of queries; refuses everything else.
  Status CheckPrepared(duckdb_prepared_statement p, std::string_view sql, int depth) {
    duckdb_statement_type t = duckdb_prepared_statement_type(p);
    if (t == DUCKDB_STATEMENT_TYPE_SELECT) return Status::OK();
    if (t != DUCKDB_STATEMENT_TYPE_EXPLAIN) return internal::Refused(internal::StatementKindName(t));
    if (depth > 3) return Status::Error("refused: EXPLAIN nested too deeply");
    // EXPLAIN [ANALYZE] [(options)] <statement>: the statement must itself be allowed,
    // since EXPLAIN ANALYZE runs it.
    auto candidates = internal::ExplainedStatements(sql);
    if (!candidates) return Status::Error("refused: cannot find the statement inside EXPLAIN");
    std::string first_error;
    for (const std::string& text : *candidates) {
      Prepared inner;
      if (duckdb_prepare(con, text.c_str(), inner.out()) == DuckDBSuccess) return CheckPrepared(inner.get(), text, depth + 1);
      if (first_error.empty()) first_error = inner.error();
    }
    return Status::Errorf("refused: cannot check the statement inside EXPLAIN: {}", first_error);
  }

  // Prepares the single statement in `sql` and checks it is allowed.
  Status PrepareChecked(std::string_view sql, Prepared& prepared) {
    std::string text(sql);
    for (int attempt = 0;; ++attempt) {
      Extracted ex;  // parsing only: nothing is bound or run yet
      idx_t n = duckdb_extract_statements(con, text.c_str(), ex.out());
      if (n == 0) {
        const char* err = duckdb_extract_statements_error(ex.get());
        if (err && *err) return Status::Error(OneLineError(err));
        return Status::Error("no SQL statement given");
      }
      if (n > 1) return Status::Errorf("expected one statement, got {}: run them one at a time", n);
      if (attempt == 0) ORDERLAKE_RETURN_IF_ERROR(internal::CheckLeadingKeyword(sql));
      if (duckdb_prepare_extracted_statement(con, ex.get(), 0, prepared.out()) != DuckDBSuccess) {
        std::string err = prepared.error();
        // The lake may have been emptied (or filled) since the last look: look again once.
        if (attempt == 0 && err.find("No files found that match the pattern") != std::string::npos) {
          duckdb_destroy_prepare(prepared.out());
          ORDERLAKE_RETURN_IF_ERROR(DefineViews(sql));
          continue;
        }
        if (auto f = FailureFor(err)) return *f;
        if (StartsWith(err, "Permission Error"))
          err += Reach();
        return Status::Error(err);
      }
      break;
    }
    ORDERLAKE_RETURN_IF_ERROR(CheckPrepared(prepared.get(), sql, 0));
    if (idx_t np = duckdb_nparams(prepared.get()); np > 0)
      return Status::Errorf("the statement has {} parameter(s) ($1, ? ...): give literal values instead", np);
    return Status::OK();
  }
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::Open(const fs::path& lake_dir, const EngineOptions& options) {
  ORDERLAKE_RETURN_IF_ERROR(options.Validate());
  std::error_code ec;
  const bool exists = fs::exists(lake_dir, ec);
  if (!exists && !options.lake_optional)
    return Status::Errorf("lake directory '{}' does not exist", lake_dir.string());
  if (exists && !fs::is_directory(lake_dir, ec)) return Status::Errorf("lake '{}' is not a directory", lake_dir.string());
  fs::path lake = exists ? fs::canonical(lake_dir, ec) : fs::absolute(lake_dir, ec).lexically_normal();
  if (ec) return Status::Errorf("cannot resolve lake directory '{}': {}", lake_dir.string(), ec.message());
  if (lake.string().find_first_of("*?[") != std::string::npos)
    return Status::Errorf("lake directory '{}' has a glob character (*, ? or [) in its path: not supported",
                          lake.string());

  auto impl = std::make_unique<Impl>();
  impl->lake = lake;
  impl->options = options;
  impl->lake_exists = exists;
  if (exists) impl->allowed.insert(AllowedDirectory(lake));
  ORDERLAKE_RETURN_IF_ERROR(impl->Reconfine(true));
  ORDERLAKE_RETURN_IF_ERROR(impl->DefineViews(""));
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Result<QueryResult> Engine::Execute(std::string_view sql) {
  QueryResult r;
  Result<QueryResult> info = Execute(sql, r);
  if (!info.ok()) return info.status();
  r.notices = std::move(info->notices);
  r.seconds = info->seconds;
  return r;
}

Result<QueryResult> Engine::Execute(std::string_view sql, RowSink& sink) {
  auto t0 = std::chrono::steady_clock::now();
  QueryResult info;
  if (auto ddl = impl_->AthenaStatement(sql)) {
    if (!ddl->ok()) return ddl->status();
    const DdlStatement& statement = ddl->value();
    // The lake's own partitions are listed from its directory: bring a mirror up to date.
    if ((std::holds_alternative<ShowPartitionsDdl>(statement) || std::holds_alternative<DescribeDdl>(statement)) &&
        impl_->before_statement)
      ORDERLAKE_RETURN_IF_ERROR(impl_->before_statement());
    DdlContext ctx;
    auto cat = impl_->Catalog(ChangesCatalog(statement));
    if (!cat.ok()) return cat.status();
    ctx.catalog = cat.value();
    ctx.builtins = impl_->Builtins();
    ctx.open_store = [this](const std::string& url) { return impl_->OpenStore(url); };
    ORDERLAKE_RETURN_IF_ERROR(CheckLocations(statement, impl_->Rules()));
    auto r = RunAthenaDdl(statement, ctx);
    if (!r.ok()) return r.status();
    ORDERLAKE_RETURN_IF_ERROR(sink.Begin(r->columns));
    for (const auto& row : r->rows) ORDERLAKE_RETURN_IF_ERROR(sink.Row(row));
    ORDERLAKE_RETURN_IF_ERROR(sink.End());
    info.notices = std::move(r->notices);
    info.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return info;
  }
  ORDERLAKE_RETURN_IF_ERROR(impl_->Prepare(sql));
  Prepared prepared;
  ORDERLAKE_RETURN_IF_ERROR(impl_->PrepareChecked(sql, prepared));
  // Streamed: rows reach the sink chunk by chunk as DuckDB produces them, so a large result
  // (a SELECT * of a big table into a CSV file) is never held whole in memory.
  OwnedResult result;
  duckdb_pending_result pending = nullptr;
  const bool started = duckdb_pending_prepared_streaming(prepared.get(), &pending) == DuckDBSuccess;
  const bool ran = started && duckdb_execute_pending(pending, result.get()) == DuckDBSuccess;
  if (!ran) {
    std::string err = OneLineError(started ? duckdb_result_error(result.get()) : duckdb_pending_error(pending));
    duckdb_destroy_pending(&pending);
    if (StartsWith(err, "Permission Error")) err += impl_->Reach();
    return Status::Error(err);
  }
  duckdb_destroy_pending(&pending);
  if (Status st = impl_->Drain(result.get(), sink); !st.ok()) {
    std::string err = st.message();
    if (StartsWith(err, "Permission Error")) err += impl_->Reach();
    return Status::Error(err);
  }
  info.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return info;
}

void Engine::set_before_statement(std::function<Status()> before_statement) {
  impl_->before_statement = std::move(before_statement);
}

Status Engine::Check(std::string_view sql) {
  if (auto ddl = impl_->AthenaStatement(sql)) {
    if (!ddl->ok()) return ddl->status();
    if (ChangesCatalog(ddl->value()) && impl_->options.catalog.empty())
      return Status::Errorf("refused: {} changes the catalog, and this SQL endpoint is read-only (run Athena DDL with "
                            "`orderlake query`)",
                            StatementName(ddl->value()));
    return Status::OK();
  }
  ORDERLAKE_RETURN_IF_ERROR(impl_->Prepare(sql));
  Prepared prepared;
  return impl_->PrepareChecked(sql, prepared);
}

Result<std::vector<std::string>> Engine::Tables() {
  QueryResult r;
  ORDERLAKE_RETURN_IF_ERROR(impl_->RunInternal(
      "SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main' UNION "
      "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY 1",
      &r));
  std::set<std::string> names;
  for (const auto& row : r.rows) names.insert(row[0].ToString());
  ORDERLAKE_RETURN_IF_ERROR(
      impl_->ForEachCatalogTable([&](catalog::Catalog&, const std::string& db, const std::string& t) {
        names.insert(db == "default" ? t : db + "." + t);
        return Status::OK();
      }));
  return std::vector<std::string>(names.begin(), names.end());
}

const fs::path& Engine::lake() const { return impl_->lake; }

int64_t Engine::table_version() const {
  auto it = impl_->deltas.find((impl_->lake / kOrdersTable).string());
  return it == impl_->deltas.end() ? -1 : it->second.snapshot.version;
}

void Engine::Interrupt() { duckdb_interrupt(impl_->con); }

}  // namespace orderlake::query
