#include "etl/job.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>

#include "core/base64.h"
#include "core/clock.h"
#include "core/fs.h"
#include "core/hive.h"
#include "core/log.h"
#include "core/parquet_writer.h"
#include "core/sha256.h"
#include "etl/columns.h"
#include "etl/reader.h"
#include "store/object_store.h"
#include "table/delta.h"

namespace orderlake::etl {
namespace stdfs = std::filesystem;
using json = nlohmann::json;

uint64_t RunSummary::filtered_total() const {
  uint64_t n = 0;
  for (auto& [k, v] : filtered) n += v;
  return n;
}
uint64_t RunSummary::quarantined_total() const {
  uint64_t n = 0;
  for (auto& [k, v] : quarantined) n += v;
  return n;
}

json RunSummary::to_json() const {
  return json{{"run_id", run_id},
              {"input", input},
              {"lake", lake},
              {"table", table},
              {"seconds", seconds},
              {"objects", objects},
              {"objects_skipped", objects_skipped},
              {"objects_changed", objects_changed},
              {"input_bytes", input_bytes},
              {"records", records},
              {"empty_lines", empty_lines},
              {"kept", kept},
              {"filtered", filtered},
              {"filtered_total", filtered_total()},
              {"quarantined", quarantined},
              {"quarantined_total", quarantined_total()},
              {"files", files},
              {"partitions", partitions},
              {"version", version},
              {"quarantine_file", quarantine_file},
              {"warnings", warnings}};
}

std::string RunSummary::to_text() const {
  std::string s;
  if (run_id.empty()) {
    s += fmt::format("etl: nothing new in {} ({} objects already processed)\n", input, objects_skipped);
  } else {
    s += fmt::format("etl run {}: {} objects ({}) in {:.2f} s, {:.0f} records/s\n", run_id, objects,
                     fs::human_bytes(static_cast<double>(input_bytes)), seconds,
                     seconds > 0 ? static_cast<double>(records) / seconds : 0.0);
    s += fmt::format("  records read  {:>12}\n", records);
    s += fmt::format("  kept          {:>12}  -> {} files in {} partitions of {}\n", kept, files, partitions, table);
    s += fmt::format("  filtered      {:>12}\n", filtered_total());
    for (auto& [k, v] : filtered) s += fmt::format("    {:<24}{:>10}\n", k, v);
    s += fmt::format("  quarantined   {:>12}{}\n", quarantined_total(),
                     quarantine_file.empty() ? "" : "  -> " + quarantine_file);
    for (auto& [k, v] : quarantined) s += fmt::format("    {:<24}{:>10}\n", k, v);
    if (objects_skipped) s += fmt::format("  already processed objects skipped: {}\n", objects_skipped);
  }
  for (auto& w : warnings) s += fmt::format("  warning: {}\n", w);
  return s;
}

Result<std::string> local_path_of(const std::string& location, std::string_view what) {
  std::string p = location;
  if (p.rfind("file://", 0) == 0) p = p.substr(7);
  else if (p.find("://") != std::string::npos)
    return Status::Errorf("{} {}: only local directories (a path or file://) are supported here", what, location);
  if (p.empty()) return Status::Errorf("{} is empty", what);
  return p;
}

namespace {


// Fault injection for the crash tests: ORDERLAKE_CRASH_AT=<point> ends the process there
// as abruptly as kill -9 would.
void crash_point(std::string_view point) {
  static const char* at = std::getenv("ORDERLAKE_CRASH_AT");
  if (at && point == at) ::_exit(86);
}

// ---- Bookmark: which raw objects earlier runs processed, and how far.
struct BookmarkEntry {
  uint64_t size = 0, offset = 0, lines = 0;
  std::string run;
};
using Bookmark = std::map<std::string, BookmarkEntry>;

json bookmark_to_json(const Bookmark& b) {
  json objs = json::object();
  for (auto& [k, e] : b) objs[k] = {{"size", e.size}, {"offset", e.offset}, {"lines", e.lines}, {"run", e.run}};
  return json{{"version", 1}, {"objects", objs}};
}

Result<Bookmark> bookmark_from_json(const json& j, const std::string& where) {
  Bookmark b;
  try {
    for (auto& [k, v] : j.at("objects").items())
      b[k] = BookmarkEntry{v.at("size").get<uint64_t>(), v.at("offset").get<uint64_t>(),
                           v.at("lines").get<uint64_t>(), v.value("run", "")};
  } catch (const std::exception& e) {
    return Status::Errorf("{} is damaged: {}", where, e.what());
  }
  return b;
}

// ---- A bounded queue of chunks between the reader and the workers.
class ChunkQueue {
 public:
  explicit ChunkQueue(size_t cap) : cap_(cap) {}
  void push(std::unique_ptr<Chunk> c) {
    std::unique_lock lk(mu_);
    not_full_.wait(lk, [&] { return q_.size() < cap_; });
    q_.push_back(std::move(c));
    not_empty_.notify_one();
  }
  std::unique_ptr<Chunk> pop() {  // nullptr when closed and drained
    std::unique_lock lk(mu_);
    not_empty_.wait(lk, [&] { return !q_.empty() || closed_; });
    if (q_.empty()) return nullptr;
    auto c = std::move(q_.front());
    q_.pop_front();
    not_full_.notify_one();
    return c;
  }
  void close() {
    std::lock_guard lk(mu_);
    closed_ = true;
    not_empty_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<std::unique_ptr<Chunk>> q_;
  size_t cap_;
  bool closed_ = false;
};

struct PartitionBuf {
  std::string country;
  int32_t days = 0;
  std::string region;
  OrderColumns cols;
};

struct Counters {
  uint64_t records = 0, empty = 0, kept = 0;
  uint64_t filtered[static_cast<int>(Filter::kCount)] = {};
  uint64_t rejected[static_cast<int>(Reject::kCount)] = {};
};

struct Worker {
  explicit Worker(const TransformConfig& cfg) : parser(cfg) {}
  RecordParser parser;
  std::unordered_map<std::string, std::unique_ptr<PartitionBuf>> parts;
  PartitionBuf* last = nullptr;
  std::string key, last_key;
  Counters counts;
  std::string quarantine;  // JSON lines
  std::atomic<size_t> bytes{0};
};

struct ObjectInfo {
  std::string key;   // in the input store
  std::string path;  // what names it to people and in the bookmark: the absolute path, or the s3:// URL
  uint64_t size = 0;
  uint64_t start_offset = 0, start_line = 1;
};

// Hidden, staging and metadata entries (a '.' or '_' at the start of any part of the key)
// are not input.
bool has_hidden_part(std::string_view key) {
  for (size_t at = 0;;) {
    if (at < key.size() && (key[at] == '.' || key[at] == '_')) return true;
    const size_t slash = key.find('/', at);
    if (slash == std::string_view::npos) return false;
    at = slash + 1;
  }
}

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void add_quarantine(Worker& w, const ObjectInfo& obj, uint64_t line, uint64_t offset, Reject reason,
                    std::string_view detail, std::string_view record, bool prefix_only, uint64_t length) {
  json q = {{"source", obj.path}, {"line", line}, {"offset", offset},
            {"reason", reject_name(reason)}, {"detail", detail}};
  if (prefix_only) {
    q["length"] = length;
    q["record_prefix_base64"] = base64_encode(record.substr(0, OversizedLine::kPrefixBytes));
  } else if (reason == Reject::kInvalidUtf8) {
    q["record_base64"] = base64_encode(record);
  } else {
    q["record"] = record;
  }
  w.quarantine += q.dump(-1, ' ', false, json::error_handler_t::replace);
  w.quarantine += '\n';
  w.counts.rejected[static_cast<int>(reason)]++;
  w.counts.records++;
}

void process_chunk(Worker& w, const Chunk& c, const ObjectInfo& obj, const TransformConfig& cfg) {
  for (const auto& o : c.oversized)
    add_quarantine(w, obj, o.line, o.offset, Reject::kLineTooLong,
                   fmt::format("record of {} bytes is over the limit of {} bytes", o.length, cfg.max_record_bytes),
                   o.prefix, true, o.length);
  const std::string_view data = c.data.view();
  const bool utf8_ok = simdjson::validate_utf8(data.data(), data.size());
  size_t pos = 0;
  uint64_t line_no = c.first_line;
  ParsedOrder order;
  Verdict verdict;
  while (pos < data.size()) {
    const char* nl = static_cast<const char*>(std::memchr(data.data() + pos, '\n', data.size() - pos));
    const size_t end = nl ? static_cast<size_t>(nl - data.data()) : data.size();
    std::string_view line = data.substr(pos, end - pos);
    const uint64_t offset = c.offset + pos;
    pos = end + 1;
    const uint64_t this_line = line_no++;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      w.counts.empty++;
      continue;
    }
    const Outcome out = w.parser.parse(line, utf8_ok, &order, &verdict);
    if (out == Outcome::kRejected) {
      add_quarantine(w, obj, this_line, offset, verdict.reject, verdict.detail, line,
                     verdict.reject == Reject::kLineTooLong, line.size());
      continue;
    }
    w.counts.records++;
    if (out == Outcome::kFiltered) {
      w.counts.filtered[static_cast<int>(verdict.filter)]++;
      continue;
    }
    w.counts.kept++;
    const std::string_view country = trim_spaces(order.country);
    w.key.assign(country);
    w.key.push_back('\0');
    w.key.append(reinterpret_cast<const char*>(&order.days), sizeof order.days);
    PartitionBuf* part = w.last;
    if (!part || w.key != w.last_key) {
      auto it = w.parts.find(w.key);
      if (it == w.parts.end()) {
        auto p = std::make_unique<PartitionBuf>();
        p->country = std::string(country);
        p->days = order.days;
        p->region = std::string(cfg.regions->lookup(country));
        it = w.parts.emplace(w.key, std::move(p)).first;
      }
      part = it->second.get();
      w.last = part;
      w.last_key = w.key;
    }
    part->cols.append(order, part->region, cfg);
  }
  if (!c.error.empty())
    add_quarantine(w, obj, line_no, c.offset + data.size(), Reject::kCorruptObject, c.error, "", false, 0);
  size_t b = 0;
  for (auto& [k, p] : w.parts) b += p->cols.bytes();
  w.bytes.store(b + w.quarantine.size(), std::memory_order_relaxed);
}

// OrderID is 64 random hex characters per row: no dictionary, and Snappy finds nothing to
// compress in it, so it is stored as is.
const std::vector<parquet::ColumnSpec>& order_schema() {
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

// The table's schema in the Delta log: the file's columns, then the partition columns.
std::vector<std::pair<std::string, std::string>> delta_schema() {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& c : order_schema())
    out.emplace_back(c.name, c.type == parquet::Type::kInt32    ? "integer"
                             : c.type == parquet::Type::kDouble ? "double"
                                                                : "string");
  out.emplace_back("Country", "string");
  out.emplace_back("InvoiceDateOnly", "date");
  return out;
}

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

struct StagedFile {
  std::string final;  // relative to the lake, and to the staging directory while staged
  uint64_t rows = 0;
  uint64_t size = 0;
  std::optional<std::string> country, date;  // partition values (nullopt: Hive's default partition)
  std::string stats;                          // Delta statistics (JSON)
};

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
  for (auto& c : order_schema()) nulls[c.name] = 0;
  return json{{"numRecords", rows}, {"minValues", mins}, {"maxValues", maxs}, {"nullCount", nulls}}.dump();
}

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
    parquet::FileWriter writer(order_schema(), &sink);
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

class Job {
 public:
  explicit Job(const EtlOptions& o) : opt_(o) {}
  Result<RunSummary> Run();

