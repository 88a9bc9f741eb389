// Internal to the dashboard's cube (cube.h): the aggregates themselves, how rows of the
// fold queries are added to them (cube.cpp) and how answers are read from them
// (cube_answers.cpp).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "dashboard/cube.h"
#include "query/value.h"

namespace orderlake::dashboard {

// A value dictionary: id -> text, NULL included as an id of its own.
struct CubeDict {
  std::vector<std::optional<std::string>> values;
  std::unordered_map<std::string, uint32_t> ids;
  uint32_t null_id = UINT32_MAX;

  uint32_t Id(const query::Value& v);
  size_t size() const { return values.size(); }
};

// A compensated (Neumaier) sum: the cube adds many partial sums.
struct CompensatedSum {
  double sum = 0, comp = 0;
  void Add(double x);
  double value() const { return sum + comp; }
};

struct Cube::State {
  struct Key {
    uint32_t date = 0, country = 0, region = 0;
    int64_t hour = 0;
    bool hour_null = false, high = false;
    bool operator==(const Key& o) const {
      return date == o.date && country == o.country && region == o.region && hour == o.hour &&
             hour_null == o.hour_null && high == o.high;
    }
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  struct Agg {
    int64_t rows = 0, amounts = 0;  // count(*), count(TotalAmountUSD)
    CompensatedSum sum;             // sum(TotalAmountUSD)
  };
  // One High order kept for top-orders: its sort key and its answer object (JSON text).
  struct TopRow {
    bool has_usd = false;
    double usd = 0;
    bool has_id = false;
    std::string id;
    std::string json;
  };
  struct TopCell {
    uint32_t date = 0, country = 0, region = 0;
    std::vector<TopRow> rows;  // sorted, at most kTopK
  };

  int64_t version = -1;
  bool built = false;  // a Sync filled it (an empty table included)
  CubeDict dates, countries, regions;
  std::vector<int64_t> date_order;  // per date id: YYYYMMDD as a number (NULL: none)
  std::vector<std::pair<Key, Agg>> cells;
  std::unordered_map<Key, size_t, KeyHash> cell_index;
  std::vector<TopCell> tops;
  std::unordered_map<Key, size_t, KeyHash> top_index;  // hour/high unused

  // A row of the GROUP BY query: date, country, region, hour, high, rows, amounts, sum.
  Status AddGroup(const std::vector<query::Value>& row);
  // A row of the top-K query: date, country, region, then the answer's columns (`names`).
  Status AddTop(const std::vector<query::Value>& row, const std::vector<std::string>& names);
  uint64_t top_rows() const;

  // The answers (cube_answers.cpp).
  Result<nlohmann::json> Answer(std::string_view endpoint, const Filters& f, int limit) const;
};

// Whether row a of top-orders comes before row b (TotalAmountUSD DESC NULLS LAST, OrderID).
bool TopBefore(const Cube::State::TopRow& a, const Cube::State::TopRow& b);

// "YYYY-MM-DD" as YYYYMMDD; nullopt for other text.
std::optional<int64_t> DateOrder(std::string_view s);

}  // namespace orderlake::dashboard
