#include "query/confine.h"

#include <sys/stat.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <set>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

namespace orderlake::query {
namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxEscapesNamed = 20;

// Walks the roots with the listings of a Confiner's cache.
struct Walker {
  const std::vector<std::string>& roots;
  std::map<std::string, Confiner::Listing>& cache;
  size_t max_entries;
  size_t entries = 0;
  Confinement out;
  std::set<std::string> seen;  // directories listed by this walk (the rest leave the cache)

  bool Inside(const fs::path& p) const {
    const std::string s = p.string();
    for (const auto& r : roots)
      if (s.size() >= r.size() - 1 && s.compare(0, r.size() - 1, r, 0, r.size() - 1) == 0 &&
          (s.size() == r.size() - 1 || s[r.size() - 1] == '/'))
        return true;
    return false;
  }

  void Escape(const fs::path& link, const std::string& target) {
    if (out.escapes.size() < kMaxEscapesNamed) out.escapes.push_back(fmt::format("{} -> {}", link.string(), target));
  }

  // True when `link` leads to a regular file inside the roots (looked at every time).
  bool SafeLink(const fs::path& link) {
    std::error_code ec;
    fs::path target = fs::canonical(link, ec);
    if (ec) {
      Escape(link, fs::read_symlink(link, ec).string() + " (dangling)");
      return false;
    }
    if (fs::is_directory(target, ec) || !Inside(target)) {
      Escape(link, target.string());
      return false;
    }
    return true;
  }

  // The entries of `dir`, listed again only when its modification time changed.
  const Confiner::Listing* List(const std::string& dir) {
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return nullptr;
    const int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    seen.insert(dir);
    auto& l = cache[dir];
    if (l.mtime_ns == mtime && l.inode == st.st_ino && l.valid) return &l;
    l = Confiner::Listing{};
    std::error_code ec;
    for (fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end; !ec && it != end;
         it.increment(ec)) {
      const fs::file_status s = it->symlink_status(ec);
      auto& into = fs::is_symlink(s) ? l.links : fs::is_directory(s) ? l.dirs : l.files;
      into.push_back(it->path().filename().string());
    }
    l.mtime_ns = mtime, l.inode = st.st_ino, l.valid = !ec;
    return &l;
  }

  // Walks `dir`: true when it is clean (its caller allows it whole); otherwise its allowed
  // pieces are added to `dirs` (ending in '/') and `files`.
  Result<bool> Walk(const std::string& dir, std::vector<std::string>& dirs, std::vector<std::string>& files) {
    const Confiner::Listing* l = List(dir);
    if (!l) return true;  // unreadable or gone: DuckDB cannot list it either
    entries += l->dirs.size() + l->files.size() + l->links.size();
    if (entries > max_entries)
      return Status::Errorf("the directories DuckDB may read hold more than {} entries", max_entries);
    bool clean = true;
    std::vector<std::string> my_dirs, my_files;
    for (const auto& name : l->links) {
      const std::string p = dir + "/" + name;
      if (SafeLink(p)) my_files.push_back(p);
      else clean = false;
    }
    const std::vector<std::string> subdirs = l->dirs;  // `cache` may move while walking them
    const std::vector<std::string> plain = l->files;
    for (const auto& name : subdirs) {
      const std::string p = dir + "/" + name;
      std::vector<std::string> sub_dirs, sub_files;
      auto c = Walk(p, sub_dirs, sub_files);
      if (!c.ok()) return c.status();
      if (*c) {
        my_dirs.push_back(p + "/");
      } else {
        clean = false;
        my_dirs.insert(my_dirs.end(), sub_dirs.begin(), sub_dirs.end());
        my_files.insert(my_files.end(), sub_files.begin(), sub_files.end());
      }
    }
    if (!clean) {
      for (const auto& name : plain) my_files.push_back(dir + "/" + name);
      dirs.insert(dirs.end(), my_dirs.begin(), my_dirs.end());
      files.insert(files.end(), my_files.begin(), my_files.end());
    }
    return clean;
  }
};

}  // namespace

std::string AllowedDirectory(const fs::path& dir) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(dir, ec);
  std::string s = (ec ? dir : p).string();
  if (s.empty() || s.back() != '/') s += '/';
  return s;
}

std::string Confinement::Explain() const {
  if (escapes.empty()) return "";
  std::string list;
  for (const auto& e : escapes) list += (list.empty() ? "" : ", ") + e;
  return fmt::format(" (symbolic links that lead outside what may be read, or to a directory, are never followed: {})",
                     list);
}

Result<Confinement> Confiner::Confine(const std::vector<std::string>& roots, size_t max_entries) {
  Walker w{roots, cache_, max_entries, 0, {}, {}};
  for (const auto& root : roots) {
    std::vector<std::string> dirs, files;
    auto clean = w.Walk(root.size() > 1 ? root.substr(0, root.size() - 1) : root, dirs, files);
    if (!clean.ok()) return clean.status();
    if (*clean) {
      w.out.directories.push_back(root);
    } else {
      w.out.directories.insert(w.out.directories.end(), dirs.begin(), dirs.end());
      w.out.files.insert(w.out.files.end(), files.begin(), files.end());
    }
  }
  for (auto it = cache_.begin(); it != cache_.end();) it = w.seen.count(it->first) ? std::next(it) : cache_.erase(it);
  std::sort(w.out.directories.begin(), w.out.directories.end());
  std::sort(w.out.files.begin(), w.out.files.end());
  return std::move(w.out);
}

}  // namespace orderlake::query
