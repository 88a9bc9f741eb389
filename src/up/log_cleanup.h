// The log files `orderlake up` generates itself (<data-dir>/logs/orders-*.log) are the
// source of the raw objects; once the agent delivered one whole they are kept as long as
// the raw objects (--raw-retention) and then deleted, so a pipeline left running does not
// fill the disk with them. Logs the user brings (--logs) are never touched.
#pragma once
#include <cstdint>
#include <filesystem>
#include <vector>

#include "agent/checkpoint.h"

namespace orderlake::up {

// Deletes the files of `dir` that the agent delivered whole and no one writes to any more:
// not the newest *.log (the generator may still append to it), an acknowledged offset
// (from `acked`, for the same device and inode) that reached the file's size, and a
// modification time more than `retention_ms` before `now_ms`. retention_ms 0 keeps every
// file. Returns how many were deleted; a file that cannot be deleted is left for next time.
size_t clean_delivered_logs(const std::filesystem::path& dir, const std::vector<agent::CheckpointEntry>& acked,
                            int64_t retention_ms, int64_t now_ms);

}  // namespace orderlake::up
