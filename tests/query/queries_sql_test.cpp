// sql/queries.sql: every statement runs on the sample lake and gives the hand-checked
// answers listed in lake_fixture.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "lake_fixture.h"
#include "query/engine.h"
#include "query/script.h"
#include "test_util.h"

namespace orderlake::query {
namespace {
namespace fs = std::filesystem;
using ::testing::StartsWith;
using orderlake::testing::TempDir;

// One row as display strings, doubles rounded to 6 decimals so sums of 0.012-multiples
// compare exactly.
std::vector<std::string> Cells(const std::vector<Value>& row) {
  std::vector<std::string> out;
  for (const Value& v : row) {
    if (v.kind() == Value::Kind::kDouble) {
      double r = std::round(v.as_double() * 1e6) / 1e6;
      out.push_back(FormatDouble(r));
    } else {
      out.push_back(v.ToString());
    }
  }
  return out;
}

std::vector<std::vector<std::string>> Rows(const QueryResult& r) {
  std::vector<std::vector<std::string>> out;
  for (const auto& row : r.rows) out.push_back(Cells(row));
  return out;
}

std::vector<std::string> Names(const QueryResult& r) {
  std::vector<std::string> out;
  for (const auto& c : r.columns) out.push_back(c.name);
  return out;
}

using Table = std::vector<std::vector<std::string>>;

class QueriesSql : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::WriteOrders(dir_.path() / "lake", testing::OrdersSelect(testing::SampleRows()));
    auto e = Engine::Open(dir_.path() / "lake");
    ASSERT_TRUE(e.ok()) << e.status().message();
    engine_ = std::move(e).value();
    statements_ = ScriptStatements(orderlake::testing::read_file(fs::path(ORDERLAKE_SOURCE_DIR) / "sql/queries.sql"));
    ASSERT_EQ(statements_.size(), 12u);
    for (size_t i = 0; i < statements_.size(); ++i) {
      EXPECT_THAT(statements_[i].title, StartsWith(std::to_string(i + 1) + ". ")) << statements_[i].sql;
      auto r = engine_->Execute(statements_[i].sql);
      ASSERT_TRUE(r.ok()) << statements_[i].title << ": " << r.status().message();
      results_.push_back(std::move(r).value());
    }
  }
  const QueryResult& Result(int n) const { return results_[static_cast<size_t>(n - 1)]; }

  TempDir dir_;
  std::unique_ptr<Engine> engine_;
  std::vector<Statement> statements_;
  std::vector<QueryResult> results_;
};

TEST_F(QueriesSql, OriginalSamplesUseTheOriginalTableName) {
  for (int n = 1; n <= 6; ++n)
    EXPECT_NE(statements_[static_cast<size_t>(n - 1)].sql.find("FROM tbsm_red_transformed"), std::string::npos) << n;
  for (int n = 7; n <= 12; ++n)
    EXPECT_NE(statements_[static_cast<size_t>(n - 1)].sql.find("FROM orders"), std::string::npos) << n;
}

TEST_F(QueriesSql, TopHighValueOrders) {
  const QueryResult& r = Result(1);
  std::vector<std::string> invoices, usd;
  for (const auto& row : r.rows) {
    invoices.push_back(row[static_cast<size_t>(r.column_index("InvoiceNo"))].text());
    usd.push_back(Cells(row)[static_cast<size_t>(r.column_index("TotalAmountUSD"))]);
  }
  EXPECT_EQ(invoices, (std::vector<std::string>{"536371", "536376", "536365", "536373", "536370"}));
  EXPECT_EQ(usd, (std::vector<std::string>{"3.6", "2.88", "2.4", "1.92", "1.44"}));
}

TEST_F(QueriesSql, AverageAmountPerCountry) {
  EXPECT_EQ(Names(Result(2)), (std::vector<std::string>{"Country", "avg_amount_usd"}));
  EXPECT_EQ(Rows(Result(2)), (Table{{"France", "3.6"},
                                    {"Australia", "2.88"},
                                    {"USA", "1.92"},
                                    {"Côte d'Ivoire", "1.2"},
                                    {"United Kingdom", "0.9"},
                                    {"Germany", "0.12"},
                                    {"Japan", "0.012"}}));
}

