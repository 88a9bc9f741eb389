// What DuckDB may read, with symbolic links resolved (issue 16, defect 6).
//
// DuckDB's allowed_directories compares path strings: a link inside an allowed directory
// (<lake>/evil -> /etc) would let `read_text('<lake>/evil/shadow')` read outside it.
// Confine walks each root without following links and allows a directory as a whole only
// when nothing under it is a link that could lead elsewhere: a link to a directory, a
// dangling link, or a link to a file outside every root. A directory holding such a link
// is allowed file by file instead (its regular files, its links to files inside the roots,
// and its clean subdirectories whole); the links themselves are never allowed, and are
// named in `escapes` so errors can say why a read was refused. With no such link the
// answer is the roots themselves, as before. (A link made after the walk, before DuckDB
// opens the file, is not seen: the engine walks again before every statement.)
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <filesystem>
#include <string>
#include <vector>

#include "core/status.h"

namespace orderlake::query {

struct Confinement {
  std::vector<std::string> directories;  // allowed whole: absolute, resolved, ending in '/'
  std::vector<std::string> files;        // allowed one by one (absolute)
  std::vector<std::string> escapes;      // "LINK -> TARGET" for every refused link, at most 20

  bool operator==(const Confinement&) const = default;
  // " (LINK is a symbolic link to TARGET, outside ...)" for errors; "" when there is none.
  std::string Explain() const;
};

// A directory as DuckDB's allowed_directories wants it: absolute, resolved, ending in '/'.
std::string AllowedDirectory(const std::filesystem::path& dir);

// Walks roots again and again, cheaply: a directory is listed again only when its
// modification time changed (links are resolved again every time).
class Confiner {
 public:
  // `roots`: absolute resolved directories ending in '/' (missing ones are kept as they
  // are). Fails when the roots hold more than max_entries entries.
  Result<Confinement> Confine(const std::vector<std::string>& roots, size_t max_entries = 2'000'000);

  struct Listing {  // one directory's entries by kind (names), as of its mtime
    int64_t mtime_ns = 0;
    uint64_t inode = 0;
    bool valid = false;
    std::vector<std::string> dirs, files, links;
  };

 private:
  std::map<std::string, Listing> cache_;
};

}  // namespace orderlake::query
