// The Delta log reader: the input is the files of a table's _delta_log/, separated by lines
// "=====", each "<file name>\n<bytes>" (00000000000000000000.json, _last_checkpoint,
// 00000000000000000002.checkpoint.parquet, ...). The log is read from its commits only, and
// from its last checkpoint (a Parquet file read through DuckDB) plus the later commits.
// Properties: reading gives a snapshot or an error, never a crash; a snapshot's version is
// at least -1 and no live file was added after it; a snapshot read with the checkpoint is
// at the same version as the one read from the commits when both succeed and there is no
// checkpoint.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/fs.h"
#include "fuzz_util.h"
#include "store/object_store.h"
#include "table/delta.h"

using namespace orderlake;

namespace {

bool SafeName(std::string_view n) {
  if (n.empty() || n.size() > 64 || n == "." || n == "..") return false;
  for (char c : n)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_')) return false;
  return true;
}

void CheckSnapshot(const table::Snapshot& s) {
  if (s.version < -1) fuzz::Fail("a snapshot version below -1");
  for (const auto& [path, f] : s.files)
    if (f.added_in > s.version) fuzz::Fail("a live file added after the snapshot's version: " + path);
  (void)s.records();
  (void)s.partition_columns();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::filesystem::path dir = fuzz::ScratchDir() / "delta";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "_delta_log");
  bool checkpoint = false;
  for (std::string_view part : fuzz::SplitParts(std::string_view(reinterpret_cast<const char*>(data), size), "=====")) {
    size_t nl = part.find('\n');
    if (nl == std::string_view::npos) continue;
    std::string_view name = part.substr(0, nl);
    if (!SafeName(name)) continue;
    checkpoint = checkpoint || name == "_last_checkpoint";
    if (!fs::write_file_atomic(dir / "_delta_log" / std::string(name), part.substr(nl + 1)).ok())
      fuzz::Fail("cannot write the scratch log");
  }
  auto store = store::OpenLocal(dir.string());
  table::DeltaLog log(store.get(), "");
  auto from_commits = log.Load(/*use_checkpoint=*/false);
  if (from_commits.ok()) CheckSnapshot(*from_commits);
  auto with_checkpoint = log.Load(/*use_checkpoint=*/true);
  if (with_checkpoint.ok()) {
    CheckSnapshot(*with_checkpoint);
    if (!checkpoint && from_commits.ok() && with_checkpoint->version != from_commits->version)
      fuzz::Fail("without a checkpoint, the two reads disagree on the version");
    // Update() of an up-to-date snapshot changes nothing.
    table::Snapshot again = *with_checkpoint;
    if (log.Update(&again).ok() && again.version != with_checkpoint->version)
      fuzz::Fail("Update() of an up-to-date snapshot moved its version");
  }
  (void)log.LastCheckpoint();
  return 0;
}
