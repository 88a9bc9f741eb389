// Calendar arithmetic (proleptic Gregorian, no time zones) and the shop's daily rhythm,
// used to place back-filled orders in time.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace orderlake::generate {

struct CivilDate {
  int year = 1970;
  unsigned month = 1;  // 1..12
  unsigned day = 1;    // 1..31
};

// Days since 1970-01-01 for a civil date, and back.
int64_t days_from_civil(int year, unsigned month, unsigned day);
CivilDate civil_from_days(int64_t days);
// 0 = Sunday .. 6 = Saturday.
unsigned weekday_from_days(int64_t days);

// "YYYY-MM-DD" (a real date, years 1000..9999) -> days since 1970-01-01.
Result<int64_t> parse_iso_date(std::string_view text);
// days since 1970-01-01 -> "YYYY-MM-DD".
std::string format_iso_date(int64_t days);

// A local wall-clock minute: days since 1970-01-01 plus hour and minute.
struct ShopMinute {
  int64_t day = 0;
  unsigned hour = 0;
  unsigned minute = 0;
};

// The daily rhythm of the shop over a range of days: orders between 07:00 and 20:00 with a
// peak around noon, fewer on Sundays and almost none on Saturdays (as in the UCI data set).
// at(u) maps a fraction u in [0,1) of the orders to the minute by which that fraction has
// been placed (the inverse of the cumulative distribution), so feeding it a rising u gives
// timestamps in time order that follow the rhythm.
class DailyRhythm {
 public:
  DailyRhythm(int64_t first_day, int64_t days);
  ShopMinute at(double u) const;

  // Relative weight of an hour of the day (0 outside opening hours).
  static double hour_weight(unsigned hour);
  // Relative weight of a weekday (0 = Sunday).
  static double weekday_weight(unsigned weekday);

 private:
  int64_t first_day_;
  std::vector<double> cumulative_;  // cumulative_[i] = weight of hours [0, i); size hours+1
};

}  // namespace orderlake::generate
