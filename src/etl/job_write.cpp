// Writing: one segment's column buffers, grouped by partition, into staged Parquet files
// with their Delta statistics, several partitions at once.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <span>
#include <thread>

#include "core/fs.h"
#include "core/hive.h"
#include "core/log.h"
#include "core/parquet_writer.h"
#include "etl/job_internal.h"

namespace orderlake::etl::internal {
// The table's schema in the Delta log: the file's columns, then the partition columns.
std::vector<std::pair<std::string, std::string>> delta_schema() {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& c : order_file_schema())
    out.emplace_back(c.name, c.type == parquet::Type::kInt32    ? "integer"
                             : c.type == parquet::Type::kDouble ? "double"
                                                                : "string");
  out.emplace_back("Country", "string");
  out.emplace_back("InvoiceDateOnly", "date");
  return out;
}

namespace {

std::vector<parquet::ColumnView> views_of(const OrderColumns& c, size_t from, size_t to) {
  using parquet::ColumnView;
  auto i32 = [&](const std::vector<int32_t>& v) { return ColumnView::Int32(std::span(v).subspan(from, to - from)); };
  auto f64 = [&](const std::vector<double>& v) { return ColumnView::Double(std::span(v).subspan(from, to - from)); };
  auto str = [&](const StringColumn& s) {
    return ColumnView::String(s.data, std::span(s.offsets).subspan(from, to - from + 1));
  };
  return {i32(c.customer_id), str(c.order_id),     str(c.invoice_no),         str(c.stock_code),
          str(c.description), i32(c.quantity),     f64(c.unit_price),         f64(c.total_amount),
          f64(c.total_amount_usd), str(c.order_tag), str(c.invoice_date), i32(c.invoice_hour),
          str(c.region)};
}

// Delta statistics of a file: numRecords, and per column min, max and nullCount (no column
// is ever null). Strings longer than 32 bytes get no min/max, as Delta writers truncate
// them and a truncated max needs care no reader here would use.
template <typename T>
void extend(const std::vector<T>& v, std::optional<T>* lo, std::optional<T>* hi) {
  for (const T& x : v) {
    if (!*lo || x < **lo) *lo = x;
    if (!*hi || **hi < x) *hi = x;
  }
}

std::string file_stats(const std::vector<const OrderColumns*>& groups, uint64_t rows) {
  json mins = json::object(), maxs = json::object(), nulls = json::object();
  auto num = [&](const char* name, auto member) {
    using T = typename std::remove_reference_t<decltype(groups[0]->*member)>::value_type;
    std::optional<T> lo, hi;
    for (auto* g : groups) extend(g->*member, &lo, &hi);
    if (lo) mins[name] = *lo, maxs[name] = *hi;
  };
  auto str = [&](const char* name, StringColumn OrderColumns::*member) {
    std::optional<std::string_view> lo, hi;
    for (auto* g : groups) {
      const StringColumn& c = g->*member;
      for (size_t i = 0; i < c.rows(); ++i) {
        std::string_view x = c.at(i);
        if (!lo || x < *lo) lo = x;
        if (!hi || *hi < x) hi = x;
      }
    }
    if (lo && lo->size() <= 32 && hi->size() <= 32) mins[name] = std::string(*lo), maxs[name] = std::string(*hi);
  };
  num("CustomerID", &OrderColumns::customer_id);
  str("InvoiceNo", &OrderColumns::invoice_no);
  str("StockCode", &OrderColumns::stock_code);
  num("Quantity", &OrderColumns::quantity);
  num("UnitPrice", &OrderColumns::unit_price);
  num("TotalAmount", &OrderColumns::total_amount);
  num("TotalAmountUSD", &OrderColumns::total_amount_usd);
  str("OrderTag", &OrderColumns::order_tag);
  str("InvoiceDate", &OrderColumns::invoice_date);
  num("InvoiceHour", &OrderColumns::invoice_hour);
  str("Region", &OrderColumns::region);
  for (auto& c : order_file_schema()) nulls[c.name] = 0;
  return json{{"numRecords", rows}, {"minValues", mins}, {"maxValues", maxs}, {"nullCount", nulls}}.dump();
}

}  // namespace

