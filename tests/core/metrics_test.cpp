#include "core/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <thread>

namespace orderlake::metrics {
namespace {

TEST(Metrics, CounterAndGaugeWithHelpTypeAndLabelsInRegistrationOrder) {
  Registry r;
  r.counter("orderlake_x_records_total", "Records read", {{"stream", "orders"}}).Inc(3);
  r.counter("orderlake_x_records_total", "Records read", {{"stream", "b"}}).Inc();
  r.counter("orderlake_x_records_total", "Records read", {{"stream", "orders"}}).Inc(2);
  r.gauge("orderlake_x_lag_bytes", "Bytes behind").Set(1.5);
  EXPECT_EQ(r.Text(),
            "# HELP orderlake_x_records_total Records read\n"
            "# TYPE orderlake_x_records_total counter\n"
            "orderlake_x_records_total{stream=\"orders\"} 5\n"
            "orderlake_x_records_total{stream=\"b\"} 1\n"
            "# HELP orderlake_x_lag_bytes Bytes behind\n"
            "# TYPE orderlake_x_lag_bytes gauge\n"
            "orderlake_x_lag_bytes 1.5\n");
  EXPECT_EQ(r.Value("orderlake_x_records_total"), 6);
  EXPECT_EQ(r.Value("missing"), 0);
}

TEST(Metrics, EscapesLabelValuesAndHelp) {
  Registry r;
  r.gauge("g", "a \\ help\nline", {{"pattern", "/var/log/\"a\"\\b\nc"}}).Set(1);
  EXPECT_EQ(r.Text(),
            "# HELP g a \\\\ help\\nline\n# TYPE g gauge\n"
            "g{pattern=\"/var/log/\\\"a\\\"\\\\b\\nc\"} 1\n");
}

TEST(Metrics, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  Registry r;
  Histogram& h = r.histogram("lat_seconds", "Latency", {0.1, 1}, {{"stage", "etl"}});
  h.Observe(0.05);
  h.Observe(0.1);  // le is inclusive
  h.Observe(0.5);
  h.Observe(7);
  EXPECT_EQ(r.Text(),
            "# HELP lat_seconds Latency\n# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{stage=\"etl\",le=\"0.1\"} 2\n"
            "lat_seconds_bucket{stage=\"etl\",le=\"1\"} 3\n"
            "lat_seconds_bucket{stage=\"etl\",le=\"+Inf\"} 4\n"
            "lat_seconds_sum{stage=\"etl\"} 7.65\n"
            "lat_seconds_count{stage=\"etl\"} 4\n");
  EXPECT_EQ(r.Value("lat_seconds"), 4);
  EXPECT_THROW(r.histogram("bad", "x", {1, 0.5}), std::invalid_argument);
  EXPECT_THROW(r.histogram("bad2", "x", {1}, {{"le", "1"}}), std::invalid_argument);
}

TEST(Metrics, CollectorsAreAskedAtScrapeTime) {
  Registry r;
  int queued = 2;
  r.gauge_fn("q", "Queued", [&] { return queued; });
  r.collect("per_stream_total", Type::kCounter, "Per stream", [](Emitter& e) {
    e.Sample({{"stream", "a"}}, 1);
    e.Sample({{"stream", "b"}}, 2);
  });
  queued = 9;
  EXPECT_EQ(r.Text(),
            "# HELP q Queued\n# TYPE q gauge\nq 9\n"
            "# HELP per_stream_total Per stream\n# TYPE per_stream_total counter\n"
            "per_stream_total{stream=\"a\"} 1\nper_stream_total{stream=\"b\"} 2\n");
  EXPECT_EQ(r.Value("per_stream_total"), 3);
  EXPECT_THROW(r.gauge_fn("q", "again", [] { return 0.0; }), std::invalid_argument);
}

TEST(Metrics, BadNamesAndTypeClashesAreRefused) {
  Registry r;
  EXPECT_THROW(r.counter("1abc", "x"), std::invalid_argument);
  EXPECT_THROW(r.counter("a-b", "x"), std::invalid_argument);
  EXPECT_THROW(r.counter("ok", "x", {{"__reserved", "v"}}), std::invalid_argument);
  EXPECT_THROW(r.counter("ok", "x", {{"bad-label", "v"}}), std::invalid_argument);
  r.counter("ok", "x");
  EXPECT_THROW(r.gauge("ok", "x"), std::invalid_argument);
  EXPECT_TRUE(ValidMetricName("orderlake:rate_5m"));
  EXPECT_FALSE(ValidLabelName("a:b"));
}

TEST(Metrics, ValuesFormatAsPrometheusWritesThem) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(123456789012), "123456789012");
  EXPECT_EQ(FormatValue(0.25), "0.25");
  EXPECT_EQ(FormatValue(std::nan("")), "NaN");
  EXPECT_EQ(FormatValue(INFINITY), "+Inf");
  EXPECT_EQ(FormatValue(-INFINITY), "-Inf");
}

TEST(Metrics, CounterNeverGoesDownAndIsSafeAcrossThreads) {
  Registry r;
  Counter& c = r.counter("c_total", "x");
  c.Inc(-5);
  EXPECT_EQ(c.value(), 0);
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) c.Inc();
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(c.value(), 40000);
}

TEST(Metrics, GatherConcatenatesRegistries) {
  Registry a, b;
  a.counter("a_total", "A").Inc();
  b.gauge("b", "B").Set(2);
  EXPECT_EQ(Gather({&a, nullptr, &b}), a.Text() + b.Text());
}

}  // namespace
}  // namespace orderlake::metrics
