// Writing: the column buffers, grouped by partition, appended as row groups to one open
// staged Parquet file per partition (statistics accumulated per file), several partitions
// at once; the files are finished at the end of the run or when they are big enough.
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

}  // namespace

PathSink::~PathSink() {
  if (fd_ >= 0) ::close(fd_);
}

Status PathSink::Open() {
  if (fd_ >= 0) return Status::OK();
  const int flags = O_WRONLY | O_CLOEXEC | (created_ ? O_APPEND : O_CREAT | O_TRUNC);
  fd_ = ::open(path_.c_str(), flags, 0644);
  if (fd_ < 0) return Status::Errorf("cannot open {}: {}", path_.string(), std::strerror(errno));
  created_ = true;
  return Status::OK();
}

Status PathSink::WriteAll(const char* p, size_t n) {
  ORDERLAKE_RETURN_IF_ERROR(Open());
  while (n > 0) {
    const ssize_t k = ::write(fd_, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return Status::Errorf("cannot write {}: {}", path_.string(), std::strerror(errno));
    p += k;
    n -= static_cast<size_t>(k);
    written_ += static_cast<uint64_t>(k);
  }
  return Status::OK();
}

Status PathSink::Append(std::string_view data) {
  constexpr size_t kBuffer = size_t{1} << 20;
  if (buf_.size() + data.size() <= kBuffer) {
    buf_.append(data);
    return Status::OK();
  }
  ORDERLAKE_RETURN_IF_ERROR(Flush());
  if (data.size() >= kBuffer / 4) return WriteAll(data.data(), data.size());
  buf_.append(data);
  return Status::OK();
}

Status PathSink::Flush() {
  if (buf_.empty()) return Status::OK();
  Status st = WriteAll(buf_.data(), buf_.size());
  buf_.clear();
  return st;
}

Status PathSink::Close(bool sync) {
  Status st = Flush();
  if (st.ok() && fd_ < 0 && sync) st = Open();
  if (st.ok() && sync && ::fsync(fd_) != 0) st = Status::Errorf("fsync {}: {}", path_.string(), std::strerror(errno));
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  return st;
}

namespace {
template <typename T>
void extend(const std::vector<T>& v, std::optional<T>* lo, std::optional<T>* hi) {
  for (const T& x : v) {
    if (!*lo || x < **lo) *lo = x;
    if (!*hi || **hi < x) *hi = x;
  }
}

using IntCol = std::vector<int32_t> OrderColumns::*;
using DoubleCol = std::vector<double> OrderColumns::*;
using StrCol = StringColumn OrderColumns::*;
constexpr std::pair<const char*, IntCol> kIntStats[] = {
    {"CustomerID", &OrderColumns::customer_id}, {"Quantity", &OrderColumns::quantity},
    {"InvoiceHour", &OrderColumns::invoice_hour}};
constexpr std::pair<const char*, DoubleCol> kDoubleStats[] = {
    {"UnitPrice", &OrderColumns::unit_price}, {"TotalAmount", &OrderColumns::total_amount},
    {"TotalAmountUSD", &OrderColumns::total_amount_usd}};
constexpr std::pair<const char*, StrCol> kStringStats[] = {
    {"InvoiceNo", &OrderColumns::invoice_no}, {"StockCode", &OrderColumns::stock_code},
    {"OrderTag", &OrderColumns::order_tag}, {"InvoiceDate", &OrderColumns::invoice_date},
    {"Region", &OrderColumns::region}};
}  // namespace

void FileStats::Add(const OrderColumns& c) {
  for (int i = 0; i < kInts; ++i) extend(c.*kIntStats[i].second, &ilo_[i], &ihi_[i]);
  for (int i = 0; i < kDoubles; ++i) extend(c.*kDoubleStats[i].second, &dlo_[i], &dhi_[i]);
  for (int i = 0; i < kStrings; ++i) {
    const StringColumn& col = c.*kStringStats[i].second;
    std::optional<std::string_view> lo, hi;
    for (size_t r = 0; r < col.rows(); ++r) {
      std::string_view x = col.at(r);
      if (!lo || x < *lo) lo = x;
      if (!hi || *hi < x) hi = x;
    }
    if (lo && (!slo_[i] || *lo < *slo_[i])) slo_[i] = std::string(*lo);
    if (hi && (!shi_[i] || *shi_[i] < *hi)) shi_[i] = std::string(*hi);
  }
}

std::string FileStats::Json(uint64_t rows) const {
  json mins = json::object(), maxs = json::object(), nulls = json::object();
  for (int i = 0; i < kInts; ++i)
    if (ilo_[i]) mins[kIntStats[i].first] = *ilo_[i], maxs[kIntStats[i].first] = *ihi_[i];
  for (int i = 0; i < kDoubles; ++i)
    if (dlo_[i]) mins[kDoubleStats[i].first] = *dlo_[i], maxs[kDoubleStats[i].first] = *dhi_[i];
  for (int i = 0; i < kStrings; ++i)
    if (slo_[i] && slo_[i]->size() <= 32 && shi_[i]->size() <= 32)
      mins[kStringStats[i].first] = *slo_[i], maxs[kStringStats[i].first] = *shi_[i];
  for (auto& c : order_file_schema()) nulls[c.name] = 0;
  return json{{"numRecords", rows}, {"minValues", mins}, {"maxValues", maxs}, {"nullCount", nulls}}.dump();
}

Status append_partition(const stdfs::path& stage, const std::string& table, const std::vector<PartitionBuf*>& parts,
                        const std::function<std::string()>& file_name, size_t row_group_rows, size_t max_file_bytes,
                        PartWriter* pw) {
  if (!pw->writer) {
    const std::string date = civil_from_days(pw->days);
    const std::string rel_dir = fmt::format("{}/{}/{}", table, hive::segment("Country", pw->country),
                                            hive::segment("InvoiceDateOnly", date));
    ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(stage / rel_dir));
    pw->file = StagedFile{};
    pw->file.final = rel_dir + "/" + file_name();
    if (!pw->country.empty()) pw->file.country = pw->country;
    pw->file.date = date;
    pw->stats = FileStats{};
    pw->buffered_bytes = 0;
    pw->sink = std::make_unique<PathSink>(stage / pw->file.final);
    pw->writer = std::make_unique<parquet::FileWriter>(order_file_schema(), pw->sink.get());
  }
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
  Status st;
  for (const OrderColumns* g : groups) {
    for (size_t from = 0; from < g->rows() && st.ok(); from += row_group_rows) {
      const size_t to = std::min(g->rows(), from + row_group_rows);
      auto views = views_of(*g, from, to);
      st = pw->writer->WriteRowGroup(views, to - from);
      pw->file.rows += to - from;
    }
    if (!st.ok()) break;
    pw->stats.Add(*g);
    pw->buffered_bytes += g->bytes();
  }
  if (st.ok()) st = pw->sink->Close();
  if (!st.ok()) {
    std::error_code ec;
    stdfs::remove(pw->sink->path(), ec);
    pw->writer.reset();
    return Status::Errorf("writing {}: {}", pw->file.final, st.message());
  }
  if (pw->buffered_bytes >= max_file_bytes) return finish_partition(stage, pw);
  return Status::OK();
}

