// The etl's bookkeeping (etl/runs.h): run records rolled up into runs_rollup.json with the
// data-quality totals unchanged, quarantine files expired, each pass bounded, a kill -9
// during a roll-up neither losing nor double counting a run, and the dashboard's
// /api/quality equal to the sum over every run before and after a roll-up.
#include "etl/runs.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

#include "core/clock.h"
#include "etl/job.h"
#include "etl/metrics.h"
#include "test_util.h"

namespace orderlake::etl {
namespace {
namespace stdfs = std::filesystem;
using json = nlohmann::json;
using orderlake::testing::duckdb_value;
using orderlake::testing::read_file;
using orderlake::testing::run_orderlake;
using orderlake::testing::TempDir;
using orderlake::testing::write_file;

constexpr int64_t kHour = int64_t{3600} * 1000;

// n lines from `first`: every fifth without CustomerID (filtered), every seventh too short
// (quarantined), the others valid.
std::string lines(int first, int n) {
  std::string s;
  for (int i = first; i < first + n; ++i) {
    if (i % 7 == 0) s += fmt::format("short line {}\n", i);
    else
      s += fmt::format("{},{}A,ITEM,{},12/{:02d}/2010 10:15,2.5,{},{}\n", i, i % 97, 1 + i % 5, 1 + i % 3,
                       i % 5 == 0 ? "" : std::to_string(12346 + i % 50), i % 2 ? "France" : "Germany");
  }
  return s;
}

struct Lake {
  TempDir dir;
  stdfs::path in() const { return dir.path() / "raw"; }
  stdfs::path lake() const { return dir.path() / "lake"; }
  stdfs::path runs() const { return lake() / "_orderlake" / "orders" / "runs"; }
  stdfs::path quarantine() const { return lake() / "_quarantine" / "orders"; }
  EtlOptions options() const {
    EtlOptions o;
    o.input = in().string();
    o.lake = lake().string();
    return o;
  }
  size_t records_on_disk() const {
    size_t n = 0;
    if (stdfs::exists(runs()))
      for (auto& e : stdfs::directory_iterator(runs())) n += e.path().extension() == ".json";
    return n;
  }
  uint64_t rows() const {
    return std::stoull(duckdb_value("SELECT count(*) FROM read_parquet('" +
                                    (lake() / "orders" / "*" / "*" / "*.parquet").string() + "')"));
  }
  RunTotals totals() const {
    auto store = store::OpenLocal(lake().string());
    auto t = TotalsOfAllRuns(store.get(), "orders");
    EXPECT_TRUE(t.ok()) << t.status().message();
    return t.ok() ? t.value() : RunTotals{};
  }
  Result<BookkeepingResult> keep_books(int64_t now_ms, BookkeepingOptions o = {}) const {
    auto store = store::OpenLocal(lake().string());
    return KeepBooks(store.get(), "orders", o, now_ms);
  }
};

// Every quarantined line on disk: from the runs' own files ("<id>.jsonl", the id from the
// name) and from the hour parts (the id from the line's first field "run_id", removed), as
// (run id, the line's JSON without run_id).
struct QuarantineLines {
  size_t run_files = 0, parts = 0;
  std::vector<std::pair<std::string, std::string>> lines;
};
QuarantineLines quarantine_lines(const Lake& l) {
  QuarantineLines q;
  if (!stdfs::exists(l.quarantine())) return q;
  for (const auto& e : stdfs::directory_iterator(l.quarantine())) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() != ".jsonl") continue;
    const bool part = name.find("-hour-") != std::string::npos;
    ++(part ? q.parts : q.run_files);
    std::istringstream in(read_file(e.path()));
    for (std::string line; std::getline(in, line);) {
      json j = json::parse(line);
      std::string id = name.substr(0, name.size() - 6);
      if (part) {
        EXPECT_TRUE(line.starts_with("{\"run_id\":\"")) << line;
        id = j.at("run_id").get<std::string>();
        j.erase("run_id");
      }
      q.lines.emplace_back(id, j.dump());
    }
  }
  return q;
}

// What a roll-up must equal: the sum of the runs' own summaries.
RunTotals sum_of(const std::vector<RunSummary>& runs) {
  RunTotals t;
  for (const auto& s : runs) EXPECT_TRUE(t.Add(s.to_json(), s.run_id).ok());
  return t;
}

