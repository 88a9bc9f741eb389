// Durable checkpoints: for each flow and each file it reads, the file's identity and the
// offset below which every record was acknowledged by the delivery stream. The store is
// rewritten with fs::write_file_atomic (never torn); an offset only moves forward after the
// acknowledgement, so a crash at any moment resends at most the unacknowledged tail.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace orderlake::agent {

// What identifies a file across renames: device, inode and a hash of its first bytes
// (fixed when the file is first seen, so appends do not change it).
struct FileIdentity {
  uint64_t dev = 0, ino = 0;
  uint32_t fp_len = 0;   // bytes hashed
  uint64_t fp_hash = 0;  // first 8 bytes of SHA-256 of those bytes
  // "dev:inode:len-hash": the source id sent in X-Orderlake-Batch.
  std::string source_id() const;
  // The identity a source id names; nullopt if `id` is not one.
  static std::optional<FileIdentity> FromSourceId(std::string_view id);
  bool operator==(const FileIdentity&) const = default;
};

struct CheckpointEntry {
  std::string flow;
  FileIdentity id;
  std::string path;   // last known path, for people reading the file
  uint64_t offset = 0;
  bool retired = false;        // the tailer finished with the file (rotated away / deleted)
  uint64_t retire_offset = 0;  // the entry goes once offset reaches this
};

class CheckpointStore {
 public:
  // Loads the store (a missing file is an empty store; a corrupt one is an error).
  static Result<std::unique_ptr<CheckpointStore>> Open(const std::filesystem::path& path);

  std::vector<CheckpointEntry> entries(const std::string& flow) const;
  // Records that every byte of the file below `offset` is acknowledged.
  void ack(const std::string& flow, const FileIdentity& id, const std::string& path, uint64_t offset);
  // Creates the entry if missing without moving an existing offset (a file first seen).
  void track(const std::string& flow, const FileIdentity& id, const std::string& path, uint64_t offset);
  // The tailer will read no more of this file; drop the entry once `final_offset` is acked.
  void retire(const std::string& flow, const FileIdentity& id, uint64_t final_offset);
  void forget(const std::string& flow, const FileIdentity& id);
  uint64_t acked(const std::string& flow, const FileIdentity& id) const;

  // Notes, before a batch is sent, the byte range it covers, in <checkpoint>.inflight (a plain
  // write: it survives a kill of the process, not of the machine). After a restart the
  // reader cuts the first batches of a file at the same ends, so a batch the service may
  // already hold is replayed byte for byte, with the same token, and orderlake's Firehose
  // drops it instead of storing it twice.
  void begin_send(const std::string& flow, const FileIdentity& id, uint64_t start, uint64_t end);
  // Batch ends noted before the last stop and not covered by the checkpoint, by source id.
  std::map<std::string, std::vector<uint64_t>> planned_ends(const std::string& flow) const;

  // Writes the store if it changed since the last write.
  Status flush();
  ~CheckpointStore();
  const std::filesystem::path& path() const { return path_; }

 private:
  explicit CheckpointStore(std::filesystem::path p) : path_(std::move(p)) {}
  static std::string key(const std::string& flow, const FileIdentity& id) { return flow + "|" + id.source_id(); }
  void maybe_drop(const std::string& k);

  std::filesystem::path path_;
  mutable std::mutex mu_;
  std::map<std::string, CheckpointEntry> entries_;
  uint64_t version_ = 0, written_version_ = 0;
  std::mutex write_mu_;
  // In-flight ranges: key → set of ends not yet acknowledged; the journal file.
  std::map<std::string, std::map<uint64_t, uint64_t>> inflight_;  // key → end → start
  std::map<std::string, std::vector<uint64_t>> planned_;           // key → ends, from the last run
  int inflight_fd_ = -1;
  uint64_t inflight_bytes_ = 0;
};

}  // namespace orderlake::agent
