// Discovery without listing the history: a raw store in the Firehose layout is listed only
// after the high-water mark (with a look-back window and periodic full listings), the
// bookmark holds only the window's objects, and the raw retention deletes only what a
// committed run took. Counters come from the runs themselves (objects listed and read).
#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "etl/discovery.h"
#include "etl/job.h"
#include "etl/metrics.h"
#include "raw_layout.h"
#include "test_util.h"

namespace orderlake::etl {
namespace {
namespace stdfs = std::filesystem;
using orderlake::testing::duckdb_value;
using orderlake::testing::read_file;
using orderlake::testing::run_orderlake;
using orderlake::testing::TempDir;

constexpr int64_t kMinute = 60'000, kHour = 60 * kMinute, kDay = 24 * kHour;

using orderlake::testing::fh_key;
using orderlake::testing::line;
using orderlake::testing::put;

// A directory in memory (/dev/shm) when the machine has one, else under `fallback`: the
// history test writes and reads 100,000 small files, which a busy disk makes slow.
class MemDir {
 public:
  explicit MemDir(const stdfs::path& fallback) {
    std::string tmpl = "/dev/shm/orderlake-discovery-XXXXXX";
    path_ = ::mkdtemp(tmpl.data()) ? stdfs::path(tmpl) : fallback;
    owned_ = path_ != fallback;
  }
  ~MemDir() {
    std::error_code ec;
    if (owned_) stdfs::remove_all(path_, ec);
  }
  const stdfs::path& path() const { return path_; }