void expect_same(const RunTotals& a, const RunTotals& b) {
  EXPECT_EQ(a.runs, b.runs);
  EXPECT_EQ(a.records, b.records);
  EXPECT_EQ(a.kept, b.kept);
  EXPECT_EQ(a.empty_lines, b.empty_lines);
  EXPECT_EQ(a.objects, b.objects);
  EXPECT_EQ(a.files, b.files);
  EXPECT_EQ(a.quarantine_files, b.quarantine_files);
  EXPECT_EQ(a.filtered, b.filtered);
  EXPECT_EQ(a.quarantined, b.quarantined);
  EXPECT_EQ(a.first_run, b.first_run);
  EXPECT_EQ(a.last_run, b.last_run);
}

TEST(EtlRuns, RunIdsSortByTheirStart) {
  EXPECT_EQ(RunIdTimeMs("20261125T104749Z-3d4d5d"), int64_t{1795603669} * 1000);
  EXPECT_EQ(RunIdTimeMs("rollup"), -1);
  EXPECT_EQ(RunIdTimeMs("2026112xT104749Z-3d4d5d"), -1);
  const std::string id = clock::time_ordered_id();
  EXPECT_LE(std::abs(RunIdTimeMs(id) - clock::unix_ms()), 2000) << id;
}

TEST(EtlRuns, RollUpKeepsTheTotalsAndMetricsCountSinceStart) {
  Lake l;
  std::vector<RunSummary> runs;
  EtlMetrics metrics;
  for (int r = 0; r < 3; ++r) {
    write_file(l.in() / fmt::format("r{}.log", r), lines(r * 1000 + 1, 200));
    auto s = run_etl(l.options());
    ASSERT_TRUE(s.ok()) << s.status().message();
    runs.push_back(s.value());
    metrics.RunCommitted(s.value());
  }
  ASSERT_EQ(l.records_on_disk(), 3u);  // the default retention (1h) keeps them
  const RunTotals before = l.totals();
  expect_same(before, sum_of(runs));
  EXPECT_EQ(before.records, 600u);
  EXPECT_EQ(before.kept, l.rows());
  EXPECT_GT(before.quarantined_total(), 0u);
  EXPECT_GT(before.filtered_total(), 0u);

  // The quarantine's lines as the runs wrote them.
  std::set<std::string> originals;
  for (const auto& e : stdfs::directory_iterator(l.quarantine())) {
    std::istringstream in(read_file(e.path()));
    for (std::string line; std::getline(in, line);) originals.insert(json::parse(line).dump());
  }
  EXPECT_EQ(originals.size(), before.quarantined_total());

  // Two hours on: every record is older than the retention and folded.
  auto pass = l.keep_books(clock::unix_ms() + 2 * kHour);
  ASSERT_TRUE(pass.ok()) << pass.status().message();
  EXPECT_EQ(pass->runs_folded, 3u);
  EXPECT_EQ(pass->records_deleted, 3u);
  EXPECT_FALSE(pass->more);
  EXPECT_EQ(l.records_on_disk(), 0u);
  expect_same(l.totals(), before);
  // The quarantine files are younger than their retention (7d) and stay, folded into their
  // hour's part: the same lines, each with its run's id first.
  EXPECT_EQ(before.quarantine_files, 3u);
  EXPECT_EQ(pass->quarantine_folded, 3u);
  EXPECT_EQ(pass->quarantine_deleted, 0u);
  const QuarantineLines q = quarantine_lines(l);
  EXPECT_EQ(q.run_files, 0u);
  EXPECT_GE(q.parts, 1u);
  EXPECT_LE(q.parts, 2u);  // the runs may straddle an hour
  EXPECT_EQ(q.lines.size(), before.quarantined_total());
  for (const auto& [id, line] : q.lines) {
    EXPECT_TRUE(std::any_of(runs.begin(), runs.end(), [&](const RunSummary& r) { return r.run_id == id; })) << id;
    EXPECT_EQ(originals.count(line), 1u) << line;
  }

  // /metrics counted every run since start, whatever the roll-up did on disk.
  const std::string text = metrics.registry().Text();
  EXPECT_NE(text.find(fmt::format("\norderlake_etl_records_read_total {}\n", before.records)), std::string::npos)
      << text;
  EXPECT_EQ(metrics.rows_kept(), before.kept);

  // A new run adds to the roll-up's totals; folding it too gives the same. Run ids order
  // runs by the second they started in: a pass folds only whole seconds before now minus
  // the retention, so a later run never shares a second with a folded one. The pass above
  // ran two hours "ahead" of the clock: let the clock leave the folded runs' second first.
  while (clock::unix_ms() / 1000 <= RunIdTimeMs(runs.back().run_id) / 1000)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  write_file(l.in() / "r3.log", lines(5001, 100));
  auto s = run_etl(l.options());
  ASSERT_TRUE(s.ok()) << s.status().message();
  runs.push_back(s.value());
  expect_same(l.totals(), sum_of(runs));
  ASSERT_TRUE(l.keep_books(clock::unix_ms() + 2 * kHour).ok());
  expect_same(l.totals(), sum_of(runs));
  auto store = store::OpenLocal(l.lake().string());
  auto rollup = ReadRollup(store.get(), "orders");
  ASSERT_TRUE(rollup.ok()) << rollup.status().message();
  EXPECT_EQ(rollup->folded_through, runs.back().run_id);
  ASSERT_EQ(rollup->days.size(), 1u);
  expect_same(rollup->days.begin()->second, sum_of(runs));
  EXPECT_EQ(l.totals().kept, l.rows());
}

