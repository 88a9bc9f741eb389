#include "dashboard/cube.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <shared_mutex>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/sql.h"
#include "dashboard/cube_state.h"
#include "query/engine_util.h"
#include "query/file_reader.h"
#include "query/table_source.h"
#include "store/object_store.h"
#include "table/delta.h"

namespace orderlake::dashboard {
namespace fs = std::filesystem;
using json = nlohmann::json;
using query::Value;

// ---- the state ----

uint32_t CubeDict::Id(const Value& v) {
  if (v.is_null()) {
    if (null_id == UINT32_MAX) {
      null_id = static_cast<uint32_t>(values.size());
      values.emplace_back(std::nullopt);
    }
    return null_id;
  }
  std::string s = v.kind() == Value::Kind::kText ? v.text() : v.ToString();
  auto it = ids.find(s);
  if (it != ids.end()) return it->second;
  const auto id = static_cast<uint32_t>(values.size());
  values.emplace_back(s);
  ids.emplace(std::move(s), id);
  return id;
}

void CompensatedSum::Add(double x) {
  const double t = sum + x;
  if (std::fabs(sum) >= std::fabs(x))
    comp += (sum - t) + x;
  else
    comp += (x - t) + sum;
  sum = t;
}

size_t Cube::State::KeyHash::operator()(const Key& k) const {
  uint64_t h = k.date;
  h = h * 1000003u ^ k.country;
  h = h * 1000003u ^ k.region;
  h = h * 1000003u ^ static_cast<uint64_t>(k.hour);
  h = h * 4u ^ (static_cast<uint64_t>(k.hour_null) << 1 | static_cast<uint64_t>(k.high));
  return std::hash<uint64_t>()(h);
}

std::optional<int64_t> DateOrder(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  int64_t v = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 4 || i == 7) continue;
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

Status Cube::State::AddGroup(const std::vector<Value>& row) {
  if (row.size() != 8) return Status::Errorf("cube: a group row has {} columns, expected 8", row.size());
  Key k;
  k.date = dates.Id(row[0]);
  if (date_order.size() < dates.size()) {
    auto order = row[0].is_null() ? std::nullopt : DateOrder(row[0].text());
    if (!row[0].is_null() && !order) return Status::Errorf("cube: unexpected date '{}'", row[0].ToString());
    date_order.push_back(order.value_or(0));
  }
  k.country = countries.Id(row[1]);
  k.region = regions.Id(row[2]);
  k.hour_null = row[3].is_null();
  k.hour = k.hour_null ? 0 : row[3].as_int();
  k.high = !row[4].is_null() && row[4].as_bool();
  auto [it, fresh] = cell_index.emplace(k, cells.size());
  if (fresh) cells.emplace_back(k, Agg{});
  Agg& a = cells[it->second].second;
  a.rows += row[5].as_int();
  a.amounts += row[6].as_int();
  if (!row[7].is_null()) a.sum.Add(row[7].as_double());
  return Status::OK();
}

bool TopBefore(const Cube::State::TopRow& a, const Cube::State::TopRow& b) {
  if (a.has_usd != b.has_usd) return a.has_usd;
  if (a.has_usd && a.usd != b.usd) return a.usd > b.usd;
  if (a.has_id != b.has_id) return a.has_id;
  return a.id < b.id;
}

Status Cube::State::AddTop(const std::vector<Value>& row, const std::vector<std::string>& names) {
  if (row.size() != names.size() || row.size() < 4) return Status::Error("cube: a top row does not match its columns");
  TopRow t;
  json o = json::object();
  o["InvoiceDateOnly"] = query::ToJson(row[0]);
  o["Country"] = query::ToJson(row[1]);
  for (size_t c = 3; c < row.size(); ++c) {
    o[names[c]] = query::ToJson(row[c]);
    if (names[c] == "TotalAmountUSD" && !row[c].is_null() && std::isfinite(row[c].as_double())) {
      t.has_usd = true;
      t.usd = row[c].as_double();
    } else if (names[c] == "OrderID" && !row[c].is_null()) {
      t.has_id = true;
      t.id = row[c].ToString();
    }
  }
  t.json = o.dump();
  Key k;
  k.date = dates.Id(row[0]);
  if (date_order.size() < dates.size()) {
    auto order = row[0].is_null() ? std::nullopt : DateOrder(row[0].text());
    date_order.push_back(order.value_or(0));
  }
  k.country = countries.Id(row[1]);
  k.region = regions.Id(row[2]);
  auto [it, fresh] = top_index.emplace(k, tops.size());
  if (fresh) tops.push_back(TopCell{k.date, k.country, k.region, {}});
  auto& rows = tops[it->second].rows;
  if (rows.size() >= static_cast<size_t>(kTopK) && !TopBefore(t, rows.back())) return Status::OK();
  rows.insert(std::upper_bound(rows.begin(), rows.end(), t, TopBefore), std::move(t));
  if (rows.size() > static_cast<size_t>(kTopK)) rows.pop_back();
  return Status::OK();
}

uint64_t Cube::State::top_rows() const {
  uint64_t n = 0;
  for (const auto& t : tops) n += t.rows.size();
  return n;
}

// ---- maintenance ----

namespace {

constexpr std::string_view kGroupSql =
    "SELECT CAST(InvoiceDateOnly AS VARCHAR), Country, Region, InvoiceHour, coalesce(OrderTag = 'High', false), "
    "count(*), count(TotalAmountUSD), sum(TotalAmountUSD) FROM ({}) AS t GROUP BY 1, 2, 3, 4, 5";
constexpr std::string_view kTopSql =
    "SELECT CAST(InvoiceDateOnly AS VARCHAR) AS InvoiceDateOnly, Country, Region, OrderID, InvoiceNo, StockCode, "
    "Description, CustomerID, Quantity, UnitPrice, TotalAmount, TotalAmountUSD FROM ({}) AS t "
    "WHERE OrderTag = 'High' QUALIFY row_number() OVER (PARTITION BY t.InvoiceDateOnly, t.Country, t.Region "
    "ORDER BY t.TotalAmountUSD DESC NULLS LAST, t.OrderID ASC NULLS LAST) <= {}";

// Why a commit cannot be folded in, or "" when it can; its added data files go to `added`.
std::string Foldable(const table::LogCommit& c, std::vector<std::string>* added) {
  for (const json& a : c.actions()) {
    if (a.contains("add")) {
      const json& add = a["add"];
      if (add.value("dataChange", true)) added->push_back(add.value("path", ""));
    } else if (a.contains("remove")) {
      if (a["remove"].value("dataChange", true)) return "it removes rows";
    } else if (a.contains("metaData") && c.version > 0) {
      return "it changes the table's metadata";
    }
  }
  return "";
}

}  // namespace

struct Cube::Impl {
  fs::path lake, root;
  std::string table;
  std::unique_ptr<store::ObjectStore> store;
  std::unique_ptr<table::DeltaLog> log;
  query::FileKinds kinds;  // by file: what Source learnt; emptied with the reader (it grows with the files read)
  std::unique_ptr<query::FileReader> reader;  // opened by the first Sync
  // Folds read through one DuckDB for at most kFoldsPerReader folds, then a fresh one is
  // opened, so whatever it keeps between statements cannot grow with the folds.
  static constexpr uint64_t kFoldsPerReader = 32;
  uint64_t reader_folds = 0;