// Writes one partition's buffers (from every worker) as one Parquet file, staged below
// `stage` at the path it will have in the lake.
Status write_partition(const stdfs::path& stage, const std::string& table, const std::vector<PartitionBuf*>& parts,
                       const std::string& file_name, size_t row_group_rows, StagedFile* out) {
  const PartitionBuf& first = *parts.front();
  const std::string date = civil_from_days(first.days);
  const std::string rel_dir = fmt::format("{}/{}/{}", table, hive::segment("Country", first.country),
                                          hive::segment("InvoiceDateOnly", date));
  ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(stage / rel_dir));
  out->final = rel_dir + "/" + file_name;
  if (!first.country.empty()) out->country = first.country;
  out->date = date;
  const stdfs::path tmp_path = stage / out->final;
  int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Errorf("cannot create {}: {}", tmp_path.string(), std::strerror(errno));
  Status st;
  {
    parquet::FdSink sink(fd);
    parquet::FileWriter writer(order_file_schema(), &sink);
    // Small buffers are merged so a file does not get many tiny row groups.
    OrderColumns merged;
    std::vector<const OrderColumns*> groups;
    bool all_big = true;
    for (auto* p : parts) all_big = all_big && p->cols.rows() >= 65536;
    if (all_big || parts.size() == 1) {
      for (auto* p : parts) groups.push_back(&p->cols);
    } else {
      for (auto* p : parts) merged.append_columns(p->cols);
      groups.push_back(&merged);
    }
    for (const OrderColumns* g : groups) {
      for (size_t from = 0; from < g->rows() && st.ok(); from += row_group_rows) {
        const size_t to = std::min(g->rows(), from + row_group_rows);
        auto views = views_of(*g, from, to);
        st = writer.WriteRowGroup(views, to - from);
        out->rows += to - from;
      }
    }
    if (st.ok()) st = writer.Finish();
    if (st.ok()) out->stats = file_stats(groups, out->rows);
  }
  struct stat sb {};
  if (st.ok() && ::fstat(fd, &sb) == 0) out->size = static_cast<uint64_t>(sb.st_size);
  // Durable before the journal names it (each writer thread syncs its own files).
  if (st.ok() && ::fsync(fd) != 0) st = Status::Errorf("fsync {}: {}", tmp_path.string(), std::strerror(errno));
  ::close(fd);
  if (!st.ok()) {
    ::unlink(tmp_path.c_str());
    return Status::Errorf("writing {}: {}", out->final, st.message());
  }
  return Status::OK();
}

Status Job::WriteSegment() {
  // Group every worker's buffers by partition, biggest first so the threads finish together.
  std::map<std::string, std::vector<PartitionBuf*>> groups;
  for (auto& w : workers_)
    for (auto& [k, p] : w->parts)
      if (p->cols.rows()) groups[k].push_back(p.get());
  std::vector<std::vector<PartitionBuf*>> work;
  for (auto& [k, v] : groups) work.push_back(v);
  auto rows_of = [](const std::vector<PartitionBuf*>& v) {
    size_t n = 0;
    for (auto* p : v) n += p->cols.rows();
    return n;
  };
  std::sort(work.begin(), work.end(), [&](auto& a, auto& b) { return rows_of(a) > rows_of(b); });
  std::vector<StagedFile> files(work.size());
  std::vector<Status> results(work.size());
  std::atomic<size_t> next{0};
  const int seg = segment_++;
  auto run = [&] {
    for (size_t i; (i = next.fetch_add(1)) < work.size();)
      results[i] = write_partition(stage_, opt_.table, work[i], fmt::format("part-{}-{:03d}-{:05d}.parquet", sum_.run_id, seg, i),
                                   opt_.row_group_rows, &files[i]);
  };
  std::vector<std::thread> threads;
  for (size_t i = 1; i < workers_.size(); ++i) threads.emplace_back(run);
  run();
  for (auto& t : threads) t.join();
  for (auto& w : workers_) {
    w->parts.clear();
    w->last = nullptr;
    w->last_key.clear();
    w->bytes.store(w->quarantine.size());
  }
  for (size_t i = 0; i < files.size(); ++i) {
    if (!results[i].ok()) return results[i];
    staged_.push_back(files[i]);
  }
  crash_point("after_segment");
  return Status::OK();
}

}  // namespace orderlake::etl::internal
