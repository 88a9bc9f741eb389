#include "dashboard/server.h"

#include <httplib.h>

#include "core/http_server.h"

#include <algorithm>
#include <cctype>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <optional>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/metrics.h"
#include "dashboard/assets.h"
#include "dashboard/console.h"
#include "dashboard/cube.h"
#include "dashboard/endpoints.h"
#include "dashboard/filters.h"
#include "dashboard/snapshot.h"
#include "query/engine.h"
#include "query/format.h"
#include "query/script.h"

namespace orderlake::dashboard {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;
using query::Engine;
using query::QueryResult;
using query::Value;

constexpr int kMaxAttempts = 40;
constexpr size_t kMaxCachedBytes = 1 << 20;

std::string ErrorBody(std::string_view message) { return json{{"error", message}}.dump(); }

void SendError(httplib::Response& res, int status, std::string_view message) {
  res.status = status;
  res.set_content(ErrorBody(message), "application/json");
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i % (b.empty() ? 1 : b.size())]);
  return diff == 0 && !b.empty();
}

// A pool of engines; Acquire blocks until one is free.
class EnginePool {
 public:
  Status Open(const fs::path& lake, int n) {
    query::EngineOptions visuals;
    visuals.confine_links = false;  // the visuals' own SQL only: user statements run in the console's workers
    for (int i = 0; i < std::max(1, n); ++i) {
      auto e = Engine::Open(lake, visuals);
      if (!e.ok()) return e.status();
      free_.push_back(std::move(e).value());
    }
    size_ = free_.size();
    return Status::OK();
  }
  class Lease {
   public:
    Lease(EnginePool* pool, std::unique_ptr<Engine> e) : pool_(pool), engine_(std::move(e)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (engine_) pool_->Release(std::move(engine_));
    }
    Engine& operator*() { return *engine_; }
    Engine* operator->() { return engine_.get(); }

   private:
    EnginePool* pool_;
    std::unique_ptr<Engine> engine_;
  };
  Lease Acquire() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !free_.empty(); });
    auto e = std::move(free_.back());
    free_.pop_back();
    return Lease(this, std::move(e));
  }
  size_t size() const { return size_; }

 private:
  void Release(std::unique_ptr<Engine> e) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      free_.push_back(std::move(e));
    }
    cv_.notify_one();
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Engine>> free_;
  size_t size_ = 0;
};

}  // namespace

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

Status ServeOptions::Validate() const {
  if (lake.empty()) return Status::Error("--lake must name the lake directory (or give --data-dir for DATA_DIR/lake)");
  if (host.empty()) return Status::Error("--listen needs a host: HOST:PORT (e.g. 127.0.0.1:8080)");
  if (port < 0 || port > 65535) return Status::Errorf("--listen port must be between 0 and 65535, got {}", port);
  if (!IsLoopback(host) && token.empty())
    return Status::Errorf("listening on {} (beyond this machine) needs an access token: give --token", host);
  if (engines < 1 || engines > 16) return Status::Errorf("--engines must be between 1 and 16, got {}", engines);
  if (sql_timeout.count() < 1 || sql_timeout.count() > 3600)
    return Status::Errorf("--sql-timeout must be between 1 and 3600 seconds, got {}", sql_timeout.count());
  if (poll.count() < 20 || poll.count() > 3600 * 1000)
    return Status::Errorf("--poll-ms must be between 20 and 3600000, got {}", poll.count());
  if (sql_memory_mb < 64 || sql_memory_mb > (size_t{1} << 20))
    return Status::Errorf("--sql-memory-mb must be between 64 and 1048576, got {}", sql_memory_mb);
  if (sql_workers < 1 || sql_workers > 64) return Status::Errorf("--sql-workers must be between 1 and 64, got {}", sql_workers);
  if (sql_per_client < 1 || sql_per_client > 64)
    return Status::Errorf("--sql-per-client must be between 1 and 64, got {}", sql_per_client);
  if (sql_threads < 1 || sql_threads > 64) return Status::Errorf("--sql-threads must be between 1 and 64, got {}", sql_threads);
  if (sql_result_mb < 1 || sql_result_mb > 4096)
    return Status::Errorf("--sql-result-mb must be between 1 and 4096, got {}", sql_result_mb);
  if (sql_max_rows < 1) return Status::Error("sql_max_rows must be at least 1");
  if (csv_max_rows < 1) return Status::Error("csv_max_rows must be at least 1");
  return tls.Validate();
}

