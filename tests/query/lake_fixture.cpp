#include "lake_fixture.h"

#include <duckdb.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <stdexcept>

namespace orderlake::query::testing {
namespace fs = std::filesystem;

namespace {

std::string Quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// DuckDB's partition directory values are URL-encoded.
std::string UrlDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

void RunDuckDb(const std::string& sql) {
  duckdb_database db;
  duckdb_connection con;
  ASSERT_EQ(duckdb_open(nullptr, &db), DuckDBSuccess);
  ASSERT_EQ(duckdb_connect(db, &con), DuckDBSuccess);
  duckdb_result r;
  bool ok = duckdb_query(con, sql.c_str(), &r) == DuckDBSuccess;
  std::string err = ok ? "" : duckdb_result_error(&r);
  duckdb_destroy_result(&r);
  duckdb_disconnect(&con);
  duckdb_close(&db);
  ASSERT_TRUE(ok) << err << "\n" << sql;
}

std::string HiveEscape(std::string_view value) {
  std::string out;
  for (char c : value) {
    unsigned char u = static_cast<unsigned char>(c);
    bool escape = u < 0x20 || u == 0x7F || std::string_view("\"#%'*/:=?\\{[]^").find(c) != std::string_view::npos;
    if (escape)
      out += fmt::format("%{:02X}", u);
    else
      out += c;
  }
  return out;
}

std::string OrdersSelect(const std::vector<OrderRow>& rows) {
  std::string values;
  for (const auto& r : rows) {
    if (!values.empty()) values += ",\n";
    values += fmt::format("({}, {}, {}, {}, {}, {:.17g}, {}, {}, {}, {}, {})",
                          r.customer ? std::to_string(r.customer) : "NULL", Quote(r.invoice), Quote(r.stock),
                          Quote(r.description), r.quantity, r.price, Quote(r.invoice_date), r.hour, Quote(r.region),
                          Quote(r.country), Quote(r.date));
  }
  return "SELECT CAST(c AS INTEGER) AS CustomerID, sha256(inv || '-' || sc) AS OrderID, inv AS InvoiceNo, "
         "sc AS StockCode, d AS Description, CAST(q AS INTEGER) AS Quantity, CAST(p AS DOUBLE) AS UnitPrice, "
         "CAST(q AS DOUBLE) * CAST(p AS DOUBLE) AS TotalAmount, "
         "CAST(q AS DOUBLE) * CAST(p AS DOUBLE) * CAST(0.012 AS DOUBLE) AS TotalAmountUSD, "
         "CASE WHEN CAST(q AS DOUBLE) * CAST(p AS DOUBLE) > 100 THEN 'High' ELSE 'Normal' END AS OrderTag, "
         "dt AS InvoiceDate, CAST(h AS INTEGER) AS InvoiceHour, r AS Region, co AS Country, "
         "CAST(dd AS DATE) AS InvoiceDateOnly FROM (VALUES " +
         values + ") t(c, inv, sc, d, q, p, dt, h, r, co, dd)";
}

void WriteOrders(const fs::path& lake, const std::string& select_sql, const std::string& file_name) {
  static std::atomic<int> counter{0};
  fs::path staging = fs::temp_directory_path() / fmt::format("orderlake-query-staging-{}-{}", getpid(), ++counter);
  fs::remove_all(staging);
  RunDuckDb(fmt::format("COPY ({}) TO {} (FORMAT parquet, PARTITION_BY (Country, InvoiceDateOnly))", select_sql,
                        Quote(staging.string())));
  for (const auto& country : fs::directory_iterator(staging)) {
    std::string cname = country.path().filename().string();
    ASSERT_EQ(cname.rfind("Country=", 0), 0u) << cname;
    std::string value = UrlDecode(cname.substr(8));
    for (const auto& date : fs::directory_iterator(country.path())) {
      fs::path target = lake / "orders" / ("Country=" + HiveEscape(value)) / date.path().filename();
      fs::create_directories(target);
      for (const auto& file : fs::directory_iterator(date.path())) fs::rename(file.path(), target / file_name);
    }
  }
  fs::remove_all(staging);
}

// Answers (TotalAmountUSD = Quantity * UnitPrice * 0.012; High when the amount > 100):
//   #  country         date        hour amount  usd    tag     region
//   1  United Kingdom  2010-12-01   8    15     0.18   Normal  Europe
//   2  United Kingdom  2010-12-01   8   200     2.4    High    Europe
//   3  United Kingdom  2010-12-02   9   120     1.44   High    Europe      (same OrderID as 4)
//   4  United Kingdom  2010-12-02   9    10     0.12   Normal  Europe
//   5  France          2010-12-01  10   300     3.6    High    Europe
//   6  Germany         2010-12-02  10    10     0.12   Normal  Europe
//   7  USA             2010-12-03  14   160     1.92   High    North America
//   8  Japan           2010-12-03  23     1     0.012  Normal  Asia
//   9  Côte d'Ivoire   2010-12-03  14   100     1.2    Normal  Other       (100 is not > 100)
//  10  Australia       2010-11-30   0   240     2.88   High    Oceania
//  11  United Kingdom  2010-11-30  17    30     0.36   Normal  Europe
std::vector<OrderRow> SampleRows() {
  return {
      {17850, "536365", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 6, 2.5, "12/01/2010 08:26", 8, "Europe",
       "United Kingdom", "2010-12-01"},
      {17850, "536365", "71053", "WHITE METAL LANTERN", 50, 4, "12/01/2010 08:28", 8, "Europe", "United Kingdom",
       "2010-12-01"},
      {12583, "536370", "22728", "ALARM CLOCK BAKELIKE PINK", 24, 5, "12/02/2010 09:45", 9, "Europe",
       "United Kingdom", "2010-12-02"},
      {12583, "536370", "22728", "ALARM CLOCK BAKELIKE PINK", 2, 5, "12/02/2010 09:45", 9, "Europe",
       "United Kingdom", "2010-12-02"},
      {12662, "536371", "21730", "GLASS STAR FROSTED T-LIGHT HOLDER", 10, 30, "12/01/2010 10:03", 10, "Europe",
       "France", "2010-12-01"},
      {12472, "536372", "22632", "HAND WARMER RED POLKA DOT", 4, 2.5, "12/02/2010 10:15", 10, "Europe", "Germany",
       "2010-12-02"},
      {12549, "536373", "84879", "ASSORTED COLOUR BIRD ORNAMENT", 32, 5, "12/03/2010 14:00", 14, "North America",
       "USA", "2010-12-03"},
      {12753, "536374", "22745", "POPPY'S PLAYHOUSE BEDROOM", 1, 1, "12/03/2010 23:59", 23, "Asia", "Japan",
       "2010-12-03"},
      {12800, "536375", "22748", "POPPY'S PLAYHOUSE, \"KITCHEN\"", 8, 12.5, "12/03/2010 14:30", 14, "Other",
       "Côte d'Ivoire", "2010-12-03"},
      {12415, "536376", "23084", "RABBIT NIGHT LIGHT", 12, 20, "11/30/2010 00:05", 0, "Oceania", "Australia",
       "2010-11-30"},
      {17850, "536360", "22086", "PAPER CHAIN KIT 50'S CHRISTMAS", 3, 10, "11/30/2010 17:10", 17, "Europe",
       "United Kingdom", "2010-11-30"},
  };
}

std::string OriginalDdl(const std::string& location) {
  return R"(CREATE EXTERNAL TABLE IF NOT EXISTS `default`.`tbsm_red_transformed` (
      `CustomerID` int, `OrderID` string, `InvoiceNo` string, `StockCode` string, `Description` string,
      `Quantity` int, `UnitPrice` double, `TotalAmount` double, `TotalAmountUSD` double,
      `OrderTag` string, `InvoiceDate` string, `InvoiceHour` int, `Region` string,
      `Country` string, `InvoiceDateOnly` date)
    PARTITIONED BY (`Country` string, `InvoiceDateOnly` date)
    STORED AS PARQUET
    LOCATION ')" + location + R"('
    TBLPROPERTIES ('parquet.compression'='SNAPPY');
)";
}

}  // namespace orderlake::query::testing
