// The path-safety rule of store/keys.h: hostile keys and prefixes are refused by name, and a
// local store never reads, writes or deletes outside its root, symlinks included.
#include "store/keys.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "store/object_store.h"
#include "test_util.h"

namespace orderlake::store {
namespace {
namespace stdfs = std::filesystem;
using testing::TempDir;

TEST(StoreKeys, HostileKeysAreRefusedWithTheReason) {
  struct Case {
    std::string key, why;
  };
  const Case cases[] = {
      {"", "empty"},
      {"../escaped", "'..'"},
      {"a/../../b", "'..'"},
      {"a/./b", "'.'"},
      {"a/..", "'..'"},
      {"/etc/passwd", "starts with '/'"},
      {std::string("a\0b", 3), "control character"},
      {"a\nb", "control character"},
      {"a\x7f" "b", "control character"},
      {std::string(1025, 'k'), "1025 bytes"},
  };
  for (const Case& c : cases) {
    Status st = CheckKey(c.key, "Prefix");
    ASSERT_FALSE(st.ok()) << c.key;
    EXPECT_NE(st.message().find(c.why), std::string::npos) << st.message();
    EXPECT_EQ(st.message().rfind("Prefix", 0), 0u) << st.message();
  }
  for (const char* ok : {"a", "2026/12/07/13/orders-1-x", "Country=United%20Kingdom/part.parquet", "a..b/c.",
                         "..a/b..", "a//b", "dir/"})
    EXPECT_TRUE(CheckKey(ok).ok()) << ok;
  EXPECT_TRUE(CheckPrefix("").ok());
  EXPECT_TRUE(CheckPrefix("logs/").ok());
  EXPECT_FALSE(CheckPrefix("../logs/").ok());
}

TEST(StoreKeys, ConfinedPathFollowsSymlinksBeforeTheCheck) {
  TempDir d;
  const stdfs::path root = d.path() / "root", outside = d.path() / "outside";
  stdfs::create_directories(root / "in");
  stdfs::create_directories(outside);
  testing::write_file(outside / "secret", "s");
  stdfs::create_directory_symlink(outside, root / "link");
  stdfs::create_symlink(outside / "secret", root / "in" / "file-link");
  stdfs::create_directory_symlink(root / "in", root / "inner-link");  // stays inside: fine
  auto resolved = ResolveRoot(root);
  ASSERT_TRUE(resolved.ok()) << resolved.status().message();
  const stdfs::path real_root = *resolved;

  EXPECT_TRUE(ConfinedPath(real_root, "in/new-file").ok());
  EXPECT_TRUE(ConfinedPath(real_root, "not/yet/made").ok());
  EXPECT_TRUE(ConfinedPath(real_root, "inner-link/x").ok());
  auto via_dir = ConfinedPath(real_root, "link/secret");
  ASSERT_FALSE(via_dir.ok());
  EXPECT_NE(via_dir.status().message().find("outside"), std::string::npos) << via_dir.status().message();
  EXPECT_FALSE(ConfinedPath(real_root, "link/new-file").ok());
  EXPECT_FALSE(ConfinedPath(real_root, "in/file-link").ok());
  EXPECT_FALSE(ConfinedPath(real_root, "../outside/secret").ok());
}

TEST(StoreKeys, ALocalStoreStaysInsideItsRoot) {
  TempDir d;
  const stdfs::path root = d.path() / "root", outside = d.path() / "outside";
  stdfs::create_directories(root);
  stdfs::create_directories(outside);
  testing::write_file(outside / "secret", "s");
  stdfs::create_directory_symlink(outside, root / "link");
  auto s = Open(root.string());
  ASSERT_TRUE(s.ok()) << s.status().message();
  ObjectStore& store = **s;

  EXPECT_FALSE(store.Put("../escaped", "x").ok());
  EXPECT_FALSE(store.Put("link/planted", "x").ok());
  EXPECT_FALSE(store.PutIfAbsent("../escaped2", "x").ok());
  EXPECT_FALSE(store.Get("link/secret", 0, std::nullopt).ok());
  EXPECT_FALSE(store.Get("../outside/secret", 0, std::nullopt).ok());
  EXPECT_FALSE(store.Head("link/secret").ok());
  EXPECT_FALSE(store.Delete("link/secret").ok());
  EXPECT_FALSE(store.List("../").ok());
  EXPECT_FALSE(stdfs::exists(d.path() / "escaped"));
  EXPECT_FALSE(stdfs::exists(d.path() / "escaped2"));
  EXPECT_FALSE(stdfs::exists(outside / "planted"));
  EXPECT_TRUE(stdfs::exists(outside / "secret"));

  ASSERT_TRUE(store.Put("ok/object", "data").ok());
  auto got = store.Get("ok/object", 0, std::nullopt);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "data");
}

}  // namespace
}  // namespace orderlake::store
