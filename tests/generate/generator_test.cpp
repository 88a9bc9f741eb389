// Unit tests of the generator library: PRNG, formatting, calendar, catalog, lines, summary.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <thread>

#include "generate/calendar.h"
#include "generate/catalog.h"
#include "generate/format.h"
#include "generate/generator.h"
#include "generate/prng.h"
#include "generate/run.h"
#include "line_check.h"
#include "test_util.h"

namespace orderlake::generate {
namespace {

using testing::gen::classify;
using testing::gen::Kind;

Kind to_test_kind(LineKind k) { return static_cast<Kind>(static_cast<int>(k)); }

std::string generate_text(GeneratorConfig cfg, size_t lines, std::vector<LineInfo>* infos = nullptr) {
  auto gen = OrderGenerator::Create(std::move(cfg));
  EXPECT_TRUE(gen.ok()) << gen.status().message();
  std::string out;
  char buf[OrderGenerator::kMaxLineBytes];
  for (size_t i = 0; i < lines; ++i) {
    if ((*gen)->at_invoice_start()) (*gen)->set_progress(static_cast<double>(i) / static_cast<double>(lines));
    LineInfo info;
    size_t n = (*gen)->next_line(buf, &info);
    out.append(buf, n);
    if (infos) infos->push_back(info);
  }
  return out;
}

GeneratorConfig backfilled(uint64_t seed, Profile p = Profile::kRetail) {
  GeneratorConfig c;
  c.profile = p;
  c.seed = seed;
  c.rates = DirtyRates::ForProfile(p);
  c.backfill = Backfill{days_from_civil(2010, 12, 1), 30};
  return c;
}

TEST(Prng, SameSeedSameStreamOtherSeedOtherStream) {
  Rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    uint64_t x = a.next();
    EXPECT_EQ(x, b.next());
    differs |= x != c.next();
  }
  EXPECT_TRUE(differs);
}

TEST(Prng, BoundsAndUniformity) {
  Rng r(7);
  std::vector<int> hist(10);
  for (int i = 0; i < 100000; ++i) {
    uint32_t v = r.below(10);
    ASSERT_LT(v, 10u);
    ++hist[v];
    int64_t w = r.between(-3, 3);
    ASSERT_GE(w, -3);
    ASSERT_LE(w, 3);
    double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
  for (int h : hist) EXPECT_NEAR(h, 10000, 600);
}

TEST(Prng, AliasTableFollowsWeights) {
  AliasTable t({1, 0, 3, 6});
  EXPECT_DOUBLE_EQ(t.probability(1), 0.0);
  Rng r(1);
  std::vector<int> hist(4);
  const int n = 400000;
  for (int i = 0; i < n; ++i) ++hist[t.sample(r)];
  EXPECT_EQ(hist[1], 0);
  EXPECT_NEAR(hist[0] / double(n), 0.1, 0.005);
  EXPECT_NEAR(hist[2] / double(n), 0.3, 0.005);
  EXPECT_NEAR(hist[3] / double(n), 0.6, 0.005);
}

TEST(Format, NumbersPricesDates) {
  char buf[64];
  auto s = [&](char* end) { return std::string(buf, end); };
  EXPECT_EQ(s(format_uint(buf, 0)), "0");
  EXPECT_EQ(s(format_uint(buf, 7)), "7");
  EXPECT_EQ(s(format_uint(buf, 536365)), "536365");
  EXPECT_EQ(s(format_uint(buf, 18446744073709551615ull)), "18446744073709551615");
  EXPECT_EQ(s(format_int(buf, -48)), "-48");
  EXPECT_EQ(s(format_cents(buf, 255)), "2.55");
  EXPECT_EQ(s(format_cents(buf, 5)), "0.05");
  EXPECT_EQ(s(format_cents(buf, 0)), "0.00");
  EXPECT_EQ(s(format_cents(buf, -150)), "-1.50");
  EXPECT_EQ(s(format_cents(buf, 1106206)), "11062.06");
  EXPECT_EQ(s(format_invoice_date(buf, 2010, 12, 1, 8, 26)), "12/01/2010 08:26");
  EXPECT_EQ(s(format_invoice_date(buf, 2011, 1, 9, 0, 5)), "01/09/2011 00:05");
}

TEST(Format, PrintedPriceParsesToCentsOverHundred) {
  // The summary computes UnitPrice as cents / 100.0; the etl parses the printed text.
  char buf[32];
  for (int64_t c = -100000; c <= 200000; ++c) {
    *format_cents(buf, c) = '\0';
    ASSERT_EQ(std::strtod(buf, nullptr), static_cast<double>(c) / 100.0) << buf;
  }
}

TEST(Calendar, CivilDaysRoundTrip) {
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);
  EXPECT_EQ(weekday_from_days(days_from_civil(2010, 12, 1)), 3u);  // a Wednesday
  EXPECT_EQ(weekday_from_days(days_from_civil(2011, 12, 10)), 6u);  // a Saturday
  for (int64_t d = -800000; d < 3000000; d += 17) {
    CivilDate c = civil_from_days(d);
    ASSERT_EQ(days_from_civil(c.year, c.month, c.day), d);
  }
  EXPECT_EQ(format_iso_date(days_from_civil(2010, 12, 1)), "2010-12-01");
  auto p = parse_iso_date("2012-02-29");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.value(), days_from_civil(2012, 2, 29));
  for (const char* bad : {"2011-02-29", "2010-13-01", "2010-00-10", "2010-1-01", "abc", "", "2010-12-01x", "0999-01-01"})
    EXPECT_FALSE(parse_iso_date(bad).ok()) << bad;
}

