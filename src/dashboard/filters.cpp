#include "dashboard/filters.h"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "core/sql.h"

namespace orderlake::dashboard {
namespace {

constexpr size_t kMaxNameBytes = 100;
constexpr size_t kMaxNames = 100;

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

Status AddNames(const std::string& param, const std::string& value, std::vector<std::string>& out) {
  size_t pos = 0;
  for (;;) {
    size_t comma = value.find(',', pos);
    std::string name = Trim(std::string_view(value).substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
    if (name.empty())
      return Status::Errorf("parameter '{}': empty name in '{}' (give names separated by commas, or repeat '{}=')",
                            param, value, param);
    if (name.size() > kMaxNameBytes)
      return Status::Errorf("parameter '{}': name longer than {} bytes", param, kMaxNameBytes);
    if (!ValidUtf8(name)) return Status::Errorf("parameter '{}': not valid UTF-8", param);
    for (unsigned char c : name)
      if (c < 0x20 || c == 0x7f) return Status::Errorf("parameter '{}': control character in a name", param);
    out.push_back(std::move(name));
    if (out.size() > kMaxNames) return Status::Errorf("parameter '{}': more than {} names", param, kMaxNames);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return Status::OK();
}

void SortUnique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

std::string InList(std::string_view column, const std::vector<std::string>& names) {
  std::string s = sql::ident(column) + " IN (";
  for (size_t i = 0; i < names.size(); ++i) s += (i ? ", " : "") + sql::literal(names[i]);
  return s + ")";
}

}  // namespace

bool IsIsoDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[i] < '0' || s[i] > '9') return false;
  auto num = [&](size_t p, size_t n) {
    int v = 0;
    for (size_t i = p; i < p + n; ++i) v = v * 10 + (s[i] - '0');
    return v;
  };
  std::chrono::year_month_day d{std::chrono::year(num(0, 4)), std::chrono::month(static_cast<unsigned>(num(5, 2))),
                                std::chrono::day(static_cast<unsigned>(num(8, 2)))};
  return d.ok() && num(0, 4) >= 1;
}

Result<Filters> ParseFilters(const Params& params, const std::set<std::string>& also_allowed) {
  Filters f;
  for (const auto& [name, value] : params) {
    if (name == "from" || name == "to") {
      std::string& slot = name == "from" ? f.from : f.to;
      if (!slot.empty()) return Status::Errorf("parameter '{}' given more than once", name);
      if (!IsIsoDate(value))
        return Status::Errorf("parameter '{}': '{}' is not a date: expected YYYY-MM-DD, e.g. 2010-12-01", name,
                              value.size() > 40 ? value.substr(0, 40) + "..." : value);
      slot = value;
    } else if (name == "country") {
      ORDERLAKE_RETURN_IF_ERROR(AddNames(name, value, f.countries));
    } else if (name == "region") {
      ORDERLAKE_RETURN_IF_ERROR(AddNames(name, value, f.regions));
    } else if (name == "token" || also_allowed.count(name)) {
      continue;
    } else {
      std::string allowed = "from, to, country, region";
      for (const auto& a : also_allowed) allowed += ", " + a;
      return Status::Errorf("unknown parameter '{}' (this endpoint takes: {})",
                            name.size() > 40 ? name.substr(0, 40) + "..." : name, allowed);
    }
  }
  if (!f.from.empty() && !f.to.empty() && f.to < f.from)
    return Status::Errorf("parameter 'to' ({}) is before 'from' ({})", f.to, f.from);
  SortUnique(f.countries);
  SortUnique(f.regions);
  return f;
}

std::string Filters::Key() const {
  nlohmann::json j = ToJson();
  return j.dump();
}

nlohmann::json Filters::ToJson() const {
  nlohmann::json j = nlohmann::json::object();
  if (!from.empty()) j["from"] = from;
  if (!to.empty()) j["to"] = to;
  if (!countries.empty()) j["country"] = countries;
  if (!regions.empty()) j["region"] = regions;
  return j;
}

std::string Filters::Where(const std::vector<std::string>& extra) const {
  std::vector<std::string> parts;
  if (!from.empty()) parts.push_back(fmt::format("\"InvoiceDateOnly\" >= DATE '{}'", from));
  if (!to.empty()) parts.push_back(fmt::format("\"InvoiceDateOnly\" <= DATE '{}'", to));
  if (!countries.empty()) parts.push_back(InList("Country", countries));
  if (!regions.empty()) parts.push_back(InList("Region", regions));
  for (const auto& e : extra) parts.push_back(e);
  if (parts.empty()) return "true";
  std::string s;
  for (size_t i = 0; i < parts.size(); ++i) s += (i ? " AND " : "") + parts[i];
  return s;
}

}  // namespace orderlake::dashboard
