#include "dashboard/snapshot.h"

#include <algorithm>
#include <ctime>
#include <fstream>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include <spdlog/spdlog.h>

#include "core/clock.h"
#include "etl/runs.h"
#include "store/object_store.h"
#include "table/delta.h"

namespace orderlake::dashboard {
namespace fs = std::filesystem;

std::string IsoUtc(int64_t ms) {
  if (ms <= 0) return "";
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

nlohmann::json TableVersion::ToJson() const {
  return {{"version", version},
          {"run_id", last_run_id},
          {"runs", runs},
          {"published_at", published_ms ? nlohmann::json(IsoUtc(published_ms)) : nlohmann::json(nullptr)},
          {"seen_at", IsoUtc(seen_ms)},
          {"in_flux", in_flux}};
}

namespace {

struct Listing {
  std::vector<std::string> names;
  int64_t newest_ms = 0;
};

// Visible *.json files of a directory, sorted (a missing directory lists as empty).
Listing List(const fs::path& dir, bool with_times) {
  Listing l;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.' || name.size() < 6 || name.substr(name.size() - 5) != ".json") continue;
    if (with_times) {
      std::error_code tec;
      auto t = fs::last_write_time(it->path(), tec);
      if (!tec) {
        auto sys = std::chrono::file_clock::to_sys(t);
        l.newest_ms = std::max<int64_t>(
            l.newest_ms, std::chrono::duration_cast<std::chrono::milliseconds>(sys.time_since_epoch()).count());
      }
    }
    l.names.push_back(name.substr(0, name.size() - 5));
  }
  std::sort(l.names.begin(), l.names.end());
  return l;
}

// The published runs: every run the table ever committed, the roll-up's (etl/runs.h: run
// records older than the runs retention are folded into runs_rollup.json and deleted) plus
// the records after it. `runs` is the listing of the run records.
struct RunCount {
  uint64_t runs = 0;
  std::string last_run_id;
};
RunCount CountRuns(const fs::path& lake, const std::string& table, const Listing& runs) {
  RunCount c;
  std::string folded_through;
  auto store = store::OpenLocal(lake.string());
  auto rollup = etl::ReadRollup(store.get(), table);
  if (rollup.ok()) {
    c.runs = rollup->totals.runs;
    folded_through = rollup->folded_through;
    c.last_run_id = folded_through;
  } else {
    spdlog::warn("dashboard: {}: counting the recent runs only", rollup.status().message());
  }
  for (const auto& id : runs.names) {
    if (etl::RunIdTimeMs(id) >= 0 && id <= folded_through) continue;  // in the roll-up (not yet deleted)
    ++c.runs;
    c.last_run_id = std::max(c.last_run_id, id);
  }
  return c;
}

// A new table version, seen now: the change token and the published runs it was seen with.
void advance(TableVersion& v, const std::string& token, const RunCount& runs) {
  v.version += 1;
  v.token = token;
  v.runs = runs.runs;
  v.last_run_id = runs.last_run_id;
  v.seen_ms = clock::unix_ms();
}

}  // namespace

TableWatcher::TableWatcher(fs::path lake, std::string table, std::chrono::milliseconds poll)
    : lake_(lake),
      table_(table),
      runs_dir_(lake / "_orderlake" / table / "runs"),
      pending_dir_(lake / "_orderlake" / table / "pending"),
      log_dir_(lake / table / "_delta_log"),
      poll_(poll) {}

int64_t TableWatcher::NewestCommit(int64_t* commit_ms) {
  std::error_code ec;
  auto commit = [&](int64_t v) { return log_dir_.parent_path() / table::commit_key(v); };
  if (log_version_ < 0) {
    // First look: from the last checkpoint when there is one (the log before it may be
    // gone, and need not be listed), else list the log once; then follow it commit by
    // commit (commits cleaned up behind us do not matter).
    std::ifstream in(log_dir_ / "_last_checkpoint");
    nlohmann::json last = in.is_open() ? nlohmann::json::parse(in, nullptr, false) : nlohmann::json();
    if (last.is_object() && last.contains("version") && last["version"].is_number_integer())
      log_version_ = last["version"].get<int64_t>();
    else
      for (fs::directory_iterator it(log_dir_, ec), end; !ec && it != end; it.increment(ec))
        log_version_ = std::max(log_version_, table::version_of_key(it->path().filename().string()));
  }
  while (fs::exists(commit(log_version_ + 1), ec)) ++log_version_;
  if (commit_ms && log_version_ >= 0) {
    auto t = fs::last_write_time(commit(log_version_), ec);
    if (!ec)
      *commit_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::file_clock::to_sys(t).time_since_epoch())
                       .count();
  }
  return log_version_;
}