TEST(Calendar, DailyRhythmIsMonotoneWithinRangeAndOpeningHours) {
  const int64_t first = days_from_civil(2010, 12, 1);
  DailyRhythm r(first, 10);
  ShopMinute prev{first, 0, 0};
  std::map<unsigned, int> hours;
  for (int i = 0; i < 100000; ++i) {
    ShopMinute m = r.at(i / 100000.0);
    const int64_t key = m.day * 1440 + m.hour * 60 + m.minute, pkey = prev.day * 1440 + prev.hour * 60 + prev.minute;
    ASSERT_GE(key, pkey);
    ASSERT_GE(m.day, first);
    ASSERT_LT(m.day, first + 10);
    ASSERT_GE(m.hour, 7u);
    ASSERT_LE(m.hour, 20u);
    ASSERT_LT(m.minute, 60u);
    ++hours[m.hour];
    prev = m;
  }
  // Peak around noon.
  int peak_hour = 0, peak = 0;
  for (auto [h, n] : hours)
    if (n > peak) peak = n, peak_hour = static_cast<int>(h);
  EXPECT_GE(peak_hour, 11);
  EXPECT_LE(peak_hour, 13);
  EXPECT_EQ(r.at(0.999999999).day, first + 9);
}

TEST(Catalog, RetailShopLooksLikeUciOnlineRetail) {
  auto c = Catalog::Retail();
  ASSERT_TRUE(c.ok()) << c.status().message();
  const Catalog& cat = c.value();
  const std::vector<std::string> expected = {
      "United Kingdom", "Germany", "France", "EIRE", "Spain", "Netherlands", "Belgium", "Switzerland",
      "Portugal", "Australia", "Norway", "Italy", "Channel Islands", "Finland", "Cyprus", "Sweden",
      "Unspecified", "Austria", "Denmark", "Japan", "Poland", "Israel", "USA", "Hong Kong", "Singapore",
      "Iceland", "Canada", "Greece", "Malta", "United Arab Emirates", "European Community", "RSA",
      "Lebanon", "Lithuania", "Brazil", "Czech Republic", "Bahrain", "Saudi Arabia"};
  ASSERT_EQ(cat.countries.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(cat.countries[i].name, expected[i]);
  EXPECT_NEAR(cat.country_choice.probability(0), 0.91, 0.02);

  EXPECT_GE(cat.items.size(), 3900u);
  EXPECT_LE(cat.items.size(), 4100u);
  std::set<std::string> codes, descriptions;
  const std::regex code_re("[0-9]{5}[A-Z]{0,2}|POST|M|DOT|C2");
  int with_comma = 0, with_quote = 0, with_letter = 0, expensive = 0, in_range = 0;
  for (const Item& it : cat.items) {
    EXPECT_TRUE(codes.insert(it.stock_code).second) << it.stock_code;
    EXPECT_TRUE(descriptions.insert(it.description).second) << it.description;
    EXPECT_TRUE(std::regex_match(it.stock_code, code_re)) << it.stock_code;
    EXPECT_GT(it.price_cents, 0) << it.stock_code;
    for (char ch : it.description) EXPECT_FALSE(ch >= 'a' && ch <= 'z') << it.description;
    EXPECT_EQ(it.description.find('\n'), std::string::npos);
    with_comma += it.description.find(',') != std::string::npos;
    with_quote += it.description.find('"') != std::string::npos;
    with_letter += it.stock_code.size() > 5 && std::isdigit(static_cast<unsigned char>(it.stock_code[0]));
    expensive += it.price_cents > 1500;
    in_range += it.price_cents >= 29 && it.price_cents <= 1500;
  }
  EXPECT_GT(with_comma, 20);
  EXPECT_GT(with_quote, 5);
  EXPECT_GT(with_letter, 100);
  EXPECT_GT(expensive, 10);
  EXPECT_GT(in_range, static_cast<int>(cat.items.size() * 9 / 10));
  int i = cat.index_of_item("85123A");
  ASSERT_GE(i, 0);
  EXPECT_EQ(cat.items[i].description, "WHITE HANGING HEART T-LIGHT HOLDER");
  EXPECT_EQ(cat.items[i].price_cents, 255);
  for (const char* special : {"POST", "M", "DOT", "71053", "84406B"}) EXPECT_GE(cat.index_of_item(special), 0);

  EXPECT_GE(cat.customers.size(), 4200u);
  EXPECT_LE(cat.customers.size(), 4400u);
  std::set<uint32_t> ids;
  for (const Customer& cu : cat.customers) {
    EXPECT_TRUE(ids.insert(cu.id).second);
    EXPECT_GE(cu.id, 12346u);
    EXPECT_LE(cu.id, 18287u);
    EXPECT_LT(cu.country, cat.countries.size());
  }
  for (size_t ci = 0; ci < cat.countries.size(); ++ci) EXPECT_FALSE(cat.customers_of[ci].empty());

  // The same shop every time.
  auto again = Catalog::Retail();
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->items.size(), cat.items.size());
  for (size_t k = 0; k < cat.items.size(); ++k) {
    EXPECT_EQ(again->items[k].stock_code, cat.items[k].stock_code);
    EXPECT_EQ(again->items[k].price_cents, cat.items[k].price_cents);
  }
}

