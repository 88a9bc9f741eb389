// Column buffers of curated rows for one partition (Country, InvoiceDateOnly): contiguous
// arrays per column, strings as one byte buffer plus offsets, ready for the Parquet writer.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/parquet_writer.h"
#include "etl/record.h"

namespace orderlake::etl {

struct StringColumn {
  std::string data;
  std::vector<uint32_t> offsets{0};  // row i is data[offsets[i], offsets[i+1])

  void append(std::string_view s) {
    data.append(s);
    offsets.push_back(static_cast<uint32_t>(data.size()));
  }
  size_t rows() const { return offsets.size() - 1; }
  std::string_view at(size_t i) const {
    return std::string_view(data).substr(offsets[i], offsets[i + 1] - offsets[i]);
  }
  void append_column(const StringColumn& other);
};

// The curated columns of SPEC §3, in file order.
struct OrderColumns {
  std::vector<int32_t> customer_id;
  StringColumn order_id;
  StringColumn invoice_no;
  StringColumn stock_code;
  StringColumn description;
  std::vector<int32_t> quantity;
  std::vector<double> unit_price;
  std::vector<double> total_amount;
  std::vector<double> total_amount_usd;
  StringColumn order_tag;
  StringColumn invoice_date;
  std::vector<int32_t> invoice_hour;
  StringColumn region;

  size_t rows() const { return quantity.size(); }
  size_t bytes() const;  // approximate memory held
  // Derives and appends the curated row of a kept record (SPEC §2: id, amount, time, tag).
  void append(const ParsedOrder& o, std::string_view region_name, const TransformConfig& cfg);
  void append_columns(const OrderColumns& other);
};

// The columns of the table's Parquet files (SPEC §3 without the partition columns Country
// and InvoiceDateOnly), in the order OrderColumns holds them.
const std::vector<parquet::ColumnSpec>& order_file_schema();

}  // namespace orderlake::etl
