#include "table/compact.h"

#include <duckdb.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <cstring>
#include <optional>
#include <set>
#include <thread>

#include "core/clock.h"
#include "core/fs.h"
#include "core/sha256.h"
#include "core/sql.h"
#include "store/object_store.h"
#include "table/delta.h"
#include "table/duck.h"
#include "table/maintenance.h"
#include "table/properties.h"

namespace orderlake::table {
namespace stdfs = std::filesystem;
using json = nlohmann::json;

namespace {

struct Field {
  std::string name, type;
};

}  // namespace

json CompactSummary::to_json() const {
  return json{{"version", version},          {"partitions", partitions},         {"files_removed", files_removed},
              {"files_added", files_added},  {"rows", rows},                     {"bytes_removed", bytes_removed},
              {"bytes_added", bytes_added},  {"files_vacuumed", files_vacuumed}, {"checkpoint", checkpoint},
              {"log_files_deleted", log_files_deleted}, {"seconds", seconds}};
}

std::string CompactSummary::to_text() const {
  std::string s;
  if (files_removed == 0)
    s += fmt::format("compact: nothing to merge (table version {})\n", version);
  else
    s += fmt::format("compact: {} files ({}) merged into {} ({}) in {} partitions, {} rows, version {}, {:.2f} s\n",
                     files_removed, fs::human_bytes(static_cast<double>(bytes_removed)), files_added,
                     fs::human_bytes(static_cast<double>(bytes_added)), partitions, rows, version, seconds);
  if (files_vacuumed) s += fmt::format("vacuum: {} files past the retention period deleted\n", files_vacuumed);
  if (checkpoint >= 0) s += fmt::format("checkpoint: the log at version {} written\n", checkpoint);
  if (log_files_deleted)
    s += fmt::format("log cleanup: {} commits older than the table's delta.logRetentionDuration deleted\n",
                     log_files_deleted);
  return s;
}

struct Compactor::Impl {
  CompactOptions opt;
  std::unique_ptr<store::ObjectStore> store;
  stdfs::path local_root;  // empty for S3
  stdfs::path stage;
  std::unique_ptr<DeltaLog> log;
  Snapshot snap;
  std::optional<fs::FileLock> lock;
  std::unique_ptr<Duck> duck;
  int64_t last_checkpoint = -2;  // -2: not looked up yet
  bool loaded = false;           // the snapshot is loaded and unfinished merges recovered

  // Loads the snapshot (through _last_checkpoint) and removes what a compaction that
  // stopped before its commit left; until it succeeds, every pass tries again.
  Status EnsureLoaded() {
    if (loaded) return Status::OK();
    auto l = log->Load();
    if (!l.ok()) return Status::Errorf("lake {}: {}", opt.lake, l.status().message());
    snap = std::move(l).value();
    ORDERLAKE_RETURN_IF_ERROR(Recover());
    loaded = true;
    return Status::OK();
  }


  std::string MetaKey(std::string_view rel) const { return fmt::format("_orderlake/{}/{}", opt.table, rel); }
  std::string TableKey(const std::string& encoded) const {
    auto rel = decode_path(encoded);
    return opt.table + "/" + (rel.ok() ? rel.value() : encoded);
  }

  Status Sql(const std::string& sql, duckdb_result* out = nullptr) { return duck->Sql(sql, out); }

  std::vector<Field> DataFields() const {
    std::vector<Field> out;
    const auto pcols = snap.partition_columns();
    json schema = json::parse(snap.metadata.value("schemaString", "{}"), nullptr, false);
    if (!schema.is_object()) return out;
    for (auto& f : schema.value("fields", json::array())) {
      const std::string name = f.value("name", "");
      if (std::find(pcols.begin(), pcols.end(), name) != pcols.end()) continue;
      out.push_back({name, f.value("type", json("string")).is_string() ? f["type"].get<std::string>() : "struct"});
    }
    return out;
  }

