// The etl job's pieces shared by its source files (private to src/etl/). One run is a Job:
//   job.cpp          the run from start to end (Job::Run), run_etl and follow_etl;
//   job_recover.cpp  the bookmark and table state (LoadState), rolling back a dead run;
//   job_read.cpp     discovery of new raw objects and reading them into column buffers;
//   job_write.cpp    the buffers of one segment, as row groups, into staged Parquet files;
//   job_publish.cpp  journal, files into place, and the commit that makes a run visible.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
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

#include "core/parquet_writer.h"
#include "etl/columns.h"
#include "etl/discovery.h"
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

// ---- Bookmark: which raw objects earlier runs processed, and how far. For an input in the
// Firehose layout it names only the objects of the look-back window (DiscoveryState says
// which are taken without an entry); for any other input, every object ever read.
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
// An OutputSink on a file that holds no descriptor between flushes: it is opened on the
// first Append after Close() and closed by Close(), so a run with thousands of partitions
// does not hold thousands of descriptors. position() counts every byte appended.
class PathSink final : public parquet::OutputSink {
 public:
  explicit PathSink(stdfs::path path) : path_(std::move(path)) {}
  ~PathSink() override;
  Status Append(std::string_view data) override;
  uint64_t position() const override { return written_ + buf_.size(); }
  Status Flush() override;
  // Flushes, optionally fsyncs, and closes the descriptor.
  Status Close(bool sync = false);
  const stdfs::path& path() const { return path_; }

 private:
  Status Open();
  Status WriteAll(const char* p, size_t n);
  stdfs::path path_;
  int fd_ = -1;
  bool created_ = false;
  std::string buf_;
  uint64_t written_ = 0;
};

// The Delta statistics of a file, accumulated over the row groups written to it:
// numRecords, and per column min, max and nullCount (no column is ever null). Strings
// longer than 32 bytes get no min/max, as Delta writers truncate them and a truncated max
// needs care no reader here would use.
class FileStats {
 public:
  void Add(const OrderColumns& c);
  std::string Json(uint64_t rows) const;

 private:
  static constexpr int kInts = 3, kDoubles = 3, kStrings = 5;
  std::optional<int32_t> ilo_[kInts], ihi_[kInts];
  std::optional<double> dlo_[kDoubles], dhi_[kDoubles];
  std::optional<std::string> slo_[kStrings], shi_[kStrings];
};

// The open Parquet file of one partition: buffers are appended to it as row groups while
// the run reads, and it is finished (footer, fsync) at the end of the run or once it holds
// half the run's memory budget of rows: a staged file is read whole to be uploaded to a
// lake in S3, and that stays within the budget.
struct PartWriter {
  std::string country;
  int32_t days = 0;
  std::unique_ptr<PathSink> sink;
  std::unique_ptr<parquet::FileWriter> writer;
  StagedFile file;
  FileStats stats;
  uint64_t buffered_bytes = 0;      // column bytes written to the open file
  std::vector<StagedFile> finished;  // files of this partition done in this run
};

// Appends one partition's buffers (from every worker) to its open file, opening one below
// `stage` (at the path it will have in the lake) when none is; finishes the file when it
// has taken `max_file_bytes` of buffers, or when `finish` says so.
Status append_partition(const stdfs::path& stage, const std::string& table, const std::vector<PartitionBuf*>& parts,
                        const std::function<std::string()>& file_name, size_t row_group_rows, size_t max_file_bytes,
                        PartWriter* pw);
// Finishes the open file of `pw`, if any, into pw->finished.
Status finish_partition(const stdfs::path& stage, PartWriter* pw);

class Job {
 public:
  explicit Job(const EtlOptions& o) : opt_(o) {}
  Result<RunSummary> Run();

