// Raw objects in the Firehose layout for the discovery tests: keys formatted with gmtime,
// independently of the code under test, and valid order lines to put in them.
#pragma once
#include <time.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace orderlake::testing {

// The key Firehose gives an object whose oldest record arrived at `ms` (Unix ms):
// [prefix]YYYY/MM/DD/HH/<name>yyyy-MM-dd-HH-mm-ss-<a UUID made of n>.
inline std::string fh_key(int64_t ms, uint64_t n, const std::string& prefix = "",
                          const std::string& name = "orders-1-") {
  const time_t secs = static_cast<time_t>(ms / 1000);
  struct tm t {};
  gmtime_r(&secs, &t);
  char dir[32], stamp[32];
  strftime(dir, sizeof dir, "%Y/%m/%d/%H/", &t);
  strftime(stamp, sizeof stamp, "%Y-%m-%d-%H-%M-%S", &t);
  return fmt::format("{}{}{}{}-{:08x}-0000-4000-8000-{:012x}", prefix, dir, name, stamp, n & 0xffffffff, n);
}

// One valid CSV order line with invoice number i.
inline std::string line(uint64_t i) {
  static const char* countries[] = {"United Kingdom", "France", "Germany"};
  return fmt::format("{},{}A,ITEM,{},12/{:02d}/2010 10:15,1.25,{},{}\n", i, i % 97, 1 + i % 7, 1 + i % 3,
                     12346 + i % 100, countries[i % 3]);
}

// Writes `data` at root/key, creating its directories.
inline void put(const std::filesystem::path& root, const std::string& key, std::string_view data) {
  const std::filesystem::path p = root / key;
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
}

}  // namespace orderlake::testing