TableWatcher::~TableWatcher() { Stop(); }

void TableWatcher::Start() {
  Rescan();
  thread_ = std::thread([this] { Loop(); });
}

void TableWatcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool TableWatcher::stopping() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stop_;
}

TableVersion TableWatcher::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

TableVersion TableWatcher::Rescan() {
  std::error_code ec;
  if (fs::exists(log_dir_, ec)) {
    // A Delta table: its version is the newest commit, and a commit is atomic.
    int64_t commit_ms = 0;
    int64_t v;
    {
      std::lock_guard<std::mutex> scan(scan_mu_);
      v = NewestCommit(&commit_ms);
    }
    const std::string token = fmt::format("delta:{}", v);
    bool changed = false;
    TableVersion out;
    {
      std::lock_guard<std::mutex> lock(mu_);
      changed = token != current_.token || current_.version == 0;
    }
    RunCount runs;
    if (changed) runs = CountRuns(lake_, table_, List(runs_dir_, false));  // only on change (bounded by the runs retention)
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (changed) {
        advance(current_, token, runs);
        current_.published_ms = commit_ms;
      }
      current_.in_flux = false;
      out = current_;
    }
    if (changed) cv_.notify_all();
    return out;
  }
  Listing listed = List(runs_dir_, false);
  Listing pending = List(pending_dir_, false);
  std::string token = fmt::format("runs:{}|pending:{}", fmt::join(listed.names, ","), fmt::join(pending.names, ","));
  std::string pending_token = fmt::format("{}", fmt::join(pending.names, ","));
  auto now = std::chrono::steady_clock::now();
  bool changed = false;
  TableVersion out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_token != pending_seen_) {
      pending_seen_ = pending_token;
      pending_since_ = now;
    }
    bool in_flux = !pending.names.empty() && now - pending_since_ < kSettledAfter;
    if (token != current_.token || current_.version == 0) {
      changed = true;
      advance(current_, token, CountRuns(lake_, table_, listed));
    }
    current_.in_flux = in_flux;
    out = current_;
  }
  if (changed) {
    // The publish time: the newest run summary's modification time (listed only on change).
    Listing timed = List(runs_dir_, true);
    std::lock_guard<std::mutex> lock(mu_);
    if (current_.version == out.version) current_.published_ms = timed.newest_ms;
    out = current_;
  }
  if (changed) cv_.notify_all();
  return out;
}

TableVersion TableWatcher::WaitForChange(uint64_t seen, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return stop_ || current_.version != seen; });
  return current_;
}

void TableWatcher::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, poll_, [&] { return stop_; });
    if (stop_) break;
    lock.unlock();
    Rescan();
    lock.lock();
  }
}

std::shared_ptr<const Answer> AnswerCache::Get(uint64_t version, const std::string& key,
                                               const std::function<std::optional<Answer>()>& compute, bool* hit) {
  const std::string full = fmt::format("{}|{}", version, key);
  if (hit) *hit = false;
  std::promise<std::shared_ptr<const Answer>> promise;
  {
    std::unique_lock<std::mutex> lock(mu_);
    auto it = entries_.find(full);
    if (it != entries_.end()) {
      Future f = it->second.second;
      ++hits_;
      lock.unlock();
      auto a = f.get();  // waits while another request computes it
      if (a && hit) *hit = true;
      return a;          // nullptr: that request could not store it; the caller tries again
    }
    ++misses_;
    entries_.emplace(full, std::make_pair(version, promise.get_future().share()));
  }
  std::optional<Answer> computed;
  try {
    computed = compute();
  } catch (...) {
    computed.reset();
  }
  std::shared_ptr<const Answer> answer;
  if (computed) answer = std::make_shared<const Answer>(std::move(*computed));
  const bool store = answer && answer->status == 200 && answer->cacheable;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!store) {
      entries_.erase(full);
    } else if (version > newest_version_) {
      newest_version_ = version;
      for (auto e = entries_.begin(); e != entries_.end();) {
        if (e->second.first < version && e->first != full)
          e = entries_.erase(e);
        else
          ++e;
      }
    }
    if (entries_.size() > max_entries_) {
      // Bounded: drop every finished entry but this one.
      for (auto e = entries_.begin(); e != entries_.end();) {
        bool ready = e->second.second.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
        if (ready && e->first != full)
          e = entries_.erase(e);
        else
          ++e;
      }
    }
  }
  promise.set_value(store ? answer : nullptr);
  return answer;
}

size_t AnswerCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}
uint64_t AnswerCache::hits() const { return hits_.load(std::memory_order_relaxed); }
uint64_t AnswerCache::misses() const { return misses_.load(std::memory_order_relaxed); }

}  // namespace orderlake::dashboard
