// Country → Region mapping (SPEC §2), loaded from data: the embedded data/regions.csv by
// default, or a CSV file of "country,region" lines given by the user. Lookups are exact
// after trimming whitespace and folding ASCII case; an unknown country maps to "Other".
#pragma once
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/status.h"

namespace orderlake {

class RegionMap {
 public:
  static constexpr std::string_view kOther = "Other";

  // Parses "country,region" lines (RFC 4180 fields); '#' comment lines, blank lines and a
  // "country,region" header are skipped. Errors name the line.
  static Result<RegionMap> FromCsv(std::string_view text, std::string_view source_name);
  static Result<RegionMap> FromFile(const std::string& path);
  // The embedded default table.
  static const RegionMap& Default();

  std::string_view lookup(std::string_view country) const;
  size_t size() const { return map_.size(); }

 private:
  std::unordered_map<std::string, std::string> map_;  // folded country → region
};

// Trims ASCII whitespace and lowercases ASCII letters (UTF-8 bytes are kept as is).
std::string fold_country(std::string_view country);

}  // namespace orderlake
