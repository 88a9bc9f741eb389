// Small file-system helpers with the durability rules every stage follows: a file is
// published by writing a temporary, syncing it, renaming it into place and syncing the
// directory, so a reader sees the old file or the new one, never a torn one.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>

#include "core/status.h"

namespace orderlake::fs {

Result<std::string> read_file(const std::filesystem::path& path);
// How write_file_atomic names its temporary: unique per call (writers may race), or the
// fixed ".<name>.tmp", so a write redone after a crash reuses and replaces the temporary the
// crashed one left instead of leaving it behind (one writer per path).
enum class TempName { kUnique, kFixed };
// Writes `data` to a temporary beside `path`, fsyncs it, renames it over `path`, and fsyncs
// the directory and every directory created on the way, so the file survives a crash.
Status write_file_atomic(const std::filesystem::path& path, std::string_view data,
                         TempName temp = TempName::kUnique);
Status fsync_path(const std::filesystem::path& path);  // a file or a directory
// Flushes every dirty page of the file system holding `path` (one call for many files).
Status sync_filesystem(const std::filesystem::path& path);
Status create_directories(const std::filesystem::path& path);
// A human-readable size: "1.5 MiB".
std::string human_bytes(double bytes);
// orderlake's cache directory: $XDG_CACHE_HOME/orderlake, else ~/.cache/orderlake (not
// created here).
std::filesystem::path cache_dir();

// An exclusive advisory lock (flock) on a lock file, held while the object lives.
class FileLock {
 public:
  // Fails with a clear message when another process holds the lock.
  static Result<FileLock> Acquire(const std::filesystem::path& path, std::string_view what);
  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace orderlake::fs