struct DashboardServer::Impl {
  ServeOptions opt;
  http::HttpServer svr{HttpOptions()};
  EnginePool pool;
  std::unique_ptr<TableWatcher> watcher;
  std::unique_ptr<Cube> cube;  // the visuals' aggregates (Delta tables only)
  AnswerCache cache;
  std::vector<Endpoint> endpoints;
  std::atomic<bool> stopping{false};
  int port = 0;

  // Computes (or finds) one answer against one consistent table version.
  std::shared_ptr<const Answer> Consistent(const std::string& key,
                                           const std::function<Result<json>(Engine&, int64_t* read)>& run,
                                           const std::function<json(const TableVersion&, json)>& wrap,
                                           bool cacheable, bool* hit) {
    for (int attempt = 0;; ++attempt) {
      const bool last = attempt + 1 >= kMaxAttempts;
      TableVersion v = watcher->Current();
      if (v.in_flux && !last) {
        v = watcher->Rescan();
        if (v.in_flux) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          continue;
        }
      }
      auto compute = [&]() -> std::optional<Answer> {
        auto lease = pool.Acquire();
        int64_t read = -1;  // the Delta version the answer is of (-1: a table without a log)
        auto r = run(*lease, &read);
        if (!r.ok()) return Answer{400, ErrorBody(r.status().message()), v.version, false};
        TableVersion after = watcher->Rescan();
        if (read >= 0 && !last && after.token != v.token) {
          // A Delta table: the statement read one snapshot, so the answer is consistent
          // whatever happened meanwhile. It is that of `after` when the table did not move
          // again; otherwise it is served, not kept.
          const bool same = after.token == fmt::format("delta:{}", read);
          std::string body = wrap(same ? after : v, std::move(r).value()).dump();
          return Answer{200, std::move(body), same ? after.version : v.version, false};
        }
        if (!last && (after.token != v.token || after.in_flux)) return std::nullopt;  // moved meanwhile
        std::string body = wrap(v, std::move(r).value()).dump();
        const bool keep = cacheable && !last && body.size() <= kMaxCachedBytes;  // big SQL results are not kept
        return Answer{200, std::move(body), v.version, keep};
      };
      std::shared_ptr<const Answer> a;
      if (cacheable && !last) {
        a = cache.Get(v.version, key, compute, hit);
      } else {
        auto once = compute();
        if (once) a = std::make_shared<const Answer>(std::move(*once));
      }
      if (a) return a;
    }
  }

  // One visual answer (or a 400 for bad parameters), cached per (version, endpoint, filters).
  std::shared_ptr<const Answer> EndpointAnswer(const Endpoint& ep, const Params& params, bool* hit) {
    auto f = ParseFilters(params, ep.extra);
    if (!f.ok()) return std::make_shared<const Answer>(Answer{400, ErrorBody(f.status().message()), 0, false});
    bool from_table = !ep.cube;
    if (ep.cube) {
      auto t = ParseSourceIsTable(params);
      if (!t.ok()) return std::make_shared<const Answer>(Answer{400, ErrorBody(t.status().message()), 0, false});
      from_table = *t;
    }
    if (ep.extra.count("limit")) {  // checked before the cache so a bad one never runs
      auto l = ParseLimit(params, 10, 100);
      if (!l.ok()) return std::make_shared<const Answer>(Answer{400, ErrorBody(l.status().message()), 0, false});
    }
    std::string key = ep.name + "|" + (ep.filtered ? f->Key() : "");
    for (const auto& x : ep.extra) {
      auto it = params.find(x);
      key += "|" + x + "=" + (it == params.end() ? "" : it->second);
    }
    Filters filters = *f;
    if (ep.filtered && !filters.empty()) RememberView(filters);
    if (!from_table && cube->available()) {
      if (auto a = FromCube(ep, filters, params, key, hit)) return a;
    }
    auto run = [&](Engine& e, int64_t* read) -> Result<json> {
      auto r = ep.run(e, filters, params);
      *read = e.table_version();
      return r;
    };
    return Consistent(
        key, run,
        [&](const TableVersion& v, json data) { return Envelope(ep, v, filters, std::move(data)); }, true, hit);
  }

  static json Envelope(const Endpoint& ep, const TableVersion& v, const Filters& f, json data) {
    return json{{"endpoint", ep.name}, {"version", v.ToJson()}, {"filters", f.ToJson()}, {"data", std::move(data)}};
  }

  // ---- the aggregates (cube.h), folded off the request path ----
  // The fold thread (FollowLoop) brings them to each version the table watcher sees; a
  // request answers at once from the version they hold, named in the answer. Each version
  // the fold thread brings them to is recorded here before the fold, so an answer read
  // from them always finds the TableVersion it is of.
  static constexpr size_t kFoldTargets = 16;
  mutable std::mutex fold_mu;
  std::condition_variable fold_cv;
  std::deque<TableVersion> fold_targets;  // newest last
  bool cube_failed = false;               // the last fold failed: answers come from SQL
  std::atomic<uint64_t> cube_waits{0};    // requests that waited for the aggregates

  static int64_t DeltaOf(const TableVersion& v) {
    return v.token.rfind("delta:", 0) == 0 ? std::stoll(v.token.substr(6)) : -1;
  }
  std::optional<TableVersion> TargetLocked(int64_t delta) const {
    for (auto it = fold_targets.rbegin(); it != fold_targets.rend(); ++it)
      if (DeltaOf(*it) == delta) return *it;
    return std::nullopt;
  }
  // The version the aggregates hold, when it is one the fold thread recorded.
  std::optional<TableVersion> Held() const {
    const int64_t held = cube->version();
    std::lock_guard<std::mutex> lock(fold_mu);
    if (held < 0 || cube_failed) return std::nullopt;
    return TargetLocked(held);
  }
  // What the visuals answer at: the aggregates' version once they hold one, else the
  // watcher's (/api/version and the events name it, so pages refresh when it is ready).
  TableVersion Served() const {
    if (cube->available())
      if (auto h = Held()) return *h;
    return watcher->Current();
  }

  // Brings the aggregates to v's Delta version (the first call builds them), then wakes
  // the requests waiting for a first build.
  void FoldTo(TableVersion v) {
    for (int round = 0; round < 3 && cube->available(); ++round) {
      const int64_t target = DeltaOf(v);
      if (target < 0) break;
      {
        std::lock_guard<std::mutex> lock(fold_mu);
        if (fold_targets.empty() || DeltaOf(fold_targets.back()) < target) fold_targets.push_back(v);
        while (fold_targets.size() > kFoldTargets) fold_targets.pop_front();
      }
      if (opt.before_fold) opt.before_fold(target);
      Status st = cube->Sync(target);
      {
        std::lock_guard<std::mutex> lock(fold_mu);
        cube_failed = !st.ok();
      }
      if (!st.ok()) spdlog::warn("dashboard: updating the aggregates (visuals answer from SQL meanwhile): {}", st.message());
      if (!st.ok() || cube->version() <= target) break;
      v = watcher->Rescan();  // a build or reload read past the target: catch up with a version the watcher names
    }
    fold_cv.notify_all();
  }

  // Before the first build (or while a build read past the version it was asked for):
  // waits for the fold thread, at most kBuildWait; false: answer from SQL.
  static constexpr std::chrono::seconds kBuildWait{120};
  bool WaitForAggregates() {
    const auto deadline = std::chrono::steady_clock::now() + kBuildWait;
    cube_waits.fetch_add(1);
    std::unique_lock<std::mutex> lock(fold_mu);
    while (!stopping && !cube_failed) {
      const int64_t held = cube->version();
      if (held >= 0 && TargetLocked(held)) return true;
      if (fold_cv.wait_until(lock, deadline) == std::cv_status::timeout) return false;
    }
    return false;
  }

  // The answer from the aggregates at the version they hold, cached per that version;
  // nullptr when they cannot give it (the SQL path answers then).
  std::shared_ptr<const Answer> FromCube(const Endpoint& ep, const Filters& f, const Params& params, const std::string& key,
                                         bool* hit) {
    auto l = ParseLimit(params, 10, Cube::kTopK);
    const int limit = l.ok() ? *l : 10;
    bool failed = false;
    for (int attempt = 0; attempt < kMaxAttempts && !failed; ++attempt) {
      std::optional<TableVersion> v = Held();
      if (!v) {
        if (!WaitForAggregates()) break;
        continue;
      }
      auto compute = [&]() -> std::optional<Answer> {
        int64_t read = -1;
        auto r = cube->Answer(ep.name, f, limit, &read);
        if (!r.ok()) {
          spdlog::warn("dashboard: /api/{} answered by SQL: the aggregates failed: {}", ep.name, r.status().message());
          failed = true;
          return std::nullopt;
        }
        // A fold may have finished since v was read: the answer is of the version read.
        std::optional<TableVersion> as_of = v;
        if (read != DeltaOf(*v)) {
          std::lock_guard<std::mutex> lock(fold_mu);
          as_of = TargetLocked(read);
        }
        if (!as_of) return std::nullopt;
        std::string body = Envelope(ep, *as_of, f, std::move(r).value()).dump();
        const bool keep = as_of->version == v->version && body.size() <= kMaxCachedBytes;
        return Answer{200, std::move(body), as_of->version, keep};
      };
      if (auto a = cache.Get(v->version, key, compute, hit)) return a;
    }
    return nullptr;
  }

  void HandleEndpoint(const Endpoint& ep, const httplib::Request& req, httplib::Response& res) {
    bool hit = false;
    auto a = EndpointAnswer(ep, req.params, &hit);
    res.status = a->status;
    if (a->status == 200) {
      res.set_header("X-Orderlake-Cache", hit ? "hit" : "miss");
      res.set_header("X-Orderlake-Version", std::to_string(a->version));
    }
    res.set_header("Cache-Control", "no-store");
    res.set_content(a->body, "application/json");
  }

  // Filtered views asked for recently (newest first, at most kRecentViews): recomputed
  // ahead of time on a new version while pages are open.
  static constexpr size_t kRecentViews = 6;
  std::mutex views_mu;
  std::vector<std::pair<std::string, Params>> recent_views;

  void RememberView(const Filters& f) {
    Params p;
    if (!f.from.empty()) p.emplace("from", f.from);
    if (!f.to.empty()) p.emplace("to", f.to);
    for (const auto& c : f.countries) p.emplace("country", c);
    for (const auto& r : f.regions) p.emplace("region", r);
    std::string key = f.Key();
    std::lock_guard<std::mutex> lock(views_mu);
    for (auto it = recent_views.begin(); it != recent_views.end(); ++it)
      if (it->first == key) {
        if (it == recent_views.begin()) return;
        recent_views.erase(it);
        break;
      }
    recent_views.insert(recent_views.begin(), {key, std::move(p)});
    if (recent_views.size() > kRecentViews) recent_views.pop_back();
  }

  // The fold thread. At start it builds the aggregates (a request meanwhile waits for that
  // first build); then, on each version the watcher sees, it folds every commit since the
  // last fold into them in one pass (one DuckDB read of their added files), and only then
  // tells the open pages (events name the served version). The live view's freshness is
  // so commit -> fold done; no request waits for a fold. While at least one page listens,
  // the answers it is about to ask for (the unfiltered view, then recent filtered views)
  // are computed next, so the page's own requests find them ready or in flight.
  std::atomic<int> subscribers{0};
  std::thread prewarm_thread;

  void FollowLoop() {
    uint64_t seen = 0;
    while (!stopping && !watcher->stopping()) {
      TableVersion v = watcher->Current();
      if (v.version == seen) v = watcher->WaitForChange(seen, std::chrono::seconds(1));
      if (stopping || watcher->stopping()) break;
      if (v.version == seen) continue;
      seen = v.version;
      FoldTo(v);
      svr.NotifyStreams();  // the open pages hear of it now
      if (subscribers.load() == 0) continue;
      std::vector<Params> views = {Params{}};
      {
        std::lock_guard<std::mutex> lock(views_mu);
        for (const auto& [k, p] : recent_views) views.push_back(p);
      }
      for (const auto& p : views)
        for (const auto& ep : endpoints) {
          if (stopping || watcher->Current().version != seen) break;
          if (!ep.filtered && !p.empty()) continue;
          bool hit = false;
          EndpointAnswer(ep, p, &hit);
        }
    }
    fold_cv.notify_all();
  }

  // The server (core/http_server.h): slow or idle clients hold no worker; 64 workers for
  // the visuals and the console; event streams hold none (see HandleEvents).
  static http::ServerOptions HttpOptions() {
    http::ServerOptions o;
    o.workers = 64;
    o.max_body_bytes = 4 * kMaxSqlBytes;
    return o;
  }

  // Server-sent events: a "version" event at each new table version, a comment every 15 s.
  // The provider never blocks: with nothing to say it writes nothing and the server asks
  // again shortly (or at once: FollowLoop calls NotifyStreams once a new version is served), so 50 open
  // pages take no thread between events.
  void HandleEvents(const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Accel-Buffering", "no");
    struct Seen {
      bool started = false;
      uint64_t version = 0;
      std::chrono::steady_clock::time_point last_sent;
    };
    auto seen = std::make_shared<Seen>();
    subscribers.fetch_add(1);
    res.set_chunked_content_provider("text/event-stream", [this, seen](size_t, httplib::DataSink& sink) {
      if (stopping || watcher->stopping()) return false;
      const auto now = std::chrono::steady_clock::now();
      const TableVersion v = Served();
      std::string msg;
      if (!seen->started) msg += "retry: 1000\n";
      if (v.version != seen->version) {
        seen->version = v.version;
        msg += fmt::format("event: version\nid: {}\ndata: {}\n\n", v.version, v.ToJson().dump());
      } else if (!seen->started || now - seen->last_sent >= std::chrono::seconds(15)) {
        msg += ": keep-alive\n\n";
      } else {
        return true;  // nothing new yet
      }
      seen->started = true;
      seen->last_sent = now;
      return sink.write(msg.data(), msg.size());
    }, [this](bool) { subscribers.fetch_sub(1); });
  }

  void Static(const httplib::Request& req, httplib::Response& res) {
    auto a = FindAsset(req.path);
    if (!a) return SendError(res, 404, fmt::format("not found: {}", req.path.substr(0, 200)));
    std::string_view data = a->data;
    std::string from_disk;
    if (!opt.web_dir.empty() && !a->immutable) {
      std::string name = req.path == "/" || req.path == "/index.html" ? "index.html"
                         : req.path == "/api.md"                     ? "API.md"
                                                                     : req.path.substr(1);
      std::ifstream in(opt.web_dir / name, std::ios::binary);
      from_disk.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      data = from_disk;
    }
    if (data.empty())
      return SendError(res, 404,
                       fmt::format("{} was not built into this binary: run scripts/setup.sh (npm ci in web/) and rebuild",
                                   req.path));
    res.set_header("Cache-Control", a->immutable ? "public, max-age=86400" : "no-cache");
    res.set_header("X-Content-Type-Options", "nosniff");
    if (a->path == "/")
      res.set_header("Content-Security-Policy",
                     "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                     "connect-src 'self'; frame-ancestors 'none'");
    res.set_content(std::string(data), std::string(a->content_type));
  }

  // The dashboard's own metrics (GET /metrics starts with them): the table version and the
  // cache are read at scrape time; the SQL console's statements are counted as they run.
  metrics::Registry registry;
  metrics::Counter* sql_statements = nullptr;
  metrics::Counter* sql_errors = nullptr;
  std::unique_ptr<SqlConsole> console;  // POST /api/sql

  void RegisterMetrics() {
    auto& r = registry;
    r.gauge_fn("orderlake_dashboard_table_version",
               "Table versions seen since start (+1 at every change of the published runs)",
               [this] { return static_cast<double>(watcher->Current().version); });
    r.gauge_fn("orderlake_dashboard_table_runs",
               "Published etl runs since the table began (the etl's roll-up of old run records plus the recent ones)",
               [this] { return static_cast<double>(watcher->Current().runs); });
    r.gauge_fn("orderlake_dashboard_table_published_timestamp_seconds",
               "When the newest run was published (Unix time; 0 = none)",
               [this] { return static_cast<double>(watcher->Current().published_ms) / 1000.0; });
    r.gauge_fn("orderlake_dashboard_cache_entries", "Answers held in the cache",
               [this] { return static_cast<double>(cache.size()); });
    r.counter_fn("orderlake_dashboard_cache_hits_total", "Answers served from the cache",
                 [this] { return static_cast<double>(cache.hits()); });
    r.counter_fn("orderlake_dashboard_cache_misses_total", "Answers computed",
                 [this] { return static_cast<double>(cache.misses()); });
    auto cube_stat = [this](auto field) {
      return [this, field] { return static_cast<double>(cube->stats().*field); };
    };
    r.gauge_fn("orderlake_dashboard_cube_version", "Delta version the visuals' aggregates hold (-1: none yet)",
               cube_stat(&Cube::Stats::version));
    r.gauge_fn("orderlake_dashboard_cube_cells", "Cells of the visuals' aggregates", cube_stat(&Cube::Stats::cells));
    r.gauge_fn("orderlake_dashboard_cube_top_rows", "Rows kept for top-orders", cube_stat(&Cube::Stats::top_rows));
    r.gauge_fn("orderlake_dashboard_cube_build_seconds", "Duration of the aggregates' last full build",
               cube_stat(&Cube::Stats::last_build_seconds));
    r.counter_fn("orderlake_dashboard_cube_rebuilds_total", "Full builds of the aggregates from the table",
                 cube_stat(&Cube::Stats::rebuilds));
    r.counter_fn("orderlake_dashboard_cube_folds_total", "Commits folded into the aggregates from their added files",
                 cube_stat(&Cube::Stats::folds));
    r.counter_fn("orderlake_dashboard_cube_fold_seconds_total", "Time spent folding commits into the aggregates",
                 cube_stat(&Cube::Stats::fold_seconds));
    r.counter_fn("orderlake_dashboard_cube_waits_total",
                 "Requests that waited for the aggregates (their first build; never for a fold)",
                 [this] { return static_cast<double>(cube_waits.load()); });
    sql_statements = &r.counter("orderlake_dashboard_sql_statements_total", "Statements run through POST /api/sql");
    sql_errors = &r.counter("orderlake_dashboard_sql_errors_total", "Statements of POST /api/sql answered with an error");
  }

  void Routes() {
    // Connection counters on /metrics, apart from the firehose's orderlake_http_* under `up`.
    svr.RegisterMetrics(registry, "orderlake_dashboard_http");
    svr.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      const bool guarded = req.path.rfind("/api/", 0) == 0 || req.path == "/metrics" || req.path == "/health";
      if (opt.token.empty() || !guarded) return false;
      std::string given;
      const std::string auth = req.get_header_value("Authorization");
      // The scheme is case-insensitive (RFC 7235 §2.1): "Bearer", "bearer", "BEARER".
      const bool bearer = auth.size() > 7 && auth[6] == ' ' &&
                          std::equal(auth.begin(), auth.begin() + 6, "bearer", [](char a, char b) {
                            return std::tolower(static_cast<unsigned char>(a)) == b;
                          });
      if (bearer) given = auth.substr(7);
      else if (req.has_param("token")) given = req.get_param_value("token");
      if (ConstantTimeEqual(given, opt.token)) return false;
      res.set_header("WWW-Authenticate", "Bearer");
      SendError(res, 401, given.empty() ? "an access token is required: send 'Authorization: Bearer <token>' or ?token=<token>"
                                        : "wrong access token");
      return true;
    });
    for (const auto& ep : endpoints) {
      const Endpoint* p = &ep;
      svr.Get("/api/" + ep.name, [this, p](const httplib::Request& req, httplib::Response& res) { HandleEndpoint(*p, req, res); });
    }
    svr.Get("/api/version", [this](const httplib::Request& req, httplib::Response& res) {
      for (const auto& [k, v] : req.params)
        if (k != "token") return SendError(res, 400, fmt::format("unknown parameter '{}' (this endpoint takes none)", k.substr(0, 40)));
      res.set_header("Cache-Control", "no-store");
      res.set_content(Served().ToJson().dump(), "application/json");
    });
    svr.Get("/api/status", [this](const httplib::Request&, httplib::Response& res) {
      json j = {{"lake", opt.lake.string()},
                {"version", Served().ToJson()},
                {"table_version", watcher->Current().ToJson()},
                {"engines", pool.size()},
                {"cache", {{"entries", cache.size()}, {"hits", cache.hits()}, {"misses", cache.misses()}}}};
      res.set_header("Cache-Control", "no-store");
      res.set_content(j.dump(), "application/json");
    });
    svr.Get("/api/samples", [](const httplib::Request&, httplib::Response& res) {
      json out = json::array();
      for (const auto& st : query::ScriptStatements(SampleQueriesSql())) out.push_back({{"title", st.title}, {"sql", st.sql}});
      res.set_content(out.dump(), "application/json");
    });
    svr.Post("/api/sql", [this](const httplib::Request& req, httplib::Response& res) { console->Handle(req, res); });
    svr.Get("/api/sql", [](const httplib::Request&, httplib::Response& res) {
      SendError(res, 405, "use POST /api/sql with the statement in the body ({\"sql\": \"SELECT ...\"})");
    });
    svr.Get("/api/events", [this](const httplib::Request& req, httplib::Response& res) { HandleEvents(req, res); });
    svr.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      std::string text = registry.Text();
      if (opt.more_metrics) text += opt.more_metrics();
      res.set_header("Cache-Control", "no-store");
      res.set_content(text, "text/plain; version=0.0.4; charset=utf-8");
    });
    svr.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
      auto [status, body] = opt.health ? opt.health() : std::make_pair(200, json{{"status", "up"}}.dump());
      res.status = status;
      res.set_header("Cache-Control", "no-store");
      res.set_content(body, "application/json");
    });
    svr.Get("/api/.*", [](const httplib::Request& req, httplib::Response& res) {
      SendError(res, 404, fmt::format("no such endpoint: {} (the API is described at /api.md)", req.path.substr(0, 200)));
    });
    svr.Get(".*", [this](const httplib::Request& req, httplib::Response& res) { Static(req, res); });
  }
};