 private:
  stdfs::path path_;
  bool owned_ = false;
};

struct Store {
  TempDir dir;
  std::optional<MemDir> mem;  // the raw store, when in memory
  stdfs::path in() const { return mem ? mem->path() : dir.path() / "raw"; }
  stdfs::path lake() const { return dir.path() / "lake"; }
  EtlOptions options() const {
    EtlOptions o;
    o.input = in().string();
    o.lake = lake().string();
    o.threads = 2;
    return o;
  }
  uint64_t rows() const {
    return std::stoull(duckdb_value("SELECT count(*) FROM read_parquet('" + (lake() / "orders/*/*/*.parquet").string() +
                                    "', hive_partitioning=true)"));
  }
  uint64_t distinct() const {
    return std::stoull(duckdb_value("SELECT count(DISTINCT InvoiceNo) FROM read_parquet('" +
                                    (lake() / "orders/*/*/*.parquet").string() + "', hive_partitioning=true)"));
  }
  nlohmann::json bookmark() const {
    return nlohmann::json::parse(read_file(lake() / "_orderlake/orders/bookmark.json"));
  }
  size_t raw_objects() const {
    size_t n = 0;
    for (auto& e : stdfs::recursive_directory_iterator(in()))
      if (e.is_regular_file()) ++n;
    return n;
  }
};

RunSummary must_run(const EtlOptions& o) {
  auto r = run_etl(o);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? r.value() : RunSummary{};
}

TEST(Discovery, LayoutKeysAreRecognised) {
  using internal::parse_layout_key;
  const int64_t t = 1765100000000;  // 2025-12-07 09:33:20 UTC
  auto k = parse_layout_key(fh_key(t, 7, "raw/"));
  ASSERT_TRUE(k);
  EXPECT_EQ(k->prefix, "raw/");
  EXPECT_EQ(k->time_ms, t);
  EXPECT_TRUE(parse_layout_key(fh_key(t, 7) + ".gz"));
  EXPECT_TRUE(parse_layout_key("/abs/path/" + fh_key(t, 7)));
  EXPECT_EQ(internal::hour_dir(t), "2025/12/07/09");
  EXPECT_FALSE(parse_layout_key("a.log"));
  EXPECT_FALSE(parse_layout_key("2025/12/07/09/a.log"));
  // The hour directory must agree with the name's time.
  EXPECT_FALSE(parse_layout_key("2025/12/07/10/orders-1-2025-12-07-09-33-20-00000007-0000-4000-8000-000000000007"));
  EXPECT_FALSE(parse_layout_key("2025/12/07/09/orders-2025-12-07-09-33-20-00000007-0000-4000-8000-000000000007"));
}

TEST(Discovery, MetricsCountListingsByDiscovery) {
  EtlMetrics m;
  RunSummary s;
  s.run_id = "r1";
  s.discovery = "full";
  s.objects_listed = 100;
  m.RunCommitted(s);
  RunSummary idle;
  idle.discovery = "incremental";
  idle.objects_listed = 7;
  idle.raw_deleted = 3;
  m.NothingNew(idle);
  m.NothingNew(idle);
  const std::string text = metrics::Gather({&m.registry()});
  EXPECT_NE(text.find("orderlake_etl_objects_listed_total{discovery=\"full\"} 100"), std::string::npos) << text;
  EXPECT_NE(text.find("orderlake_etl_objects_listed_total{discovery=\"incremental\"} 14"), std::string::npos) << text;
  EXPECT_NE(text.find("orderlake_etl_last_objects_listed 7"), std::string::npos) << text;
  EXPECT_NE(text.find("orderlake_etl_raw_objects_deleted_total 6"), std::string::npos) << text;
}

// The history test of issue 13: 100,800 objects over 30 days, then one new object.
TEST(Discovery, HistoryRunReadsOnlyWhatIsNew) {
  Store s;
  s.mem.emplace(s.dir.path() / "raw");
  const int64_t now = clock::unix_ms();
  const int64_t first = now - 30 * kDay;
  constexpr uint64_t kObjects = 100'800;
  const int64_t step = (30 * kDay - kHour) / static_cast<int64_t>(kObjects);
  std::vector<int64_t> times;
  for (uint64_t i = 0; i < kObjects; ++i) {
    times.push_back(first + static_cast<int64_t>(i) * step);
    put(s.in(), fh_key(times.back(), i), line(i));
  }
  RunSummary r1 = must_run(s.options());
  EXPECT_EQ(r1.discovery, "full");
  EXPECT_EQ(r1.objects, kObjects);
  EXPECT_EQ(r1.objects_listed, kObjects);
  ASSERT_EQ(s.rows(), kObjects);
  // The bookmark names only the window's objects (15 minutes of them), not the history.
  const auto bm = s.bookmark();
  EXPECT_EQ(bm.at("version"), 3);
  EXPECT_EQ(bm.at("discovery").at("layout"), "firehose");
  EXPECT_LT(bm.at("objects").size(), 100u);
  EXPECT_GT(bm.at("objects").size(), 0u);

  RunSummary idle = must_run(s.options());
  EXPECT_TRUE(idle.run_id.empty());
  EXPECT_EQ(idle.discovery, "incremental");
  EXPECT_LT(idle.objects_listed, 500u);

  const int64_t t_new = times.back() + 10'000;
  times.push_back(t_new);
  put(s.in(), fh_key(t_new, kObjects), line(kObjects));
  RunSummary r3 = must_run(s.options());
  EXPECT_EQ(r3.discovery, "incremental");
  EXPECT_EQ(r3.objects, 1u);
  EXPECT_EQ(r3.records, 1u);
  // Listed: at most the objects of the hour directories from the window's start on.
  const int64_t from_hour = (t_new - 15 * kMinute) / kHour * kHour;
  uint64_t in_window_hours = 0;
  for (int64_t t : times) in_window_hours += t >= from_hour;
  EXPECT_GE(r3.objects_listed, 1u);
  EXPECT_LE(r3.objects_listed, in_window_hours);
  EXPECT_LT(r3.objects_listed, 500u);
  EXPECT_EQ(s.rows(), kObjects + 1);
  EXPECT_EQ(s.distinct(), kObjects + 1);
}

// Inside the window start's hour an incremental listing starts at the window start, name by
// name (a stream's objects sort by time there), not at the hour: a run lists about the
// look-back's worth of objects, and a late object of every stream inside the window is read.
TEST(Discovery, ListingStartsAtTheWindowStartInsideItsHour) {
  Store s;
  const int64_t base = clock::unix_ms() / kHour * kHour - 4 * kHour;  // on an hour
  uint64_t n = 0;
  for (int64_t t = base; t < base + 3 * kHour - kMinute; t += 10'000) {
    put(s.in(), fh_key(t, n, "", "orders-1-"), line(n));
    ++n;
    if (t % (10 * kMinute) == 0) put(s.in(), fh_key(t + 1000, n, "", "returns-2-"), line(n)), ++n;
  }
  RunSummary r1 = must_run(s.options());
  EXPECT_EQ(r1.objects, n);
  const int64_t mark = base + 3 * kHour - kMinute - 10'000;  // the latest key; window from mark - 15m
  // Late, inside the window, in the window start's hour, under both names.
  put(s.in(), fh_key(mark - 14 * kMinute, n, "", "returns-2-"), line(n));
  put(s.in(), fh_key(mark - 13 * kMinute, n + 1, "", "orders-1-"), line(n + 1));
  RunSummary r2 = must_run(s.options());
  EXPECT_EQ(r2.discovery, "incremental");
  EXPECT_EQ(r2.objects, 2u);
  // 15 minutes of orders-1 every 10 s is 90 objects (+ a few returns-2); the whole hour is 360.
  EXPECT_LE(r2.objects_listed, 100u);
  EXPECT_EQ(s.rows(), n + 2);
  EXPECT_EQ(s.distinct(), n + 2);
}

TEST(Discovery, LateObjectInsideTheWindowIsRead) {
  Store s;
  const int64_t base = clock::unix_ms() / kHour * kHour - 5 * kHour;  // on an hour
  for (uint64_t i = 0; i < 20; ++i)
    if (i != 12 && i != 16) put(s.in(), fh_key(base + static_cast<int64_t>(i - 14) * kMinute, i), line(i));
  must_run(s.options());
  const int64_t mark = base + 5 * kMinute;  // the window starts at base - 10m
  // Keyed before the mark and delivered after it was read: late, but inside the window,
  // one in the mark's hour directory and one in the hour before.
  put(s.in(), fh_key(mark - 3 * kMinute, 16), line(16));
  put(s.in(), fh_key(base - 2 * kMinute, 12), line(12));
  RunSummary r = must_run(s.options());
  EXPECT_EQ(r.discovery, "incremental");
  EXPECT_EQ(r.objects, 2u);
  EXPECT_EQ(s.rows(), 20u);
  // Keyed before the window (mark - 15m): taken as read, as the bookmark no longer knows it.
  put(s.in(), fh_key(base - 30 * kMinute, 102), line(102));
  EtlOptions full = s.options();
  full.full_listing = true;
  RunSummary f = must_run(full);
  EXPECT_EQ(f.discovery, "full");
  EXPECT_EQ(f.objects, 0u);
  EXPECT_EQ(f.objects_listed, 21u);
  EXPECT_EQ(s.rows(), 20u);
  EXPECT_EQ(s.distinct(), 20u);
}

TEST(Discovery, StragglerUnderANewPrefixIsCaughtByTheBackfill) {
  Store s;
  const int64_t base = clock::unix_ms() - 3 * kHour;
  for (uint64_t i = 0; i < 10; ++i) put(s.in(), fh_key(base + static_cast<int64_t>(i) * kMinute, i), line(i));
  must_run(s.options());
  // An object under a prefix no listing has seen yet: incremental runs do not list it...
  put(s.in(), fh_key(base + 9 * kMinute, 50, "retry/"), line(50));
  RunSummary r = must_run(s.options());
  EXPECT_EQ(r.discovery, "incremental");
  EXPECT_EQ(r.objects, 0u);
  // ...the backfill (a full listing, every --backfill-interval) does, and only it.
  EtlOptions o = s.options();
  o.backfill_ms = 0;
  RunSummary b = must_run(o);
  EXPECT_EQ(b.discovery, "full");
  EXPECT_EQ(b.objects, 1u);
  EXPECT_EQ(b.objects_listed, 11u);
  EXPECT_EQ(s.rows(), 11u);
  // From then on the new prefix is listed incrementally too.
  put(s.in(), fh_key(base + 10 * kMinute, 51, "retry/"), line(51));
  RunSummary n = must_run(s.options());
  EXPECT_EQ(n.discovery, "incremental");
  EXPECT_EQ(n.objects, 1u);
  EXPECT_EQ(s.distinct(), 12u);
}

TEST(Discovery, AFileOutsideTheLayoutFallsBackToFullListingsWithoutRereading) {
  Store s;
  const int64_t base = clock::unix_ms() - 3 * kHour;
  for (uint64_t i = 0; i < 30; ++i) put(s.in(), fh_key(base + static_cast<int64_t>(i) * kMinute, i), line(i));
  must_run(s.options());
  put(s.in(), "mine.log", line(500));
  EtlOptions o = s.options();
  o.full_listing = true;
  RunSummary r = must_run(o);
  EXPECT_EQ(r.objects, 1u);
  RunSummary again = must_run(s.options());
  EXPECT_EQ(again.discovery, "full");  // no longer the layout: every run lists it all
  EXPECT_EQ(again.objects, 0u);
  std::ofstream(s.in() / "mine.log", std::ios::app) << line(501);  // a log file that grows
  RunSummary grown = must_run(s.options());
  EXPECT_EQ(grown.objects, 1u);
  EXPECT_EQ(grown.records, 1u);
  EXPECT_EQ(s.rows(), 32u);
  EXPECT_EQ(s.distinct(), 32u);
}

TEST(Discovery, AnOldBookmarkIsMigratedInPlace) {
  Store s;
  const int64_t base = clock::unix_ms() - 5 * kHour;
  for (uint64_t i = 0; i < 200; ++i) put(s.in(), fh_key(base + static_cast<int64_t>(i) * kMinute, i), line(i));
  EtlOptions o = s.options();
  o.discovery = "full";
  // A lake of the earlier format: no bookmark.json, every object named by the commits.
  must_run(o);
  stdfs::remove(s.lake() / "_orderlake/orders/bookmark.json");
  RunSummary r = must_run(s.options());
  EXPECT_EQ(r.discovery, "full");
  EXPECT_EQ(r.objects, 0u);
  EXPECT_EQ(r.objects_skipped, 200u);
  const auto bm = s.bookmark();
  EXPECT_EQ(bm.at("version"), 3);
  EXPECT_LE(bm.at("objects").size(), 16u);  // the window's objects only
  RunSummary next = must_run(s.options());
  EXPECT_EQ(next.discovery, "incremental");
  EXPECT_EQ(s.rows(), 200u);
}

// Sets the time of landing of every raw object to `age` ago.
void age_raw(const stdfs::path& root, std::chrono::hours age) {
  for (auto& e : stdfs::recursive_directory_iterator(root))
    if (e.is_regular_file()) stdfs::last_write_time(e.path(), stdfs::file_time_type::clock::now() - age);
}

TEST(Discovery, RawRetentionDeletesOnlyTakenObjects) {
  Store s;
  const int64_t base = clock::unix_ms() - 3 * kDay;
  for (uint64_t i = 0; i < 48; ++i) put(s.in(), fh_key(base + static_cast<int64_t>(i) * kHour, i), line(i));
  age_raw(s.in(), std::chrono::hours(100));
  EtlOptions o = s.options();
  o.raw_retention_ms = kDay;
  RunSummary r = must_run(o);
  EXPECT_EQ(r.objects, 48u);
  // Every object but the window's (the last one: mark - 15m) is taken and landed 100 h ago.
  EXPECT_EQ(r.raw_deleted, 47u);
  EXPECT_EQ(s.raw_objects(), 1u);
  // The empty hour and day directories went with them.
  size_t dirs = 0;
  for (auto& e : stdfs::recursive_directory_iterator(s.in())) dirs += e.is_directory();
  EXPECT_EQ(dirs, 4u);  // YYYY/MM/DD/HH of the one left
  // Objects not taken yet are never deleted, whatever their age.
  put(s.in(), fh_key(base + 48 * kHour, 48), line(48));
  put(s.in(), fh_key(base + 49 * kHour, 49), line(49));
  age_raw(s.in(), std::chrono::hours(100));
  EtlOptions no_run = o;
  RunSummary r2 = must_run(no_run);
  EXPECT_EQ(r2.objects, 2u);
  EXPECT_EQ(s.rows(), 50u);
  EXPECT_EQ(s.distinct(), 50u);
  EXPECT_EQ(s.raw_objects(), 1u);  // the newest stays in the window
}

TEST(Discovery, KillDuringRawCleanupLosesAndDuplicatesNothing) {
  Store s;
  const int64_t base = clock::unix_ms() - 3 * kDay;
  for (uint64_t i = 0; i < 40; ++i) put(s.in(), fh_key(base + static_cast<int64_t>(i) * kHour, i), line(i));
  age_raw(s.in(), std::chrono::hours(100));
  const std::vector<std::string> args = {"etl", "--input", s.in().string(), "--lake", s.lake().string(),
                                         "--raw-retention", "1d", "--no-progress"};
  auto crashed = run_orderlake(args, 120, {"ORDERLAKE_CRASH_AT=mid_raw_cleanup"});
  ASSERT_EQ(crashed.exit_code, 86) << crashed.err;
  EXPECT_EQ(s.raw_objects(), 39u);  // one deleted, then killed
  auto resumed = run_orderlake(args, 120);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("nothing new"), std::string::npos) << resumed.err;
  EXPECT_EQ(s.raw_objects(), 1u);
  // The table equals a batch etl of the same lines: every line once.
  EXPECT_EQ(s.rows(), 40u);
  EXPECT_EQ(s.distinct(), 40u);
}

}  // namespace
}  // namespace orderlake::etl