  // Statistics of one Parquet file, as the etl writes them.
  Result<std::pair<std::string, uint64_t>> Stats(const stdfs::path& file, const std::vector<Field>& fields) {
    std::string sql = "SELECT count(*)";
    for (auto& f : fields)
      sql += fmt::format(", min({0})::VARCHAR, max({0})::VARCHAR, count(*) - count({0})", sql::ident(f.name));
    sql += fmt::format(" FROM read_parquet({}, hive_partitioning = false, binary_as_string = true)",
                       sql::literal(file.string()));
    duckdb_result r;
    ORDERLAKE_RETURN_IF_ERROR(Sql(sql, &r));
    json mins = json::object(), maxs = json::object(), nulls = json::object();
    const uint64_t rows = static_cast<uint64_t>(duckdb_value_int64(&r, 0, 0));
    for (size_t i = 0; i < fields.size(); ++i) {
      const idx_t c = 1 + 3 * i;
      nulls[fields[i].name] = duckdb_value_int64(&r, c + 2, 0);
      if (duckdb_value_is_null(&r, c, 0)) continue;
      char* lo = duckdb_value_varchar(&r, c, 0);
      char* hi = duckdb_value_varchar(&r, c + 1, 0);
      const std::string l = lo ? lo : "", h = hi ? hi : "";
      duckdb_free(lo);
      duckdb_free(hi);
      const std::string& t = fields[i].type;
      if (t == "integer" || t == "long" || t == "short" || t == "byte") {
        mins[fields[i].name] = std::stoll(l);
        maxs[fields[i].name] = std::stoll(h);
      } else if (t == "double" || t == "float") {
        mins[fields[i].name] = std::stod(l);
        maxs[fields[i].name] = std::stod(h);
      } else if (t == "string" && l.size() <= 32 && h.size() <= 32) {
        mins[fields[i].name] = l;
        maxs[fields[i].name] = h;
      }
    }
    duckdb_destroy_result(&r);
    return std::make_pair(
        json{{"numRecords", rows}, {"minValues", mins}, {"maxValues", maxs}, {"nullCount", nulls}}.dump(), rows);
  }

  Status Recover() {
    auto pending = store->List(MetaKey("pending/compact-"));
    if (!pending.ok()) return pending.status();
    for (const auto& o : pending.value()) {
      auto text = store->Get(o.key);
      if (!text.ok()) return text.status();
      json j = json::parse(text.value(), nullptr, false);
      if (!j.is_object() || !j.contains("files")) return Status::Errorf("compaction journal {} is damaged", o.key);
      for (auto& f : j["files"]) {
        const std::string path = f.get<std::string>();
        if (snap.files.count(path)) continue;  // committed
        spdlog::warn("compact: removing {} of a compaction that stopped before its commit", TableKey(path));
        ORDERLAKE_RETURN_IF_ERROR(store->Delete(TableKey(path)));
      }
      ORDERLAKE_RETURN_IF_ERROR(store->Delete(o.key));
    }
    std::error_code ec;
    stdfs::remove_all(stage, ec);
    return Status::OK();
  }

  // Deletes the files removed more than the retention ago; their tombstones leave the
  // snapshot (and so the next checkpoint), so a pass costs with the retention's removals.
  Result<uint64_t> Vacuum() {
    uint64_t n = 0;
    const int64_t cutoff = clock::unix_ms() - opt.retention_ms;
    std::vector<std::string> done;
    for (const auto& [path, t] : snap.tombstones) {
      if (t.deletion_timestamp > cutoff || snap.files.count(path)) continue;
      ORDERLAKE_RETURN_IF_ERROR(store->Delete(TableKey(path)));
      done.push_back(path);
      ++n;
    }
    for (const auto& p : done) snap.tombstones.erase(p);
    return n;
  }

  int Tier(uint64_t size) const { return CompactTier(size, opt); }

