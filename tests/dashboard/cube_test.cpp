// The dashboard's aggregates (dashboard/cube.h) against SQL over the table: every endpoint
// the cube answers gives what the endpoint's SQL gives (endpoints.cpp's `run`, which reads
// the table itself) on random filter sets (seeded), after the first build, after etl
// commits folded in, after compactions (which must not rebuild it), after a commit that
// removes rows (which must), after old commits were cleaned up behind a checkpoint, and
// through the HTTP server with source=cube and source=table.
#include "dashboard/cube.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "dashboard/endpoints.h"
#include "dashboard/server.h"
#include "store/object_store.h"
#include "table/delta.h"
#include "test_util.h"

namespace orderlake::dashboard {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using orderlake::testing::run_orderlake;
using orderlake::testing::TempDir;

// "" when equal: numbers within a relative 1e-9 (sums in another order), the rest exactly.
std::string Diff(const json& a, const json& b, const std::string& at = "$") {
  if (a.is_number() && b.is_number()) {
    if (a.is_number_float() || b.is_number_float()) {
      const double x = a.get<double>(), y = b.get<double>();
      if (std::fabs(x - y) <= 1e-9 * std::max({1.0, std::fabs(x), std::fabs(y)})) return "";
    } else if (a.get<int64_t>() == b.get<int64_t>()) {
      return "";
    }
    return at + ": " + a.dump() + " != " + b.dump();
  }
  if (a.type() != b.type()) return at + ": " + a.dump().substr(0, 200) + " != " + b.dump().substr(0, 200);
  if (a.is_array()) {
    if (a.size() != b.size()) return at + ": " + std::to_string(a.size()) + " items != " + std::to_string(b.size());
    for (size_t i = 0; i < a.size(); ++i)
      if (auto d = Diff(a[i], b[i], at + "[" + std::to_string(i) + "]"); !d.empty()) return d;
    return "";
  }
  if (a.is_object()) {
    if (a.size() != b.size()) return at + ": keys differ: " + a.dump().substr(0, 200) + " vs " + b.dump().substr(0, 200);
    for (auto& [k, v] : a.items()) {
      if (!b.contains(k)) return at + ": no key " + k;
      if (auto d = Diff(v, b[k], at + "." + k); !d.empty()) return d;
    }
    return "";
  }
  return a == b ? "" : at + ": " + a.dump() + " != " + b.dump();
}

std::string Day(int offset) {  // 2010-11-29 + offset
  using namespace std::chrono;
  year_month_day d{sys_days{year{2010} / November / 29} + days{offset}};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                     static_cast<unsigned>(d.day()));
}

