#include "generate/calendar.h"

#include <algorithm>
#include <cmath>

#include "generate/format.h"

namespace orderlake::generate {

// Civil-date conversions by era of 400 years (146097 days), years starting in March so
// that the leap day is the last day of the year.
int64_t days_from_civil(int year, unsigned month, unsigned day) {
  const int64_t y = static_cast<int64_t>(year) - (month <= 2 ? 1 : 0);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;                                  // [0, 399]
  const int64_t mp = (static_cast<int64_t>(month) + 9) % 12;          // March = 0
  const int64_t doy = (153 * mp + 2) / 5 + static_cast<int64_t>(day) - 1;  // [0, 365]
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;          // [0, 146096]
  return era * 146097 + doe - 719468;
}

CivilDate civil_from_days(int64_t days) {
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return CivilDate{static_cast<int>(y), static_cast<unsigned>(m), static_cast<unsigned>(d)};
}

unsigned weekday_from_days(int64_t days) {
  // 1970-01-01 was a Thursday (4).
  const int64_t w = (days % 7 + 7 + 4) % 7;
  return static_cast<unsigned>(w);
}

static unsigned days_in_month(int year, unsigned month) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2) {
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return leap ? 29 : 28;
  }
  return kDays[month - 1];
}

Result<int64_t> parse_iso_date(std::string_view text) {
  auto bad = [&] {
    return Status::Errorf("'{}' is not a date of the form YYYY-MM-DD", text);
  };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return bad();
  int vals[3] = {0, 0, 0};
  const size_t starts[3] = {0, 5, 8}, lens[3] = {4, 2, 2};
  for (int f = 0; f < 3; ++f) {
    for (size_t i = 0; i < lens[f]; ++i) {
      const char c = text[starts[f] + i];
      if (c < '0' || c > '9') return bad();
      vals[f] = vals[f] * 10 + (c - '0');
    }
  }
  const int y = vals[0];
  const unsigned m = static_cast<unsigned>(vals[1]), d = static_cast<unsigned>(vals[2]);
  if (y < 1000 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return bad();
  return days_from_civil(y, m, d);
}

std::string format_iso_date(int64_t days) {
  const CivilDate c = civil_from_days(days);
  char buf[16];
  char* p = buf;
  p = format_2(p, static_cast<unsigned>(c.year / 100));
  p = format_2(p, static_cast<unsigned>(c.year % 100));
  *p++ = '-';
  p = format_2(p, c.month);
  *p++ = '-';
  p = format_2(p, c.day);
  return std::string(buf, p);
}

double DailyRhythm::hour_weight(unsigned hour) {
  // Orders per hour of the day, shaped like the UCI Online Retail data set: the first
  // orders after 07:00, the peak at noon, the last ones before 20:00.
  static const double kWeights[24] = {0,   0,   0,    0,    0,    0,   0,   0.6,
                                      6.5, 6.2, 9.5,  12.0, 14.2, 13.0, 12.5, 10.3,
                                      5.0, 1.5, 0.65, 0.55, 0.05, 0,   0,   0};
  return hour < 24 ? kWeights[hour] : 0.0;
}

double DailyRhythm::weekday_weight(unsigned weekday) {
  // Sunday .. Saturday. The UCI shop took almost no orders on Saturdays.
  static const double kWeights[7] = {0.6, 1.0, 1.1, 1.1, 1.2, 0.85, 0.04};
  return weekday < 7 ? kWeights[weekday] : 0.0;
}

DailyRhythm::DailyRhythm(int64_t first_day, int64_t days) : first_day_(first_day) {
  if (days < 1) days = 1;
  const size_t hours = static_cast<size_t>(days) * 24;
  cumulative_.resize(hours + 1);
  cumulative_[0] = 0;
  for (size_t h = 0; h < hours; ++h) {
    const int64_t day = first_day + static_cast<int64_t>(h / 24);
    const double w = weekday_weight(weekday_from_days(day)) * hour_weight(static_cast<unsigned>(h % 24));
    cumulative_[h + 1] = cumulative_[h] + w;
  }
}

ShopMinute DailyRhythm::at(double u) const {
  if (!(u >= 0)) u = 0;
  if (u >= 1) u = std::nextafter(1.0, 0.0);
  const double total = cumulative_.back();
  const double target = u * total;
  // The hour h with cumulative_[h] <= target < cumulative_[h+1] (and positive weight).
  auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), target);
  size_t h = static_cast<size_t>(it - cumulative_.begin());
  h = h == 0 ? 0 : h - 1;
  const size_t hours = cumulative_.size() - 1;
  if (h >= hours) h = hours - 1;
  const double w = cumulative_[h + 1] - cumulative_[h];
  double frac = w > 0 ? (target - cumulative_[h]) / w : 0.0;
  frac = std::clamp(frac, 0.0, 1.0);
  unsigned minute = static_cast<unsigned>(frac * 60.0);
  if (minute > 59) minute = 59;
  return ShopMinute{first_day_ + static_cast<int64_t>(h / 24), static_cast<unsigned>(h % 24),
                    minute};
}

}  // namespace orderlake::generate