  std::mutex sync_mu;     // one Sync at a time; guards snap and dirty
  table::Snapshot snap;   // the table as the cube last read it
  bool dirty = true;      // the state does not hold snap: rebuild

  mutable std::shared_mutex mu;  // guards state and stats
  std::unique_ptr<State> state = std::make_unique<State>();
  Stats stats;

  // The SELECT reading exactly `paths` (relative, percent-encoded, as in the log).
  Result<std::string> Source(const std::vector<std::string>& paths) {
    query::SourceSpec spec;
    spec.table = table;
    spec.location = "file://" + root.string();
    spec.root = root;
    spec.columns = query::internal::LakeColumns(false);
    spec.partition_keys = query::internal::LakeColumns(true);
    std::vector<fs::path> files;
    for (const auto& p : paths) {
      auto rel = table::decode_path(p);
      if (!rel.ok()) return rel.status();
      files.push_back(root / rel.value());
    }
    spec.files = std::move(files);
    return query::TableSource(spec, kinds, [this](const fs::path& f) { return reader->ParquetColumns(f); });
  }

  // Adds the rows of `paths` to `into` (two queries: the groups, the top rows), which is
  // then the table at `version` (set in the same lock, so no reader sees one without the other).
  Status Read(const std::vector<std::string>& paths, State& into, int64_t version) {
    if (paths.empty()) {
      std::unique_lock<std::shared_mutex> lock(mu);
      into.version = version;
      return Status::OK();
    }
    auto select = Source(paths);
    if (!select.ok()) return select.status();
    if (&into == state.get()) {
      // A fold (what one or a few commits added): the files are read once, into memory.
      auto made = reader->Execute(fmt::format("CREATE OR REPLACE TEMP TABLE cube_added AS {}", *select));
      if (!made.ok()) return Status::Errorf("cube: reading {} file(s): {}", paths.size(), made.status().message());
      select = std::string("SELECT * FROM cube_added");
    }
    auto groups = reader->Execute(fmt::format(fmt::runtime(kGroupSql), *select));
    if (!groups.ok()) return Status::Errorf("cube: reading {} file(s): {}", paths.size(), groups.status().message());
    auto top = reader->Execute(fmt::format(fmt::runtime(kTopSql), *select, kTopK));
    if (!top.ok()) return Status::Errorf("cube: reading {} file(s): {}", paths.size(), top.status().message());
    std::unique_lock<std::shared_mutex> lock(mu, std::defer_lock);
    if (&into == state.get()) lock.lock();  // folding into the live state: readers wait
    for (const auto& row : groups->rows) ORDERLAKE_RETURN_IF_ERROR(into.AddGroup(row));
    std::vector<std::string> names;
    for (const auto& c : top->columns) names.push_back(c.name);
    for (const auto& row : top->rows) ORDERLAKE_RETURN_IF_ERROR(into.AddTop(row, names));
    into.version = version;
    if (lock.owns_lock()) lock.unlock();
    if (&into == state.get()) {
      (void)reader->Execute("DROP TABLE IF EXISTS cube_added");
      if (++reader_folds >= kFoldsPerReader) {
        reader.reset();  // the next Sync opens a new one
        kinds = query::FileKinds{};  // it remembers every file it looked at: folded files are never read again
        reader_folds = 0;
      }
    }
    return Status::OK();
  }