// Waits (at most 60 s) until the server's aggregates hold the version its table watcher
// saw: /api/status's `version` (served) equals its `table_version`.
bool WaitServed(httplib::Client& c) {
  for (int i = 0; i < 600; ++i) {
    auto r = c.Get("/api/status");
    if (r && r->status == 200) {
      json j = json::parse(r->body, nullptr, false);
      if (j.is_object() && j["version"]["version"] == j["table_version"]["version"]) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

double Metric(const std::string& text, const std::string& name) {
  const size_t at = text.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + name.size() + 2));
}

// The dashboard's own engines' options (server.cpp): no user SQL, so no link confinement.
query::EngineOptions Visuals() {
  query::EngineOptions o;
  o.confine_links = false;
  return o;
}

class CubeTest : public ::testing::Test {
 protected:
  TempDir dir;
  fs::path lake() const { return dir.path() / "lake"; }

  void AddBatch(int seed, int count) {
    const fs::path in = dir.path() / "in" / std::to_string(seed);
    auto g = run_orderlake({"generate", "--count", std::to_string(count), "--seed", std::to_string(seed), "--start",
                            "2010-12-01", "--days", "6", "--out", in.string()});
    ASSERT_EQ(g.exit_code, 0) << g.err;
    auto e = run_orderlake({"etl", "--input", (dir.path() / "in").string(), "--lake", lake().string(), "--no-progress"});
    ASSERT_EQ(e.exit_code, 0) << e.err;
  }
  // Compaction; `retention_minutes` 0 deletes the merged files at once (vacuum).
  void Compact(const char* retention_minutes = "60") {
    auto c = run_orderlake({"compact", "--lake", lake().string(), "--min-files", "2", "--retention-minutes", retention_minutes});
    ASSERT_EQ(c.exit_code, 0) << c.err;
  }

  // Random filter sets (seeded) over what the table holds, plus a few edge cases.
  std::vector<std::pair<Filters, int>> FilterSets(query::Engine& e, uint32_t seed, int n) {
    auto choices = MakeEndpoints(lake()).at(6).run(e, Filters{}, Params{});
    EXPECT_TRUE(choices.ok());
    std::vector<std::string> countries = (*choices)["countries"], regions = (*choices)["regions"];
    countries.push_back("Atlantis");
    std::mt19937 rng(seed);
    auto pick = [&](int k) { return static_cast<int>(rng() % static_cast<uint32_t>(k)); };
    std::vector<std::pair<Filters, int>> out;
    out.push_back({Filters{}, 100});
    Filters empty_range;
    empty_range.from = empty_range.to = "2011-06-01";
    out.push_back({empty_range, 10});
    for (int i = 0; i < n; ++i) {
      Filters f;
      int a = pick(10), b = pick(10);
      if (a > b) std::swap(a, b);
      if (pick(2)) f.from = Day(a);
      if (pick(2)) f.to = Day(b);
      if (pick(3))
        for (int k = pick(3) + 1; k > 0; --k) f.countries.push_back(countries[static_cast<size_t>(pick(static_cast<int>(countries.size())))]);
      if (!pick(3))
        for (int k = pick(2) + 1; k > 0; --k) f.regions.push_back(regions[static_cast<size_t>(pick(static_cast<int>(regions.size())))]);
      std::sort(f.countries.begin(), f.countries.end());
      f.countries.erase(std::unique(f.countries.begin(), f.countries.end()), f.countries.end());
      std::sort(f.regions.begin(), f.regions.end());
      f.regions.erase(std::unique(f.regions.begin(), f.regions.end()), f.regions.end());
      out.push_back({f, pick(100) + 1});
    }
    return out;
  }

  // Every cube endpoint on every filter set equals its SQL; returns the number compared.
  int ExpectEqualsSql(Cube& cube, query::Engine& e, uint32_t seed, int n = 5) {
    auto st = cube.Sync();
    EXPECT_TRUE(st.ok()) << st.message();
    int compared = 0;
    for (const auto& [f, limit] : FilterSets(e, seed, n)) {
      for (const auto& ep : MakeEndpoints(lake())) {
        if (!ep.cube) continue;
        Params p;
        if (ep.extra.count("limit")) p.emplace("limit", std::to_string(limit));
        auto sql = ep.run(e, f, p);
        EXPECT_TRUE(sql.ok()) << sql.status().message();
        int64_t version = -2;
        auto got = cube.Answer(ep.name, f, ep.extra.count("limit") ? limit : 0, &version);
        EXPECT_TRUE(got.ok()) << got.status().message();
        if (!sql.ok() || !got.ok()) return compared;
        EXPECT_EQ(version, e.table_version()) << ep.name;
        const std::string d = Diff(*got, *sql);
        EXPECT_EQ(d, "") << ep.name << " " << f.Key() << " limit " << limit;
        if (!d.empty()) return compared;
        ++compared;
      }
    }
    return compared;
  }
};

TEST_F(CubeTest, EveryEndpointEqualsSqlThroughCommitsAndCompactions) {
  AddBatch(1, 3000);
  auto e = query::Engine::Open(lake(), Visuals());
  ASSERT_TRUE(e.ok()) << e.status().message();
  Cube cube(lake());
  ASSERT_TRUE(cube.available());
  EXPECT_EQ(ExpectEqualsSql(cube, **e, 1), 7 * 7);
  EXPECT_EQ(cube.stats().rebuilds, 1u);
  const uint64_t cells = cube.stats().cells;
  EXPECT_GT(cells, 100u);

  // New commits are folded in from their added files, never by a rebuild.
  for (int seed : {2, 3, 4}) {
    AddBatch(seed, 1500);
    ExpectEqualsSql(cube, **e, 10 + static_cast<uint32_t>(seed));
  }
  EXPECT_EQ(cube.stats().rebuilds, 1u);
  EXPECT_GE(cube.stats().folds, 3u);
  EXPECT_GE(cube.stats().folded_files, 3u);

  // Compaction changes no rows: new versions, nothing read, no rebuild.
  const Cube::Stats before = cube.stats();
  Compact();
  ExpectEqualsSql(cube, **e, 21);
  EXPECT_GT(cube.stats().version, before.version);
  EXPECT_EQ(cube.stats().rebuilds, 1u);
  EXPECT_EQ(cube.stats().folded_files, before.folded_files);

  // More commits after the compaction, and a second compaction merging merged files,
  // both read by the cube at once: 50 filter sets.
  AddBatch(5, 2000);
  AddBatch(6, 500);
  Compact();
  EXPECT_EQ(ExpectEqualsSql(cube, **e, 22, 50), 52 * 7);
  EXPECT_EQ(cube.stats().rebuilds, 1u);

  // A fresh cube (a restart) built from the compacted table answers the same.
  Cube restarted(lake());
  ExpectEqualsSql(restarted, **e, 23);
  EXPECT_EQ(restarted.stats().cells, cube.stats().cells);
  EXPECT_EQ(restarted.stats().top_rows, cube.stats().top_rows);
}

TEST_F(CubeTest, RemovedRowsRebuildAndCleanedUpCommitsReload) {
  AddBatch(7, 2000);
  AddBatch(8, 1000);
  auto e = query::Engine::Open(lake(), Visuals());
  ASSERT_TRUE(e.ok()) << e.status().message();
  Cube cube(lake());
  ExpectEqualsSql(cube, **e, 30);

  // A commit removing a file's rows (dataChange = true, as a DELETE writes it): rebuilt.
  auto store = store::OpenLocal(lake().string());
  table::DeltaLog log(store.get(), "orders");
  auto snap = log.Load();
  ASSERT_TRUE(snap.ok()) << snap.status().message();
  ASSERT_GT(snap->files.size(), 2u);
  const table::DataFile victim = snap->files.begin()->second;
  auto v = log.Commit(&snap.value(), {table::remove_action(victim, clock::unix_ms(), true)}, nullptr);
  ASSERT_TRUE(v.ok()) << v.status().message();
  ExpectEqualsSql(cube, **e, 31);
  EXPECT_EQ(cube.stats().rebuilds, 2u);
  EXPECT_EQ(cube.stats().version, *v);

  // Commits the cube has not read whose files a compaction merged and vacuumed at once:
  // they cannot be read any more, so it rebuilds, and still answers as SQL does.
  AddBatch(13, 800);
  AddBatch(14, 800);
  Compact("0");
  ExpectEqualsSql(cube, **e, 33);
  EXPECT_EQ(cube.stats().rebuilds, 3u);

  // Log cleanup: every commit before a checkpoint is deleted, among them some the cube
  // has not read yet: it reloads the table from the checkpoint and rebuilds.
  const int64_t seen = cube.stats().version;
  AddBatch(9, 800);
  AddBatch(10, 800);
  auto newest = log.Load();
  ASSERT_TRUE(newest.ok());
  ASSERT_GE(newest->version, seen + 2);
  ASSERT_TRUE(log.WriteCheckpoint(*newest).ok());
  for (int64_t gone = 0; gone < newest->version; ++gone) fs::remove(lake() / "orders" / table::commit_key(gone));
  auto fresh = query::Engine::Open(lake(), Visuals());  // the SQL side from the checkpoint too
  ASSERT_TRUE(fresh.ok());
  ExpectEqualsSql(cube, **fresh, 32);
  EXPECT_EQ(cube.stats().version, newest->version);
  EXPECT_EQ(cube.stats().rebuilds, 4u);
}

TEST_F(CubeTest, ServerAnswersFromTheCubeAndFromTheTableAlike) {
  AddBatch(11, 2000);
  ServeOptions o;
  o.lake = lake();
  o.port = 0;
  auto s = DashboardServer::Start(o);
  ASSERT_TRUE(s.ok()) << s.status().message();
  std::thread t([&] { (void)(*s)->Run(); });
  httplib::Client c("127.0.0.1", (*s)->port());
  c.set_read_timeout(30, 0);
  auto get = [&](const std::string& path) {
    auto r = c.Get(path);
    EXPECT_TRUE(r);
    return r ? std::make_pair(r->status, json::parse(r->body, nullptr, false)) : std::make_pair(0, json());
  };
  for (int round = 0; round < 2; ++round) {
    for (const std::string q : {"", "?country=United%20Kingdom,France&from=2010-12-02&to=2010-12-04", "?region=Europe"}) {
      for (const char* ep : {"summary", "daily", "heatmap", "hourly", "top-orders", "aov-by-country"}) {
        auto [cs, cube] = get(std::string("/api/") + ep + q);
        auto [ts, sql] = get(std::string("/api/") + ep + q + (q.empty() ? "?" : "&") + "source=table");
        ASSERT_EQ(cs, 200) << cube.dump();
        ASSERT_EQ(ts, 200) << sql.dump();
        EXPECT_EQ(Diff(cube["data"], sql["data"]), "") << ep << q;
        EXPECT_EQ(cube["version"]["version"], sql["version"]["version"]);
      }
    }
    AddBatch(12, 500);
    (*s)->TableChanged();
    // The aggregates are folded off the request path: wait until they hold what the
    // watcher saw (the served version catches up), so both paths answer the same version.
    ASSERT_TRUE(WaitServed(c)) << get("/api/status").second.dump();
  }
  auto bad = get("/api/summary?source=disk");
  EXPECT_EQ(bad.first, 400);
  EXPECT_NE(bad.second.dump().find("source"), std::string::npos);
  auto m = c.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("orderlake_dashboard_cube_rebuilds_total 1"), std::string::npos) << m->body;
  EXPECT_NE(m->body.find("orderlake_dashboard_cube_folds_total "), std::string::npos) << m->body;
  EXPECT_EQ(m->body.find("orderlake_dashboard_cube_folds_total 0"), std::string::npos) << m->body;
  (*s)->Stop();
  t.join();
}