Status finish_partition(const stdfs::path& stage, PartWriter* pw) {
  if (!pw->writer) return Status::OK();
  Status st = pw->writer->Finish();
  // Durable before the journal names it (each writer thread syncs its own files).
  if (st.ok()) st = pw->sink->Close(true);
  std::error_code ec;
  if (st.ok()) pw->file.size = stdfs::file_size(stage / pw->file.final, ec);
  if (st.ok() && ec) st = Status::Errorf("cannot stat {}: {}", pw->file.final, ec.message());
  pw->writer.reset();
  pw->sink.reset();
  if (!st.ok()) {
    stdfs::remove(stage / pw->file.final, ec);
    return Status::Errorf("writing {}: {}", pw->file.final, st.message());
  }
  pw->file.stats = pw->stats.Json(pw->file.rows);
  pw->finished.push_back(std::move(pw->file));
  return Status::OK();
}

namespace {
// Runs fn(i) for i in [0, n) on `threads` threads; the first error.
Status run_parallel(size_t n, size_t threads, const std::function<Status(size_t)>& fn) {
  std::vector<Status> results(n);
  std::atomic<size_t> next{0};
  auto run = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) results[i] = fn(i);
  };
  std::vector<std::thread> pool;
  for (size_t i = 1; i < std::min(threads, n); ++i) pool.emplace_back(run);
  run();
  for (auto& t : pool) t.join();
  for (auto& r : results) ORDERLAKE_RETURN_IF_ERROR(r);
  return Status::OK();
}
}  // namespace

