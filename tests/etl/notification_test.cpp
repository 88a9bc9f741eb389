// Notification discovery (etl/notifications.h): the etl reads the input's event log
// (store/events.h) instead of listing the raw store; it reads exactly the new events, a
// repeated event takes nothing twice, the cursor commits with the run and the consumed
// events are deleted, also across a kill -9 between the commit and that trim. Counters come
// from the runs themselves; the table is compared with an independent batch etl.
#include <gtest/gtest.h>
#include <time.h>

#include <filesystem>
#include <fstream>

#include "core/clock.h"
#include "etl/job.h"
#include "store/events.h"
#include "raw_layout.h"
#include "test_util.h"

namespace orderlake::etl {
namespace {
namespace stdfs = std::filesystem;
using orderlake::testing::duckdb_value;
using orderlake::testing::run_orderlake;
using orderlake::testing::TempDir;

using orderlake::testing::fh_key;
using orderlake::testing::line;
using orderlake::testing::put;

struct Raw {
  TempDir dir;
  uint64_t next = 0;
  int64_t base = clock::unix_ms() - 10 * 60'000;
  uint64_t seq = 0;
  stdfs::path in() const { return dir.path() / "raw"; }
  stdfs::path lake() const { return dir.path() / "lake"; }
  EtlOptions options() const {
    EtlOptions o;
    o.input = in().string();
    o.lake = lake().string();
    o.threads = 2;
    return o;
  }
  // An object of one line, as the firehose delivers it; with its event unless told not to.
  std::string Deliver(bool event = true) {
    const uint64_t i = next++;
    const std::string key = fh_key(base + static_cast<int64_t>(i) * 1000, i);
    const std::string body = line(i);
    put(in(), key, body);
    if (event) Event(key, body.size());
    return key;
  }
  void Event(const std::string& key, uint64_t size) {
    ++seq;
    put(in(), store::event_key("orders", base + static_cast<int64_t>(seq), seq),
        store::event_body("raw", key, size, base));
  }
  size_t events() const {
    size_t n = 0;
    const stdfs::path d = in() / "_orderlake" / "events";
    if (!stdfs::exists(d)) return 0;
    for (auto& e : stdfs::recursive_directory_iterator(d)) n += e.is_regular_file();
    return n;
  }
  uint64_t Query(const std::string& what, const stdfs::path& lake) const {
    return std::stoull(duckdb_value("SELECT " + what + " FROM read_parquet('" + (lake / "orders/*/*/*.parquet").string() +
                                    "', hive_partitioning=true)"));
  }
  uint64_t rows() const { return Query("count(*)", lake()); }
  uint64_t distinct() const { return Query("count(DISTINCT InvoiceNo)", lake()); }
  // An independent batch etl of the same raw store, listed whole, into another lake.
  uint64_t batch_rows() const {
    EtlOptions o = options();
    o.lake = (dir.path() / "batch").string();
    o.discovery = "full";
    auto r = run_etl(o);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return Query("count(*)", dir.path() / "batch");
  }
};

RunSummary must_run(const EtlOptions& o) {
  auto r = run_etl(o);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? r.value() : RunSummary{};
}

TEST(Notification, RunsReadExactlyTheNewEvents) {
  Raw r;
  for (int i = 0; i < 30; ++i) r.Deliver();
  // The first run lists the whole input (it knows nothing yet) and reads the events too.
  auto first = must_run(r.options());
  EXPECT_EQ(first.discovery, "full");
  EXPECT_EQ(first.objects, 30u);  // the events are not data
  EXPECT_EQ(first.events_read, 30u);
  EXPECT_EQ(r.events(), 0u) << "consumed events are deleted after the commit";
  // Nothing new: no listing of the data, no event.
  auto idle = must_run(r.options());
  EXPECT_EQ(idle.discovery, "notification");
  EXPECT_EQ(idle.objects_listed, 0u);
  EXPECT_EQ(idle.events_read, 0u);
  EXPECT_TRUE(idle.run_id.empty());
  // N new objects: exactly N events read, N objects named and read.
  for (int i = 0; i < 7; ++i) r.Deliver();
  auto next = must_run(r.options());
  EXPECT_EQ(next.discovery, "notification");
  EXPECT_EQ(next.events_read, 7u);
  EXPECT_EQ(next.objects_listed, 7u);
  EXPECT_EQ(next.objects, 7u);
  EXPECT_EQ(r.events(), 0u);
  EXPECT_EQ(r.rows(), 37u);
  // The cursor is in bookmark.json or in the run's commit.
  EXPECT_GT(next.version, first.version);
}

TEST(Notification, RepeatedEventsTakeNothingTwice) {
  Raw r;
  for (int i = 0; i < 5; ++i) r.Deliver();
  must_run(r.options());
  // A redelivery after a crash writes the event of one key twice; an event may also come
  // again for an object taken long ago.
  const std::string k = r.Deliver();
  r.Event(k, line(5).size());
  auto run = must_run(r.options());
  EXPECT_EQ(run.events_read, 2u);
  EXPECT_EQ(run.objects, 1u);
  r.Event(fh_key(r.base, 0), line(0).size());  // the first object, taken by the first run
  auto again = must_run(r.options());
  EXPECT_EQ(again.events_read, 1u);
  EXPECT_EQ(again.objects, 0u);
  EXPECT_EQ(r.events(), 0u) << "the cursor moved in bookmark.json and the event was trimmed";
  EXPECT_EQ(r.rows(), 6u);
  EXPECT_EQ(r.distinct(), 6u);
  EXPECT_EQ(r.batch_rows(), 6u);
}

// A stream whose deliveries stalled (a failing destination) delivers later under keys of
// its records' arrival, before the look-back window others moved on: listing would take it
// as read; its event proves it new, so it is read (with a warning), once.
TEST(Notification, ALateDeliveryKeyedBeforeTheWindowIsRead) {
  Raw r;
  for (int i = 0; i < 5; ++i) r.Deliver();
  EtlOptions o = r.options();
  o.lookback_ms = 60'000;
  must_run(o);
  const std::string late = fh_key(r.base - 3'600'000, 1000);  // an hour before the mark
  put(r.in(), late, line(1000));
  r.Event(late, line(1000).size());
  auto run = must_run(o);
  EXPECT_EQ(run.discovery, "notification");
  EXPECT_EQ(run.objects, 1u);
  EXPECT_EQ(r.rows(), 6u);
  bool warned = false;
  for (const auto& w : run.warnings) warned |= w.find("delivered late") != std::string::npos;
  EXPECT_TRUE(warned);
  // Without its event (a listing), an object that old is taken as read: only the event tells.
  const std::string unnamed = fh_key(r.base - 3'600'000, 1001);
  put(r.in(), unnamed, line(1001));
  r.Deliver();
  auto next = must_run(o);
  EXPECT_EQ(next.objects, 1u);
  EXPECT_EQ(r.rows(), 7u);
  EXPECT_EQ(r.distinct(), 7u);
}

TEST(Notification, ObjectsWithoutAnEventAreCaughtByTheBackfill) {
  Raw r;
  for (int i = 0; i < 3; ++i) r.Deliver();
  must_run(r.options());
  r.Deliver(/*event=*/false);  // written by someone else
  r.Deliver();
  auto notified = must_run(r.options());
  EXPECT_EQ(notified.discovery, "notification");
  EXPECT_EQ(notified.objects, 1u);
  EtlOptions o = r.options();
  o.backfill_ms = 0;  // a full listing at every run
  auto backfill = must_run(o);
  EXPECT_EQ(backfill.discovery, "full");
  EXPECT_EQ(backfill.objects, 1u);
  EXPECT_EQ(r.rows(), 5u);
  EXPECT_EQ(r.distinct(), 5u);
}

TEST(Notification, ModesCanBeForced) {
  Raw r;
  for (int i = 0; i < 4; ++i) r.Deliver();
  EtlOptions o = r.options();
  o.discovery = "listing";  // the event log is ignored (and kept)
  auto listed = must_run(o);
  EXPECT_EQ(listed.events_read, 0u);
  EXPECT_EQ(listed.objects, 4u);
  EXPECT_EQ(r.events(), 4u);
  o.discovery = "notification";
  auto notified = must_run(o);
  EXPECT_EQ(notified.discovery, "notification");
  EXPECT_EQ(notified.events_read, 4u);
  EXPECT_EQ(notified.objects, 0u);  // all four taken by the listing run
  EXPECT_EQ(r.events(), 0u);
  EXPECT_EQ(r.rows(), 4u);
  // On an input without an event log, auto keeps listing.
  Raw plain;
  for (int i = 0; i < 3; ++i) plain.Deliver(/*event=*/false);
  must_run(plain.options());
  plain.Deliver(false);
  auto inc = must_run(plain.options());
  EXPECT_EQ(inc.discovery, "incremental");
  EXPECT_EQ(inc.events_read, 0u);
  EXPECT_EQ(inc.objects, 1u);
}

// kill -9 after the commit of the cursor and before (or during) the trim of the events it
// consumed: the next run reads none of them again and trims them.
TEST(Notification, KillBetweenCommitAndTrimLosesAndDuplicatesNothing) {
  for (const char* point : {"before_event_trim", "mid_event_trim"}) {
    SCOPED_TRACE(point);
    Raw r;
    for (int i = 0; i < 6; ++i) r.Deliver();
    const std::vector<std::string> args = {"etl", "--input", r.in().string(), "--lake", r.lake().string(),
                                           "--no-progress"};
    ASSERT_EQ(run_orderlake(args, 120).exit_code, 0);
    for (int i = 0; i < 8; ++i) r.Deliver();
    auto crashed = run_orderlake(args, 120, {std::string("ORDERLAKE_CRASH_AT=") + point});
    ASSERT_EQ(crashed.exit_code, 86) << crashed.err;
    EXPECT_EQ(r.events(), std::string(point) == "mid_event_trim" ? 7u : 8u);
    EXPECT_EQ(r.rows(), 14u);
    auto resumed = must_run(r.options());
    EXPECT_EQ(resumed.objects, 0u);
    EXPECT_EQ(resumed.events_read, 0u);
    EXPECT_EQ(r.events(), 0u);
    EXPECT_EQ(r.rows(), 14u);
    EXPECT_EQ(r.distinct(), 14u);
    EXPECT_EQ(r.batch_rows(), 14u);
  }
}

// kill -9 before the commit: the cursor did not move, the events are read again, and the
// rolled-back run's objects are taken once.
TEST(Notification, KillBeforeTheCommitReadsTheEventsAgain) {
  Raw r;
  for (int i = 0; i < 3; ++i) r.Deliver();
  const std::vector<std::string> args = {"etl", "--input", r.in().string(), "--lake", r.lake().string(),
                                         "--no-progress"};
  ASSERT_EQ(run_orderlake(args, 120).exit_code, 0);
  for (int i = 0; i < 4; ++i) r.Deliver();
  auto crashed = run_orderlake(args, 120, {"ORDERLAKE_CRASH_AT=before_commit"});
  ASSERT_EQ(crashed.exit_code, 86) << crashed.err;
  EXPECT_EQ(r.events(), 4u);
  auto resumed = must_run(r.options());
  EXPECT_EQ(resumed.events_read, 4u);
  EXPECT_EQ(resumed.objects, 4u);
  EXPECT_EQ(r.events(), 0u);
  EXPECT_EQ(r.rows(), 7u);
  EXPECT_EQ(r.distinct(), 7u);
}

TEST(Notification, EventKeysAndDocuments) {
  const std::string k = store::event_key("orders", 1765100000123, 42);
  EXPECT_EQ(k, "_orderlake/events/orders/0001765100000123-00000000000000000042.json");
  auto p = store::parse_event_key(k);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->stream, "orders");
  EXPECT_EQ(p->ms, 1765100000123);
  EXPECT_FALSE(store::parse_event_key("_orderlake/events/orders/x.json"));
  EXPECT_LT(store::event_key("s", 999, 5), store::event_key("s", 1000, 1));  // time order
  auto doc = nlohmann::json::parse(store::event_body("raw", "2025/12/07/09/a", 17, 1765100000123));
  const auto& rec = doc.at("Records").at(0);
  EXPECT_EQ(rec.at("eventSource"), "aws:s3");
  EXPECT_EQ(rec.at("eventName"), "ObjectCreated:Put");
  EXPECT_EQ(rec.at("eventTime"), "2025-12-07T09:33:20.123Z");
  EXPECT_EQ(rec.at("s3").at("bucket").at("name"), "raw");
  auto ev = store::parse_event_body(doc.dump());
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(ev->key, "2025/12/07/09/a");
  EXPECT_EQ(ev->size, 17u);
  EXPECT_FALSE(store::parse_event_body("{}").ok());
}

}  // namespace
}  // namespace orderlake::etl