 private:
  Status LoadState(Bookmark* bm);
  Status Recover();
  Status RollBack(const json& journal);
  Status ListObjects(const Bookmark& bm);
  Status ProcessAll();
  Status WriteSegment();
  Status Publish(const Bookmark& bm);
  void Progress(bool final);
  double Elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  std::string AppId() const { return "orderlake-etl:" + opt_.table; }
  std::string MetaKey(std::string_view rel) const { return fmt::format("_orderlake/{}/{}", opt_.table, rel); }

  EtlOptions opt_;
  std::unique_ptr<store::ObjectStore> input_store_, lake_store_;
  stdfs::path input_;
  stdfs::path local_lake_;  // the lake's directory when it is local, else empty
  stdfs::path stage_;       // where files are written before they are published
  table::Snapshot snap_;    // the log as far as the etl needs it (versions, txn)
  int64_t cache_version_ = -1;  // the log version bookmark.json was written at
  bool legacy_bookmark_ = false;  // bookmark.json from before the table had a log
  RunSummary sum_;
  std::vector<ObjectInfo> objects_;
  // Per object, where reading ended; nullopt for an object that could not be opened (it is
  // left out of the bookmark and read again by the next run).
  std::vector<std::optional<BookmarkEntry>> done_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<StagedFile> staged_;
  int segment_ = 0;
  uint64_t total_bytes_ = 0;
  std::atomic<uint64_t> bytes_read_{0};
  std::atomic<uint64_t> records_seen_{0};
  std::chrono::steady_clock::time_point start_;
};

// The bookmark is bookmark.json (written every kBookmarkEvery commits, saying at which log
// version) plus the bookmark entries carried by the etl's commits after that version.
constexpr int64_t kBookmarkEvery = 32;

Status Job::LoadState(Bookmark* bm) {
  const std::string key = MetaKey("bookmark.json");
  auto head = lake_store_->Head(key);
  if (!head.ok()) return head.status();
  if (head.value()) {
    auto text = lake_store_->Get(key);
    if (!text.ok()) return text.status();
    json j = json::parse(text.value(), nullptr, false);
    if (j.is_discarded()) return Status::Errorf("{}/{} is damaged: not JSON", opt_.lake, key);
    auto b = bookmark_from_json(j, opt_.lake + "/" + key);
    if (!b.ok()) return b.status();
    *bm = std::move(b).value();
    if (j.contains("delta_version")) {
      snap_.version = cache_version_ = j.at("delta_version").get<int64_t>();
      if (j.contains("txn_version")) snap_.txn[AppId()] = j.at("txn_version").get<int64_t>();
    } else {
      legacy_bookmark_ = true;
    }
  }
  table::DeltaLog log(lake_store_.get(), opt_.table);
  const std::string app = AppId();
  return log.Update(&snap_, [&](const table::LogCommit& c) -> Status {
    const json ci = c.commit_info();
    if (!ci.is_object()) return Status::OK();
    auto ol = ci.find("orderlake");
    if (ol == ci.end() || ol->value("app", "") != app || !ol->contains("bookmark")) return Status::OK();
    auto upd = bookmark_from_json(ol->at("bookmark"), fmt::format("{} commit {}", opt_.table, c.version));
    if (!upd.ok()) return upd.status();
    for (auto& [k, v] : upd.value()) (*bm)[k] = v;
    return Status::OK();
  });
}

// Deletes the published files of a run that has no commit (its staged ones go with the
// staging directory).
Status Job::RollBack(const json& journal) {
  for (auto& f : journal.at("files")) ORDERLAKE_RETURN_IF_ERROR(lake_store_->Delete(f.get<std::string>()));
  return Status::OK();
}

Status Job::Recover() {
  // A journal names the files of a run that began publishing. If the log has the run's
  // batch, the run is done (only its summary may be missing); otherwise its files are
  // removed and its input is read again by this run, since the bookmark never advanced.
  auto pending = lake_store_->List(MetaKey("pending/"));
  if (!pending.ok()) return pending.status();
  for (const auto& o : pending.value()) {
    // Compaction keeps its own journals here (table/compact.h).
    if (!o.key.ends_with(".json") || o.key.find("/pending/compact-") != std::string::npos) continue;
    auto text = lake_store_->Get(o.key);
    if (!text.ok()) return text.status();
    json j = json::parse(text.value(), nullptr, false);
    if (!j.is_object() || !j.contains("files") || !j.contains("txn_version"))
      return Status::Errorf("run journal {}/{} is damaged", opt_.lake, o.key);
    const std::string run = j.value("run_id", "?");
    if (snap_.txn_version(AppId()) >= j.at("txn_version").get<int64_t>()) {
      ORDERLAKE_RETURN_IF_ERROR(lake_store_->Put(MetaKey("runs/" + run + ".json"), j.at("summary").dump(2)));
    } else {
      spdlog::warn("etl: run {} stopped before its commit; removing its files (its input is read again)", run);
      ORDERLAKE_RETURN_IF_ERROR(RollBack(j));
    }
    ORDERLAKE_RETURN_IF_ERROR(lake_store_->Delete(o.key));
  }
  // Staged files of a run that died before its journal was written are not part of any
  // run: remove them.
  std::error_code ec;
  stdfs::remove_all(stage_, ec);
  if (ec) return Status::Errorf("cannot clear the staging directory {}: {}", stage_.string(), ec.message());
  return Status::OK();
}

Status Job::ListObjects(const Bookmark& bm) {
  std::error_code ec;
  const std::string root = input_store_->local_root();
  if (!root.empty()) {
    if (!stdfs::exists(input_, ec)) return Status::Errorf("input directory {} does not exist", opt_.input);
    if (!stdfs::is_directory(input_, ec)) return Status::Errorf("input {} is not a directory", opt_.input);
  }
  auto listed = input_store_->List("");
  if (!listed.ok()) return Status::Errorf("cannot list input {}: {}", opt_.input, listed.status().message());
  std::vector<ObjectInfo> all;
  for (auto& info : listed.value()) {
    if (has_hidden_part(info.key)) continue;
    ObjectInfo o;
    o.key = info.key;
    o.path = root.empty() ? input_store_->url() + "/" + info.key : (input_ / info.key).lexically_normal().string();
    o.size = info.size;
    all.push_back(std::move(o));
  }
  std::sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.path < b.path; });
  for (auto& o : all) {
    auto b = bm.find(o.path);
    if (b == bm.end()) {
      objects_.push_back(o);
    } else if (b->second.size == o.size) {
      sum_.objects_skipped++;
    } else if (o.size > b->second.size && b->second.offset == b->second.size) {
      // An append-only object (a log file that grew): read only what was added.
      auto magic = input_store_->Get(o.key, 0, 2);
      if (magic.ok() && magic->size() == 2 && static_cast<unsigned char>((*magic)[0]) == 0x1f &&
          static_cast<unsigned char>((*magic)[1]) == 0x8b) {
        sum_.objects_changed++;
        sum_.warnings.push_back(fmt::format("{} changed after it was processed (gzip); not read again", o.path));
        continue;
      }
      o.start_offset = b->second.offset;
      o.start_line = b->second.lines + 1;
      objects_.push_back(o);
    } else {
      sum_.objects_changed++;
      sum_.warnings.push_back(fmt::format("{} changed after it was processed ({} -> {} bytes); not read again",
                                          o.path, b->second.size, o.size));
    }
  }
  for (auto& o : objects_) total_bytes_ += o.size - o.start_offset;
  return Status::OK();
}