// Writes a run record for run `id` as the etl would, with `records` records of which one
// is quarantined.
void fake_run(const Lake& l, const std::string& id, uint64_t records) {
  RunSummary s;
  s.run_id = id;
  s.records = records;
  s.kept = records - 1;
  s.quarantined["field_count"] = 1;
  s.quarantine_file = "_quarantine/orders/" + id + ".jsonl";
  write_file(l.runs() / (id + ".json"), s.to_json().dump());
  write_file(l.quarantine() / (id + ".jsonl"), "{}\n");
}

TEST(EtlRuns, APassIsBoundedAndTheNextOneGoesOn) {
  Lake l;
  const int n = static_cast<int>(kMaxPerPass) + 3;
  uint64_t records = 0;
  for (int i = 0; i < n; ++i) {
    fake_run(l, fmt::format("20260101T{:02d}{:02d}{:02d}Z-{:06x}", i / 3600, i / 60 % 60, i % 60, i), 1 + i % 10);
    records += 1 + i % 10;
  }
  const int64_t now = RunIdTimeMs("20260108T120000Z-000000");  // 7.5 days on
  auto first = l.keep_books(now);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first->runs_folded, kMaxPerPass);
  EXPECT_EQ(first->quarantine_deleted, kMaxPerPass);
  EXPECT_TRUE(first->more);
  EXPECT_EQ(l.records_on_disk(), 3u);
  EXPECT_EQ(l.totals().records, records);
  EXPECT_EQ(l.totals().runs, static_cast<uint64_t>(n));
  auto second = l.keep_books(now);
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(second->runs_folded, 3u);
  EXPECT_EQ(second->quarantine_deleted, 3u);
  EXPECT_FALSE(second->more);
  EXPECT_EQ(l.records_on_disk(), 0u);
  EXPECT_TRUE(stdfs::is_empty(l.quarantine()));
  const RunTotals t = l.totals();
  EXPECT_EQ(t.records, records);
  EXPECT_EQ(t.runs, static_cast<uint64_t>(n));
  EXPECT_EQ(t.quarantined_total(), static_cast<uint64_t>(n));
  EXPECT_EQ(t.quarantine_files, static_cast<uint64_t>(n));
}