TEST_F(QueriesSql, OrdersAndRevenuePerDay) {
  EXPECT_EQ(Names(Result(3)), (std::vector<std::string>{"InvoiceDateOnly", "order_count", "revenue_usd"}));
  EXPECT_EQ(Rows(Result(3)), (Table{{"2010-11-30", "2", "3.24"},
                                    {"2010-12-01", "3", "6.18"},
                                    {"2010-12-02", "3", "1.68"},
                                    {"2010-12-03", "3", "3.132"}}));
}

TEST_F(QueriesSql, OrdersPerRegion) {
  EXPECT_EQ(Rows(Result(4)), (Table{{"Europe", "7"}, {"Asia", "1"}, {"North America", "1"}, {"Oceania", "1"},
                                    {"Other", "1"}}));
}

TEST_F(QueriesSql, OrdersPerHour) {
  EXPECT_EQ(Rows(Result(5)),
            (Table{{"0", "1"}, {"8", "2"}, {"9", "2"}, {"10", "2"}, {"14", "2"}, {"17", "1"}, {"23", "1"}}));
}

TEST_F(QueriesSql, EveryRowOfOneCountry) {
  const QueryResult& r = Result(6);
  EXPECT_EQ(r.columns.size(), 15u);
  ASSERT_EQ(r.rows.size(), 5u);
  std::multiset<std::string> invoices;
  for (const auto& row : r.rows) {
    EXPECT_EQ(row[static_cast<size_t>(r.column_index("Country"))].text(), "United Kingdom");
    invoices.insert(row[static_cast<size_t>(r.column_index("InvoiceNo"))].text());
  }
  EXPECT_EQ(invoices, (std::multiset<std::string>{"536360", "536365", "536365", "536370", "536370"}));
}

TEST_F(QueriesSql, RevenueOrdersAndAverageOrderValuePerRegion) {
  EXPECT_EQ(Names(Result(7)),
            (std::vector<std::string>{"Region", "revenue_usd", "order_count", "avg_order_value_usd"}));
  EXPECT_EQ(Rows(Result(7)), (Table{{"Europe", "8.22", "7", "1.17"},
                                    {"Oceania", "2.88", "1", "2.88"},
                                    {"North America", "1.92", "1", "1.92"},
                                    {"Other", "1.2", "1", "1.2"},
                                    {"Asia", "0.01", "1", "0.01"}}));
}

TEST_F(QueriesSql, RevenuePerHour) {
  EXPECT_EQ(Rows(Result(8)), (Table{{"0", "2.88"},
                                    {"8", "2.58"},
                                    {"9", "1.56"},
                                    {"10", "3.72"},
                                    {"14", "3.12"},
                                    {"17", "0.36"},
                                    {"23", "0.01"}}));
}

TEST_F(QueriesSql, DailyOrdersForOneCountrySinceADate) {
  EXPECT_EQ(Rows(Result(9)), (Table{{"2010-12-01", "2", "2.58"}, {"2010-12-02", "2", "1.56"}}));
}

TEST_F(QueriesSql, DataQualityChecksFindNothingOnTheCuratedTable) {
  EXPECT_EQ(Result(10).columns.size(), 15u);
  EXPECT_TRUE(Result(10).rows.empty());
  EXPECT_EQ(Result(11).columns.size(), 15u);
  EXPECT_TRUE(Result(11).rows.empty());
}

TEST_F(QueriesSql, DuplicateOrderIds) {
  ASSERT_EQ(Result(12).rows.size(), 1u);
  // sha256("536370-22728")
  auto expected = engine_->Execute("SELECT sha256('536370-22728')");
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(Rows(Result(12)), (Table{{expected->rows[0][0].text(), "536370", "22728", "2"}}));
}

TEST_F(QueriesSql, DataQualityChecksDoCatchBadRows) {
  // The checks are not vacuous: on rows the ETL would have dropped, they find them.
  testing::WriteOrders(dir_.path() / "lake",
                       testing::OrdersSelect({{0, "C1", "X", "guest", 1, 1, "x", 1, "Europe", "France", "2010-12-01"},
                                              {5, "C2", "Y", "return", -2, 1, "x", 1, "Europe", "France", "2010-12-01"}}),
                       "bad.parquet");
  auto missing = engine_->Execute(statements_[9].sql);
  auto non_positive = engine_->Execute(statements_[10].sql);
  ASSERT_TRUE(missing.ok() && non_positive.ok());
  EXPECT_EQ(missing->rows.size(), 1u);
  EXPECT_EQ(non_positive->rows.size(), 1u);
}

}  // namespace
}  // namespace orderlake::query
