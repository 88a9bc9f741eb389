// The one path-safety rule for object keys and prefixes that come from outside (a request,
// a configuration, a catalog entry): a key is relative, at most 1,024 bytes (S3's limit),
// has no NUL or other control character, and no "." or ".." segment; a local key resolves,
// symlinks followed, to a path inside its store's root. Every local store operation and
// every delivery of the firehose goes through it, so no key reaches outside its root.
#pragma once
#include <filesystem>
#include <string_view>

#include "core/status.h"

namespace orderlake::store {

// OK when `key` may name an object: not empty, not absolute, no "."/".." segment, no
// control character, at most 1,024 bytes. `what` names the input in the error
// ("Prefix", "object key").
Status CheckKey(std::string_view key, std::string_view what = "object key");
// The same rule for a prefix, which may be empty and may end with '/'.
Status CheckPrefix(std::string_view prefix, std::string_view what = "prefix");

// `root` with its symlinks resolved (std::filesystem::weakly_canonical), once per root: the
// form ConfinedPath takes. `root` must be absolute.
Result<std::filesystem::path> ResolveRoot(const std::filesystem::path& root);

// resolved_root / key, after CheckKey, once the path with the symlinks of its existing part
// resolved is known to lie inside `resolved_root` (from ResolveRoot).
Result<std::filesystem::path> ConfinedPath(const std::filesystem::path& resolved_root, std::string_view key);

}  // namespace orderlake::store
