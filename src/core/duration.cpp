#include "core/duration.h"

#include <fmt/format.h>

namespace orderlake {
namespace {

struct Unit {
  std::string_view name;
  int64_t ms;
};
constexpr Unit kUnits[] = {{"w", 7LL * 24 * 3600 * 1000}, {"d", 24LL * 3600 * 1000}, {"h", 3600LL * 1000},
                           {"m", 60LL * 1000},            {"s", 1000},                {"ms", 1}};

}  // namespace

Result<int64_t> ParseDuration(std::string_view text, std::string_view flag) {
  auto bad = [&] {
    return Status::Errorf("{} must be a duration such as 90s, 10m, 24h or 30d, got '{}'", flag,
                          text.substr(0, 40));
  };
  if (text == "0") return int64_t{0};
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 12) return bad();
  int64_t n = 0;
  for (size_t i = 0; i < digits; ++i) n = n * 10 + (text[i] - '0');
  const std::string_view unit = text.substr(digits);
  for (const Unit& u : kUnits) {
    if (unit != u.name) continue;
    if (n > kMaxDurationMs / u.ms)
      return Status::Errorf("{} is longer than 100 years ('{}')", flag, text.substr(0, 40));
    return n * u.ms;
  }
  return bad();
}

Status ParseDurationFlags(std::initializer_list<DurationFlag> flags) {
  for (const DurationFlag& f : flags) {
    auto ms = ParseDuration(f.text, f.flag);
    if (!ms.ok()) return ms.status();
    *f.out = ms.value();
  }
  return Status::OK();
}

std::string FormatDuration(int64_t ms) {
  if (ms == 0) return "0";
  for (const Unit& u : kUnits)
    if (u.name != "w" && ms % u.ms == 0) return fmt::format("{}{}", ms / u.ms, u.name);
  return fmt::format("{}ms", ms);
}

}  // namespace orderlake
