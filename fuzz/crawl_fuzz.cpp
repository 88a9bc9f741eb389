// The crawler's format inference: the input is the objects of a location, separated by
// lines "=====", each "<relative key>\n<bytes>" (keys such as Country=France/part-0.csv;
// gzip, JSON lines, CSV with any delimiter). Infer() must give a table or an error, never a
// crash; an inferred table has a name, a known format and column names that are not empty.
// The field-type helpers are checked on their own: MergeTypes is commutative and "" is its
// identity, and GunzipPrefix never returns more than it was allowed.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/fs.h"
#include "crawl/crawler.h"
#include "fuzz_util.h"
#include "store/object_store.h"

using namespace orderlake;

namespace {

// A relative key of up to three plain segments (what a lake holds); others are skipped.
bool SafeKey(std::string_view k) {
  if (k.empty() || k.size() > 120 || k.front() == '/' || k.back() == '/') return false;
  size_t seg = 0;
  for (size_t i = 0; i < k.size(); ++i) {
    char c = k[i];
    if (c == '/') {
      if (seg == 0 || ++i >= k.size() || k[i] == '/') return false;
      c = k[i];
    }
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '\\') return false;
    ++seg;
  }
  return k.find("..") == std::string_view::npos && k.find("/./") == std::string_view::npos && k.rfind("./", 0) != 0;
}

void CheckTypes(std::string_view in) {
  size_t cut = in.find(',');
  std::string a = crawl::ValueType(in.substr(0, cut));
  std::string b = cut == std::string_view::npos ? std::string() : crawl::ValueType(in.substr(cut + 1));
  if (crawl::MergeTypes(a, b) != crawl::MergeTypes(b, a)) fuzz::Fail("MergeTypes is not commutative: " + a + ", " + b);
  if (crawl::MergeTypes(a, "") != a) fuzz::Fail("MergeTypes(a, \"\") != a for " + a);
  auto g = crawl::GunzipPrefix(in, 1000);
  if (g.ok() && g->size() > 1000) fuzz::Fail("GunzipPrefix returned more than max_out");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (size < 256) CheckTypes(in);
  const std::filesystem::path dir = fuzz::ScratchDir() / "crawl" / "orders";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  for (std::string_view part : fuzz::SplitParts(in, "=====")) {
    size_t nl = part.find('\n');
    if (nl == std::string_view::npos || !SafeKey(part.substr(0, nl))) continue;
    std::filesystem::path file = dir / std::string(part.substr(0, nl));
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    if (!ec) (void)fs::write_file_atomic(file, part.substr(nl + 1));
  }
  auto store = store::OpenLocal(dir.string());
  crawl::Options options;
  options.sample_bytes = 4096;
  auto report = crawl::Infer(*store, options);
  if (!report.ok()) {
    if (report.status().message().empty()) fuzz::Fail("an error without a message");
    return 0;
  }
  if (report->table.name.empty()) fuzz::Fail("an inferred table without a name");
  for (const auto& c : report->table.columns)
    if (c.name.empty() || c.type.empty()) fuzz::Fail("an inferred column without a name or a type");
  (void)report->Describe();
  return 0;
}