  // Bins to merge: in each partition, the small files of each tier that has min_files of
  // them, oldest first, in bins of up to the target size. A merged file lands about one
  // tier up, so a partition holds fewer than min_files files per tier, whatever its
  // history (a file is rewritten about once per tier, not once per pass).
  std::vector<std::vector<const DataFile*>> Bins(CompactSummary* sum) const {
    std::map<std::string, std::map<int, std::vector<const DataFile*>>> small;
    for (const auto& [path, f] : snap.files) {
      if (f.size >= opt.small_file_bytes) continue;
      std::string key;
      for (auto& [k, v] : f.partition_values) key += k + "=" + (v ? *v : std::string("\x01")) + "\x02";
      small[key][Tier(f.size)].push_back(&f);
    }
    std::vector<std::vector<const DataFile*>> bins;
    for (auto& [key, tiers] : small) {
      bool any = false;
      for (auto& [tier, files] : tiers) {
        if (files.size() < opt.min_files) continue;
        any = true;
        std::sort(files.begin(), files.end(), [](auto* a, auto* b) {
          return a->added_in != b->added_in ? a->added_in < b->added_in : a->path < b->path;
        });
        std::vector<const DataFile*> bin;
        uint64_t bytes = 0;
        for (const DataFile* f : files) {
          if (!bin.empty() && bytes + f->size > opt.target_file_bytes) {
            if (bin.size() > 1) bins.push_back(bin);
            bin.clear();
            bytes = 0;
          }
          bin.push_back(f);
          bytes += f->size;
        }
        if (bin.size() > 1) bins.push_back(bin);
      }
      if (any) ++sum->partitions;
    }
    return bins;
  }

  Result<CompactSummary> RunOnce() {
    const auto start = std::chrono::steady_clock::now();
    CompactSummary sum;
    ORDERLAKE_RETURN_IF_ERROR(EnsureLoaded());
    ORDERLAKE_RETURN_IF_ERROR(log->Update(&snap));
    sum.version = snap.version;
    if (snap.version < 0) return sum;
    const std::vector<Field> fields = DataFields();
    if (fields.empty()) return Status::Errorf("{}: the table's schema has no data columns", opt.table);
    const int64_t before = snap.version;
    const std::vector<std::vector<const DataFile*>> bins = Bins(&sum);
    if (!bins.empty()) ORDERLAKE_RETURN_IF_ERROR(Merge(bins, fields, &sum));
    auto vac = opt.vacuum ? Vacuum() : Result<uint64_t>(uint64_t{0});
    if (!vac.ok()) return vac.status();
    sum.files_vacuumed = vac.value();
    const TableProperties props = TableProperties::Of(snap);
    // Tombstones past both retentions leave the snapshot even when vacuum is off.
    snap.PruneTombstones(clock::unix_ms() - std::max(props.deleted_file_retention_ms, opt.retention_ms));
    sum.version = snap.version;
    if (opt.checkpoint_interval != 0) {
      // The table's interval at the versions this compactor commits, and a backstop for a
      // checkpoint another writer missed (the explicit --checkpoint-interval, else twice
      // the table's). _last_checkpoint is read again each pass: the etl writes them too.
      const int64_t backstop = opt.checkpoint_interval > 0 ? opt.checkpoint_interval : 2 * props.checkpoint_interval;
      last_checkpoint = -2;
      auto m = MaybeCheckpoint(*log, snap, snap.version > before ? snap.version : -1, &last_checkpoint, backstop,
                               opt.retention_ms);
      if (!m.ok()) return m.status();
      sum.checkpoint = m->checkpoint;
      sum.log_files_deleted = m->log_files_deleted;
    }
    sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return sum;
  }