Status Job::WriteSegment(bool final) {
  ORDERLAKE_RETURN_IF_ERROR(SpillQuarantine());
  // Every worker's buffers by partition.
  struct Group {
    std::string key;
    std::vector<PartitionBuf*> parts;
    size_t bytes = 0, rows = 0;
  };
  std::map<std::string, Group> by_key;
  size_t held = 0;
  for (auto& w : workers_)
    for (auto& [k, p] : w->parts)
      if (p->cols.rows()) {
        Group& g = by_key[k];
        g.key = k;
        g.parts.push_back(p.get());
        g.bytes += p->cols.bytes();
        g.rows += p->cols.rows();
        held += p->cols.bytes();
      }
  std::vector<Group> groups;
  for (auto& [k, g] : by_key) groups.push_back(std::move(g));
  std::sort(groups.begin(), groups.end(), [](auto& a, auto& b) { return a.bytes > b.bytes; });
  // Which to write now: a group big enough for a good row group, then the biggest while
  // more than half the budget would stay held.
  const size_t row_group_bytes = std::min(kRowGroupBytes, opt_.memory_budget / 4);
  std::vector<Group*> work;
  for (auto& g : groups) {
    if (final || g.bytes >= row_group_bytes || g.rows >= opt_.row_group_rows || held > opt_.memory_budget / 2) {
      work.push_back(&g);
      held -= g.bytes;
    }
  }
  for (Group* g : work) {
    auto& pw = writers_[g->key];
    if (!pw) {
      pw = std::make_unique<PartWriter>();
      pw->country = g->parts.front()->country;
      pw->days = g->parts.front()->days;
    }
  }
  const int seg = segment_++;
  auto name = [&] { return fmt::format("part-{}-{:03d}-{:05d}.parquet", sum_.run_id, seg, file_seq_.fetch_add(1)); };
  Status st = run_parallel(work.size(), workers_.size(), [&](size_t i) {
    return append_partition(stage_, opt_.table, work[i]->parts, name, opt_.row_group_rows, opt_.memory_budget / 2,
                            writers_[work[i]->key].get());
  });
  for (Group* g : work)
    for (auto& w : workers_) w->parts.erase(g->key);
  held_after_write_ = 0;
  for (auto& w : workers_) {
    w->last = nullptr;
    w->last_key.clear();
    size_t b = 0;
    for (auto& [k, p] : w->parts) b += p->cols.bytes();
    w->bytes.store(b);
    held_after_write_ += b;
  }
  ORDERLAKE_RETURN_IF_ERROR(st);
  if (final) {
    std::vector<PartWriter*> all;
    for (auto& [k, pw] : writers_) all.push_back(pw.get());
    ORDERLAKE_RETURN_IF_ERROR(
        run_parallel(all.size(), workers_.size(), [&](size_t i) { return finish_partition(stage_, all[i]); }));
  }
  for (auto& [k, pw] : writers_) {
    for (auto& f : pw->finished) staged_.push_back(std::move(f));
    pw->finished.clear();
  }
  crash_point("after_segment");
  return Status::OK();
}

// Quarantine lines go to the staged quarantine file as the run reads, not held to its end.
Status Job::SpillQuarantine() {
  size_t n = 0;
  for (auto& w : workers_) n += w->quarantine.size();
  if (n == 0) return Status::OK();
  const stdfs::path staged = stage_ / QuarantineKey();
  ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(staged.parent_path()));
  Status st;
  int fd = ::open(staged.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (quarantine_spilled_ ? O_APPEND : O_TRUNC), 0644);
  if (fd < 0) return Status::Errorf("cannot open {}: {}", staged.string(), std::strerror(errno));
  {
    parquet::FdSink out(fd);
    for (auto& w : workers_) {
      if (st.ok()) st = out.Append(w->quarantine);
      std::string().swap(w->quarantine);
    }
    if (st.ok()) st = out.Flush();
  }
  ::close(fd);
  quarantine_spilled_ = true;
  return st;
}

}  // namespace orderlake::etl::internal
