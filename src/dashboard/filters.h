// The filters every dashboard endpoint takes, parsed and checked from a request's query
// parameters, and turned into a SQL condition over the table `orders`.
//
//   from=YYYY-MM-DD     first InvoiceDateOnly included (a real calendar date)
//   to=YYYY-MM-DD       last InvoiceDateOnly included (not before `from`)
//   country=NAME        Country equals one of the names; repeat the parameter or separate
//                       names with commas (country=France,Germany)
//   region=NAME         Region equals one of the names; same forms
//
// Names are 1-100 bytes of UTF-8 without control characters; at most 100 of each. In SQL
// they become string literals with quotes doubled by core/sql.h (never spliced in unescaped), dates are
// emitted only after they parsed as dates. Anything else (an unknown parameter, a bad date,
// an empty name) is an error whose message names the parameter and says what is expected.
#pragma once
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace orderlake::dashboard {

// Query parameters as the HTTP layer gives them (httplib::Params is this type).
using Params = std::multimap<std::string, std::string>;

struct Filters {
  std::string from, to;                // "" when not given
  std::vector<std::string> countries;  // sorted, unique
  std::vector<std::string> regions;    // sorted, unique

  bool empty() const { return from.empty() && to.empty() && countries.empty() && regions.empty(); }
  // A canonical text of the filters: equal filters give equal keys (the cache key).
  std::string Key() const;
  // {"from": "...", "to": "...", "country": [...], "region": [...]} (only what is set).
  nlohmann::json ToJson() const;
  // "InvoiceDateOnly >= DATE '...' AND Country IN ('...') ..." joined with `extra`
  // conditions; "true" when there is nothing to filter.
  std::string Where(const std::vector<std::string>& extra = {}) const;
};

// The filter parameters, plus any names in `also_allowed` (which the caller reads itself,
// e.g. "limit"), plus "token" (the access token may come as a parameter).
Result<Filters> ParseFilters(const Params& params, const std::set<std::string>& also_allowed = {});

// True for "YYYY-MM-DD" naming a real date.
bool IsIsoDate(std::string_view s);

}  // namespace orderlake::dashboard
