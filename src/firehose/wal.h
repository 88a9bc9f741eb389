// The Firehose write-ahead log: an append-only sequence of segment files under one
// directory. An entry is framed as [u32 length][u32 crc32(payload)][payload] (little endian);
// a torn or corrupt tail ends a segment on replay. Appends are group-committed: one flusher
// thread writes everything appended since its last pass and fdatasyncs once, and callers
// wait until the durable position passes their entry. Each segment remembers, per stream,
// the highest sequence number it holds, so a segment whose records are all delivered can be
// deleted (Release). Replay always starts a fresh segment afterwards, so a torn tail is never
// followed by new data in the same file.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/status.h"

namespace orderlake::firehose {

class Wal {
 public:
  // What a replayed entry contributes to its segment's bookkeeping.
  struct EntryInfo {
    uint64_t stream_id = 0;
    uint64_t last_seq = 0;
  };
  using ReplayFn = std::function<EntryInfo(std::string_view payload)>;

  // Opens (creating) `dir`, replays every valid entry of the existing segments in order
  // through `replay`, then starts a new segment and the flusher thread.
  static Result<std::unique_ptr<Wal>> Open(const std::filesystem::path& dir, uint64_t segment_bytes,
                                           const ReplayFn& replay);
  ~Wal();
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  // Appends one entry (not yet durable) and returns its log position. `encode` writes the
  // payload into the buffer it is given (appending); it runs under the log's lock, so the
  // caller can assign sequence numbers there and they are in log order.
  uint64_t Append(uint64_t stream_id, uint64_t last_seq,
                  const std::function<void(std::string& out)>& encode);
  // Blocks until the entry at `lsn` is on disk; false if a write failed meanwhile or is
  // failing now (the entry stays queued and is written once the disk accepts it again), or
  // the log gave up (the segment could not be cut back after a failed write).
  bool WaitDurable(uint64_t lsn);
  uint64_t durable_lsn() const;
  // Deletes closed segments whose every (stream, max seq) satisfies `delivered`.
  void Release(const std::function<bool(uint64_t stream_id, uint64_t max_seq)>& delivered);
  uint64_t disk_bytes() const;
  // Called (from the flusher thread, without the log's lock) after each durable advance.
  void set_on_durable(std::function<void()> fn) { on_durable_ = std::move(fn); }
  size_t segment_count() const;

 private:
  struct Segment {
    uint64_t number = 0;
    std::filesystem::path path;
    uint64_t bytes = 0;
    std::map<uint64_t, uint64_t> max_seq;  // stream id -> highest seq in the segment
  };
  Wal() = default;
  Status OpenNewSegment();  // under mu_ or before the flusher starts
  void FlusherLoop();
  bool Recover(const Status& error, std::string& buf, std::map<uint64_t, uint64_t>& maxes);

  std::filesystem::path dir_;
  uint64_t segment_bytes_ = 64 << 20;
  mutable std::mutex mu_;
  std::condition_variable durable_cv_, work_cv_;
  std::string pending_;
  std::map<uint64_t, uint64_t> pending_max_;
  uint64_t appended_lsn_ = 0, durable_lsn_ = 0;
  bool stop_ = false, failed_ = false;
  bool failing_ = false;   // the last write or sync failed; retried every 200 ms
  uint64_t failures_ = 0;  // failed writes since start
  std::vector<Segment> segments_;  // closed ones, then the current one last
  int fd_ = -1;
  std::function<void()> on_durable_;
  std::thread flusher_;
};

// crc32 (zlib's polynomial) of a byte range.
uint32_t wal_crc(std::string_view data);

}  // namespace orderlake::firehose
