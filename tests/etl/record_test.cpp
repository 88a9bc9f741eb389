// SPEC §2, rule by rule, with hand-checked values.
#include "etl/record.h"

#include <gtest/gtest.h>

#include "etl/columns.h"

namespace orderlake::etl {
namespace {

struct Parsed {
  Outcome outcome;
  Verdict verdict;
  OrderColumns cols;
  ParsedOrder order;  // its views may point into the parser's scratch, gone after run()
  std::string country;  // order.country, copied while the parser lives
};

Parsed run(std::string_view line, TransformConfig cfg = {}) {
  RecordParser p(cfg);
  Parsed r;
  r.outcome = p.parse(line, false, &r.order, &r.verdict);
  r.country = std::string(r.order.country);
  if (r.outcome == Outcome::kKept) r.cols.append(r.order, cfg.regions->lookup(r.order.country), cfg);
  return r;
}

constexpr std::string_view kLine =
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/01/2010 08:26,2.55,17850,United Kingdom";

TEST(Transform, TheSpecExampleLine) {
  Parsed r = run(kLine);
  ASSERT_EQ(r.outcome, Outcome::kKept) << r.verdict.detail;
  const OrderColumns& c = r.cols;
  ASSERT_EQ(c.rows(), 1u);
  EXPECT_EQ(c.customer_id[0], 17850);
  EXPECT_EQ(c.order_id.at(0), "c8c9f1dd88e53de9d293fa4fa2d1677a1a9c391d71bf6ada4033da21ddd96829");
  EXPECT_EQ(c.invoice_no.at(0), "536365");
  EXPECT_EQ(c.stock_code.at(0), "85123A");
  EXPECT_EQ(c.description.at(0), "WHITE HANGING HEART T-LIGHT HOLDER");
  EXPECT_EQ(c.quantity[0], 6);
  EXPECT_DOUBLE_EQ(c.unit_price[0], 2.55);
  EXPECT_DOUBLE_EQ(c.total_amount[0], 15.3);
  EXPECT_DOUBLE_EQ(c.total_amount_usd[0], 0.1836);
  EXPECT_EQ(c.order_tag.at(0), "Normal");
  EXPECT_EQ(c.invoice_date.at(0), "12/01/2010 08:26");
  EXPECT_EQ(c.invoice_hour[0], 8);
  EXPECT_EQ(c.region.at(0), "Europe");
  EXPECT_EQ(civil_from_days(r.order.days), "2010-12-01");
  EXPECT_EQ(r.order.country, "United Kingdom");
}

TEST(Transform, AmountsAreQuantityTimesPriceThenTimesRate) {
  TransformConfig cfg;
  cfg.usd_rate = 0.5;
  Parsed r = run("1,A,d,3,12/01/2010 08:26,1.25,1,France", cfg);
  ASSERT_EQ(r.outcome, Outcome::kKept);
  EXPECT_EQ(r.cols.total_amount[0], 3.75);
  EXPECT_EQ(r.cols.total_amount_usd[0], 1.875);
  // The default rate is 0.012 and the order of operations is (q * p) * rate.
  Parsed d = run("1,A,d,7,12/01/2010 08:26,3.39,1,France");
  EXPECT_EQ(d.cols.total_amount_usd[0], (7 * 3.39) * 0.012);
}

TEST(Transform, OrderIdIsSha256OfInvoiceDashStock) {
  Parsed r = run("C536379,D,Discount,1,12/01/2010 09:41,27.50,14527,United Kingdom");
  ASSERT_EQ(r.outcome, Outcome::kKept);
  // sha256("C536379-D"), computed independently with `printf %s C536379-D | sha256sum`.
  EXPECT_EQ(r.cols.order_id.at(0), "1bb46db9a529efc87a30bc9c94c8fee50d6a293b56fb89baabad99b73b8e653f");
}

TEST(Transform, HighTagIsStrictlyAboveTheThreshold) {
  EXPECT_EQ(run("1,A,d,40,12/01/2010 08:26,2.50,1,France").cols.order_tag.at(0), "Normal");  // exactly 100
  EXPECT_EQ(run("1,A,d,1,12/01/2010 08:26,100.01,1,France").cols.order_tag.at(0), "High");
  TransformConfig cfg;
  cfg.high_threshold = 10;
  EXPECT_EQ(run("1,A,d,5,12/01/2010 08:26,2.01,1,France", cfg).cols.order_tag.at(0), "High");
}

TEST(Transform, DateFormats) {
  int32_t days = 0, hour = -1;
  ASSERT_TRUE(parse_invoice_date("12/01/2010 08:26", &days, &hour));
  EXPECT_EQ(days, 14944);  // 2010-12-01
  EXPECT_EQ(hour, 8);
  ASSERT_TRUE(parse_invoice_date("12/1/2010 8:28", &days, &hour));
  EXPECT_EQ(days, 14944);
  EXPECT_EQ(hour, 8);
  ASSERT_TRUE(parse_invoice_date("1/9/2011 17:05", &days, &hour));
  EXPECT_EQ(civil_from_days(days), "2011-01-09");
  EXPECT_EQ(hour, 17);
  ASSERT_TRUE(parse_invoice_date("2011-12-09 23:59", &days, &hour));
  EXPECT_EQ(civil_from_days(days), "2011-12-09");
  EXPECT_EQ(hour, 23);
  ASSERT_TRUE(parse_invoice_date("2011-12-09 00:00:59", &days, &hour));
  EXPECT_EQ(hour, 0);
  ASSERT_TRUE(parse_invoice_date("02/29/2012 10:00", &days, &hour));
  EXPECT_EQ(civil_from_days(days), "2012-02-29");
  for (const char* bad : {"13/01/2010 08:26", "02/30/2011 10:00", "2011-02-29 10:00", "12/01/2010",
                          "12/01/2010 24:00", "12/01/2010 08:60", "12/01/10 08:26", "2010-12-1 08:00",
                          "2010-12-01 08:00:60", "2010/12/01 08:00", "12-01-2010 08:26", "", "now",
                          "12/01/2010 08:26 PM", "00/10/2010 08:00"})
    EXPECT_FALSE(parse_invoice_date(bad, &days, &hour)) << bad;
}

TEST(Transform, DaysRoundTrip) {
  for (int32_t d : {-1, 0, 1, 59, 60, 14944, 15317, 20000, 2932896}) {
    const std::string s = civil_from_days(d);
    int32_t back = 0, h = 0;
    ASSERT_TRUE(parse_invoice_date(s + " 00:00", &back, &h)) << s;
    EXPECT_EQ(back, d) << s;
  }
  EXPECT_EQ(civil_from_days(0), "1970-01-01");
}

TEST(Transform, QuotedDescriptions) {
  Parsed r = run(R"(536366,22633,"HAND WARMER, UNION JACK",6,12/01/2010 08:28,1.85,17850,United Kingdom)");
  ASSERT_EQ(r.outcome, Outcome::kKept);
  EXPECT_EQ(r.cols.description.at(0), "HAND WARMER, UNION JACK");
  Parsed q = run(R"(536366,22634,"THE ""BEST"" MUG, RED",6,12/01/2010 08:28,1.85,17850,United Kingdom)");
  ASSERT_EQ(q.outcome, Outcome::kKept);
  EXPECT_EQ(q.cols.description.at(0), "THE \"BEST\" MUG, RED");
  Parsed bad = run(R"(536366,22634,"UNTERMINATED, MUG,6,12/01/2010 08:28,1.85,17850,United Kingdom)");
  EXPECT_EQ(bad.outcome, Outcome::kRejected);
  EXPECT_EQ(bad.verdict.reject, Reject::kBadQuoting);
}

TEST(Transform, EveryFilterReason) {
  struct Case {
    const char* line;
    Filter why;
  } cases[] = {
      {"C536379,D,Discount,-1,12/01/2010 09:41,27.50,14527,United Kingdom", Filter::kNonPositiveQuantity},
      {"536379,D,x,0,12/01/2010 09:41,27.50,14527,United Kingdom", Filter::kNonPositiveQuantity},
      {"536379,D,x,2,12/01/2010 09:41,0,14527,United Kingdom", Filter::kNonPositivePrice},
      {"536379,D,x,2,12/01/2010 09:41,0.00,14527,United Kingdom", Filter::kNonPositivePrice},
      {"536379,D,x,2,12/01/2010 09:41,-11062.06,14527,United Kingdom", Filter::kNonPositivePrice},
      {"536379,D,x,2,12/01/2010 09:41,1.00,,United Kingdom", Filter::kMissingCustomerId},
      {"536379,D,x,2,12/01/2010 09:41,1.00,  ,United Kingdom", Filter::kMissingCustomerId},
      // Checked in order: quantity before price before customer.
      {"C536379,D,x,-2,12/01/2010 09:41,-1.00,,United Kingdom", Filter::kNonPositiveQuantity},
      {"536379,D,x,2,12/01/2010 09:41,-1.00,,United Kingdom", Filter::kNonPositivePrice},
  };
  for (auto& c : cases) {
    Parsed r = run(c.line);
    EXPECT_EQ(r.outcome, Outcome::kFiltered) << c.line;
    EXPECT_EQ(r.verdict.filter, c.why) << c.line;
  }
  EXPECT_EQ(filter_name(Filter::kNonPositiveQuantity), "non_positive_quantity");
  EXPECT_EQ(filter_name(Filter::kNonPositivePrice), "non_positive_price");
  EXPECT_EQ(filter_name(Filter::kMissingCustomerId), "missing_customer_id");
}

TEST(Transform, EveryQuarantineReason) {
  struct Case {
    std::string line;
    Reject why;
  } cases[] = {
      {"536365,85123A,WHITE,6,12/01/2010 08:26,2.55,17850", Reject::kFieldCount},
      {"536365,85123A,WHITE,6,12/01/2010 08:26,2.55,17850,United Kingdom,extra", Reject::kFieldCount},
      {"garbage without commas", Reject::kFieldCount},
      {"536365,85123A,WHITE,six,12/01/2010 08:26,2.55,17850,UK", Reject::kBadQuantity},
      {"536365,85123A,WHITE,6.5,12/01/2010 08:26,2.55,17850,UK", Reject::kBadQuantity},
      {"536365,85123A,WHITE,99999999999,12/01/2010 08:26,2.55,17850,UK", Reject::kBadQuantity},
      {"536365,85123A,WHITE,6,12/01/2010 08:26,cheap,17850,UK", Reject::kBadUnitPrice},
      {"536365,85123A,WHITE,6,12/01/2010 08:26,nan,17850,UK", Reject::kBadUnitPrice},
      {"536365,85123A,WHITE,6,12/01/2010 08:26,inf,17850,UK", Reject::kBadUnitPrice},
      {"536365,85123A,WHITE,6,12/01/2010 08:26,,17850,UK", Reject::kBadUnitPrice},
      {"536365,85123A,WHITE,6,12/01/2010 08:26,2.55,C17850,UK", Reject::kBadCustomerId},
      {"536365,85123A,WHITE,6,12/01/2010 08:26,2.55,17850.5,UK", Reject::kBadCustomerId},
      {"536365,85123A,WHITE,6,13/45/2010 99:99,2.55,17850,UK", Reject::kBadDate},
      {"536365,85123A,WHITE,6,,2.55,17850,UK", Reject::kBadDate},
      {std::string("536365,85123A,WH\xff\xfeTE,6,12/01/2010 08:26,2.55,17850,UK"), Reject::kInvalidUtf8},
      {std::string("536365,85123A,\xc3(,6,12/01/2010 08:26,2.55,17850,UK"), Reject::kInvalidUtf8},
      {"{\"InvoiceNo\": \"1\"", Reject::kBadJson},
      {"{\"InvoiceNo\":\"1\",\"StockCode\":\"A\"}", Reject::kMissingField},
  };
  for (auto& c : cases) {
    Parsed r = run(c.line);
    EXPECT_EQ(r.outcome, Outcome::kRejected) << c.line;
    EXPECT_EQ(r.verdict.reject, c.why) << c.line << " -> " << reject_name(r.verdict.reject);
    EXPECT_FALSE(r.verdict.detail.empty()) << c.line;
  }
  TransformConfig small;
  small.max_record_bytes = 64;
  Parsed r = run(std::string(kLine), small);
  EXPECT_EQ(r.outcome, Outcome::kRejected);
  EXPECT_EQ(r.verdict.reject, Reject::kLineTooLong);
}

TEST(Transform, ErrorDetailsNameTheFieldAndValue) {
  Parsed r = run("536365,85123A,WHITE,six,12/01/2010 08:26,2.55,17850,UK");
  EXPECT_NE(r.verdict.detail.find("Quantity \"six\""), std::string::npos) << r.verdict.detail;
  Parsed d = run("536365,85123A,WHITE,6,13/45/2010 99:99,2.55,17850,UK");
  EXPECT_NE(d.verdict.detail.find("13/45/2010 99:99"), std::string::npos) << d.verdict.detail;
}

TEST(Transform, CustomerIdForms) {
  bool present = false;
  int32_t id = 0;
  ASSERT_TRUE(parse_customer_id("17850", &present, &id));
  EXPECT_TRUE(present);
  EXPECT_EQ(id, 17850);
  ASSERT_TRUE(parse_customer_id("17850.0", &present, &id));
  EXPECT_EQ(id, 17850);
  ASSERT_TRUE(parse_customer_id("", &present, &id));
  EXPECT_FALSE(present);
  EXPECT_FALSE(parse_customer_id("17850.", &present, &id));
  EXPECT_FALSE(parse_customer_id("1e5", &present, &id));
}

TEST(Transform, JsonRecordsAsTheAgentsCsvToJsonWritesThem) {
  const std::string j =
      R"({"InvoiceNo":"536365","StockCode":"85123A","Description":"WHITE HANGING HEART T-LIGHT HOLDER",)"
      R"("Quantity":"6","InvoiceDate":"12/01/2010 08:26","UnitPrice":"2.55","CustomerID":"17850",)"
      R"("Country":"United Kingdom"})";
  Parsed r = run(j);
  ASSERT_EQ(r.outcome, Outcome::kKept) << r.verdict.detail;
  Parsed c = run(kLine);
  EXPECT_EQ(r.cols.order_id.at(0), c.cols.order_id.at(0));
  EXPECT_EQ(r.cols.total_amount_usd[0], c.cols.total_amount_usd[0]);
  EXPECT_EQ(r.cols.description.at(0), c.cols.description.at(0));
  EXPECT_EQ(r.country, "United Kingdom");  // (r.order.country viewed the destroyed parser's JSON scratch)
}

TEST(Transform, JsonWithNumbersNullsAndExtraKeys) {
  Parsed r = run(
      R"({"InvoiceNo":536365,"StockCode":"85123A","Description":"X, \"Y\"","Quantity":6,)"
      R"("InvoiceDate":"2010-12-01 08:26:00","UnitPrice":2.55,"CustomerID":17850.0,"Country":"France",)"
      R"("ec2Instance":"i-123"})");
  ASSERT_EQ(r.outcome, Outcome::kKept) << r.verdict.detail;
  EXPECT_EQ(r.cols.order_id.at(0), "c8c9f1dd88e53de9d293fa4fa2d1677a1a9c391d71bf6ada4033da21ddd96829");
  EXPECT_EQ(r.cols.description.at(0), "X, \"Y\"");
  EXPECT_EQ(r.cols.customer_id[0], 17850);
  EXPECT_DOUBLE_EQ(r.cols.total_amount[0], 6 * 2.55);
  Parsed n = run(
      R"({"InvoiceNo":"1","StockCode":"A","Description":"d","Quantity":"1","InvoiceDate":"12/01/2010 08:26",)"
      R"("UnitPrice":"1","CustomerID":null,"Country":"France"})");
  EXPECT_EQ(n.outcome, Outcome::kFiltered);
  EXPECT_EQ(n.verdict.filter, Filter::kMissingCustomerId);
  Parsed t = run(
      R"({"InvoiceNo":"1","StockCode":"A","Description":["d"],"Quantity":"1","InvoiceDate":"12/01/2010 08:26",)"
      R"("UnitPrice":"1","CustomerID":"1","Country":"France"})");
  EXPECT_EQ(t.outcome, Outcome::kRejected);
  EXPECT_EQ(t.verdict.reject, Reject::kBadJson);
}

TEST(Transform, RegionComesFromTheMappingTable) {
  EXPECT_EQ(run("1,A,d,1,12/01/2010 08:26,1,1,EIRE").cols.region.at(0), "Europe");
  EXPECT_EQ(run("1,A,d,1,12/01/2010 08:26,1,1,RSA").cols.region.at(0), "Africa");
  EXPECT_EQ(run("1,A,d,1,12/01/2010 08:26,1,1,Japan").cols.region.at(0), "Asia");
  EXPECT_EQ(run("1,A,d,1,12/01/2010 08:26,1,1,Jerusalem").cols.region.at(0), "Other");
}

}  // namespace
}  // namespace orderlake::etl

namespace orderlake::etl {
namespace {
TEST(Transform, PriceParsingEqualsStrtodBitForBit) {
  for (const char* t : {"2.55", "0.29", "1.85", "-11062.06", "0.001", "38970.00", "649.5", "1", "0",
                        "123456789012.345", "0.1", "0.3", "1e3", "2.5E-1", "1234567890123456.5",
                        "0.12345678901234567", "+4.5", ".5", "5."}) {
    double got = -1;
    ASSERT_TRUE(parse_price(t, &got)) << t;
    EXPECT_EQ(got, std::strtod(t, nullptr)) << t;
  }
  double v;
  for (const char* bad : {"", "-", ".", "1.2.3", "1,5", "0x10", "abc", "1e", "--1"})
    EXPECT_FALSE(parse_price(bad, &v)) << bad;
}
}  // namespace
}  // namespace orderlake::etl
