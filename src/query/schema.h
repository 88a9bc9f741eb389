// The columns of the lake's table `orders` (SPEC §3): the columns stored in each Parquet
// file, in file order, then the two partition columns that come from the directory names.
#pragma once
#include <array>
#include <string_view>

namespace orderlake::query {

struct TableColumn {
  std::string_view name;
  std::string_view type;  // DuckDB type name
  bool partition;         // from the path (Hive partition), not stored in the files
};

inline constexpr std::array<TableColumn, 15> kOrdersSchema = {{
    {"CustomerID", "INTEGER", false},
    {"OrderID", "VARCHAR", false},
    {"InvoiceNo", "VARCHAR", false},
    {"StockCode", "VARCHAR", false},
    {"Description", "VARCHAR", false},
    {"Quantity", "INTEGER", false},
    {"UnitPrice", "DOUBLE", false},
    {"TotalAmount", "DOUBLE", false},
    {"TotalAmountUSD", "DOUBLE", false},
    {"OrderTag", "VARCHAR", false},
    {"InvoiceDate", "VARCHAR", false},
    {"InvoiceHour", "INTEGER", false},
    {"Region", "VARCHAR", false},
    {"Country", "VARCHAR", true},
    {"InvoiceDateOnly", "DATE", true},
}};

}  // namespace orderlake::query
