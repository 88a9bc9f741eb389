// The etl's record path (SPEC §1-2): every line of the input through RecordParser (CSV and
// JSON forms), then the curated columns of a kept record. Properties: a verdict is always
// one of the three outcomes with a named reason; a kept record passed the clean step
// (Quantity > 0, UnitPrice > 0, a CustomerID) and has a valid hour; the field parsers agree
// with a date's round trip through civil_from_days.
#include <cstdint>
#include <string_view>

#include "etl/columns.h"
#include "etl/record.h"
#include "fuzz_util.h"

using namespace orderlake;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const etl::TransformConfig config = [] {
    etl::TransformConfig c;
    c.max_record_bytes = 4096;  // small, so the fuzzer reaches the line_too_long path
    return c;
  }();
  static etl::RecordParser parser(config);
  std::string_view in(reinterpret_cast<const char*>(data), size);
  etl::OrderColumns cols;
  size_t start = 0;
  while (start <= in.size()) {
    size_t nl = in.find('\n', start);
    std::string_view line = in.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    etl::ParsedOrder order;
    etl::Verdict verdict;
    switch (parser.parse(line, false, &order, &verdict)) {
      case etl::Outcome::kKept:
        if (order.quantity <= 0 || !(order.unit_price > 0) || !order.has_customer)
          fuzz::Fail("a kept record did not pass the clean step");
        if (order.hour < 0 || order.hour > 23) fuzz::Fail("a kept record has an hour outside 0..23");
        if (etl::civil_from_days(order.days).size() < 10) fuzz::Fail("civil_from_days gave a short date");
        cols.append(order, config.regions->lookup(order.country), config);
        break;
      case etl::Outcome::kFiltered:
        if (etl::filter_name(verdict.filter) == "unknown") fuzz::Fail("a filtered record without a reason");
        break;
      case etl::Outcome::kRejected:
        if (etl::reject_name(verdict.reject) == "unknown") fuzz::Fail("a rejected record without a reason");
        break;
    }
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  // The date parser on its own: a parsed date prints back as yyyy-MM-dd of the same day.
  int32_t days = 0, hour = 0;
  if (in.size() < 64 && etl::parse_invoice_date(in, &days, &hour)) {
    std::string civil = etl::civil_from_days(days);
    int y = 0;
    unsigned m = 0, d = 0;
    if (std::sscanf(civil.c_str(), "%d-%u-%u", &y, &m, &d) != 3 || etl::days_from_civil(y, m, d) != days)
      fuzz::Fail("days_from_civil(civil_from_days(d)) != d for " + civil);
  }
  return 0;
}
