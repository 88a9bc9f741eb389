// clean_delivered_logs: the generated logs `up` deletes are only those the agent delivered
// whole, no longer written, and older than the retention.
#include "up/log_cleanup.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "core/clock.h"
#include "test_util.h"

namespace orderlake::up {
namespace {
namespace stdfs = std::filesystem;

agent::CheckpointEntry acked(const stdfs::path& p, uint64_t offset) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0);
  agent::CheckpointEntry e;
  e.flow = "f";
  e.path = p.string();
  e.id.dev = st.st_dev;
  e.id.ino = st.st_ino;
  e.offset = offset;
  return e;
}

void write(const stdfs::path& p, const std::string& text) { std::ofstream(p) << text; }

TEST(LogCleanup, DeletesOnlyWholeDeliveredOldFilesThatAreNotTheNewest) {
  testing::TempDir tmp;
  const stdfs::path d = tmp.path();
  for (const char* n : {"orders-1.log", "orders-2.log", "orders-3.log", "orders-4.log", "orders-5.log"})
    write(d / n, "0123456789\n");  // 11 bytes each
  write(d / "notes.txt", "x");
  std::vector<agent::CheckpointEntry> cp = {
      acked(d / "orders-1.log", 11),  // delivered whole: deleted
      acked(d / "orders-2.log", 10),  // one byte not acknowledged: kept
      // orders-3.log: never seen by the agent: kept
      acked(d / "orders-4.log", 11),  // delivered whole: deleted
      acked(d / "orders-5.log", 11),  // the newest: the generator may still write it
  };
  const int64_t now = clock::unix_ms();
  // Young files stay whatever the agent says.
  EXPECT_EQ(clean_delivered_logs(d, cp, 3'600'000, now), 0u);
  EXPECT_EQ(clean_delivered_logs(d, cp, 0, now + 7'200'000), 0u) << "retention 0 keeps everything";
  EXPECT_EQ(clean_delivered_logs(d, cp, 3'600'000, now + 7'200'000), 2u);
  EXPECT_FALSE(stdfs::exists(d / "orders-1.log"));
  EXPECT_TRUE(stdfs::exists(d / "orders-2.log"));
  EXPECT_TRUE(stdfs::exists(d / "orders-3.log"));
  EXPECT_FALSE(stdfs::exists(d / "orders-4.log"));
  EXPECT_TRUE(stdfs::exists(d / "orders-5.log"));
  EXPECT_TRUE(stdfs::exists(d / "notes.txt"));
}

TEST(LogCleanup, AnotherFileAtTheSamePathIsNotTheOneDelivered) {
  testing::TempDir tmp;
  const stdfs::path d = tmp.path();
  write(d / "orders-1.log", "first\n");
  auto e = acked(d / "orders-1.log", 6);
  stdfs::remove(d / "orders-1.log");
  write(d / "keep.log", "placeholder\n");  // hold the inode number
  write(d / "orders-1.log", "other\n");
  write(d / "orders-9.log", "newest\n");
  const int64_t now = clock::unix_ms();
  struct stat st {};
  ASSERT_EQ(::stat((d / "orders-1.log").c_str(), &st), 0);
  if (st.st_ino == e.id.ino) GTEST_SKIP() << "the file system gave the new file the old inode";
  EXPECT_EQ(clean_delivered_logs(d, {e}, 1000, now + 10'000), 0u);
  EXPECT_TRUE(stdfs::exists(d / "orders-1.log"));
}

}  // namespace
}  // namespace orderlake::up