TEST(Run, LogFileNamesSortInCreationOrder) {
  EXPECT_EQ(log_file_name(1291192000, 7), "orders-20101201-082640-000007.log");
  EXPECT_LT(log_file_name(1291192000, 9), log_file_name(1291192000, 10));
  EXPECT_LT(log_file_name(1291192000, 999), log_file_name(1291192001, 0));
}

TEST(Run, StopsOnRequestWithCompleteLines) {
  testing::TempDir tmp;
  RunOptions o;
  o.out_dir = tmp.path();
  o.rate = 1000;
  o.progress_interval_s = 0;
  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop = true;
  });
  auto r = run_generate(o, &stop);
  stopper.join();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->interrupted);
  EXPECT_GT(r->lines, 100u);
  ASSERT_EQ(r->files.size(), 1u);
  const std::string text = testing::read_file(r->files[0]);
  EXPECT_EQ(testing::gen::split_lines(text).size(), r->lines);
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(r->bytes, text.size());
  EXPECT_EQ(r->summary->lines(), r->lines);
}

TEST(Generator, EveryLineParsesAndItsKindMatchesTheEtlRules) {
  GeneratorConfig cfg = backfilled(5);
  cfg.rates = DirtyRates{0.05, 0.05, 0.05, 0.05};
  std::vector<LineInfo> infos;
  const std::string text = generate_text(cfg, 200000, &infos);
  bool complete = false;
  auto lines = testing::gen::split_lines(text, &complete);
  ASSERT_TRUE(complete);
  ASSERT_EQ(lines.size(), infos.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    ASSERT_FALSE(lines[i].empty());
    ASSERT_LE(lines[i].size() + 1, OrderGenerator::kMaxLineBytes);
    auto rec = classify(lines[i]);
    ASSERT_EQ(rec.kind, to_test_kind(infos[i].kind)) << "line " << i << ": " << lines[i];
    if (rec.kind != Kind::kMalformed) {
      ASSERT_EQ(rec.fields.size(), 8u);
      EXPECT_EQ(rec.quantity, infos[i].quantity);
      EXPECT_EQ(rec.unit_price, infos[i].unit_price);
      if (rec.kind == Kind::kNonPositiveQuantity) {
        EXPECT_EQ(rec.fields[0][0], 'C');
      } else {
        EXPECT_NE(rec.fields[0][0], 'C');
      }
    }
  }
}

