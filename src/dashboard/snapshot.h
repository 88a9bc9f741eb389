// Table versions and the answer cache.
//
// TableWatcher: for a Delta table (<lake>/<table>/_delta_log/), the table's version follows
// the newest commit: it starts from _last_checkpoint (or, without one, lists the log once),
// then the next commit file is looked for every `poll`; a commit is atomic, so the table is
// never "in flux", and old commits cleaned up by log retention are never looked at. For a lake written before
// the log existed, the table's version is the set of published runs
// (<lake>/_orderlake/<table>/runs/*.json) plus the set of runs being published
// (<lake>/_orderlake/<table>/pending/*.json, the etl's journals). A background thread lists
// both every `poll` (250 ms by default); when the listing changes, the version number goes
// up by one and waiters (the server-sent events stream) are woken. Rescan() lists at once.
// While a journal is pending, files of that run are appearing: the table is "in flux" and
// answers are not cached (a journal left by an etl that died stays pending; after
// kSettledAfter without change it is treated as settled).
//
// AnswerCache: finished answers keyed by (version, endpoint, filters). Concurrent requests
// for the same key compute once and share the answer (single flight). Entries of older
// versions are dropped when a newer version's answer is stored.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

namespace orderlake::dashboard {

struct TableVersion {
  uint64_t version = 0;     // 1 on the first listing, +1 on every change
  std::string token;        // the listing itself (runs and pending journals)
  std::string last_run_id;  // newest published run ("" when none)
  uint64_t runs = 0;        // published runs, since the table began: the etl's roll-up of old run records plus the recent records
  int64_t published_ms = 0;  // newest run summary's modification time (Unix ms; 0 when none)
  bool in_flux = false;     // a run is being published right now
  int64_t seen_ms = 0;      // when this version was first seen (Unix ms)

  nlohmann::json ToJson() const;  // {version, run_id, runs, published_at, seen_at, in_flux}
};

class TableWatcher {
 public:
  static constexpr std::chrono::milliseconds kSettledAfter{5000};

  TableWatcher(std::filesystem::path lake, std::string table, std::chrono::milliseconds poll);
  ~TableWatcher();  // stops the thread
  TableWatcher(const TableWatcher&) = delete;
  TableWatcher& operator=(const TableWatcher&) = delete;

  void Start();
  void Stop();
  TableVersion Current() const;
  TableVersion Rescan();  // lists now, updates the current version
  // Blocks until the version differs from `seen`, the timeout passes, or Stop(); returns
  // the current version.
  TableVersion WaitForChange(uint64_t seen, std::chrono::milliseconds timeout) const;
  bool stopping() const;

 private:
  void Loop();
  int64_t NewestCommit(int64_t* commit_ms);  // -1 when the log has no commit yet
  std::filesystem::path lake_;
  std::string table_;
  std::filesystem::path runs_dir_, pending_dir_, log_dir_;
  std::mutex scan_mu_;        // one log scan at a time
  int64_t log_version_ = -1;  // newest commit seen (under scan_mu_)
  std::chrono::milliseconds poll_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  TableVersion current_;
  std::chrono::steady_clock::time_point pending_since_{};
  std::string pending_seen_;
  bool stop_ = false;
  std::thread thread_;
};

// One cached answer: an HTTP status and the JSON body.
struct Answer {
  int status = 200;
  std::string body;
  uint64_t version = 0;
  bool cacheable = true;  // false: give it to this request only
};

class AnswerCache {
 public:
  explicit AnswerCache(size_t max_entries = 2048) : max_entries_(max_entries) {}

  // The answer for `key` at `version`: from the cache (hit = true), or computed by
  // `compute`. Only 200 answers marked cacheable are kept. nullptr when `compute` (or the
  // request this one waited for) returned nullopt: the table changed meanwhile, and the
  // caller should look at the version again and retry.
  std::shared_ptr<const Answer> Get(uint64_t version, const std::string& key,
                                    const std::function<std::optional<Answer>()>& compute, bool* hit);

  size_t size() const;
  uint64_t hits() const;
  uint64_t misses() const;

 private:
  using Future = std::shared_future<std::shared_ptr<const Answer>>;
  mutable std::mutex mu_;
  std::map<std::string, std::pair<uint64_t, Future>> entries_;
  size_t max_entries_;
  uint64_t newest_version_ = 0;
  std::atomic<uint64_t> hits_{0}, misses_{0};  // read without the lock (metrics)
};

// Milliseconds since the Unix epoch as ISO 8601 UTC text ("2026-01-02T03:04:05.678Z").
std::string IsoUtc(int64_t unix_ms);

}  // namespace orderlake::dashboard
