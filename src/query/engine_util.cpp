#include "query/engine_util.h"

#include <cctype>
#include <system_error>

#include "query/schema.h"

namespace orderlake::query::internal {
namespace fs = std::filesystem;

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::vector<catalog::Column> LakeColumns(bool partition) {
  std::vector<catalog::Column> out;
  for (const TableColumn& c : kOrdersSchema) {
    if (c.partition != partition) continue;
    std::string type = c.type == "INTEGER" ? "int" : c.type == "DOUBLE" ? "double" : c.type == "DATE" ? "date" : "string";
    out.push_back({std::string(c.name), type});
  }
  return out;
}

bool VisibleKey(std::string_view key) {
  for (size_t start = 0; start < key.size();) {
    if (key[start] == '.' || key[start] == '_') return false;
    size_t slash = key.find('/', start);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return true;
}

bool IsS3(std::string_view url) { return StartsWith(url, "s3://"); }

fs::path LocalPath(std::string_view url) {
  if (StartsWith(url, "file://")) url.remove_prefix(7);
  return fs::path(std::string(url));
}

namespace {

// True when `p` (absolute, lexically normal) lies in `dir` or is it.
bool Inside(const fs::path& p, const fs::path& dir) {
  auto rel = p.lexically_relative(dir);
  return !rel.empty() && *rel.begin() != "..";
}

bool HasDotSegment(std::string_view prefix) {
  for (size_t start = 0; start <= prefix.size();) {
    size_t slash = prefix.find('/', start);
    std::string_view seg = prefix.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg == "." || seg == "..") return true;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return false;
}

}  // namespace

Result<std::optional<fs::path>> MapLocation(std::string_view url, const LocationRules& rules) {
  using Out = std::optional<fs::path>;
  for (std::string_view scheme : {"s3://", "s3a://", "s3n://"}) {
    if (!StartsWith(url, scheme)) continue;
    std::string_view rest = url.substr(scheme.size());
    const size_t slash = rest.find('/');
    const std::string bucket(rest.substr(0, slash));
    std::string_view prefix = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (HasDotSegment(prefix)) return Status::Errorf("location '{}' has a '.' or '..' segment: not read", url);
    auto it = rules.local_buckets.find(bucket);
    if (it != rules.local_buckets.end()) {
      fs::path dir = it->second;
      if (!prefix.empty()) dir /= fs::path(std::string(prefix));
      return Out(dir.lexically_normal());
    }
    if (rules.buckets_only && !rules.remote_s3)
      return Status::Errorf("location '{}': no bucket '{}' in this data directory: not read", url, bucket);
    if (scheme != "s3://") return Status::Errorf("location '{}': only s3:// URLs of remote buckets are read", url);
    return Out();
  }
  fs::path p = LocalPath(url);
  if (!rules.buckets_only) return Out(p);
  std::error_code ec;
  const fs::path normal = p.lexically_normal();
  const fs::path resolved = fs::weakly_canonical(p, ec);
  if (p.is_absolute() && !ec) {
    for (const auto& [name, dir] : rules.local_buckets) {
      const fs::path real = fs::weakly_canonical(dir, ec);
      if (!ec && Inside(normal, dir.lexically_normal()) && Inside(resolved, real)) return Out(normal);
    }
  }
  return Status::Errorf("location '{}' is outside the data directory's buckets: not read", url);
}

Status CheckLocations(const DdlStatement& statement, const LocationRules& rules) {
  if (!rules.buckets_only) return Status::OK();
  std::vector<std::string> urls;
  if (auto* c = std::get_if<CreateTableDdl>(&statement)) urls.push_back(c->table.location);
  if (auto* a = std::get_if<AddPartitionsDdl>(&statement))
    for (const auto& p : a->partitions)
      if (!p.location.empty()) urls.push_back(p.location);
  for (const auto& url : urls) {
    auto r = MapLocation(url, rules);
    if (!r.ok()) return Status::Errorf("refused: {}", r.status().message());
  }
  return Status::OK();
}

}  // namespace orderlake::query::internal
