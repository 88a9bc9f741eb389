// Helpers shared by the fuzz targets: a scratch directory (on /dev/shm when it exists, so
// the fsyncs of the code under test cost little) and splitting one input into parts.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace orderlake::fuzz {

// A fresh directory for this process, removed at exit.
inline const std::filesystem::path& ScratchDir() {
  static const std::filesystem::path dir = [] {
    std::filesystem::path base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
    std::filesystem::path d = base / ("orderlake-fuzz-" + std::to_string(::getpid()));
    std::filesystem::remove_all(d);
    std::filesystem::create_directories(d);
    static std::filesystem::path keep = d;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(keep, ec);
    });
    return d;
  }();
  return dir;
}

// The input's parts separated by lines holding exactly `separator` (the corpora are text
// files a person can edit: "=====" between the files of a Delta log, and so on).
inline std::vector<std::string_view> SplitParts(std::string_view in, std::string_view separator) {
  std::vector<std::string_view> parts;
  std::string marker = "\n" + std::string(separator) + "\n";
  size_t start = 0;
  for (;;) {
    size_t p = in.find(marker, start);
    if (p == std::string_view::npos) {
      parts.push_back(in.substr(start));
      return parts;
    }
    parts.push_back(in.substr(start, p - start));
    start = p + marker.size();
  }
}

// Reads fixed-size values off the front of the input (0 when it runs out).
class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size) : p_(data), n_(size) {}
  uint8_t u8() { return n_ ? (--n_, *p_++) : 0; }
  uint64_t u64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = v << 8 | u8();
    return v;
  }
  std::string_view take(size_t k) {
    k = std::min(k, n_);
    std::string_view s(reinterpret_cast<const char*>(p_), k);
    p_ += k;
    n_ -= k;
    return s;
  }
  size_t left() const { return n_; }

 private:
  const uint8_t* p_;
  size_t n_;
};

// A failed property: prints it and aborts, so libFuzzer keeps the input as a crash.
[[noreturn]] inline void Fail(const std::string& what) {
  std::fprintf(stderr, "fuzz property failed: %s\n", what.c_str());
  std::abort();
}

}  // namespace orderlake::fuzz
