// The batch path end to end through the binary: generate with a seed, etl, query; the
// answers equal the generator's own summary.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace orderlake {
namespace {
namespace stdfs = std::filesystem;
using nlohmann::json;
using testing::read_file;
using testing::run_orderlake;
using testing::TempDir;

json query_json(const stdfs::path& lake, const std::string& sql) {
  auto r = run_orderlake({"query", "--lake", lake.string(), "--format", "json", sql});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return json::parse(r.out);
}

size_t count_files(const stdfs::path& dir) {
  size_t n = 0;
  for (auto& e : stdfs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) ++n;
  return n;
}

TEST(Pipeline, GenerateEtlQueryMatchTheGeneratorsSummary) {
  TempDir tmp;
  const auto logs = tmp.path() / "logs", lake = tmp.path() / "lake", summary_path = tmp.path() / "summary.json";
  auto gen = run_orderlake({"generate", "--out", logs.string(), "--count", "200000", "--seed", "7", "--start",
                            "2010-12-01", "--days", "10", "--rotate-size", "4M", "--summary",
                            summary_path.string(), "--malformed-rate", "0.005"});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  const json summary = json::parse(read_file(summary_path));
  const json& kinds = summary["kinds"];

  auto etl = run_orderlake({"etl", "--input", logs.string(), "--lake", lake.string(), "--json"});
  ASSERT_EQ(etl.exit_code, 0) << etl.err;
  const json run = json::parse(etl.out);
  EXPECT_EQ(run["records"], summary["lines"]);
  EXPECT_EQ(run["kept"], summary["expected"]["rows"]);
  EXPECT_EQ(run["filtered"]["missing_customer_id"], kinds["missing_customer_id"]);
  EXPECT_EQ(run["filtered"]["non_positive_quantity"], kinds["non_positive_quantity"]);
  EXPECT_EQ(run["filtered"]["non_positive_price"], kinds["non_positive_price"]);
  EXPECT_EQ(run["quarantined_total"], kinds["malformed"]);

  // Per country and per date: row counts exactly, money to the last few bits.
  const json by_country = query_json(lake, "SELECT Country, count(*) AS n, sum(TotalAmount) AS t FROM orders GROUP BY Country");
  ASSERT_EQ(by_country.size(), summary["expected"]["by_country"].size());
  for (const auto& row : by_country) {
    const json& want = summary["expected"]["by_country"][row["Country"].get<std::string>()];
    EXPECT_EQ(row["n"], want["rows"]) << row;
    EXPECT_NEAR(row["t"].get<double>(), want["total_amount"].get<double>(), 1e-6 * want["total_amount"].get<double>());
  }
  const json by_date = query_json(lake, "SELECT CAST(InvoiceDateOnly AS VARCHAR) AS d, count(*) AS n FROM orders GROUP BY 1");
  ASSERT_EQ(by_date.size(), summary["expected"]["by_date"].size());
  for (const auto& row : by_date) EXPECT_EQ(row["n"], summary["expected"]["by_date"][row["d"].get<std::string>()]["rows"]);
  const json totals = query_json(lake,
      "SELECT count(*) AS n, sum(TotalAmountUSD) AS usd, count(*) FILTER (WHERE OrderTag = 'High') AS high, "
      "count(*) FILTER (WHERE Region = 'Other') AS other FROM tbsm_red_transformed");
  EXPECT_EQ(totals[0]["n"], summary["expected"]["rows"]);
  EXPECT_NEAR(totals[0]["usd"].get<double>(), summary["expected"]["total_amount"].get<double>() * 0.012,
              1e-6 * summary["expected"]["total_amount"].get<double>());
  EXPECT_EQ(totals[0]["high"], summary["expected"]["high_orders"]);

  // Every sample query runs on the generated lake.
  auto queries = run_orderlake({"query", "--lake", lake.string(), "-f", std::string(ORDERLAKE_SOURCE_DIR) + "/sql/queries.sql"});
  EXPECT_EQ(queries.exit_code, 0) << queries.err;

  // A second run over the same input changes nothing.
  const size_t files_before = count_files(lake);
  auto again = run_orderlake({"etl", "--input", logs.string(), "--lake", lake.string(), "--json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(json::parse(again.out)["kept"], 0);
  EXPECT_EQ(count_files(lake), files_before);
  EXPECT_EQ(query_json(lake, "SELECT count(*) AS n FROM orders")[0]["n"], summary["expected"]["rows"]);
}

TEST(Pipeline, PartitionFilterAnswersOnlyThatCountry) {
  TempDir tmp;
  const auto logs = tmp.path() / "logs", lake = tmp.path() / "lake", summary_path = tmp.path() / "s.json";
  ASSERT_EQ(run_orderlake({"generate", "--out", logs.string(), "--count", "20000", "--seed", "3", "--start",
                           "2011-01-01", "--summary", summary_path.string()}).exit_code, 0);
  ASSERT_EQ(run_orderlake({"etl", "--input", logs.string(), "--lake", lake.string()}).exit_code, 0);
  const json summary = json::parse(read_file(summary_path));
  const json uk = query_json(lake, "SELECT count(*) AS n FROM tbsm_red_transformed WHERE Country = 'United Kingdom'");
  EXPECT_EQ(uk[0]["n"], summary["expected"]["by_country"]["United Kingdom"]["rows"]);
}

}  // namespace
}  // namespace orderlake