  Status Merge(const std::vector<std::vector<const DataFile*>>& bins, const std::vector<Field>& fields,
               CompactSummary* sum) {
    const std::string id = clock::time_ordered_id();
    ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(stage));
    std::string columns;
    for (auto& f : fields) columns += (columns.empty() ? "" : ", ") + sql::ident(f.name);
    const int64_t now = clock::unix_ms();
    std::vector<json> actions;
    std::vector<std::pair<stdfs::path, std::string>> outputs;  // staged file, its key in the store
    json journal_files = json::array();
    std::set<std::string> removing;
    int n = 0;
    for (const auto& bin : bins) {
      std::string list;
      uint64_t expect_rows = 0;
      bool rows_known = true;
      for (const DataFile* f : bin) {
        stdfs::path src;
        if (!local_root.empty()) {
          src = local_root / TableKey(f->path);
        } else {
          src = stage / "sources" / fmt::format("{}-{}.parquet", n, list.size());
          auto data = store->Get(TableKey(f->path));
          if (!data.ok()) return data.status();
          ORDERLAKE_RETURN_IF_ERROR(fs::write_file_atomic(src, data.value()));
        }
        list += (list.empty() ? "[" : ", ") + sql::literal(src.string());
        if (f->stats.empty()) rows_known = false;
        expect_rows += f->records;
      }
      list += "]";
      auto dir = decode_path(bin.front()->path);
      if (!dir.ok()) return dir.status();
      const std::string rel_dir = stdfs::path(dir.value()).parent_path().generic_string();
      const std::string rel = (rel_dir.empty() ? "" : rel_dir + "/") + fmt::format("part-{}-c{:03d}.parquet", id, n++);
      const stdfs::path out = stage / rel;
      ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(out.parent_path()));
      ORDERLAKE_RETURN_IF_ERROR(Sql(fmt::format(
          "COPY (SELECT {} FROM read_parquet({}, hive_partitioning = false, binary_as_string = true)) TO {} "
          "(FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 1048576)",
          columns, list, sql::literal(out.string()))));
      auto stats = Stats(out, fields);
      if (!stats.ok()) return stats.status();
      if (rows_known && stats->second != expect_rows)
        return Status::Errorf("compact: merged file has {} rows, its {} sources {}", stats->second, bin.size(),
                              expect_rows);
      DataFile added;
      added.path = encode_path(rel);
      added.partition_values = bin.front()->partition_values;
      added.size = stdfs::file_size(out);
      added.modification_time = now;
      added.stats = stats->first;
      for (const DataFile* f : bin) {
        actions.push_back(remove_action(*f, now, false));
        removing.insert(f->path);
        sum->bytes_removed += f->size;
      }
      actions.push_back(add_action(added, false));
      journal_files.push_back(added.path);
      outputs.emplace_back(out, opt.table + "/" + rel);
      sum->files_removed += bin.size();
      sum->files_added += 1;
      sum->bytes_added += added.size;
      sum->rows += stats->second;
    }
    actions.push_back(commit_info_action("OPTIMIZE", {{"predicate", "[]"}, {"zOrderBy", "[]"}},
                                         {{"orderlake", {{"app", "orderlake-compact:" + opt.table}, {"id", id}}}}));
    // Journal, publish, commit.
    const std::string jkey = MetaKey("pending/compact-" + id + ".json");
    ORDERLAKE_RETURN_IF_ERROR(store->Put(jkey, json{{"id", id}, {"files", journal_files}}.dump()));
    for (auto& [path, key] : outputs) {
      if (!local_root.empty()) {
        ORDERLAKE_RETURN_IF_ERROR(fs::create_directories((local_root / key).parent_path()));
        ORDERLAKE_RETURN_IF_ERROR(fs::fsync_path(path));
        if (::rename(path.c_str(), (local_root / key).c_str()) != 0)
          return Status::Errorf("cannot publish {}: {}", (local_root / key).string(), std::strerror(errno));
        ORDERLAKE_RETURN_IF_ERROR(fs::fsync_path((local_root / key).parent_path()));
      } else {
        auto data = fs::read_file(path);
        if (!data.ok()) return data.status();
        ORDERLAKE_RETURN_IF_ERROR(store->Put(key, data.value()));
      }
    }
    auto committed = log->Commit(&snap, actions, [&](const std::vector<LogCommit>&, const Snapshot& now_snap) -> Status {
      for (const auto& p : removing)
        if (!now_snap.files.count(p)) return Status::Errorf("another writer removed {} meanwhile", p);
      return Status::OK();
    });
    if (!committed.ok()) {
      for (auto& [path, key] : outputs) (void)store->Delete(key);
      (void)store->Delete(jkey);
      return Status::Errorf("compact: {}", committed.status().message());
    }
    ORDERLAKE_RETURN_IF_ERROR(store->Delete(jkey));
    std::error_code ec;
    stdfs::remove_all(stage, ec);
    return Status::OK();
  }
};