TEST(Generator, InvoicesShareCustomerCountryAndTimeAndRiseFrom536365) {
  std::string text = generate_text(backfilled(11), 50000);
  auto lines = testing::gen::split_lines(text);
  std::map<long, std::tuple<std::string, std::string, std::string>> invoices;
  long last = 0;
  std::string last_key;
  int multi_line = 0;
  for (auto line : lines) {
    auto rec = classify(line);
    if (rec.kind == Kind::kMalformed) continue;
    std::string inv = rec.fields[0];
    if (inv[0] == 'C') inv = inv.substr(1);
    long no = std::stol(inv);
    ASSERT_GE(no, 536365);
    ASSERT_GE(no, last);
    if (no == last) ++multi_line;
    last = no;
    auto key = std::make_tuple(rec.fields[6], rec.fields[7], rec.fields[4]);
    auto [it, fresh] = invoices.emplace(no, key);
    if (!fresh) {
      EXPECT_EQ(it->second, key) << line;
    }
  }
  EXPECT_EQ(invoices.begin()->first, 536365);
  const double mean_lines = static_cast<double>(lines.size()) / static_cast<double>(invoices.size());
  EXPECT_GT(mean_lines, 5);
  EXPECT_LT(mean_lines, 25);
  EXPECT_GT(multi_line, 40000);
}

TEST(Generator, KindRatesAreHonoured) {
  for (auto rates : {DirtyRates{}, DirtyRates{0.1, 0.05, 0.02, 0.01}, DirtyRates{0, 0, 0, 0}}) {
    GeneratorConfig cfg = backfilled(99);
    cfg.rates = rates;
    std::vector<LineInfo> infos;
    generate_text(cfg, 100000, &infos);
    std::array<double, kLineKinds> n{};
    for (const auto& i : infos) n[static_cast<size_t>(i.kind)] += 1;
    const double total = static_cast<double>(infos.size());
    const double want[] = {0, rates.missing_customer, rates.returns, rates.bad_price, rates.malformed};
    for (size_t k = 1; k < kLineKinds; ++k) {
      const double got = n[k] / total;
      // Loose: returns and guests come as whole invoices, so they vary more than per-line kinds.
      EXPECT_NEAR(got, want[k], 0.25 * want[k] + 0.0008) << kind_name(static_cast<LineKind>(k));
    }
  }
}

