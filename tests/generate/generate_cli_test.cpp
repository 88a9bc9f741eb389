// End-to-end tests of `orderlake generate` through the built binary.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "line_check.h"
#include "test_util.h"

namespace orderlake::testing {
namespace {

namespace fs = std::filesystem;
using gen::classify;
using gen::Kind;

std::vector<fs::path> log_files(const fs::path& dir) {
  static const std::regex name_re(R"(orders-\d{8}-\d{6}-\d{6}\.log)");
  std::vector<fs::path> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    EXPECT_TRUE(std::regex_match(e.path().filename().string(), name_re)) << e.path();
    out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string all_text(const fs::path& dir) {
  std::string s;
  for (const auto& f : log_files(dir)) s += read_file(f);
  return s;
}

const char* kKindNames[] = {"valid", "missing_customer_id", "non_positive_quantity", "non_positive_price",
                            "malformed"};

TEST(GenerateCli, SummaryMatchesWhatTheFilesHold) {
  TempDir tmp;
  const fs::path out = tmp.path() / "logs";
  const fs::path summary = tmp.path() / "summary.json";
  auto r = run_orderlake({"generate", "--out", out.string(), "--count", "100000", "--seed", "42", "--start",
                          "2010-12-01", "--days", "14", "--summary", summary.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("wrote 100000 lines"), std::string::npos) << r.err;
  nlohmann::json s = nlohmann::json::parse(read_file(summary));

  // Files: listed in order, all in the directory, all complete.
  auto files = log_files(out);
  ASSERT_EQ(s["files"].size(), files.size());
  for (size_t i = 0; i < files.size(); ++i) EXPECT_EQ(fs::path(s["files"][i].get<std::string>()), files[i]);

  std::map<Kind, uint64_t> kinds;
  uint64_t lines = 0;
  gen::Tally tally;
  for (const auto& f : files) {
    const std::string text = read_file(f);
    bool complete = false;
    for (auto line : gen::split_lines(text, &complete)) {
      ++lines;
      auto rec = classify(line);
      ++kinds[rec.kind];
      if (rec.kind == Kind::kMalformed) continue;
      ASSERT_EQ(rec.fields.size(), 8u) << line;
      ASSERT_TRUE(rec.date.has_value()) << line;
      tally.add(rec);
    }
    EXPECT_TRUE(complete) << f;
  }
  EXPECT_EQ(lines, 100000u);
  EXPECT_EQ(s["lines"].get<uint64_t>(), 100000u);
  for (int k = 0; k < 5; ++k) EXPECT_EQ(s["kinds"][kKindNames[k]].get<uint64_t>(), kinds[static_cast<Kind>(k)]) << k;
  const auto& e = s["expected"];
  const auto& [rows, high, total, by_country, by_date] = tally;
  EXPECT_EQ(e["rows"].get<uint64_t>(), rows);
  EXPECT_EQ(e["high_orders"].get<uint64_t>(), high);
  EXPECT_NEAR(e["total_amount"].get<double>(), total, 1e-9 * total);
  ASSERT_EQ(e["by_country"].size(), by_country.size());
  for (auto& [name, v] : by_country) {
    EXPECT_EQ(e["by_country"][name]["rows"].get<uint64_t>(), v.first) << name;
    EXPECT_NEAR(e["by_country"][name]["total_amount"].get<double>(), v.second, 1e-9 * v.second) << name;
  }
  ASSERT_EQ(e["by_date"].size(), by_date.size());
  for (auto& [day, v] : by_date) {
    EXPECT_EQ(e["by_date"][day]["rows"].get<uint64_t>(), v.first) << day;
    EXPECT_NEAR(e["by_date"][day]["total_amount"].get<double>(), v.second, 1e-9 * v.second) << day;
  }
  EXPECT_EQ(by_date.begin()->first, "2010-12-01");
  EXPECT_LE(by_date.rbegin()->first, "2010-12-14");
  EXPECT_GT(by_country.size(), 25u);
  EXPECT_EQ(s["seed"].get<uint64_t>(), 42u);
}

TEST(GenerateCli, KindRatesAreHonouredOn100kLines) {
  TempDir tmp;
  auto r = run_orderlake({"generate", "--out", tmp.str(), "--count", "100000", "--seed", "5", "--start", "2011-01-03",
                          "--missing-customer-rate", "0.05", "--return-rate", "0.03", "--bad-price-rate", "0.01",
                          "--malformed-rate", "0.01", "--summary", "-"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<Kind, double> n;
  const std::string text = all_text(tmp.path());
  for (auto line : gen::split_lines(text)) n[classify(line).kind] += 1;
  EXPECT_NEAR(n[Kind::kMissingCustomerId] / 1e5, 0.05, 0.0125);
  EXPECT_NEAR(n[Kind::kNonPositiveQuantity] / 1e5, 0.03, 0.0075);
  EXPECT_NEAR(n[Kind::kNonPositivePrice] / 1e5, 0.01, 0.0025);
  EXPECT_NEAR(n[Kind::kMalformed] / 1e5, 0.01, 0.0025);
  // --summary - prints the JSON on stdout.
  nlohmann::json s = nlohmann::json::parse(r.out);
  EXPECT_EQ(s["kinds"]["malformed"].get<double>(), n[Kind::kMalformed]);
}

TEST(GenerateCli, SeedMakesOutputReproducible) {
  TempDir tmp;
  auto run = [&](const std::string& sub, const std::string& seed) {
    auto r = run_orderlake({"generate", "--out", (tmp.path() / sub).string(), "--count", "30000", "--seed", seed,
                            "--start", "2010-12-01", "--days", "7", "--rotate-size", "500K"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return all_text(tmp.path() / sub);
  };
  const std::string a = run("a", "7"), b = run("b", "7"), c = run("c", "8");
  EXPECT_GT(a.size(), 1000000u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(GenerateCli, RotatesBySizeAtLineBoundaries) {
  TempDir tmp;
  auto r = run_orderlake({"generate", "--out", tmp.str(), "--count", "20000", "--seed", "1", "--rotate-size",
                          "200000", "--summary", "-"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto files = log_files(tmp.path());
  EXPECT_GE(files.size(), 5u);
  size_t lines = 0;
  for (const auto& f : files) {
    const std::string text = read_file(f);
    EXPECT_LE(text.size(), 200000u) << f;
    EXPECT_GT(text.size(), 190000u * (f != files.back())) << f;
    ASSERT_FALSE(text.empty());
    EXPECT_EQ(text.back(), '\n') << f;
    lines += gen::split_lines(text).size();
  }
  EXPECT_EQ(lines, 20000u);
  EXPECT_EQ(nlohmann::json::parse(r.out)["files"].size(), files.size());
}

TEST(GenerateCli, SeedProfileHasOnlySixCountriesAndThreeItems) {
  TempDir tmp;
  auto r = run_orderlake({"generate", "--profile", "seed", "--out", tmp.str(), "--count", "5000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> countries, items;
  size_t n = 0;
  const std::string text = all_text(tmp.path());
  for (auto line : gen::split_lines(text)) {
    auto rec = classify(line);
    ASSERT_EQ(rec.kind, Kind::kValid) << line;
    countries.insert(rec.fields[7]);
    items.insert(rec.fields[1] + " " + rec.fields[2] + " " + rec.fields[5]);
    ++n;
  }
  EXPECT_EQ(n, 5000u);
  EXPECT_EQ(countries, (std::set<std::string>{"United Kingdom", "France", "Germany", "USA", "Japan", "Australia"}));
  EXPECT_EQ(items, (std::set<std::string>{"85123A WHITE HANGING HEART T-LIGHT HOLDER 2.55",
                                          "71053 WHITE METAL LANTERN 3.39",
                                          "84406B CREAM CUPID HEARTS COAT HANGER 2.75"}));
}

TEST(GenerateCli, LiveTimestampsAreNow) {
  TempDir tmp;
  auto r = run_orderlake({"generate", "--out", tmp.str(), "--count", "1000", "--malformed-rate", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const time_t now = time(nullptr);
  struct tm tm {};
  localtime_r(&now, &tm);
  const std::string text = all_text(tmp.path());
  for (auto line : gen::split_lines(text)) {
    auto rec = classify(line);
    ASSERT_TRUE(rec.date.has_value()) << line;
    EXPECT_EQ(rec.date->year, tm.tm_year + 1900);
    EXPECT_EQ(rec.date->month, tm.tm_mon + 1);
  }
}

TEST(GenerateCli, DataDirWritesUnderLogs) {
  TempDir tmp;
  auto r = run_orderlake({"generate", "--data-dir", tmp.str(), "--count", "10"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(gen::split_lines(all_text(tmp.path() / "logs")).size(), 10u);
}

TEST(GenerateCli, BadOptionsFailWithOneLineReason) {
  TempDir tmp;
  write_file(tmp.path() / "plain-file", "x");
  struct Case {
    std::vector<std::string> args;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {{"--count", "0"}, "--count"},
      {{"--count", "10", "--profile", "bogus"}, "--profile"},
      {{"--count", "10", "--rate", "-5"}, "--rate"},
      {{"--count", "abc"}, "--count"},
      {{"--count", "10", "--days", "3"}, "--start"},
      {{"--count", "10", "--start", "2010-02-30"}, "2010-02-30"},
      {{"--rate", "5", "--start", "2010-12-01"}, "--count or --duration"},
      {{"--count", "10", "--return-rate", "0.7", "--missing-customer-rate", "0.6"}, "more than 1"},
      {{"--count", "10", "--malformed-rate", "1.5"}, "--malformed-rate"},
      {{"--count", "10", "--rotate-size", "12parsecs"}, "--rotate-size"},
      {{"--count", "10", "--duration", "0"}, "--duration"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"generate", "--out", (tmp.path() / "logs").string()};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = run_orderlake(args);
    EXPECT_NE(r.exit_code, 0) << c.args[0];
    EXPECT_NE(r.err.find(c.reason), std::string::npos) << c.args[0] << ": " << r.err;
  }
  // An output directory that cannot be created is named.
  const std::string bad_dir = (tmp.path() / "plain-file" / "logs").string();
  auto r = run_orderlake({"generate", "--out", bad_dir, "--count", "10"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find(bad_dir), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(GenerateCli, HelpHasExamples) {
  auto r = run_orderlake({"generate", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Examples"), std::string::npos);
  EXPECT_NE(r.out.find("--rotate-size"), std::string::npos);
}

TEST(GenerateCli, RateLimitingGivesAboutRateTimesDuration) {
  TempDir tmp;
  auto t0 = std::chrono::steady_clock::now();
  auto r = run_orderlake({"generate", "--out", tmp.str(), "--rate", "2000", "--duration", "1", "--summary", "-"});
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const size_t n = gen::split_lines(all_text(tmp.path())).size();
  EXPECT_GE(n, 1500u);
  EXPECT_LE(n, 2500u);
  EXPECT_GE(secs, 0.9);
  EXPECT_EQ(nlohmann::json::parse(r.out)["lines"].get<size_t>(), n);
}

TEST(GenerateCli, RotatesByTime) {
  TempDir tmp;
  auto r = run_orderlake({"generate", "--out", tmp.str(), "--rate", "1000", "--duration", "1.3", "--rotate-interval",
                          "0.4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto files = log_files(tmp.path());
  EXPECT_GE(files.size(), 3u);
  EXPECT_LE(files.size(), 5u);
  for (const auto& f : files) {
    const std::string t = read_file(f);
    ASSERT_FALSE(t.empty());
    EXPECT_EQ(t.back(), '\n');
  }
}

TEST(GenerateCli, StreamsPromptlyAndStopsCleanlyOnSigint) {
  for (int sig : {SIGINT, SIGTERM}) {
    TempDir tmp;
    const fs::path logs = tmp.path() / "logs";
    BackgroundProcess generator({ORDERLAKE_BINARY, "generate", "--out", logs.string(), "--rate", "500", "--seed", "3",
                           "--summary", "-"});
    // A tailer already sees complete lines while the generator runs.
    std::string partial;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      partial = all_text(logs);
      if (gen::split_lines(partial).size() >= 100) break;
    }
    EXPECT_GE(gen::split_lines(partial).size(), 100u);
    ASSERT_FALSE(partial.empty());
    EXPECT_EQ(partial.back(), '\n');
    EXPECT_EQ(generator.Stop(sig), 0) << "signal " << sig;  // exited, with 0
    const std::string text = all_text(logs);
    ASSERT_FALSE(text.empty());
    EXPECT_EQ(text.back(), '\n');
    nlohmann::json s = nlohmann::json::parse(generator.out());
    EXPECT_EQ(s["lines"].get<size_t>(), gen::split_lines(text).size());
    EXPECT_NE(generator.err().find("interrupted"), std::string::npos);
  }
}

}  // namespace
}  // namespace orderlake::testing
