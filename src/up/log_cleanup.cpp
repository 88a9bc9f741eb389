#include "up/log_cleanup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>

#include "core/log.h"

namespace orderlake::up {
namespace stdfs = std::filesystem;

size_t clean_delivered_logs(const stdfs::path& dir, const std::vector<agent::CheckpointEntry>& acked,
                            int64_t retention_ms, int64_t now_ms) {
  if (retention_ms <= 0) return 0;
  std::map<std::pair<uint64_t, uint64_t>, uint64_t> offset;  // (dev, inode) -> acknowledged bytes
  for (const auto& e : acked) {
    uint64_t& o = offset[{e.id.dev, e.id.ino}];
    o = std::max(o, e.offset);
  }
  std::vector<std::string> logs;
  std::error_code ec;
  for (stdfs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".log") logs.push_back(it->path().filename().string());
  std::sort(logs.begin(), logs.end());  // names sort in creation order (generate/run.h)
  if (!logs.empty()) logs.pop_back();   // the newest one may still grow
  size_t deleted = 0;
  for (const auto& name : logs) {
    const stdfs::path p = dir / name;
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    auto it = offset.find({static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)});
    if (it == offset.end() || it->second < static_cast<uint64_t>(st.st_size)) continue;
    const int64_t mtime_ms = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
    if (now_ms - mtime_ms <= retention_ms) continue;
    if (::unlink(p.c_str()) == 0) {
      ++deleted;
      spdlog::debug("up: deleted {} (delivered, older than the raw retention)", p.string());
    }
  }
  return deleted;
}

}  // namespace orderlake::up
