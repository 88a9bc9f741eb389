// The etl job's pieces shared by its source files (private to src/etl/). One run is a Job:
//   job.cpp          the run from start to end (Job::Run), run_etl and follow_etl;
//   job_recover.cpp  the bookmark and table state (LoadState), rolling back a dead run;
//   job_read.cpp     discovery of new raw objects and reading them into column buffers;
//   job_write.cpp    the buffers of one segment into staged Parquet files;
//   job_publish.cpp  journal, files into place, and the commit that makes a run visible.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "etl/columns.h"
#include "etl/job.h"
#include "etl/reader.h"
#include "store/object_store.h"
#include "table/delta.h"

namespace orderlake::etl::internal {
namespace stdfs = std::filesystem;
using json = nlohmann::json;

// Fault injection for the crash tests: ORDERLAKE_CRASH_AT=<point> ends the process there
// as abruptly as kill -9 would.
void crash_point(std::string_view point);

// ---- Bookmark: which raw objects earlier runs processed, and how far.
struct BookmarkEntry {
  uint64_t size = 0, offset = 0, lines = 0;
  std::string run;
};
using Bookmark = std::map<std::string, BookmarkEntry>;

json bookmark_to_json(const Bookmark& b);
Result<Bookmark> bookmark_from_json(const json& j, const std::string& where);

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

struct StagedFile {
  std::string final;  // relative to the lake, and to the staging directory while staged
  uint64_t rows = 0;
  uint64_t size = 0;
  std::optional<std::string> country, date;  // partition values (nullopt: Hive's default partition)
  std::string stats;                          // Delta statistics (JSON)
};

// Hidden, staging and metadata entries (a '.' or '_' at the start of any part of the key)
// are not input.
bool has_hidden_part(std::string_view key);
// Parses one chunk of records into the worker's buffers (and its quarantine lines).
void process_chunk(Worker& w, const Chunk& c, const ObjectInfo& obj, const TransformConfig& cfg);
// The table's schema in the Delta log: the file's columns, then the partition columns.
std::vector<std::pair<std::string, std::string>> delta_schema();
// Writes one partition's buffers (from every worker) as one Parquet file, staged below
// `stage` at the path it will have in the lake.
Status write_partition(const stdfs::path& stage, const std::string& table, const std::vector<PartitionBuf*>& parts,
                       const std::string& file_name, size_t row_group_rows, StagedFile* out);

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
  Status StageQuarantine(std::vector<StagedFile>* all);
  Bookmark RunBookmark() const;
  Status MoveIntoPlace(const std::vector<StagedFile>& all);
  Result<std::vector<json>> FirstCommitActions(const std::set<std::string>& ours);
  Status Commit(const std::vector<StagedFile>& all, const Bookmark& update, int64_t batch, const json& journal,
                const std::string& journal_key);
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

}  // namespace orderlake::etl::internal