TEST(EtlRuns, RetentionsAreKeptToTheSecond) {
  Lake l;
  fake_run(l, "20260101T000000Z-000001", 5);  // 2 days before `now`
  fake_run(l, "20260102T230000Z-000002", 5);  // 1 h before
  fake_run(l, "20260102T235959Z-000003", 5);  // this second's run has not ended
  write_file(l.quarantine() / "notes.txt", "a user's file\n");
  const int64_t now = RunIdTimeMs("20260103T000000Z-000000");
  BookkeepingOptions o;
  o.runs_retention_ms = 30 * 60 * 1000;        // 30m: the first two are folded
  o.quarantine_retention_ms = 24 * kHour;      // 1d: the first quarantine file goes
  auto pass = l.keep_books(now, o);
  ASSERT_TRUE(pass.ok()) << pass.status().message();
  EXPECT_EQ(pass->runs_folded, 2u);
  EXPECT_EQ(pass->quarantine_deleted, 1u);
  EXPECT_TRUE(stdfs::exists(l.runs() / "20260102T235959Z-000003.json"));
  EXPECT_FALSE(stdfs::exists(l.quarantine() / "20260101T000000Z-000001.jsonl"));
  // The second is past the runs retention: folded into its hour's part.
  EXPECT_EQ(pass->quarantine_folded, 1u);
  EXPECT_FALSE(stdfs::exists(l.quarantine() / "20260102T230000Z-000002.jsonl"));
  EXPECT_EQ(read_file(l.quarantine() / "20260102T230000Z-hour-0001.jsonl"),
            "{\"run_id\":\"20260102T230000Z-000002\"}\n");
  EXPECT_TRUE(stdfs::exists(l.quarantine() / "20260102T235959Z-000003.jsonl"));
  EXPECT_TRUE(stdfs::exists(l.quarantine() / "notes.txt"));
  EXPECT_EQ(l.totals().runs, 3u);
  EXPECT_EQ(l.totals().records, 15u);
  // With a zero retention, only runs of whole seconds before now are folded.
  o.runs_retention_ms = 0;
  pass = l.keep_books(now - 500, o);
  ASSERT_TRUE(pass.ok());
  EXPECT_EQ(pass->runs_folded, 0u);
  pass = l.keep_books(now, o);
  ASSERT_TRUE(pass.ok());
  EXPECT_EQ(pass->runs_folded, 1u);
  EXPECT_EQ(l.totals().runs, 3u);
}

TEST(EtlRuns, ADamagedRecordStopsTheRollUpWithAClearError) {
  Lake l;
  fake_run(l, "20260101T000000Z-000001", 5);
  write_file(l.runs() / "20260101T000001Z-000002.json", "{not json");
  auto pass = l.keep_books(RunIdTimeMs("20260103T000000Z-000000"));
  ASSERT_FALSE(pass.ok());
  EXPECT_NE(pass.status().message().find("20260101T000001Z-000002.json is damaged"), std::string::npos)
      << pass.status().message();
  EXPECT_EQ(l.records_on_disk(), 2u);  // nothing folded, nothing deleted
  EXPECT_FALSE(stdfs::exists(l.lake() / "_orderlake" / "orders" / "runs_rollup.json"));
}