// No request waits for a fold: with the fold thread held back after a commit, every
// visual still answers at once, from the version the aggregates hold (named in the answer,
// equal to SQL at that version), while the SQL path already reads the new commit; once the
// fold is let go, the answers move on and equal SQL again. Only the first build is waited for.
TEST_F(CubeTest, NoRequestWaitsForAFold) {
  AddBatch(15, 1500);
  std::mutex mu;
  std::condition_variable cv;
  bool hold = false;
  int64_t held_at = -1;  // the version the fold thread waits to fold to
  ServeOptions o;
  o.lake = lake();
  o.port = 0;
  o.before_fold = [&](int64_t target) {
    std::unique_lock<std::mutex> lock(mu);
    if (hold) held_at = target;
    cv.notify_all();
    cv.wait(lock, [&] { return !hold; });
  };
  auto s = DashboardServer::Start(o);
  ASSERT_TRUE(s.ok()) << s.status().message();
  std::thread t([&] { (void)(*s)->Run(); });
  httplib::Client c("127.0.0.1", (*s)->port());
  c.set_read_timeout(20, 0);  // a request waiting for the held fold would fail here
  auto get = [&](const std::string& path) {
    auto r = c.Get(path);
    EXPECT_TRUE(r) << path;
    return r && r->status == 200 ? json::parse(r->body, nullptr, false) : json();
  };
  const std::vector<std::string> eps = {"summary", "daily", "heatmap", "hourly", "top-orders", "aov-by-country", "filters"};
  const std::vector<std::string> views = {"", "?region=Europe", "?from=2010-12-03&country=France,Germany"};
  auto path = [](const std::string& ep, const std::string& q, bool table) {
    return "/api/" + ep + (ep == "filters" ? "" : q) + (table ? (ep == "filters" || q.empty() ? "?" : "&") + std::string("source=table") : "");
  };
  ASSERT_TRUE(get("/api/summary").is_object());  // the first build (waited for)
  ASSERT_TRUE(WaitServed(c));
  const double waits = Metric(c.Get("/metrics")->body, "orderlake_dashboard_cube_waits_total");
  const double folds = Metric(c.Get("/metrics")->body, "orderlake_dashboard_cube_folds_total");
  EXPECT_LE(waits, 1);
  // The SQL answers at the first version; not asked of the aggregates yet, so uncached there.
  std::map<std::string, json> before;
  for (const auto& ep : eps)
    for (const auto& q : views) before[path(ep, q, false)] = get(path(ep, q, true));
  const json v1 = before.begin()->second["version"];

  {
    std::lock_guard<std::mutex> lock(mu);
    hold = true;
  }
  AddBatch(16, 700);
  (*s)->TableChanged();
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return held_at >= 0; }));
  }
  // The fold is held: the watcher saw the commit, the served version did not move.
  const std::string m = c.Get("/metrics")->body;
  EXPECT_GT(Metric(m, "orderlake_dashboard_table_version"), v1["version"].get<double>());
  EXPECT_GE(Metric(m, "orderlake_dashboard_cube_version"), 0);
  EXPECT_LT(Metric(m, "orderlake_dashboard_cube_version"), static_cast<double>(held_at));
  EXPECT_EQ(get("/api/version")["version"], v1["version"]);
  for (const auto& [p, sql] : before) {
    json cube = get(p);
    ASSERT_TRUE(cube.is_object()) << p;
    EXPECT_EQ(cube["version"], v1) << p;
    EXPECT_EQ(Diff(cube["data"], sql["data"]), "") << p;
  }
  json moved = get("/api/summary?source=table");  // the SQL path reads the table as it is
  EXPECT_GT(moved["version"]["version"].get<int64_t>(), v1["version"].get<int64_t>());
  EXPECT_NE(Diff(moved["data"], before.at("/api/summary")["data"]), "");
  EXPECT_EQ(Metric(c.Get("/metrics")->body, "orderlake_dashboard_cube_waits_total"), waits);

  {
    std::lock_guard<std::mutex> lock(mu);
    hold = false;
  }
  cv.notify_all();
  ASSERT_TRUE(WaitServed(c));
  for (const auto& ep : eps)
    for (const auto& q : views) {
      json cube = get(path(ep, q, false)), sql = get(path(ep, q, true));
      EXPECT_GT(cube["version"]["version"].get<int64_t>(), v1["version"].get<int64_t>()) << ep << q;
      EXPECT_EQ(cube["version"], sql["version"]) << ep << q;
      EXPECT_EQ(Diff(cube["data"], sql["data"]), "") << ep << q;
    }
  const std::string after = c.Get("/metrics")->body;
  EXPECT_EQ(Metric(after, "orderlake_dashboard_cube_waits_total"), waits);
  EXPECT_GT(Metric(after, "orderlake_dashboard_cube_folds_total"), folds);
  EXPECT_EQ(Metric(after, "orderlake_dashboard_cube_rebuilds_total"), 1);
  (*s)->Stop();
  t.join();
}

}  // namespace
}  // namespace orderlake::dashboard
