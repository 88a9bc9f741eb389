// One Prometheus metrics registry for every long-running stage: counters, gauges and
// histograms with labels, and the text exposition format (version 0.0.4) with HELP and
// TYPE lines and the format's escaping. A stage owns a Registry, registers its families once,
// and serves Text() on /metrics; `up` gathers the stages' registries with Gather() instead
// of re-encoding their text.
//
// Two ways to feed a family:
//   - owned series: Counter/Gauge/Histogram objects the registry keeps (stable addresses;
//     updating one is a relaxed atomic operation, cheap enough for hot paths), or
//   - a collector: a callback that emits the family's samples when the registry is scraped,
//     for values the stage already keeps (a queue's length, per-stream state under a lock).
//
// Names and label names are checked against Prometheus' grammar when registered (a bad name
// is a programming error: std::invalid_argument). Registering a family twice with the same
// name and type returns the same family.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace orderlake::metrics {

enum class Type { kCounter, kGauge, kHistogram };

// Label name -> value, in the order given (rendered in that order).
using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void Inc(double n = 1);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double n);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);  // ascending; +Inf is implied
  void Observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  // Cumulative counts per bound (the last is +Inf, i.e. the count), and the sum.
  std::vector<uint64_t> cumulative() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // per bound, not cumulative; [n] = above the last
  std::atomic<double> sum_{0};
  std::atomic<uint64_t> count_{0};
};

// What a collector writes to: one sample per call.
class Emitter {
 public:
  virtual ~Emitter() = default;
  virtual void Sample(const Labels& labels, double value) = 0;
  void Sample(double value) { Sample({}, value); }
};
using Collector = std::function<void(Emitter&)>;

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Owned series: one object per (name, labels), created on first use.
  Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, const Labels& labels = {});
  Histogram& histogram(std::string_view name, std::string_view help, const std::vector<double>& upper_bounds,
                       const Labels& labels = {});

  // A family whose samples a callback emits at scrape time (counter or gauge).
  void collect(std::string_view name, Type type, std::string_view help, Collector collector);
  // Shorthand for an unlabelled collector family with one value.
  void gauge_fn(std::string_view name, std::string_view help, std::function<double()> value);
  void counter_fn(std::string_view name, std::string_view help, std::function<double()> value);

  // The exposition text of every family, in registration order.
  std::string Text() const;
  void AppendText(std::string& out) const;

  // The sum of a counter's or gauge's samples over all its label sets (a histogram's: its
  // count); 0 for a family that is not registered.
  double Value(std::string_view name) const;

 private:
  struct Family;
  Family& family(std::string_view name, Type type, std::string_view help);
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Family>> families_;
};

// The text of several registries, one after the other (families are not merged; names must
// not repeat across them).
std::string Gather(std::initializer_list<const Registry*> registries);

// The exposition format's escaping: label values escape \, " and newline; HELP text
// escapes \ and newline.
std::string EscapeLabelValue(std::string_view v);
std::string EscapeHelp(std::string_view v);
// A number as the format writes it: integers without a fraction, NaN, +Inf, -Inf.
std::string FormatValue(double v);

// Prometheus' grammar for metric names ([a-zA-Z_:][a-zA-Z0-9_:]*) and label names
// ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __).
bool ValidMetricName(std::string_view name);
bool ValidLabelName(std::string_view name);

}  // namespace orderlake::metrics