int CompactTier(uint64_t size, const CompactOptions& o) {
  int t = 0;
  const uint64_t fan_in = std::max<uint64_t>(o.min_files, 2);
  for (uint64_t bound = o.small_file_bytes / fan_in; size < bound && t < kMaxCompactTier; bound /= fan_in) ++t;
  return t;
}

Compactor::Compactor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Compactor::~Compactor() = default;

Result<std::unique_ptr<Compactor>> Compactor::Open(const CompactOptions& options, bool defer_load) {
  auto impl = std::make_unique<Impl>();
  impl->opt = options;
  ORDERLAKE_RETURN_IF_ERROR(options.Validate());
  auto st = store::Open(options.lake);
  if (!st.ok()) return Status::Errorf("lake {}: {}", options.lake, st.status().message());
  impl->store = std::move(st).value();
  stdfs::path lock_path;
  if (!impl->store->local_root().empty()) {
    impl->local_root = impl->store->local_root();
    impl->stage = impl->local_root / "_orderlake" / options.table / "compact-staging";
    lock_path = impl->local_root / "_orderlake" / options.table / "compact.lock";
  } else {
    const std::string id = sha256_hex(impl->store->url() + "\n" + options.table).substr(0, 16);
    impl->stage = fs::cache_dir() / "staging" / (id + "-compact");
    lock_path = fs::cache_dir() / "locks" / (id + "-compact.lock");
  }
  ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(lock_path.parent_path()));
  auto lock = fs::FileLock::Acquire(lock_path, fmt::format("compaction of table {} in lake {}", options.table, options.lake));
  if (!lock.ok()) return lock.status();
  impl->lock.emplace(std::move(lock).value());
  impl->log = std::make_unique<DeltaLog>(impl->store.get(), options.table);

  auto duck = Duck::Open();
  if (!duck.ok()) return duck.status();
  impl->duck = std::move(duck).value();
  if (!defer_load) ORDERLAKE_RETURN_IF_ERROR(impl->EnsureLoaded());
  return std::unique_ptr<Compactor>(new Compactor(std::move(impl)));
}

Result<CompactSummary> Compactor::RunOnce() { return impl_->RunOnce(); }