DashboardServer::DashboardServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DashboardServer::~DashboardServer() { Stop(); }

Result<std::unique_ptr<DashboardServer>> DashboardServer::Start(const ServeOptions& options) {
  ORDERLAKE_RETURN_IF_ERROR(options.Validate());
  auto impl = std::make_unique<Impl>();
  impl->opt = options;
  ORDERLAKE_RETURN_IF_ERROR(impl->pool.Open(options.lake, options.engines));
  std::error_code ec;
  impl->opt.lake = fs::canonical(options.lake, ec);
  if (ec) impl->opt.lake = options.lake;
  impl->endpoints = MakeEndpoints(impl->opt.lake);
  impl->cube = std::make_unique<Cube>(impl->opt.lake, "orders");
  impl->watcher = std::make_unique<TableWatcher>(impl->opt.lake, "orders", options.poll);
  impl->RegisterMetrics();
  Impl* self = impl.get();
  auto console = SqlConsole::Create(
      impl->opt, [self] { return self->watcher->Current(); }, impl->sql_statements, impl->sql_errors);
  if (!console.ok()) return console.status();
  impl->console = std::move(console).value();
  impl->Routes();
  impl->svr.options().tls = options.tls;
  auto bound = impl->svr.Bind(options.host, options.port);
  if (!bound.ok())
    return Status::Errorf("{} (in use, or not an address of this machine)", bound.status().message());
  impl->port = *bound;
  impl->watcher->Start();
  Impl* raw = impl.get();
  impl->prewarm_thread = std::thread([raw] { raw->FollowLoop(); });
  return std::unique_ptr<DashboardServer>(new DashboardServer(std::move(impl)));
}

Status DashboardServer::Run() {
  impl_->svr.Run();
  return Status::OK();
}

void DashboardServer::Stop() {
  if (impl_->stopping.exchange(true)) return;
  impl_->fold_cv.notify_all();
  impl_->watcher->Stop();
  impl_->svr.Stop();
  if (impl_->prewarm_thread.joinable()) impl_->prewarm_thread.join();
}

void DashboardServer::TableChanged() {
  if (!impl_->stopping) impl_->watcher->Rescan();
}

const metrics::Registry& DashboardServer::metrics() const { return impl_->registry; }

std::string DashboardServer::MetricsText() const { return metrics().Text(); }

int DashboardServer::port() const { return impl_->port; }

std::string DashboardServer::url() const {
  std::string host = impl_->opt.host;
  if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
  std::string u = fmt::format("{}://{}:{}/", impl_->svr.scheme(), host, impl_->port);
  if (!impl_->opt.token.empty()) u += "?token=" + impl_->opt.token;
  return u;
}

}  // namespace orderlake::dashboard
