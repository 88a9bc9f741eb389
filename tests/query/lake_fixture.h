// Test lakes for the query stage, written with DuckDB itself the way the ETL lays them out:
// <lake>/orders/Country=<Hive-escaped>/InvoiceDateOnly=<yyyy-MM-dd>/<file>.parquet with the
// SPEC §3 columns in each file.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace orderlake::query::testing {

struct OrderRow {
  int customer;  // 0 -> NULL
  std::string invoice, stock, description;
  int quantity;
  double price;
  std::string invoice_date;  // as received, e.g. "12/01/2010 08:26"
  int hour;
  std::string region, country, date;  // date: yyyy-MM-dd
};

// A SELECT giving the table's 15 columns for these rows, derived as the ETL derives them
// (OrderID = sha256(InvoiceNo-StockCode), amounts, rate 0.012, tag at > 100).
std::string OrdersSelect(const std::vector<OrderRow>& rows);

// Writes the rows of `select_sql` under lake/orders, one file named `file_name` per
// partition, directories Hive-escaped (DuckDB's own COPY ... PARTITION_BY escapes
// differently: "Country=C%C3%B4te%20d%27Ivoire"; Hive keeps "Côte d%27Ivoire").
void WriteOrders(const std::filesystem::path& lake, const std::string& select_sql,
                 const std::string& file_name = "part-00000.parquet");

// Hive's escaping of a partition value (FileUtils.escapePathName).
std::string HiveEscape(std::string_view value);

// The 11 hand-checked rows the query tests use (see lake_fixture.cpp for the answers).
std::vector<OrderRow> SampleRows();

// Runs SQL on a scratch in-memory DuckDB (full access), failing the test on error.
void RunDuckDb(const std::string& sql);

// The original project's DDL (tbsm_red_transformed, with its Country and InvoiceDateOnly
// declared both as columns and as partition keys), at `location`, ending in ';'.
std::string OriginalDdl(const std::string& location);

}  // namespace orderlake::query::testing