Status Job::ProcessAll() {
  const int nthreads = opt_.threads > 0 ? opt_.threads : std::max(1u, std::thread::hardware_concurrency());
  for (int i = 0; i < nthreads; ++i) workers_.push_back(std::make_unique<Worker>(opt_.transform));
  done_.resize(objects_.size());

  size_t obj_idx = 0;
  std::unique_ptr<ObjectReader> reader;
  uint64_t raw_before = 0;
  bool input_done = objects_.empty();
  std::atomic<bool> stop_progress{false};
  std::thread progress;
  if (opt_.progress)
    progress = std::thread([&] {
      while (!stop_progress.load()) {
        for (int i = 0; i < 20 && !stop_progress.load(); ++i)
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (!stop_progress.load()) Progress(false);
      }
    });
  Status st;
  while (!input_done && st.ok()) {
    ChunkQueue queue(static_cast<size_t>(nthreads) * 2);
    std::vector<std::thread> threads;
    for (int i = 0; i < nthreads; ++i)
      threads.emplace_back([&, i] {
        Worker& w = *workers_[static_cast<size_t>(i)];
        while (auto c = queue.pop()) {
          process_chunk(w, *c, objects_[c->object], opt_.transform);
          records_seen_.fetch_add(c->lines, std::memory_order_relaxed);
        }
      });
    // Read until the input ends or the buffers reach the memory budget.
    for (;;) {
      if (!reader) {
        if (obj_idx >= objects_.size()) {
          input_done = true;
          break;
        }
        const ObjectInfo& o = objects_[obj_idx];
        auto r = ObjectReader::Open(*input_store_, o.key, o.start_offset, o.start_line,
                                    opt_.transform.max_record_bytes, opt_.chunk_bytes);
        if (!r.ok()) {
          // An unreadable object is reported and left for a later run (not bookmarked).
          sum_.warnings.push_back(r.status().message() + " (skipped; it will be retried next run)");
          spdlog::warn("etl: {}", r.status().message());
          ++obj_idx;
          continue;
        }
        reader = std::move(r).value();
        raw_before = bytes_read_.load();
        sum_.objects++;
      }
      auto c = std::make_unique<Chunk>();
      if (!reader->Next(c.get())) {
        // A file that grew while it was read was read past its listed size: the bookmark
        // says how far, so the next run reads only what was appended after that.
        const uint64_t end = reader->compressed() ? objects_[obj_idx].size : reader->end_offset();
        done_[obj_idx] = BookmarkEntry{std::max(objects_[obj_idx].size, end), end, reader->end_line() - 1, ""};
        bytes_read_.store(raw_before + reader->raw_bytes_read());
        reader.reset();
        ++obj_idx;
        continue;
      }
      c->object = obj_idx;
      bytes_read_.store(raw_before + reader->raw_bytes_read());
      queue.push(std::move(c));
      size_t held = 0;
      for (auto& w : workers_) held += w->bytes.load(std::memory_order_relaxed);
      if (held >= opt_.memory_budget) break;
    }
    queue.close();
    for (auto& t : threads) t.join();
    spdlog::debug("etl: segment {} parsed at {:.3f} s", segment_, Elapsed());
    st = WriteSegment();
    spdlog::debug("etl: segment {} written at {:.3f} s", segment_ - 1, Elapsed());
  }
  stop_progress.store(true);
  if (progress.joinable()) progress.join();
  if (opt_.progress && st.ok() && !objects_.empty()) Progress(true);
  return st;
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

void Job::Progress(bool final) {
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const uint64_t got = bytes_read_.load(), recs = records_seen_.load();
  const double pct = total_bytes_ ? 100.0 * static_cast<double>(got) / static_cast<double>(total_bytes_) : 100.0;
  fmt::print(stderr, "etl: {}{:5.1f}% of {} read, {} lines, {:.0f} lines/s, {:.1f} s\n", final ? "done " : "",
             std::min(pct, 100.0), fs::human_bytes(static_cast<double>(total_bytes_)), recs,
             secs > 0 ? static_cast<double>(recs) / secs : 0.0, secs);
}

Status Job::Publish(const Bookmark& bm) {
  // Quarantine file (staged like the data files; not part of the table).
  std::string quarantine;
  for (auto& w : workers_) quarantine += w->quarantine;
  std::vector<StagedFile> all = staged_;
  if (!quarantine.empty()) {
    StagedFile q;
    q.final = fmt::format("_quarantine/{}/{}.jsonl", opt_.table, sum_.run_id);
    const stdfs::path staged = stage_ / q.final;
    ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(staged.parent_path()));
    {
      int fd = ::open(staged.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0) return Status::Errorf("cannot create {}: {}", staged.string(), std::strerror(errno));
      parquet::FdSink sink(fd);
      Status st = sink.Append(quarantine);
      if (st.ok()) st = sink.Flush();
      if (st.ok() && ::fsync(fd) != 0) st = Status::Errorf("fsync {}: {}", staged.string(), std::strerror(errno));
      ::close(fd);
      ORDERLAKE_RETURN_IF_ERROR(st);
    }
    all.push_back(q);
    sum_.quarantine_file = q.final;
  }
  // Bookmark entries of this run.
  Bookmark update;
  for (size_t i = 0; i < objects_.size(); ++i) {
    if (!done_[i]) continue;
    BookmarkEntry e = *done_[i];
    e.run = sum_.run_id;
    update[objects_[i].path] = e;
  }
  // 1. staged files durable; 2. journal durable; 3. files into place; 4. the commit (the
  // moment the batch becomes visible, with its bookmark); 5. summary and bookmark cache.
  spdlog::debug("etl: staged files synced at {:.3f} s", Elapsed());
  crash_point("before_journal");
  const std::string app = AppId();
  const int64_t batch = snap_.txn_version(app) + 1;
  json files = json::array();
  for (auto& f : all) files.push_back(f.final);
  json journal = {{"run_id", sum_.run_id}, {"txn_version", batch}, {"files", files}, {"summary", sum_.to_json()}};
  const std::string jkey = MetaKey("pending/" + sum_.run_id + ".json");
  ORDERLAKE_RETURN_IF_ERROR(lake_store_->Put(jkey, journal.dump(1)));
  crash_point("after_journal");
  bool first = true;
  for (auto& f : all) {
    if (!first) crash_point("mid_publish");
    first = false;
    if (!local_lake_.empty()) {
      ORDERLAKE_RETURN_IF_ERROR(fs::create_directories((local_lake_ / f.final).parent_path()));
      if (::rename((stage_ / f.final).c_str(), (local_lake_ / f.final).c_str()) != 0)
        return Status::Errorf("cannot publish {}: {} (the next run rolls this one back)",
                              (local_lake_ / f.final).string(), std::strerror(errno));
    } else {
      auto data = fs::read_file(stage_ / f.final);
      if (!data.ok()) return data.status();
      Status st = lake_store_->Put(f.final, data.value());
      if (!st.ok())
        return Status::Errorf("cannot publish {}/{}: {} (the next run rolls this one back)", opt_.lake, f.final,
                              st.message());
    }
  }
  if (!local_lake_.empty()) {
    // The renames durable: every directory that gained an entry (a partition's directory,
    // and its parents up to the lake, which may be new themselves).
    std::set<stdfs::path> dirs;
    for (auto& f : all)
      for (stdfs::path d = (local_lake_ / f.final).parent_path(); d != local_lake_ && d.has_relative_path();
           d = d.parent_path())
        if (!dirs.insert(d).second) break;
    dirs.insert(local_lake_);
    for (const auto& d : dirs) ORDERLAKE_RETURN_IF_ERROR(fs::fsync_path(d));
  }
  spdlog::debug("etl: published at {:.3f} s", Elapsed());
  crash_point("before_commit");

  const int64_t now = clock::unix_ms();
  std::vector<json> actions;
  actions.push_back(table::txn_action(app, batch));
  std::set<std::string> ours;
  const std::string table_prefix = opt_.table + "/";
  for (auto& f : all) {
    if (!f.final.starts_with(table_prefix)) continue;  // the quarantine file
    table::DataFile d;
    d.path = table::encode_path(f.final.substr(table_prefix.size()));
    d.partition_values = {{"Country", f.country}, {"InvoiceDateOnly", f.date}};
    d.size = f.size;
    d.modification_time = now;
    d.stats = f.stats;
    ours.insert(f.final);
    actions.push_back(table::add_action(d, true));
  }
  json summary = sum_.to_json();
  actions.push_back(table::commit_info_action(
      "STREAMING UPDATE", {{"outputMode", "Append"}, {"queryId", app}, {"epochId", std::to_string(batch)}},
      {{"orderlake", {{"app", app}, {"run_id", sum_.run_id}, {"bookmark", bookmark_to_json(update)}, {"summary", summary}}}}));
  // The first commit creates the table; a lake written before the table had a log
  // brings its files along.
  std::vector<json> first_actions;
  if (snap_.version < 0) {
    first_actions = {table::protocol_action(), table::metadata_action(delta_schema(), {"Country", "InvoiceDateOnly"})};
    auto existing = lake_store_->List(table_prefix);
    if (!existing.ok()) return Status::Errorf("cannot list {}/{}: {}", opt_.lake, table_prefix, existing.status().message());
    for (const auto& o : existing.value()) {
      if (!o.key.ends_with(".parquet") || ours.count(o.key) || has_hidden_part(o.key)) continue;
      const std::string rel = o.key.substr(table_prefix.size());
      table::DataFile d;
      d.path = table::encode_path(rel);
      d.partition_values = {{"Country", hive::value_in_path(rel, "Country")},
                            {"InvoiceDateOnly", hive::value_in_path(rel, "InvoiceDateOnly")}};
      d.size = o.size;
      d.modification_time = o.mtime_ms;
      first_actions.push_back(table::add_action(d, true));
    }
  }
  table::DeltaLog log(lake_store_.get(), opt_.table);
  auto committed = log.Commit(
      &snap_, actions,
      [&](const std::vector<table::LogCommit>&, const table::Snapshot& now_snap) -> Status {
        if (now_snap.txn_version(app) >= batch)
          return Status::Errorf("another etl committed batch {} of table {} first", batch, opt_.table);
        return Status::OK();
      },
      [&] { return first_actions; });
  if (!committed.ok()) {
    if (snap_.txn_version(app) >= batch) {
      // Lost to another writer of the same batch: this run's files must go.
      ORDERLAKE_RETURN_IF_ERROR(RollBack(journal));
      ORDERLAKE_RETURN_IF_ERROR(lake_store_->Delete(jkey));
    }
    return Status::Errorf("cannot commit to {}/{}: {}", opt_.lake, opt_.table, committed.status().message());
  }
  sum_.version = committed.value();
  spdlog::debug("etl: committed version {} at {:.3f} s", sum_.version, Elapsed());
  crash_point("before_bookmark");
  summary = sum_.to_json();
  ORDERLAKE_RETURN_IF_ERROR(lake_store_->Put(MetaKey("runs/" + sum_.run_id + ".json"), summary.dump(2)));
  if (legacy_bookmark_ || snap_.version - cache_version_ >= kBookmarkEvery) {
    Bookmark merged = bm;
    for (auto& [k, v] : update) merged[k] = v;
    json cache = bookmark_to_json(merged);
    cache["version"] = 2;
    cache["delta_version"] = snap_.version;
    cache["txn_version"] = batch;
    ORDERLAKE_RETURN_IF_ERROR(lake_store_->Put(MetaKey("bookmark.json"), cache.dump(1)));
  }
  return lake_store_->Delete(jkey);
}

