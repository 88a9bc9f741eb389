#include "core/region.h"

#include <fstream>
#include <sstream>

#include "core/csv.h"
#include "core/embedded.h"

namespace orderlake {

std::string fold_country(std::string_view s) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

Result<RegionMap> RegionMap::FromCsv(std::string_view text, std::string_view source_name) {
  RegionMap m;
  size_t line_no = 0;
  std::string scratch;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    std::string_view f[2];
    int n = csv::split(line, f, 2, scratch);
    if (n != 2 || fold_country(f[0]).empty() || fold_country(f[1]).empty())
      return Status::Errorf("{}:{}: expected \"country,region\", got \"{}\"", source_name, line_no, line);
    std::string key = fold_country(f[0]);
    if (key == "country" && fold_country(f[1]) == "region") continue;  // header
    std::string_view region = f[1];
    while (!region.empty() && region.front() == ' ') region.remove_prefix(1);
    while (!region.empty() && region.back() == ' ') region.remove_suffix(1);
    auto [it, inserted] = m.map_.emplace(std::move(key), std::string(region));
    if (!inserted && it->second != region)
      return Status::Errorf("{}:{}: country \"{}\" is mapped twice ({} and {})", source_name, line_no,
                            f[0], it->second, region);
  }
  if (m.map_.empty()) return Status::Errorf("{}: no country,region lines", source_name);
  return m;
}

Result<RegionMap> RegionMap::FromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Errorf("cannot read region mapping {}", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return FromCsv(ss.str(), path);
}

const RegionMap& RegionMap::Default() {
  static const RegionMap m = [] {
    auto text = embedded_file("regions.csv");
    auto r = FromCsv(text ? *text : std::string_view(), "data/regions.csv");
    if (!r.ok()) throw std::runtime_error(r.status().message());
    return std::move(r).value();
  }();
  return m;
}

std::string_view RegionMap::lookup(std::string_view country) const {
  auto it = map_.find(fold_country(country));
  return it == map_.end() ? kOther : std::string_view(it->second);
}

}  // namespace orderlake
