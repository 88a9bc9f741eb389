// Unit tests of the firehose stage's parts: prefix expressions and timestamp patterns,
// base64, the WAL (group commit, replay, torn tails, segment release).
// SigV4 is tested with the aws module (tests/aws/sigv4_test.cpp).
#include <gtest/gtest.h>

#include <filesystem>
#include <ctime>
#include <fstream>
#include <thread>

#include "core/base64.h"
#include "firehose/base64_fast.h"
#include "firehose/prefix.h"
#include "firehose/wal.h"
#include "test_util.h"

namespace orderlake::firehose {
namespace {
using orderlake::testing::TempDir;

// 2026-03-04T05:06:07.890Z
constexpr int64_t kT = 1772600767890;

TEST(FirehoseTimestamp, JavaPatternLetters) {
  EXPECT_EQ(format_timestamp("yyyy/MM/dd/HH/", kT).value(), "2026/03/04/05/");
  EXPECT_EQ(format_timestamp("yyyy-MM-dd-HH-mm-ss", kT).value(), "2026-03-04-05-06-07");
  EXPECT_EQ(format_timestamp("yy M d H m s", kT).value(), "26 3 4 5 6 7");
  EXPECT_EQ(format_timestamp("'year='yyyy'/'''", kT).value(), "year=2026/'");
  EXPECT_FALSE(format_timestamp("yyyy-QQ", kT).ok());
  EXPECT_FALSE(format_timestamp("yyy", kT).ok());
  EXPECT_FALSE(format_timestamp("'open", kT).ok());
}

TEST(FirehosePrefix, DefaultsAndExpressions) {
  auto empty = PrefixTemplate::Parse("", false);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->Evaluate(kT, 1), "2026/03/04/05/");
  EXPECT_FALSE(empty->has_expressions());
  auto plain = PrefixTemplate::Parse("raw/", false);
  EXPECT_EQ(plain->Evaluate(kT, 1), "raw/2026/03/04/05/");
  auto ex = PrefixTemplate::Parse("o/!{timestamp:yyyy}/!{timestamp:MM}/!{firehose:random-string}/", false);
  ASSERT_TRUE(ex.ok());
  EXPECT_TRUE(ex->has_expressions());
  std::string v = ex->Evaluate(kT, 42);
  ASSERT_EQ(v.size(), std::string("o/2026/03/").size() + 12);
  EXPECT_EQ(v.substr(0, 10), "o/2026/03/");
  EXPECT_EQ(v, ex->Evaluate(kT, 42));  // deterministic per seed
  EXPECT_NE(v, ex->Evaluate(kT, 43));
  auto err = PrefixTemplate::Parse("e/!{firehose:error-output-type}/", true);
  ASSERT_TRUE(err.ok());
  EXPECT_TRUE(err->has_error_output_type());
  EXPECT_EQ(err->Evaluate(kT, 1, "delivery-failed"), "e/delivery-failed/2026/03/04/05/");
  EXPECT_FALSE(PrefixTemplate::Parse("e/!{firehose:error-output-type}/", false).ok());
  EXPECT_FALSE(PrefixTemplate::Parse("x/!{timestamp:yyyy", false).ok());
  EXPECT_FALSE(PrefixTemplate::Parse("x/!{partitionKeyFromQuery:id}/", false).ok());
  EXPECT_FALSE(PrefixTemplate::Parse("x/!{unknown:x}/", false).ok());
}

TEST(FirehoseBase64, MatchesCore) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t n = 0; n < 40; ++n) {
    std::string in = all.substr(n * 3, n);
    std::string out = "prefix";
    ASSERT_TRUE(base64_decode_append(base64_encode(in), out));
    EXPECT_EQ(out, "prefix" + in);
  }
  std::string out;
  EXPECT_FALSE(base64_decode_append("abc", out));
  EXPECT_FALSE(base64_decode_append("ab!d", out));
  EXPECT_FALSE(base64_decode_append("a=bc", out));
  EXPECT_FALSE(base64_decode_append("====", out));
  EXPECT_TRUE(out.empty());
}

TEST(FirehoseWal, GroupCommitReplayAndRelease) {
  TempDir dir;
  auto noop = [](std::string_view) { return Wal::EntryInfo{}; };
  {
    auto wal = Wal::Open(dir.path(), 64 << 10, noop);
    ASSERT_TRUE(wal.ok());
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t)
      ts.emplace_back([&, t] {
        for (int i = 0; i < 200; ++i) {
          std::string payload = std::to_string(t) + ":" + std::to_string(i) + std::string(500, 'x');
          uint64_t lsn = (*wal)->Append(static_cast<uint64_t>(t), static_cast<uint64_t>(i + 1),
                                        [&](std::string& o) { o += payload; });
          ASSERT_TRUE((*wal)->WaitDurable(lsn));
        }
      });
    for (auto& t : ts) t.join();
    EXPECT_GT((*wal)->segment_count(), 1u);
  }
  // Append garbage (a torn tail) to the last segment with data.
  std::vector<std::filesystem::path> segs;
  for (auto& e : std::filesystem::directory_iterator(dir.path())) segs.push_back(e.path());
  std::sort(segs.begin(), segs.end());
  {
    std::ofstream f(segs[segs.size() - 2], std::ios::app | std::ios::binary);
    f << "\x10\x00\x00\x00garbage";
  }
  std::map<int, int> count;
  auto wal = Wal::Open(dir.path(), 64 << 10, [&](std::string_view p) {
    int t = p[0] - '0';
    ++count[t];
    return Wal::EntryInfo{static_cast<uint64_t>(t), static_cast<uint64_t>(count[t])};
  });
  ASSERT_TRUE(wal.ok());
  for (int t = 0; t < 4; ++t) EXPECT_EQ(count[t], 200);
  size_t before = (*wal)->segment_count();
  (*wal)->Release([](uint64_t stream, uint64_t seq) { return stream != 0 || seq <= 100; });
  size_t mid = (*wal)->segment_count();
  EXPECT_LT(mid, before);
  (*wal)->Release([](uint64_t, uint64_t) { return true; });
  EXPECT_EQ((*wal)->segment_count(), 1u);  // only the open segment stays
}

}  // namespace
}  // namespace orderlake::firehose