Result<RunSummary> Job::Run() {
  start_ = std::chrono::steady_clock::now();
  auto in = store::Open(opt_.input);
  if (!in.ok()) return Status::Errorf("input {}: {}", opt_.input, in.status().message());
  input_store_ = std::move(in).value();
  auto lk = store::Open(opt_.lake);
  if (!lk.ok()) return Status::Errorf("lake {}: {}", opt_.lake, lk.status().message());
  lake_store_ = std::move(lk).value();
  input_ = stdfs::path(input_store_->local_root());
  sum_.input = opt_.input;
  sum_.lake = opt_.lake;
  sum_.table = opt_.table;

  std::error_code ec;
  if (!input_store_->local_root().empty() && !stdfs::is_directory(input_, ec))
    return Status::Errorf("input directory {} does not exist", opt_.input);
  // One etl per table: a lock file beside a local lake; for a lake in S3 a lock file in
  // this machine's cache (the commit protocol keeps etls on different machines from
  // committing one batch twice).
  stdfs::path lock_path;
  if (!lake_store_->local_root().empty()) {
    local_lake_ = stdfs::path(lake_store_->local_root());
    stage_ = local_lake_ / "_orderlake" / opt_.table / "staging";
    ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(local_lake_ / opt_.table));
    lock_path = local_lake_ / "_orderlake" / opt_.table / "lock";
  } else {
    const std::string id = sha256_hex(lake_store_->url() + "\n" + opt_.table).substr(0, 16);
    stage_ = fs::cache_dir() / "staging" / id;
    lock_path = fs::cache_dir() / "locks" / (id + ".lock");
  }
  ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(lock_path.parent_path()));
  auto lock = fs::FileLock::Acquire(lock_path, fmt::format("table {} in lake {}", opt_.table, opt_.lake));
  if (!lock.ok()) return lock.status();
  Bookmark bm;
  {
    Status st = LoadState(&bm);
    if (!st.ok()) return Status::Errorf("lake {}: {}", opt_.lake, st.message());
  }
  {
    Status st = Recover();
    if (!st.ok()) return Status::Errorf("lake {}: {}", opt_.lake, st.message());
  }
  ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(stage_));
  sum_.version = snap_.version;

  ORDERLAKE_RETURN_IF_ERROR(ListObjects(bm));
  if (objects_.empty()) {
    sum_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    return sum_;
  }
  sum_.run_id = clock::time_ordered_id();
  Status st = ProcessAll();
  if (!st.ok()) return st;
  for (auto& w : workers_) {
    const Counters& c = w->counts;
    sum_.records += c.records;
    sum_.empty_lines += c.empty;
    sum_.kept += c.kept;
    for (int i = 0; i < static_cast<int>(Filter::kCount); ++i)
      if (c.filtered[i]) sum_.filtered[std::string(filter_name(static_cast<Filter>(i)))] += c.filtered[i];
    for (int i = 0; i < static_cast<int>(Reject::kCount); ++i)
      if (c.rejected[i]) sum_.quarantined[std::string(reject_name(static_cast<Reject>(i)))] += c.rejected[i];
  }
  sum_.input_bytes = bytes_read_.load();
  sum_.files = staged_.size();
  std::set<std::string> dirs;
  for (auto& f : staged_) dirs.insert(stdfs::path(f.final).parent_path().string());
  sum_.partitions = dirs.size();
  sum_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  st = Publish(bm);
  if (!st.ok()) return st;
  if (local_lake_.empty()) stdfs::remove_all(stage_, ec);
  sum_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return sum_;
}

}  // namespace

Result<RunSummary> run_etl(const EtlOptions& options) {
  Job job(options);
  return job.Run();
}

void follow_etl(const EtlOptions& options, int interval_ms, const std::atomic<bool>& stop,
                const std::function<void(const RunSummary&)>& on_run,
                const std::function<void(const Status&)>& on_error, Wakeup* wakeup,
                const std::function<void(const RunSummary&)>& on_nothing_new) {
  while (!stop.load()) {
    auto r = run_etl(options);
    if (!r.ok()) on_error(r.status());
    else if (!r->run_id.empty()) on_run(r.value());
    else if (on_nothing_new) on_nothing_new(r.value());
    if (wakeup && r.ok()) {
      wakeup->WaitFor(std::chrono::milliseconds(interval_ms), stop);
    } else {
      for (int waited = 0; waited < interval_ms && !stop.load(); waited += 20)
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(20, interval_ms - waited)));
    }
  }
}

}  // namespace orderlake::etl
