// ListObjectsV2 and ListObjects (v1) over a local bucket directory. The walk visits each
// directory's entries sorted so that keys come out in S3's order (a directory sorts as its
// name + '/'), skips subtrees that lie wholly before the start key or outside the prefix,
// folds a directory into one CommonPrefix when the delimiter allows, and stops after
// max-keys + 1 entries: memory is bounded by one directory's size, not the bucket's.
// Hidden names ('.'…) and symbolic links are never listed.
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>

#include "core/base64.h"
#include "store/keys.h"
#include "store/s3_internal.h"

namespace orderlake::store::s3 {
namespace {
namespace stdfs = std::filesystem;

struct Entry {
  std::string key;     // the object key, or a common prefix
  bool prefix = false;
  uint64_t size = 0;
  int64_t mtime_ms = 0;
  std::string path;
};

struct Walk {
  std::string prefix, delimiter, after;  // after: only keys > after (and not under it when it is a prefix)
  size_t max = 1000;
  std::vector<Entry> out;
  std::string last_prefix;
  bool full() const { return out.size() > max; }
};

bool AfterStart(const Walk& w, std::string_view key) {
  if (w.after.empty()) return true;
  if (key <= w.after) return false;
  // A common prefix given back as the start: nothing under it again.
  if (!w.delimiter.empty() && w.after.ends_with(w.delimiter) && key.starts_with(w.after)) return false;
  return true;
}

// The common prefix `key` rolls up into, or "".
std::string RollUp(const Walk& w, std::string_view key) {
  if (w.delimiter.empty() || !key.starts_with(w.prefix)) return {};
  const size_t at = key.find(w.delimiter, w.prefix.size());
  if (at == std::string_view::npos) return {};
  return std::string(key.substr(0, at + w.delimiter.size()));
}

bool HasObject(const stdfs::path& dir, int depth) {
  if (depth > 64) return false;
  std::error_code ec;
  for (stdfs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.starts_with('.')) continue;
    const auto st = it->symlink_status(ec);
    if (stdfs::is_regular_file(st)) return true;
    if (stdfs::is_directory(st) && HasObject(it->path(), depth + 1)) return true;
  }
  return false;
}

void AddPrefix(Walk& w, const std::string& cp) {
  if (cp == w.last_prefix || !AfterStart(w, cp)) return;
  w.last_prefix = cp;
  w.out.push_back(Entry{cp, true, 0, 0, {}});
}

void Visit(Walk& w, const stdfs::path& dir, const std::string& base, int depth) {
  if (depth > 64 || w.full()) return;
  std::vector<std::pair<std::string, bool>> names;  // sort name, is directory
  std::error_code ec;
  for (stdfs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.starts_with('.')) continue;
    const auto st = it->symlink_status(ec);
    if (stdfs::is_directory(st)) names.emplace_back(name + "/", true);
    else if (stdfs::is_regular_file(st)) names.emplace_back(std::move(name), false);
  }
  std::sort(names.begin(), names.end());
  for (auto& [name, is_dir] : names) {
    if (w.full()) return;
    const std::string key = base + name;
    if (!is_dir) {
      if (!key.starts_with(w.prefix) || !AfterStart(w, key)) continue;
      if (std::string cp = RollUp(w, key); !cp.empty()) {
        AddPrefix(w, cp);
        continue;
      }
      struct stat st {};
      const stdfs::path p = dir / name;
      if (::lstat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      w.out.push_back(Entry{key, false, static_cast<uint64_t>(st.st_size),
                            static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000, p.string()});
      continue;
    }
    // A directory: its keys all start with `key`.
    if (!key.starts_with(w.prefix) && !w.prefix.starts_with(key)) continue;
    if (!w.after.empty() && key < w.after && !w.after.starts_with(key)) continue;
    const stdfs::path sub = dir / name.substr(0, name.size() - 1);
    if (key.size() >= w.prefix.size()) {
      if (std::string cp = RollUp(w, key); !cp.empty() && cp.size() <= key.size()) {
        if (AfterStart(w, cp) && HasObject(sub, 0)) AddPrefix(w, cp);
        continue;
      }
    }
    Visit(w, sub, key, depth + 1);
  }
}

std::string Token(const std::string& last) { return base64_encode("v1:" + last); }

std::optional<std::string> FromToken(const std::string& token) {
  auto raw = base64_decode(token);
  if (!raw || !raw->starts_with("v1:") || raw->size() > 1100) return std::nullopt;
  return raw->substr(3);
}

}  // namespace

