#include <gtest/gtest.h>

#include "core/base64.h"
#include "core/csv.h"
#include "core/hive.h"
#include "core/region.h"

namespace orderlake {
namespace {

std::vector<std::string> split_all(std::string_view line, int* n_out = nullptr) {
  std::string_view f[16];
  std::string scratch;
  int n = csv::split(line, f, 16, scratch);
  if (n_out) *n_out = n;
  std::vector<std::string> out;
  for (int i = 0; i < n && i < 16; ++i) out.emplace_back(f[i]);
  return out;
}

TEST(Csv, SplitsPlainFields) {
  EXPECT_EQ(split_all("536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/01/2010 08:26,2.55,17850,United Kingdom"),
            (std::vector<std::string>{"536365", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", "6",
                                      "12/01/2010 08:26", "2.55", "17850", "United Kingdom"}));
  EXPECT_EQ(split_all("a,,c,"), (std::vector<std::string>{"a", "", "c", ""}));
  EXPECT_EQ(split_all(""), (std::vector<std::string>{""}));
}

TEST(Csv, QuotedFieldsWithCommasAndDoubledQuotes) {
  EXPECT_EQ(split_all(R"(1,"HAND WARMER, UNION JACK",3)"),
            (std::vector<std::string>{"1", "HAND WARMER, UNION JACK", "3"}));
  EXPECT_EQ(split_all(R"("SAY ""HELLO"" MUG",x,"")"),
            (std::vector<std::string>{"SAY \"HELLO\" MUG", "x", ""}));
  EXPECT_EQ(split_all(R"(a,"b",)"), (std::vector<std::string>{"a", "b", ""}));
  EXPECT_EQ(split_all(R"("""","""""")"), (std::vector<std::string>{"\"", "\"\""}));
}

TEST(Csv, BrokenQuotingIsAnError) {
  int n = 0;
  split_all(R"(1,"unterminated,3)", &n);
  EXPECT_EQ(n, -1);
  split_all(R"(1,"closed"junk,3)", &n);
  EXPECT_EQ(n, -1);
  split_all(R"(1,inner"quote,3)", &n);
  EXPECT_EQ(n, -1);
  std::string_view f[4];
  std::string scratch;
  size_t pos = 0;
  EXPECT_EQ(csv::split(R"(ab,"cd)", f, 4, scratch, ',', &pos), -1);
  EXPECT_EQ(pos, 3u);
}

TEST(Csv, CountsFieldsBeyondTheCapacity) {
  std::string_view f[2];
  std::string scratch;
  EXPECT_EQ(csv::split("a,b,c,d,e", f, 2, scratch), 5);
  EXPECT_EQ(f[1], "b");
}

TEST(Csv, QuotesOnlyWhenNeeded) {
  std::string out;
  csv::append_field(out, "plain");
  out += ',';
  csv::append_field(out, "a,b");
  out += ',';
  csv::append_field(out, "say \"hi\"");
  EXPECT_EQ(out, R"(plain,"a,b","say ""hi""")");
  std::string_view f[3];
  std::string scratch;
  ASSERT_EQ(csv::split(out, f, 3, scratch), 3);
  EXPECT_EQ(f[2], "say \"hi\"");
}

TEST(Hive, EscapesAsHiveAndSpark) {
  EXPECT_EQ(hive::escape("United Kingdom"), "United Kingdom");
  EXPECT_EQ(hive::escape("Côte d'Ivoire"), "Côte d%27Ivoire");
  EXPECT_EQ(hive::escape("a/b=c:d"), "a%2Fb%3Dc%3Ad");
  EXPECT_EQ(hive::escape("50%"), "50%25");
  EXPECT_EQ(hive::escape("#?*\\\"{[]^"), "%23%3F%2A%5C%22%7B%5B%5D%5E");
  EXPECT_EQ(hive::escape(std::string("x\x01y\x7f", 4)), "x%01y%7F");
  EXPECT_EQ(hive::escape("São Tomé & Príncipe (ok) <x>|"), "São Tomé & Príncipe (ok) <x>|");
  EXPECT_EQ(hive::escape(""), "__HIVE_DEFAULT_PARTITION__");
  EXPECT_EQ(hive::segment("Country", "Côte d'Ivoire"), "Country=Côte d%27Ivoire");
}

TEST(Hive, UnescapeReversesEscape) {
  for (std::string v : {"Côte d'Ivoire", "a/b=c:d", "50%", "x\x01y", "#?*\\\"{[]^", "plain"})
    EXPECT_EQ(hive::unescape(hive::escape(v)), v);
  EXPECT_EQ(hive::unescape("50%2"), "50%2");
  EXPECT_EQ(hive::unescape("%zz"), "%zz");
  EXPECT_EQ(hive::unescape("a%2fb"), "a/b");
}

TEST(Hive, ValueInPath) {
  const std::string p = hive::segment("Country", "A/B=C") + "/" + hive::segment("InvoiceDateOnly", "2010-12-01") +
                        "/part-1.parquet";
  EXPECT_EQ(hive::value_in_path(p, "Country"), "A/B=C");
  EXPECT_EQ(hive::value_in_path(p, "InvoiceDateOnly"), "2010-12-01");
  EXPECT_EQ(hive::value_in_path(p, "Region"), std::nullopt);
  EXPECT_EQ(hive::value_in_path(p, "Count"), std::nullopt);  // a whole key only
  EXPECT_EQ(hive::value_in_path("Country=__HIVE_DEFAULT_PARTITION__/x.parquet", "Country"), std::nullopt);
  EXPECT_EQ(hive::value_in_path("Country=France", "Country"), std::nullopt);  // a file name, not a directory
}

TEST(Region, TheOriginalJobsSixCountries) {
  const RegionMap& m = RegionMap::Default();
  EXPECT_EQ(m.lookup("United Kingdom"), "Europe");
  EXPECT_EQ(m.lookup("France"), "Europe");
  EXPECT_EQ(m.lookup("Germany"), "Europe");
  EXPECT_EQ(m.lookup("USA"), "North America");
  EXPECT_EQ(m.lookup("Japan"), "Asia");
  EXPECT_EQ(m.lookup("Australia"), "Oceania");
}

TEST(Region, EveryUciCountryIsMapped) {
  const char* uci[] = {"United Kingdom", "France", "Australia", "Netherlands", "Germany", "Norway", "EIRE",
                       "Switzerland", "Spain", "Poland", "Portugal", "Italy", "Belgium", "Lithuania", "Japan",
                       "Iceland", "Channel Islands", "Denmark", "Cyprus", "Sweden", "Austria", "Israel",
                       "Finland", "Bahrain", "Greece", "Hong Kong", "Singapore", "Lebanon",
                       "United Arab Emirates", "Saudi Arabia", "Czech Republic", "Canada", "Brazil", "USA",
                       "European Community", "Malta", "RSA"};
  for (const char* c : uci) EXPECT_NE(RegionMap::Default().lookup(c), "Other") << c;
  EXPECT_EQ(RegionMap::Default().lookup("Unspecified"), "Other");
}

TEST(Region, AliasesCaseAndWhitespace) {
  const RegionMap& m = RegionMap::Default();
  EXPECT_EQ(m.lookup("EIRE"), "Europe");
  EXPECT_EQ(m.lookup("RSA"), "Africa");
  EXPECT_EQ(m.lookup("United States"), "North America");
  EXPECT_EQ(m.lookup("  usa "), "North America");
  EXPECT_EQ(m.lookup("FRANCE"), "Europe");
  EXPECT_EQ(m.lookup("Côte d'Ivoire"), "Africa");
}

TEST(Region, ExactMatchNotSubstring) {
  // The original job's substring match sent "Jerusalem" to North America ("USA" inside).
  EXPECT_EQ(RegionMap::Default().lookup("Jerusalem"), "Other");
  EXPECT_EQ(RegionMap::Default().lookup("Atlantis"), "Other");
  EXPECT_EQ(RegionMap::Default().lookup(""), "Other");
  EXPECT_EQ(RegionMap::Default().lookup("USA Today"), "Other");
}

TEST(Region, CustomTableFromCsvAndErrorsNameTheLine) {
  auto m = RegionMap::FromCsv("# mine\ncountry,region\nNarnia,Fantasy\n\"Oz, Land of\",Fantasy\n", "mine.csv");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->lookup("narnia"), "Fantasy");
  EXPECT_EQ(m->lookup("Oz, Land of"), "Fantasy");
  EXPECT_EQ(m->lookup("France"), "Other");
  auto bad = RegionMap::FromCsv("Narnia,Fantasy\nOnlyOneField\n", "mine.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("mine.csv:2"), std::string::npos) << bad.status().message();
  auto twice = RegionMap::FromCsv("A,X\na,Y\n", "t.csv");
  ASSERT_FALSE(twice.ok());
}

TEST(Base64, RoundTripsAndRejectsGarbage) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  std::string bin;
  for (int i = 0; i < 256; ++i) bin.push_back(static_cast<char>(i));
  EXPECT_EQ(base64_decode(base64_encode(bin)), bin);
  EXPECT_FALSE(base64_decode("Zm9").has_value());
  EXPECT_FALSE(base64_decode("Zm9v!A==").has_value());
  EXPECT_FALSE(base64_decode("Z===").has_value());
  EXPECT_FALSE(base64_decode("Zg==Zm9v").has_value());
}

TEST(Base64, AppendsAfterWhatIsThereForEveryTailLength) {
  std::string bin;
  for (int i = 0; i < 64; ++i) bin.push_back(static_cast<char>(i * 37 + 11));
  for (size_t n = 0; n <= bin.size(); ++n) {
    std::string out = "{\"Data\":\"";
    base64_append(out, std::string_view(bin).substr(0, n));
    ASSERT_EQ(out.size(), 9 + base64_size(n));
    EXPECT_EQ(base64_decode(std::string_view(out).substr(9)), bin.substr(0, n)) << n;
  }
}

}  // namespace
}  // namespace orderlake
