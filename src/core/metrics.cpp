#include "core/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace orderlake::metrics {
namespace {

const char* type_name(Type t) {
  switch (t) {
    case Type::kCounter: return "counter";
    case Type::kGauge: return "gauge";
    case Type::kHistogram: return "histogram";
  }
  return "untyped";
}

void atomic_add(std::atomic<double>& a, double n) {
  double cur = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(cur, cur + n, std::memory_order_relaxed)) {
  }
}

void append_labels(std::string& out, const Labels& labels, std::string_view extra_name = {},
                   std::string_view extra_value = {}) {
  if (labels.empty() && extra_name.empty()) return;
  out.push_back('{');
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out.push_back(',');
    first = false;
    out += k;
    out += "=\"";
    out += EscapeLabelValue(v);
    out.push_back('"');
  }
  if (!extra_name.empty()) {
    if (!first) out.push_back(',');
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out.push_back('"');
  }
  out.push_back('}');
}

void append_sample(std::string& out, std::string_view name, const Labels& labels, double value) {
  out += name;
  append_labels(out, labels);
  out.push_back(' ');
  out += FormatValue(value);
  out.push_back('\n');
}

void check_labels(const Labels& labels) {
  for (const auto& [k, v] : labels)
    if (!ValidLabelName(k)) throw std::invalid_argument(fmt::format("metrics: invalid label name '{}'", k));
}

}  // namespace

void Counter::Inc(double n) {
  if (n < 0) return;  // a counter never goes down
  atomic_add(value_, n);
}

void Gauge::Add(double n) { atomic_add(value_, n); }

Histogram::Histogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)) {
  if (!std::is_sorted(bounds_.begin(), bounds_.end()) ||
      std::adjacent_find(bounds_.begin(), bounds_.end()) != bounds_.end())
    throw std::invalid_argument("metrics: histogram bounds must be strictly ascending");
  buckets_ = std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double v) {
  const size_t i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  atomic_add(sum_, v);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::cumulative() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  uint64_t run = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    run += buckets_[i].load(std::memory_order_relaxed);
    out[i] = run;
  }
  return out;
}

struct Registry::Family {
  std::string name, help;
  Type type;
  // Owned series, in creation order.
  std::vector<std::pair<Labels, std::unique_ptr<Counter>>> counters;
  std::vector<std::pair<Labels, std::unique_ptr<Gauge>>> gauges;
  std::vector<std::pair<Labels, std::unique_ptr<Histogram>>> histograms;
  Collector collector;

  template <typename T>
  static T* find(std::vector<std::pair<Labels, std::unique_ptr<T>>>& v, const Labels& labels) {
    for (auto& [l, m] : v)
      if (l == labels) return m.get();
    return nullptr;
  }

  void Append(std::string& out) const {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, EscapeHelp(help), name, type_name(type));
    for (const auto& [l, c] : counters) append_sample(out, name, l, c->value());
    for (const auto& [l, g] : gauges) append_sample(out, name, l, g->value());
    for (const auto& [l, h] : histograms) {
      const auto cum = h->cumulative();
      const std::string bucket = name + "_bucket";
      for (size_t i = 0; i < cum.size(); ++i) {
        out += bucket;
        append_labels(out, l, "le", i < h->bounds().size() ? FormatValue(h->bounds()[i]) : "+Inf");
        out += fmt::format(" {}\n", cum[i]);
      }
      append_sample(out, name + "_sum", l, h->sum());
      append_sample(out, name + "_count", l, static_cast<double>(cum.back()));
    }
    if (collector) {
      struct TextEmitter : Emitter {
        std::string* out;
        const std::string* name;
        using Emitter::Sample;
        void Sample(const Labels& labels, double value) override {
          check_labels(labels);
          append_sample(*out, *name, labels, value);
        }
      } e;
      e.out = &out;
      e.name = &name;
      collector(e);
    }
  }

  double Sum() const {
    double s = 0;
    for (const auto& [l, c] : counters) s += c->value();
    for (const auto& [l, g] : gauges) s += g->value();
    for (const auto& [l, h] : histograms) s += static_cast<double>(h->count());
    if (collector) {
      struct SumEmitter : Emitter {
        double sum = 0;
        using Emitter::Sample;
        void Sample(const Labels&, double value) override { sum += value; }
      } e;
      collector(e);
      s += e.sum;
    }
    return s;
  }
};

