#include "store/keys.h"

#include <fmt/format.h>

namespace orderlake::store {
namespace {

constexpr size_t kMaxKeyBytes = 1024;

std::string printable(std::string_view s) {
  std::string out;
  for (char ch : s.substr(0, 200)) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
    else out.push_back(ch);
  }
  return out;
}

Status check(std::string_view key, std::string_view what, bool prefix) {
  if (key.empty() && !prefix) return Status::Errorf("{} is empty", what);
  if (key.size() > kMaxKeyBytes)
    return Status::Errorf("{} is {} bytes long, more than the {} an object key may have", what, key.size(),
                          kMaxKeyBytes);
  for (char ch : key) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f)
      return Status::Errorf("{} '{}' holds a control character (\\x{:02x})", what, printable(key), c);
  }
  if (!key.empty() && key.front() == '/')
    return Status::Errorf("{} '{}' must be relative to its bucket or root (it starts with '/')", what, printable(key));
  size_t start = 0;
  while (start <= key.size()) {
    size_t slash = key.find('/', start);
    if (slash == std::string_view::npos) slash = key.size();
    const std::string_view seg = key.substr(start, slash - start);
    if (seg == "." || seg == "..")
      return Status::Errorf("{} '{}' must not hold a '{}' path segment", what, printable(key), seg);
    start = slash + 1;
  }
  return Status::OK();
}

bool inside(const std::filesystem::path& p, const std::filesystem::path& root) {
  auto r = root.begin(), q = p.begin();
  for (; r != root.end(); ++r, ++q) {
    if (r->empty()) continue;  // a trailing separator
    if (q == p.end() || *q != *r) return false;
  }
  return true;
}

}  // namespace

Status CheckKey(std::string_view key, std::string_view what) { return check(key, what, false); }
Status CheckPrefix(std::string_view prefix, std::string_view what) { return check(prefix, what, true); }

Result<std::filesystem::path> ResolveRoot(const std::filesystem::path& root) {
  std::error_code ec;
  std::filesystem::path real = std::filesystem::weakly_canonical(root, ec);
  if (ec) return Status::Errorf("cannot resolve {}: {}", root.string(), ec.message());
  return real;
}

Result<std::filesystem::path> ConfinedPath(const std::filesystem::path& resolved_root, std::string_view key) {
  ORDERLAKE_RETURN_IF_ERROR(CheckKey(key));
  const std::filesystem::path path = resolved_root / std::string(key);
  std::error_code ec;
  // The path with the symlinks of its existing part resolved: a link inside the root that
  // points elsewhere (a directory or the object itself) is caught here.
  const std::filesystem::path real = std::filesystem::weakly_canonical(path, ec);
  if (ec) return Status::Errorf("cannot resolve {}: {}", path.string(), ec.message());
  if (!inside(real, resolved_root))
    return Status::Errorf("object key '{}' resolves to {}, outside {}", printable(key), real.string(),
                          resolved_root.string());
  return path;
}

}  // namespace orderlake::store