TEST(Generator, SameSeedSameBytesOtherSeedOtherBytes) {
  const std::string a = generate_text(backfilled(42), 20000);
  const std::string b = generate_text(backfilled(42), 20000);
  const std::string c = generate_text(backfilled(43), 20000);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(Generator, BackfillFollowsTimeOrderWithinRange) {
  std::string text = generate_text(backfilled(3), 100000);
  std::string prev;
  std::set<std::string> days;
  for (auto line : testing::gen::split_lines(text)) {
    auto rec = classify(line);
    if (rec.kind == Kind::kMalformed) continue;
    const auto& d = *rec.date;
    char key[32];
    std::snprintf(key, sizeof key, "%04d-%02d-%02d %02d:%02d", d.year, d.month, d.day, d.hour, d.minute);
    ASSERT_GE(std::string(key), prev);
    prev = key;
    ASSERT_TRUE(d.year == 2010 && d.month == 12 && d.day <= 30) << line;
    ASSERT_GE(d.hour, 7);
    ASSERT_LE(d.hour, 20);
    days.insert(std::string(key, 10));
  }
  EXPECT_GE(days.size(), 28u);  // every day of the 30, Saturdays being thin
}

TEST(Generator, LiveTimestampsUseTheClock) {
  GeneratorConfig cfg;
  cfg.seed = 1;
  cfg.clock = [] { return int64_t{1291192000}; };  // 2010-12-01 08:26:40 UTC
  setenv("TZ", "UTC", 1);
  tzset();
  std::string text = generate_text(cfg, 100);
  for (auto line : testing::gen::split_lines(text)) {
    auto rec = classify(line);
    if (rec.kind == Kind::kMalformed) continue;
    EXPECT_EQ(rec.fields[4], "12/01/2010 08:26");
  }
}

TEST(Generator, SeedProfileHasSixCountriesThreeItemsOneLinePerInvoice) {
  std::string text = generate_text(backfilled(8, Profile::kSeed), 20000);
  std::set<std::string> countries, items, invoices;
  size_t n = 0;
  for (auto line : testing::gen::split_lines(text)) {
    auto rec = classify(line);
    ASSERT_EQ(rec.kind, Kind::kValid) << line;
    countries.insert(rec.fields[7]);
    items.insert(rec.fields[1] + "|" + rec.fields[2] + "|" + rec.fields[5]);
    invoices.insert(rec.fields[0]);
    EXPECT_GE(rec.quantity, 1);
    ++n;
  }
  EXPECT_EQ(countries, (std::set<std::string>{"United Kingdom", "France", "Germany", "USA", "Japan", "Australia"}));
  EXPECT_EQ(items, (std::set<std::string>{"85123A|WHITE HANGING HEART T-LIGHT HOLDER|2.55",
                                          "71053|WHITE METAL LANTERN|3.39",
                                          "84406B|CREAM CUPID HEARTS COAT HANGER|2.75"}));
  EXPECT_GT(invoices.size(), n * 3 / 4);  // random invoice numbers, rarely repeated
}

TEST(Generator, RejectsBadRates) {
  GeneratorConfig cfg;
  cfg.rates = DirtyRates{0.5, 0.4, 0.2, 0};
  EXPECT_FALSE(OrderGenerator::Create(cfg).ok());
  cfg.rates = DirtyRates{-0.1, 0, 0, 0};
  EXPECT_FALSE(OrderGenerator::Create(cfg).ok());
  cfg.rates = DirtyRates{0.5, 0.5, 0, 0};  // every line dirty is allowed
  auto g = OrderGenerator::Create(cfg);
  ASSERT_TRUE(g.ok());
  char buf[OrderGenerator::kMaxLineBytes];
  LineInfo info;
  for (int i = 0; i < 1000; ++i) {
    (*g)->next_line(buf, &info);
    EXPECT_NE(info.kind, LineKind::kValid);
  }
}

TEST(Summary, MatchesRecomputationFromTheText) {
  std::vector<LineInfo> infos;
  GeneratorConfig cfg = backfilled(21);
  const std::string text = generate_text(cfg, 100000, &infos);
  auto cat = Catalog::Retail();
  ASSERT_TRUE(cat.ok());
  SummaryBuilder s(cat.value());
  for (const auto& i : infos) s.add(i);
  EXPECT_EQ(s.lines(), 100000u);

  testing::gen::Tally tally;
  for (auto line : testing::gen::split_lines(text)) tally.add(classify(line));
  const auto& [rows, high, total, by_country, by_date] = tally;
  nlohmann::json e = s.expected_json();
  EXPECT_EQ(e["rows"].get<uint64_t>(), rows);
  EXPECT_EQ(e["total_amount"].get<double>(), total);
  EXPECT_EQ(e["high_orders"].get<uint64_t>(), high);
  ASSERT_EQ(e["by_country"].size(), by_country.size());
  for (auto& [name, v] : by_country) {
    EXPECT_EQ(e["by_country"][name]["rows"].get<uint64_t>(), v.first) << name;
    EXPECT_EQ(e["by_country"][name]["total_amount"].get<double>(), v.second) << name;
  }
  ASSERT_EQ(e["by_date"].size(), by_date.size());
  for (auto& [day, v] : by_date) {
    EXPECT_EQ(e["by_date"][day]["rows"].get<uint64_t>(), v.first) << day;
    EXPECT_EQ(e["by_date"][day]["total_amount"].get<double>(), v.second) << day;
  }
  nlohmann::json k = s.kinds_json();
  EXPECT_EQ(k["valid"].get<uint64_t>(), rows);
  EXPECT_EQ(k.size(), 5u);
}

}  // namespace
}  // namespace orderlake::generate