 private:
  Status LoadState(Bookmark* bm);
  Status Recover();
  Status RollBack(const json& journal);
  // Discovery (job_read.cpp): a full or an incremental listing, then each listed object
  // compared with the bookmark.
  Status ListObjects(Bookmark& bm);
  Result<std::vector<store::ObjectInfo>> ListFull();
  Result<std::vector<store::ObjectInfo>> ListIncremental();
  // named_by_events: the objects come from new delivery events, which prove them new: one
  // keyed before the window start (a late delivery) is read, not taken as read.
  void Classify(std::vector<store::ObjectInfo> listed, const Bookmark& bm, bool named_by_events = false);
  // Notification discovery (notifications.cpp): the objects the new events name; after
  // the commit of the cursor, the consumed events deleted.
  Result<std::vector<store::ObjectInfo>> ReadEvents(bool* has_log);
  void TrimEvents();
  // The cursor to commit with this run (commitInfo "events"), when events were read and
  // every object of the run was read whole (else the events are read again next run).
  std::optional<json> EventsToCommit() const;
  // Drops the entries of objects the window closed (job_recover.cpp).
  void PruneBookmark(Bookmark* bm, int64_t now_ms);
  // Writes bookmark.json: `bm` with `update` merged, as of the log version the etl has read.
  Status SaveBookmark(const Bookmark& bm, const Bookmark& update, int64_t batch);
  bool BookmarkDue() const;
  // Raw retention (job_recover.cpp): deletes taken raw objects older than raw_retention_ms.
  Status CleanRaw();
  void CleanRawAfterRun();
  Status ProcessAll();
  // Writes buffered rows out as row groups: all of them when `final` (and finishes every
  // file), else the partitions whose buffers are big enough to make a good row group, and
  // the biggest others while more than half the memory budget is held.
  Status WriteSegment(bool final);
  Status SpillQuarantine();
  Status Publish(const Bookmark& bm);
  void KeepBooks();  // run records rolled up, quarantine expired (etl/runs.h), when due
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
  std::string QuarantineKey() const { return fmt::format("_quarantine/{}/{}.jsonl", opt_.table, sum_.run_id); }
  std::string MetaKey(std::string_view rel) const { return fmt::format("_orderlake/{}/{}", opt_.table, rel); }

  EtlOptions opt_;
  std::unique_ptr<store::ObjectStore> input_store_, lake_store_;
  stdfs::path input_;
  stdfs::path local_lake_;  // the lake's directory when it is local, else empty
  stdfs::path stage_;       // where files are written before they are published
  table::Snapshot snap_;    // the log as far as the etl needs it (versions, txn)
  int64_t cache_version_ = -1;  // the log version bookmark.json was written at
  bool legacy_bookmark_ = false;  // bookmark.json from before the table had a log
  DiscoveryState disc_;           // the mark, window and layout (as of the log version read)
  bool disc_dirty_ = false;       // bookmark.json is due: a full listing ran, or it is an older format
  int64_t min_layout_ms_ = -1;    // the earliest key time a full listing of this run saw
  RunSummary sum_;
  // Notification discovery: in use this run; the cursor after the events read; the event
  // keys read (new) and already committed (taken), for the trim; the cursor committed.
  bool events_mode_ = false;
  std::map<std::string, std::string> events_cursor_;
  std::vector<std::string> events_new_, events_taken_;
  bool events_committed_ = false;
  std::vector<ObjectInfo> objects_;
  // Per object, where reading ended; nullopt for an object that could not be opened (it is
  // left out of the bookmark and read again by the next run).
  std::vector<std::optional<BookmarkEntry>> done_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<StagedFile> staged_;
  std::map<std::string, std::unique_ptr<PartWriter>> writers_;  // by partition key
  std::atomic<int> file_seq_{0};
  size_t held_after_write_ = 0;   // bytes still buffered after the last WriteSegment
  bool quarantine_spilled_ = false;
  int segment_ = 0;
  uint64_t total_bytes_ = 0;
  std::atomic<uint64_t> bytes_read_{0};
  std::atomic<uint64_t> records_seen_{0};
  std::chrono::steady_clock::time_point start_;
};

// Buffered rows of a partition are written out as a row group once they take this much
// memory (or a quarter of the memory budget, when that is less); one segment of reading
// ends when this much more is buffered (or half the budget), so the etl holds about
// 2 x kRowGroupBytes of rows (plus what small partitions keep, at most half the budget) whatever the size of an object.
constexpr size_t kRowGroupBytes = size_t{32} << 20;

// The bookmark is bookmark.json (written every kBookmarkEvery commits, saying at which log
// version) plus the bookmark entries carried by the etl's commits after that version.
constexpr int64_t kBookmarkEvery = 32;
constexpr int kBookmarkVersion = 3;  // 3: with "discovery" (the mark and window), pruned entries
// Raw retention looks at most this many hour directories per run (bounded work per run).
constexpr int kRawHoursPerRun = 48;

}  // namespace orderlake::etl::internal