TEST(EtlRuns, OptionsAreValidatedNamingTheFlag) {
  EtlOptions o;
  o.input = "in";
  o.lake = "lake";
  o.runs_retention_ms = -1;
  EXPECT_NE(o.Validate().message().find("--runs-retention"), std::string::npos);
  o.runs_retention_ms = 0;
  o.quarantine_retention_ms = -5;
  EXPECT_NE(o.Validate().message().find("--quarantine-retention"), std::string::npos);
  auto r = run_orderlake({"etl", "--input", "in", "--lake", "lake", "--runs-retention", "5 minutes"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--runs-retention"), std::string::npos) << r.err;
}

// An hour's quarantine part grows to its size, then the next one starts; a later pass adds
// to the last part; parts go when their hour's end is past the quarantine retention.
TEST(EtlRuns, QuarantinePartsRollOverAndExpireByTheirHour) {
  Lake l;
  for (int i = 0; i < 10; ++i) fake_run(l, fmt::format("20260102T10{:02d}00Z-{:06x}", i, i), 3);
  fake_run(l, "20260102T115900Z-00000a", 3);
  BookkeepingOptions o;
  o.runs_retention_ms = kHour;
  o.quarantine_part_bytes = 100;  // each line is 37 bytes with its run id: two per part
  auto pass = l.keep_books(RunIdTimeMs("20260102T120000Z-000000"), o);
  ASSERT_TRUE(pass.ok()) << pass.status().message();
  EXPECT_EQ(pass->quarantine_folded, 10u);  // the 11:59 run is younger than an hour
  EXPECT_EQ(pass->quarantine_parts_written, 5u);
  EXPECT_TRUE(stdfs::exists(l.quarantine() / "20260102T100000Z-hour-0005.jsonl"));
  EXPECT_TRUE(stdfs::exists(l.quarantine() / "20260102T115900Z-00000a.jsonl"));
  // Two more runs in the 10:00 hour, written late (as a restored backup would): they go to
  // new parts after the last one, never into a full part.
  fake_run(l, "20260102T105800Z-00000b", 3);
  fake_run(l, "20260102T105900Z-00000c", 3);
  pass = l.keep_books(RunIdTimeMs("20260102T130000Z-000000"), o);
  ASSERT_TRUE(pass.ok()) << pass.status().message();
  EXPECT_EQ(pass->quarantine_folded, 3u);
  EXPECT_EQ(read_file(l.quarantine() / "20260102T100000Z-hour-0006.jsonl"),
            "{\"run_id\":\"20260102T105800Z-00000b\"}\n{\"run_id\":\"20260102T105900Z-00000c\"}\n");
  EXPECT_TRUE(stdfs::exists(l.quarantine() / "20260102T110000Z-hour-0001.jsonl"));
  QuarantineLines q = quarantine_lines(l);
  EXPECT_EQ(q.run_files, 0u);
  EXPECT_EQ(q.lines.size(), 13u);
  // A day's retention: the 10:00 parts go once 11:00 is a day old, the 11:00 part an hour later.
  o.quarantine_retention_ms = 24 * kHour;
  pass = l.keep_books(RunIdTimeMs("20260103T103000Z-000000"), o);
  ASSERT_TRUE(pass.ok());
  EXPECT_EQ(pass->quarantine_deleted, 0u);
  pass = l.keep_books(RunIdTimeMs("20260103T110001Z-000000"), o);
  ASSERT_TRUE(pass.ok());
  EXPECT_EQ(pass->quarantine_deleted, 6u);
  q = quarantine_lines(l);
  EXPECT_EQ(q.parts, 1u);
  EXPECT_EQ(q.lines.size(), 1u);
  EXPECT_EQ(l.totals().quarantined_total(), 13u);  // the counts stay in the roll-up
}

// kill -9 after an hour's quarantine part is written and before the files it holds are
// deleted: the next pass deletes them without folding them again; no line lost or repeated.
TEST(EtlRuns, KillDuringTheQuarantineFoldNeitherLosesNorRepeatsALine) {
  Lake l;
  std::vector<std::string> args = {"etl", "--input", l.in().string(), "--lake", l.lake().string(), "--no-progress"};
  for (int r = 0; r < 2; ++r) {
    write_file(l.in() / fmt::format("r{}.log", r), lines(r * 1000 + 1, 70));
    auto ok = run_orderlake(args, 120);
    ASSERT_EQ(ok.exit_code, 0) << ok.err;
  }
  const size_t before = quarantine_lines(l).lines.size();
  ASSERT_EQ(before, 20u);  // every seventh line
  args.insert(args.end(), {"--runs-retention", "0"});
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // their second is over
  write_file(l.in() / "r2.log", lines(2001, 70));
  auto crashed = run_orderlake(args, 120, {"ORDERLAKE_CRASH_AT=quarantine_part_written"});
  ASSERT_EQ(crashed.exit_code, 86) << crashed.err;
  QuarantineLines q = quarantine_lines(l);
  EXPECT_GE(q.parts, 1u);
  EXPECT_GE(q.run_files, 2u);  // the folded files are still there
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  write_file(l.in() / "r3.log", lines(3001, 70));
  auto resumed = run_orderlake(args, 120);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto store = store::OpenLocal(l.lake().string());
  BookkeepingOptions o;
  o.runs_retention_ms = 0;
  ASSERT_TRUE(KeepBooks(store.get(), "orders", o, clock::unix_ms()).ok());
  q = quarantine_lines(l);
  EXPECT_EQ(q.run_files, 0u);
  EXPECT_EQ(q.lines.size(), 40u);
  std::set<std::pair<std::string, std::string>> unique(q.lines.begin(), q.lines.end());
  EXPECT_EQ(unique.size(), q.lines.size());
  EXPECT_EQ(l.totals().quarantined_total(), 40u);
}

// kill -9 (ORDERLAKE_CRASH_AT) after the roll-up is written and before, or while, the runs
// it folded are deleted: nothing is counted twice or lost, and the next pass cleans up.
class EtlRollupCrash : public ::testing::TestWithParam<const char*> {};

TEST_P(EtlRollupCrash, NeitherLosesNorDoubleCountsARun) {
  Lake l;
  std::vector<std::string> args = {"etl", "--input", l.in().string(), "--lake", l.lake().string(), "--no-progress"};
  for (int r = 0; r < 2; ++r) {  // kept by the default retention (1h)
    write_file(l.in() / fmt::format("r{}.log", r), lines(r * 1000 + 1, 70));
    auto ok = run_orderlake(args, 120);
    ASSERT_EQ(ok.exit_code, 0) << ok.err;
  }
  ASSERT_EQ(l.records_on_disk(), 2u);
  args.insert(args.end(), {"--runs-retention", "0"});
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // their second is over
  write_file(l.in() / "r2.log", lines(2001, 70));
  auto crashed = run_orderlake(args, 120, {std::string("ORDERLAKE_CRASH_AT=") + GetParam()});
  ASSERT_EQ(crashed.exit_code, 86) << crashed.err;
  ASSERT_TRUE(stdfs::exists(l.lake() / "_orderlake" / "orders" / "runs_rollup.json"));
  // Earlier passes may have folded runs whose second was over, this one may fold itself.
  EXPECT_GE(l.records_on_disk(), 1u);
  RunTotals t = l.totals();
  EXPECT_EQ(t.runs, 3u);
  EXPECT_EQ(t.records, 210u);
  EXPECT_EQ(t.kept, l.rows());
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  write_file(l.in() / "r3.log", lines(3001, 70));
  auto resumed = run_orderlake(args, 120);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_LE(l.records_on_disk(), 1u);  // the leftovers deleted, the third run folded
  t = l.totals();
  EXPECT_EQ(t.runs, 4u);
  EXPECT_EQ(t.records, 280u);
  EXPECT_EQ(t.kept, l.rows());
  EXPECT_EQ(t.quarantined_total(), 40u);  // every seventh line
}

INSTANTIATE_TEST_SUITE_P(Points, EtlRollupCrash, ::testing::Values("rollup_written", "rollup_mid_delete"));

// The dashboard's /api/quality (`orderlake serve`) before and after a roll-up: the sum over
// every run's summary.
TEST(EtlRuns, DashboardQualityIsTheSumOverEveryRunAfterARollUp) {
  Lake l;
  std::vector<std::string> args = {"etl", "--input", l.in().string(), "--lake", l.lake().string(), "--no-progress"};
  for (int r = 0; r < 3; ++r) {
    write_file(l.in() / fmt::format("r{}.log", r), lines(r * 1000 + 1, 100));
    ASSERT_EQ(run_orderlake(args, 120).exit_code, 0);
  }
  const int port = orderlake::testing::free_port();
  orderlake::testing::BackgroundProcess serve(
      {ORDERLAKE_BINARY, "serve", "--lake", l.lake().string(), "--listen", fmt::format("127.0.0.1:{}", port)});
  json q;
  auto quality = [&](uint64_t runs) {
    return orderlake::testing::wait_for(
        [&] {
          httplib::Client c("127.0.0.1", port);
          auto r = c.Get("/api/quality");
          if (!r || r->status != 200) return false;
          q = json::parse(r->body, nullptr, false);
          return !q.is_discarded() && q.contains("data") && q["data"]["runs"] == runs;
        },
        30);
  };
  ASSERT_TRUE(quality(3)) << q.dump() << serve.err();
  const json before = q["data"];
  EXPECT_EQ(before["records"], 300);
  EXPECT_EQ(before["kept"], l.rows());

  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  write_file(l.in() / "r3.log", lines(3001, 100));
  args.insert(args.end(), {"--runs-retention", "0"});
  ASSERT_EQ(run_orderlake(args, 120).exit_code, 0);
  EXPECT_LE(l.records_on_disk(), 1u);  // three folded (the fourth too when its second was over)
  ASSERT_TRUE(quality(4)) << q.dump() << serve.err();
  const json after = q["data"];
  EXPECT_EQ(after["records"], 400);
  EXPECT_EQ(after["kept"], l.rows());
  EXPECT_EQ(after["quarantined_total"], before["quarantined_total"].get<uint64_t>() + 14);  // 3003..3100: 14 of 7
  const RunTotals t = l.totals();
  EXPECT_EQ(after["filtered"], json(t.filtered));
  EXPECT_EQ(after["quarantined"], json(t.quarantined));
  EXPECT_EQ(after["scope"], before["scope"]);
  EXPECT_EQ(serve.Stop(SIGTERM), 0);
}

}  // namespace
}  // namespace orderlake::etl