void ListObjects(const Env& env, Call& call, bool v2) {
  BucketRoot b = OpenBucket(env, call, false);
  if (b.error) return SendError(call, *b.error);
  Walk w;
  w.prefix = call.param("prefix");
  w.delimiter = call.param("delimiter");
  const bool url = call.param("encoding-type") == "url";
  if (call.has("encoding-type") && !url)
    return SendError(call, {400, "InvalidArgument", "Invalid Encoding Method specified in Request"});
  if (w.prefix.size() > 1024 || w.delimiter.size() > 64)
    return SendError(call, {400, "InvalidArgument", "The prefix or the delimiter is too long"});
  if (call.has("max-keys")) {
    const std::string mk = call.param("max-keys");
    if (mk.empty() || mk.size() > 9 || mk.find_first_not_of("0123456789") != std::string::npos)
      return SendError(call, {400, "InvalidArgument", "Provided max-keys not an integer or within integer range"});
    w.max = std::min<size_t>(std::stoul(mk), 1000);
  }
  const std::string start_after = call.param(v2 ? "start-after" : "marker");
  const std::string token = call.param("continuation-token");
  w.after = start_after;
  if (v2 && call.has("continuation-token")) {
    auto t = FromToken(token);
    if (!t) return SendError(call, {400, "InvalidArgument", "The continuation token provided is incorrect"});
    w.after = std::max(*t, start_after);
  }
  if (w.max > 0) Visit(w, b.root, "", 0);
  const bool truncated = w.out.size() > w.max;
  if (truncated) w.out.resize(w.max);
  auto enc = [url](std::string_view s) { return XmlEscape(url ? UrlEncode(s) : std::string(s)); };
  std::string xml = fmt::format("{}<ListBucketResult xmlns=\"{}\"><Name>{}</Name><Prefix>{}</Prefix>", kXmlHead, kXmlNs,
                                XmlEscape(call.bucket), enc(w.prefix));
  if (!w.delimiter.empty()) xml += fmt::format("<Delimiter>{}</Delimiter>", enc(w.delimiter));
  xml += fmt::format("<MaxKeys>{}</MaxKeys>", w.max);
  if (url) xml += "<EncodingType>url</EncodingType>";
  xml += fmt::format("<IsTruncated>{}</IsTruncated>", truncated ? "true" : "false");
  if (v2) {
    xml += fmt::format("<KeyCount>{}</KeyCount>", w.out.size());
    if (call.has("continuation-token")) xml += fmt::format("<ContinuationToken>{}</ContinuationToken>", XmlEscape(token));
    if (call.has("start-after")) xml += fmt::format("<StartAfter>{}</StartAfter>", enc(start_after));
    if (truncated && !w.out.empty())
      xml += fmt::format("<NextContinuationToken>{}</NextContinuationToken>", Token(w.out.back().key));
  } else {
    xml += fmt::format("<Marker>{}</Marker>", enc(start_after));
    if (truncated && !w.out.empty() && !w.delimiter.empty())
      xml += fmt::format("<NextMarker>{}</NextMarker>", enc(w.out.back().key));
  }
  std::string prefixes;
  for (const Entry& e : w.out) {
    if (e.prefix) {
      prefixes += fmt::format("<CommonPrefixes><Prefix>{}</Prefix></CommonPrefixes>", enc(e.key));
      continue;
    }
    const Meta meta = ReadMeta(b.root, e.key, e.path);
    xml += fmt::format("<Contents><Key>{}</Key><LastModified>{}</LastModified><ETag>{}</ETag><Size>{}</Size>"
                       "<Owner><ID>orderlake</ID><DisplayName>orderlake</DisplayName></Owner>"
                       "<StorageClass>STANDARD</StorageClass></Contents>",
                       enc(e.key), IsoTime(e.mtime_ms), XmlEscape(meta.etag), e.size);
  }
  xml += prefixes;
  xml += "</ListBucketResult>";
  SendXml(call, 200, xml);
}

}  // namespace orderlake::store::s3