Status CompactOptions::Validate() const {
  if (lake.empty()) return Status::Error("--lake must name the lake (a path, file:// or s3:// URL)");
  if (table.empty() || table.find('/') != std::string::npos)
    return Status::Errorf("--table must be a table name without '/', got \"{}\"", table);
  if (min_files < 2 || min_files > (size_t{1} << 20))
    return Status::Errorf("--min-files must be between 2 and 1048576, got {}", min_files);
  constexpr uint64_t kMiB = uint64_t{1} << 20;
  // In bytes: the CLI gives whole MiB, tests and callers may give less.
  if (small_file_bytes == 0 || small_file_bytes > (kMiB << 20))
    return Status::Errorf("--small-mb must be more than 0 and at most 1048576 MiB, got {} bytes", small_file_bytes);
  if (target_file_bytes == 0 || target_file_bytes > (kMiB << 20))
    return Status::Errorf("--target-mb must be more than 0 and at most 1048576 MiB, got {} bytes", target_file_bytes);
  if (retention_ms < 0 || retention_ms > int64_t{10'000'000} * 60'000)
    return Status::Errorf("--retention-minutes must be between 0 and 10000000, got {}",
                          static_cast<double>(retention_ms) / 60000.0);
  if (checkpoint_interval < -1 || checkpoint_interval > (int64_t{1} << 40))
    return Status::Errorf("--checkpoint-interval must be between 0 and 1099511627776 (or -1: the table's "
                          "delta.checkpointInterval), got {}",
                          checkpoint_interval);
  if (!(every_s == 0 || (every_s >= 0.1 && every_s <= 86400)))
    return Status::Errorf("--every must be between 0.1 and 86400 seconds, got {}", every_s);
  if (!metrics_listen.empty() && every_s == 0) return Status::Error("--metrics-listen needs --every");
  return ValidateListenAddress(metrics_listen, "--metrics-listen");
}

CompactMetrics::CompactMetrics()
    : passes_(registry_.counter("orderlake_compact_passes_total", "Compaction passes that finished")),
      files_removed_(registry_.counter("orderlake_compact_files_removed_total",
                                       "Small files merged into larger ones (removed from the table)")),
      files_added_(registry_.counter("orderlake_compact_files_added_total", "Merged files added to the table")),
      bytes_removed_(registry_.counter("orderlake_compact_removed_bytes_total", "Bytes of the files merged away")),
      bytes_added_(registry_.counter("orderlake_compact_added_bytes_total", "Bytes of the merged files written")),
      rows_(registry_.counter("orderlake_compact_rows_rewritten_total", "Rows rewritten into merged files")),
      vacuumed_(registry_.counter("orderlake_compact_files_vacuumed_total", "Removed files deleted after retention")),
      checkpoints_(registry_.counter("orderlake_compact_checkpoints_total", "Checkpoints of the log written")),
      failures_(registry_.counter("orderlake_compact_failures_total", "Compaction passes that failed (retried)")),
      last_pass_seconds_(registry_.gauge("orderlake_compact_last_pass_seconds", "Wall time of the last pass")),
      version_(registry_.gauge("orderlake_compact_table_version", "The table's version after the last pass")) {
  version_.Set(-1);
}

void CompactMetrics::Pass(const CompactSummary& s) {
  passes_.Inc();
  files_removed_.Inc(static_cast<double>(s.files_removed));
  files_added_.Inc(static_cast<double>(s.files_added));
  bytes_removed_.Inc(static_cast<double>(s.bytes_removed));
  bytes_added_.Inc(static_cast<double>(s.bytes_added));
  rows_.Inc(static_cast<double>(s.rows));
  vacuumed_.Inc(static_cast<double>(s.files_vacuumed));
  if (s.checkpoint >= 0) checkpoints_.Inc();
  last_pass_seconds_.Set(s.seconds);
  version_.Set(static_cast<double>(s.version));
  std::lock_guard lock(mu_);
  failing_ = false;
}

void CompactMetrics::Failed(const Status& st) {
  failures_.Inc();
  std::lock_guard lock(mu_);
  failing_ = true;
  last_error_ = st.message();
}

bool CompactMetrics::failing(std::string* why) const {
  std::lock_guard lock(mu_);
  if (failing_ && why) *why = last_error_;
  return failing_;
}

HealthReport CompactMetrics::Health() const {
  std::string why;
  if (failing(&why)) return HealthReport::Failing("the last compaction pass failed: " + why);
  return HealthReport::Healthy();
}

Status compact_loop(const CompactOptions& options, double every_s, const std::atomic<bool>& stop,
                    const std::function<void(const CompactSummary&)>& on_run,
                    const std::function<void(const Status&)>& on_error) {
  // The table is read in the first pass, not here: a lake that cannot be reached yet (an S3
  // outage as the compactor starts) is an error of that pass, retried, not the loop's end.
  auto c = Compactor::Open(options, /*defer_load=*/true);
  if (!c.ok()) return c.status();
  while (!stop.load()) {
    auto s = c.value()->RunOnce();
    if (!s.ok()) on_error(s.status());
    else on_run(s.value());
    for (double waited = 0; waited < every_s && !stop.load(); waited += 0.05)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Status::OK();
}

}  // namespace orderlake::table
