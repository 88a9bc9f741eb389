// The visuals' answers read from the cube (cube_state.h), shaped and ordered exactly as the
// SQL of endpoints.cpp gives them: DuckDB orders NULLs last in both directions, compares
// text byte by byte, and sum() of no values is NULL.
#include <algorithm>
#include <map>
#include <tuple>

#include "dashboard/cube_state.h"

namespace orderlake::dashboard {
namespace {
using json = nlohmann::json;
using State = Cube::State;

// Which dictionary ids the filters let through.
struct Match {
  std::vector<char> date, country, region;
  bool operator()(uint32_t d, uint32_t c, uint32_t r) const { return date[d] && country[c] && region[r]; }
};

std::vector<char> Names(const CubeDict& dict, const std::vector<std::string>& names) {
  std::vector<char> ok(dict.size(), names.empty());
  if (names.empty()) return ok;
  for (size_t i = 0; i < dict.size(); ++i)
    ok[i] = dict.values[i] && std::binary_search(names.begin(), names.end(), *dict.values[i]);
  return ok;
}

Match MakeMatch(const State& s, const Filters& f) {
  Match m;
  m.date.assign(s.dates.size(), 1);
  if (!f.from.empty() || !f.to.empty()) {
    const int64_t from = f.from.empty() ? INT64_MIN : DateOrder(f.from).value_or(INT64_MIN);
    const int64_t to = f.to.empty() ? INT64_MAX : DateOrder(f.to).value_or(INT64_MAX);
    for (size_t i = 0; i < s.dates.size(); ++i)
      m.date[i] = s.dates.values[i] && s.date_order[i] >= from && s.date_order[i] <= to;
  }
  m.country = Names(s.countries, f.countries);
  m.region = Names(s.regions, f.regions);
  return m;
}

struct Sum {
  int64_t rows = 0, amounts = 0;
  CompensatedSum sum;
  void Add(const State::Agg& a) {
    rows += a.rows;
    amounts += a.amounts;
    sum.Add(a.sum.value());
  }
  json total() const { return amounts ? json(sum.value()) : json(nullptr); }
  json avg() const { return amounts ? json(sum.value() / static_cast<double>(amounts)) : json(nullptr); }
};

json Text(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }

// Text order with NULL last (ORDER BY x in DuckDB).
bool TextBefore(const std::optional<std::string>& a, const std::optional<std::string>& b) {
  if (!a || !b) return a && !b;
  return *a < *b;
}

// Hour order with NULL last.
bool HourBefore(bool a_null, int64_t a, bool b_null, int64_t b) {
  if (a_null || b_null) return !a_null && b_null;
  return a < b;
}

json Summary(const State& s, const Match& m) {
  Sum all;
  int64_t high = 0;
  for (const auto& [k, a] : s.cells) {
    if (!m(k.date, k.country, k.region)) continue;
    all.Add(a);
    if (k.high) high += a.rows;
  }
  json o = {{"orders", all.rows},
            {"revenue_usd", all.amounts ? json(all.sum.value()) : json(0.0)},
            {"avg_order_value_usd", all.avg()},
            {"high_orders", high}};
  o["high_share"] = all.rows ? json(static_cast<double>(high) / static_cast<double>(all.rows)) : json(nullptr);
  return o;
}

json Daily(const State& s, const Match& m) {
  std::vector<Sum> by(s.dates.size());
  std::vector<char> seen(s.dates.size(), 0);
  for (const auto& [k, a] : s.cells)
    if (m(k.date, k.country, k.region)) by[k.date].Add(a), seen[k.date] = 1;
  std::vector<uint32_t> ids;
  for (uint32_t i = 0; i < by.size(); ++i)
    if (seen[i]) ids.push_back(i);
  std::sort(ids.begin(), ids.end(), [&](uint32_t a, uint32_t b) {
    const bool an = !s.dates.values[a], bn = !s.dates.values[b];
    if (an || bn) return !an && bn;
    return s.date_order[a] < s.date_order[b];
  });
  json out = json::array();
  for (uint32_t i : ids)
    out.push_back({{"date", Text(s.dates.values[i])}, {"orders", by[i].rows}, {"revenue_usd", by[i].total()}});
  return out;
}

json Heatmap(const State& s, const Match& m) {
  std::map<std::tuple<uint32_t, bool, int64_t>, int64_t> by;
  for (const auto& [k, a] : s.cells)
    if (m(k.date, k.country, k.region)) by[{k.region, k.hour_null, k.hour}] += a.rows;
  std::vector<std::pair<std::tuple<uint32_t, bool, int64_t>, int64_t>> rows(by.begin(), by.end());
  std::sort(rows.begin(), rows.end(), [&](const auto& x, const auto& y) {
    const auto& [xr, xn, xh] = x.first;
    const auto& [yr, yn, yh] = y.first;
    if (xr != yr) return TextBefore(s.regions.values[xr], s.regions.values[yr]);
    return HourBefore(xn, xh, yn, yh);
  });
  json out = json::array();
  for (const auto& [key, n] : rows)
    out.push_back({{"region", Text(s.regions.values[std::get<0>(key)])},
                   {"hour", std::get<1>(key) ? json(nullptr) : json(std::get<2>(key))},
                   {"orders", n}});
  return out;
}

json Hourly(const State& s, const Match& m) {
  std::map<std::pair<bool, int64_t>, Sum> by;  // (null, hour): NULL sorts last
  for (const auto& [k, a] : s.cells)
    if (m(k.date, k.country, k.region)) by[{k.hour_null, k.hour}].Add(a);
  json out = json::array();
  for (const auto& [key, sum] : by)
    out.push_back({{"hour", key.first ? json(nullptr) : json(key.second)}, {"orders", sum.rows}, {"revenue_usd", sum.total()}});
  return out;
}

json AovByCountry(const State& s, const Match& m) {
  std::vector<Sum> by(s.countries.size());
  std::vector<char> seen(s.countries.size(), 0);
  for (const auto& [k, a] : s.cells)
    if (m(k.date, k.country, k.region)) by[k.country].Add(a), seen[k.country] = 1;
  std::vector<uint32_t> ids;
  for (uint32_t i = 0; i < by.size(); ++i)
    if (seen[i]) ids.push_back(i);
  std::sort(ids.begin(), ids.end(), [&](uint32_t a, uint32_t b) {
    const bool an = by[a].amounts == 0, bn = by[b].amounts == 0;
    if (an != bn) return bn;  // a NULL average last
    if (!an) {
      const double x = by[a].sum.value() / static_cast<double>(by[a].amounts);
      const double y = by[b].sum.value() / static_cast<double>(by[b].amounts);
      if (x != y) return x > y;
    }
    return TextBefore(s.countries.values[a], s.countries.values[b]);
  });
  json out = json::array();
  for (uint32_t i : ids)
    out.push_back({{"country", Text(s.countries.values[i])}, {"orders", by[i].rows}, {"avg_order_value_usd", by[i].avg()}});
  return out;
}

json TopOrders(const State& s, const Match& m, int limit) {
  std::vector<const State::TopRow*> rows;
  for (const auto& t : s.tops)
    if (m(t.date, t.country, t.region))
      for (const auto& r : t.rows) rows.push_back(&r);
  const size_t n = std::min(rows.size(), static_cast<size_t>(std::max(limit, 0)));
  std::partial_sort(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(n), rows.end(),
                    [](const State::TopRow* a, const State::TopRow* b) { return TopBefore(*a, *b); });
  json out = json::array();
  for (size_t i = 0; i < n; ++i) out.push_back(json::parse(rows[i]->json));
  return out;
}

json Choices(const State& s) {
  std::vector<char> country(s.countries.size(), 0), region(s.regions.size(), 0), date(s.dates.size(), 0);
  for (const auto& [k, a] : s.cells)
    if (a.rows > 0) country[k.country] = region[k.region] = date[k.date] = 1;
  auto names = [](const CubeDict& d, const std::vector<char>& used) {
    std::vector<std::string> v;
    for (size_t i = 0; i < d.size(); ++i)
      if (used[i] && d.values[i]) v.push_back(*d.values[i]);
    std::sort(v.begin(), v.end());
    return v;
  };
  json min = nullptr, max = nullptr;
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (size_t i = 0; i < s.dates.size(); ++i) {
    if (!date[i] || !s.dates.values[i]) continue;
    if (s.date_order[i] < lo) lo = s.date_order[i], min = *s.dates.values[i];
    if (s.date_order[i] > hi) hi = s.date_order[i], max = *s.dates.values[i];
  }
  return {{"countries", names(s.countries, country)}, {"regions", names(s.regions, region)}, {"date_min", min}, {"date_max", max}};
}

}  // namespace

Result<json> Cube::State::Answer(std::string_view endpoint, const Filters& f, int limit) const {
  if (endpoint == "filters") return Choices(*this);
  const Match m = MakeMatch(*this, f);
  if (endpoint == "summary") return Summary(*this, m);
  if (endpoint == "daily") return Daily(*this, m);
  if (endpoint == "heatmap") return Heatmap(*this, m);
  if (endpoint == "hourly") return Hourly(*this, m);
  if (endpoint == "aov-by-country") return AovByCountry(*this, m);
  if (endpoint == "top-orders") return TopOrders(*this, m, limit);
  return Status::Errorf("the dashboard's aggregates do not answer '{}'", endpoint);
}

}  // namespace orderlake::dashboard