  // A new state from every file of the snapshot.
  Status Rebuild() {
    const auto t0 = std::chrono::steady_clock::now();
    auto fresh = std::make_unique<State>();
    std::vector<std::string> paths;
    for (const auto& [path, f] : snap.files) paths.push_back(path);
    ORDERLAKE_RETURN_IF_ERROR(Read(paths, *fresh, snap.version));
    fresh->built = true;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::unique_lock<std::shared_mutex> lock(mu);
    state = std::move(fresh);
    ++stats.rebuilds;
    stats.last_build_seconds = s;
    dirty = false;
    lock.unlock();
    reader.reset();  // DuckDB's memory of the whole-table scan goes back; the next Sync opens a new one
    kinds = query::FileKinds{};  // nor are the files of the scan remembered
    reader_folds = 0;
    spdlog::info("dashboard: cube of {} built at version {} from {} file(s) in {:.2f} s ({} cells, {} top rows)",
                 table, snap.version, paths.size(), s, state->cells.size(), state->top_rows());
    return Status::OK();
  }

  // Applies the commits after the snapshot's version up to `target` (-1: all): folds their
  // added files in, all of them in one read, or marks the state for a rebuild.
  Status Follow(int64_t target) {
    std::vector<std::string> added;
    std::string why;
    int64_t expect = snap.version + 1;
    bool reached = false;  // the visit stopped at a commit after the target (not applied)
    Status st = log->Update(&snap, [&](const table::LogCommit& c) -> Status {
      if (target >= 0 && c.version > target) {
        reached = true;
        return Status::Error("past the target");
      }
      // Commits cleaned up while the cube was behind: the snapshot cannot be followed.
      if (c.version != expect) return Status::Errorf("commits {} to {} are gone", expect, c.version - 1);
      expect = c.version + 1;
      if (why.empty()) why = Foldable(c, &added);
      return Status::OK();
    });
    if (reached) st = Status::OK();  // the snapshot holds every commit up to the target
    if (!st.ok()) {
      spdlog::warn("dashboard: reading the log of {} after version {}: {}; loading it again", table, snap.version,
                   st.message());
      auto loaded = log->Load();
      if (!loaded.ok()) return loaded.status();
      snap = std::move(loaded).value();
      dirty = true;
      return Status::OK();
    }
    if (!why.empty()) {
      spdlog::info("dashboard: cube of {} is rebuilt at version {}: {}", table, snap.version, why);
      dirty = true;
      return Status::OK();
    }
    const int64_t before = state->version;
    const auto t0 = std::chrono::steady_clock::now();
    if (!added.empty()) {
      Status folded = Read(added, *state, snap.version);
      if (!folded.ok()) {
        // The state may hold part of it: start again from the table.
        spdlog::warn("dashboard: folding version {} of {} into the cube: {}; rebuilding", snap.version, table,
                     folded.message());
        dirty = true;
        return Status::OK();
      }
    }
    std::unique_lock<std::shared_mutex> lock(mu);
    if (before != snap.version && !added.empty()) {
      ++stats.folds;
      stats.folded_files += added.size();
      stats.fold_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    state->version = snap.version;
    return Status::OK();
  }
};

Cube::Cube(fs::path lake, std::string table) : impl_(std::make_unique<Impl>()) {
  std::error_code ec;
  impl_->lake = fs::canonical(lake, ec);
  if (ec) impl_->lake = std::move(lake);
  impl_->table = std::move(table);
  impl_->root = impl_->lake / impl_->table;
}

Cube::~Cube() = default;

bool Cube::available() const {
  std::error_code ec;
  return fs::is_directory(impl_->root / "_delta_log", ec);
}

bool Cube::Answers(std::string_view endpoint) {
  for (std::string_view e : {"summary", "daily", "heatmap", "hourly", "top-orders", "aov-by-country", "filters"})
    if (endpoint == e) return true;
  return false;
}

Status Cube::Sync(int64_t target) {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.sync_mu);
  if (target >= 0 && !d.dirty && d.snap.version >= target) return Status::OK();
  if (!d.reader) {
    auto r = query::FileReader::Open(d.lake);
    if (!r.ok()) return r.status();
    d.reader = std::move(r).value();
  }
  if (!d.log) {
    d.store = store::OpenLocal(d.lake.string());
    d.log = std::make_unique<table::DeltaLog>(d.store.get(), d.table);
  }
  if (d.snap.version < 0) {
    auto loaded = d.log->Load();  // from _last_checkpoint when there is one
    if (!loaded.ok()) return Status::Errorf("reading the Delta log of {}: {}", d.root.string(), loaded.status().message());
    d.snap = std::move(loaded).value();
    d.dirty = true;
  } else if (!d.dirty) {
    ORDERLAKE_RETURN_IF_ERROR(d.Follow(target));
  }
  if (d.dirty) return d.Rebuild();
  return Status::OK();
}

Result<json> Cube::Answer(std::string_view endpoint, const Filters& f, int limit, int64_t* version) const {
  std::shared_lock<std::shared_mutex> lock(impl_->mu);
  if (!impl_->state->built) return Status::Error("the dashboard's aggregates are not built yet");
  if (version) *version = impl_->state->version;
  return impl_->state->Answer(endpoint, f, limit);
}

int64_t Cube::version() const {
  std::shared_lock<std::shared_mutex> lock(impl_->mu);
  return impl_->state->built ? impl_->state->version : -1;
}

Cube::Stats Cube::stats() const {
  std::shared_lock<std::shared_mutex> lock(impl_->mu);
  Stats s = impl_->stats;
  s.version = impl_->state->version;
  s.cells = impl_->state->cells.size();
  s.top_rows = impl_->state->top_rows();
  return s;
}

}  // namespace orderlake::dashboard