Registry::Registry() = default;
Registry::~Registry() = default;

Registry::Family& Registry::family(std::string_view name, Type type, std::string_view help) {
  if (!ValidMetricName(name)) throw std::invalid_argument(fmt::format("metrics: invalid metric name '{}'", name));
  for (auto& f : families_) {
    if (f->name != name) continue;
    if (f->type != type)
      throw std::invalid_argument(fmt::format("metrics: '{}' registered as {} and as {}", name, type_name(f->type),
                                              type_name(type)));
    return *f;
  }
  auto f = std::make_unique<Family>();
  f->name = std::string(name);
  f->help = std::string(help);
  f->type = type;
  families_.push_back(std::move(f));
  return *families_.back();
}

Counter& Registry::counter(std::string_view name, std::string_view help, const Labels& labels) {
  check_labels(labels);
  std::lock_guard lock(mu_);
  Family& f = family(name, Type::kCounter, help);
  if (Counter* c = Family::find(f.counters, labels)) return *c;
  f.counters.emplace_back(labels, std::make_unique<Counter>());
  return *f.counters.back().second;
}

Gauge& Registry::gauge(std::string_view name, std::string_view help, const Labels& labels) {
  check_labels(labels);
  std::lock_guard lock(mu_);
  Family& f = family(name, Type::kGauge, help);
  if (Gauge* g = Family::find(f.gauges, labels)) return *g;
  f.gauges.emplace_back(labels, std::make_unique<Gauge>());
  return *f.gauges.back().second;
}

Histogram& Registry::histogram(std::string_view name, std::string_view help, const std::vector<double>& upper_bounds,
                               const Labels& labels) {
  check_labels(labels);
  for (const auto& [k, v] : labels)
    if (k == "le") throw std::invalid_argument("metrics: a histogram cannot have a label named 'le'");
  std::lock_guard lock(mu_);
  Family& f = family(name, Type::kHistogram, help);
  if (Histogram* h = Family::find(f.histograms, labels)) return *h;
  f.histograms.emplace_back(labels, std::make_unique<Histogram>(upper_bounds));
  return *f.histograms.back().second;
}

void Registry::collect(std::string_view name, Type type, std::string_view help, Collector collector) {
  if (type == Type::kHistogram) throw std::invalid_argument("metrics: a collector family is a counter or a gauge");
  std::lock_guard lock(mu_);
  Family& f = family(name, type, help);
  if (f.collector) throw std::invalid_argument(fmt::format("metrics: '{}' already has a collector", name));
  f.collector = std::move(collector);
}

void Registry::gauge_fn(std::string_view name, std::string_view help, std::function<double()> value) {
  collect(name, Type::kGauge, help, [value = std::move(value)](Emitter& e) { e.Sample(value()); });
}

void Registry::counter_fn(std::string_view name, std::string_view help, std::function<double()> value) {
  collect(name, Type::kCounter, help, [value = std::move(value)](Emitter& e) { e.Sample(value()); });
}

void Registry::AppendText(std::string& out) const {
  std::lock_guard lock(mu_);
  for (const auto& f : families_) f->Append(out);
}

std::string Registry::Text() const {
  std::string out;
  AppendText(out);
  return out;
}

double Registry::Value(std::string_view name) const {
  std::lock_guard lock(mu_);
  for (const auto& f : families_)
    if (f->name == name) return f->Sum();
  return 0;
}

std::string Gather(std::initializer_list<const Registry*> registries) {
  std::string out;
  for (const Registry* r : registries)
    if (r) r->AppendText(out);
  return out;
}

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out.push_back(c);
  }
  return out;
}

std::string EscapeHelp(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out.push_back(c);
  }
  return out;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{}", v);
}

bool ValidMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool ValidLabelName(std::string_view name) {
  if (name.empty() || name.substr(0, 2) == "__") return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

}  // namespace orderlake::metrics
