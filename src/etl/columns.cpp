#include "etl/columns.h"

#include <cstring>

#include "core/sha256.h"

namespace orderlake::etl {

void StringColumn::append_column(const StringColumn& other) {
  const uint32_t base = static_cast<uint32_t>(data.size()) - other.offsets.front();
  data.append(other.data, other.offsets.front(), other.offsets.back() - other.offsets.front());
  offsets.reserve(offsets.size() + other.rows());
  for (size_t i = 1; i < other.offsets.size(); ++i) offsets.push_back(other.offsets[i] + base);
}

size_t OrderColumns::bytes() const {
  auto s = [](const StringColumn& c) { return c.data.size() + c.offsets.size() * 4; };
  return rows() * (4 * 3 + 8 * 3) + s(order_id) + s(invoice_no) + s(stock_code) +
         s(description) + s(order_tag) + s(invoice_date) + s(region);
}

void OrderColumns::append(const ParsedOrder& o, std::string_view region_name,
                          const TransformConfig& cfg) {
  // OrderID = sha256(InvoiceNo + "-" + StockCode), lowercase hex.
  char key_buf[256];
  const size_t key_len = o.invoice_no.size() + 1 + o.stock_code.size();
  std::string key_heap;
  char* key = key_buf;
  if (key_len > sizeof key_buf) {
    key_heap.resize(key_len);
    key = key_heap.data();
  }
  std::memcpy(key, o.invoice_no.data(), o.invoice_no.size());
  key[o.invoice_no.size()] = '-';
  std::memcpy(key + o.invoice_no.size() + 1, o.stock_code.data(), o.stock_code.size());
  const size_t at = order_id.data.size();
  order_id.data.resize(at + 64);
  sha256_hex(std::string_view(key, key_len), order_id.data.data() + at);
  order_id.offsets.push_back(static_cast<uint32_t>(at + 64));

  const double total = static_cast<double>(o.quantity) * o.unit_price;
  customer_id.push_back(o.customer_id);
  invoice_no.append(o.invoice_no);
  stock_code.append(o.stock_code);
  description.append(o.description);
  quantity.push_back(o.quantity);
  unit_price.push_back(o.unit_price);
  total_amount.push_back(total);
  total_amount_usd.push_back(total * cfg.usd_rate);
  order_tag.append(total > cfg.high_threshold ? std::string_view("High") : std::string_view("Normal"));
  invoice_date.append(o.invoice_date);
  invoice_hour.push_back(o.hour);
  region.append(region_name);
}

void OrderColumns::append_columns(const OrderColumns& other) {
  auto cat = [](auto& a, const auto& b) { a.insert(a.end(), b.begin(), b.end()); };
  cat(customer_id, other.customer_id);
  order_id.append_column(other.order_id);
  invoice_no.append_column(other.invoice_no);
  stock_code.append_column(other.stock_code);
  description.append_column(other.description);
  cat(quantity, other.quantity);
  cat(unit_price, other.unit_price);
  cat(total_amount, other.total_amount);
  cat(total_amount_usd, other.total_amount_usd);
  order_tag.append_column(other.order_tag);
  invoice_date.append_column(other.invoice_date);
  cat(invoice_hour, other.invoice_hour);
  region.append_column(other.region);
}

// OrderID is 64 random hex characters per row: no dictionary, and Snappy finds nothing to
// compress in it, so it is stored as is.
const std::vector<parquet::ColumnSpec>& order_file_schema() {
  using parquet::Type;
  static const std::vector<parquet::ColumnSpec> s = {
      {"CustomerID", Type::kInt32},      {"OrderID", Type::kString, false, parquet::Codec::kUncompressed},
      {"InvoiceNo", Type::kString},      {"StockCode", Type::kString},
      {"Description", Type::kString},    {"Quantity", Type::kInt32},
      {"UnitPrice", Type::kDouble},      {"TotalAmount", Type::kDouble},
      {"TotalAmountUSD", Type::kDouble}, {"OrderTag", Type::kString},
      {"InvoiceDate", Type::kString},    {"InvoiceHour", Type::kInt32},
      {"Region", Type::kString}};
  return s;
}

}  // namespace orderlake::etl
