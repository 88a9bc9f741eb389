// Delta checkpoints: the snapshot at one version as a Parquet file of actions, written and
// read through an in-memory DuckDB (its JSON reader builds the nested columns, its Parquet
// writer writes them: structs, maps for partition values, lists).
#include <duckdb.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <random>

#include "core/clock.h"
#include "core/fs.h"
#include "core/sql.h"
#include "table/delta.h"
#include "table/duck.h"

namespace orderlake::table {
namespace stdfs = std::filesystem;
using json = nlohmann::json;

namespace {

// The column types of a classic checkpoint, as the protocol lists them.
constexpr const char* kColumns =
    "{txn: 'STRUCT(appId VARCHAR, version BIGINT, lastUpdated BIGINT)', "
    "\"add\": 'STRUCT(path VARCHAR, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT, modificationTime BIGINT, "
    "dataChange BOOLEAN, stats VARCHAR)', "
    "remove: 'STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN, extendedFileMetadata BOOLEAN, "
    "partitionValues MAP(VARCHAR, VARCHAR), size BIGINT)', "
    "metaData: 'STRUCT(id VARCHAR, name VARCHAR, description VARCHAR, format STRUCT(provider VARCHAR, options "
    "MAP(VARCHAR, VARCHAR)), schemaString VARCHAR, partitionColumns VARCHAR[], configuration MAP(VARCHAR, VARCHAR), "
    "createdTime BIGINT)', "
    "protocol: 'STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER)'}";

// A scratch directory and a private DuckDB, for one checkpoint.
class Scratch {
 public:
  Scratch() {
    std::random_device rd;
    dir_ = stdfs::temp_directory_path() / fmt::format("orderlake-checkpoint-{:08x}{:08x}", rd(), rd());
  }
  ~Scratch() {
    duck_.reset();
    std::error_code ec;
    stdfs::remove_all(dir_, ec);
  }
  Status Open() {
    ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(dir_));
    auto d = Duck::Open();
    if (!d.ok()) return d.status();
    duck_ = std::move(d).value();
    return Status::OK();
  }
  Status Sql(const std::string& sql, duckdb_result* out = nullptr) { return duck_->Sql(sql, out); }
  const stdfs::path& dir() const { return dir_; }

 private:
  stdfs::path dir_;
  std::unique_ptr<Duck> duck_;
};

std::string checkpoint_key(int64_t version) { return fmt::format("_delta_log/{:020d}.checkpoint.parquet", version); }

}  // namespace

Result<int64_t> DeltaLog::LastCheckpoint() {
  const std::string lc = key("_delta_log/_last_checkpoint");
  auto head = store_->Head(lc);
  if (!head.ok()) return head.status();
  if (!head.value()) return int64_t{-1};
  auto text = store_->Get(lc);
  if (!text.ok()) return text.status();
  json j = json::parse(text.value(), nullptr, false);
  if (!j.is_object() || !j.contains("version") || !j["version"].is_number_integer())
    return Status::Errorf("{} is damaged", lc);
  return j["version"].get<int64_t>();
}

Status DeltaLog::WriteCheckpoint(const Snapshot& s, int64_t tombstone_retention_ms) {
  if (s.version < 0) return Status::Error("no commit to checkpoint");
  Scratch scratch;
  ORDERLAKE_RETURN_IF_ERROR(scratch.Open());
  // The actions, one JSON object per line; DuckDB turns them into the nested columns.
  std::string lines;
  uint64_t n = 0;
  auto line = [&](const json& a) {
    lines += a.dump();
    lines += '\n';
    ++n;
  };
  line(json{{"protocol", s.protocol}});
  line(json{{"metaData", s.metadata}});
  for (const auto& [app, v] : s.txn) line(txn_action(app, v));
  for (const auto& [path, f] : s.files) line(add_action(f, false));
  const int64_t cutoff =
      clock::unix_ms() - tombstone_retention_ms;
  for (const auto& [path, t] : s.tombstones) {
    if (t.deletion_timestamp < cutoff) continue;
    DataFile f;
    f.path = t.path;
    line(remove_action(f, t.deletion_timestamp, false));
  }
  const stdfs::path in = scratch.dir() / "actions.json", out = scratch.dir() / "checkpoint.parquet";
  ORDERLAKE_RETURN_IF_ERROR(fs::write_file_atomic(in, lines));
  ORDERLAKE_RETURN_IF_ERROR(scratch.Sql(fmt::format(
      "COPY (SELECT txn, \"add\", remove, metaData, protocol FROM read_json({}, format = 'newline_delimited', "
      "columns = {})) TO {} (FORMAT parquet, COMPRESSION snappy)",
      sql::literal(in.string()), kColumns, sql::literal(out.string()))));
  auto bytes = fs::read_file(out);
  if (!bytes.ok()) return bytes.status();
  ORDERLAKE_RETURN_IF_ERROR(store_->Put(key(checkpoint_key(s.version)), bytes.value()));
  return store_->Put(key("_delta_log/_last_checkpoint"),
                     json{{"version", s.version}, {"size", n}}.dump());
}

Status DeltaLog::ReadCheckpoint(int64_t version, Snapshot* s) {
  auto bytes = store_->Get(key(checkpoint_key(version)));
  if (!bytes.ok()) return bytes.status();
  Scratch scratch;
  ORDERLAKE_RETURN_IF_ERROR(scratch.Open());
  const stdfs::path file = scratch.dir() / "checkpoint.parquet";
  ORDERLAKE_RETURN_IF_ERROR(fs::write_file_atomic(file, bytes.value()));
  // Each row back as the JSON action it was, then applied like a commit's lines. The
  // metaData first, so that the adds find the partition columns.
  duckdb_result r;
  ORDERLAKE_RETURN_IF_ERROR(scratch.Sql(
      fmt::format("SELECT CASE WHEN protocol IS NOT NULL THEN json_object('protocol', protocol) "
                  "WHEN metaData IS NOT NULL THEN json_object('metaData', metaData) "
                  "WHEN txn IS NOT NULL THEN json_object('txn', txn) "
                  "WHEN \"add\" IS NOT NULL THEN json_object('add', \"add\") "
                  "WHEN remove IS NOT NULL THEN json_object('remove', remove) END::VARCHAR "
                  "FROM read_parquet({}) ORDER BY (metaData IS NULL), (protocol IS NULL)",
                  sql::literal(file.string())),
      &r));
  LogCommit c;
  c.version = version;
  const idx_t rows = duckdb_row_count(&r);
  for (idx_t i = 0; i < rows; ++i) {
    char* v = duckdb_value_varchar(&r, 0, i);
    if (v) {
      c.text += v;
      c.text += '\n';
      duckdb_free(v);
    }
  }
  duckdb_destroy_result(&r);
  *s = Snapshot{};
  ORDERLAKE_RETURN_IF_ERROR(Apply(s, c, /*from_checkpoint=*/true));
  s->version = version;
  return Status::OK();
}

}  // namespace orderlake::table
