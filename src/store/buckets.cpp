#include "store/buckets.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <system_error>

#include "store/keys.h"

namespace orderlake::store {
namespace stdfs = std::filesystem;

namespace {

bool lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// "a.b.c.d" of digits only: S3 refuses bucket names shaped like an IPv4 address.
bool ip_shaped(std::string_view s) {
  int dots = 0;
  for (char c : s) {
    if (c == '.') ++dots;
    else if (c < '0' || c > '9') return false;
  }
  return dots == 3;
}

// Printable form of hostile input for messages (control characters escaped, cut at 200).
std::string shown(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 200)) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    else out += c;
  }
  if (s.size() > 200) out += "…";
  return out;
}

bool inside(const stdfs::path& p, const stdfs::path& root) {
  auto r = std::mismatch(root.begin(), root.end(), p.begin(), p.end());
  return r.first == root.end();
}

int64_t mtime_ms(const stdfs::path& p) {
  std::error_code ec;
  auto t = stdfs::last_write_time(p, ec);
  if (ec) return 0;
  auto sys = std::chrono::file_clock::to_sys(t);
  return std::chrono::duration_cast<std::chrono::milliseconds>(sys.time_since_epoch()).count();
}

}  // namespace

bool ValidBucketName(std::string_view name) {
  if (name.size() < 3 || name.size() > 63) return false;
  if (!lower_alnum(name.front()) || !lower_alnum(name.back())) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (!lower_alnum(c) && c != '.' && c != '-') return false;
    if (c == '.' && i + 1 < name.size() && name[i + 1] == '.') return false;
  }
  return !ip_shaped(name);
}

Status BucketsOptions::Validate() const {
  if (data_dir.empty()) return Status::Error("--data-dir must name a directory");
  std::error_code ec;
  if (!stdfs::is_directory(data_dir, ec)) return Status::Errorf("--data-dir {} is not a directory", data_dir.string());
  if (remote) return s3.Validate();
  return Status::OK();
}

Result<Buckets> Buckets::Open(const BucketsOptions& options) {
  ORDERLAKE_RETURN_IF_ERROR(options.Validate());
  Buckets b;
  std::error_code ec;
  b.data_dir_ = stdfs::weakly_canonical(stdfs::absolute(options.data_dir), ec);
  if (ec) return Status::Errorf("--data-dir {}: {}", options.data_dir.string(), ec.message());
  b.remote_ = options.remote;
  b.s3_ = options.s3;
  return b;
}

Result<stdfs::path> Buckets::LocalDir(std::string_view bucket) const {
  if (!ValidBucketName(bucket)) return Status::Errorf("'{}' is not a valid bucket name", shown(bucket));
  const stdfs::path dir = bucket == kLakeBucket ? data_dir_ / "lake" : data_dir_ / "s3" / std::string(bucket);
  std::error_code ec;
  if (!stdfs::is_directory(dir, ec)) return Status::Errorf("the bucket {} does not exist", bucket);
  return dir;
}

bool Buckets::IsLocal(std::string_view bucket) const { return LocalDir(bucket).ok(); }

std::vector<BucketInfo> Buckets::List() const {
  std::vector<BucketInfo> out;
  std::error_code ec;
  if (stdfs::is_directory(data_dir_ / "lake", ec)) out.push_back({std::string(kLakeBucket), mtime_ms(data_dir_ / "lake")});
  for (stdfs::directory_iterator it(data_dir_ / "s3", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name == kLakeBucket || !ValidBucketName(name) || !it->is_directory(ec)) continue;
    out.push_back({name, mtime_ms(it->path())});
  }
  std::sort(out.begin(), out.end(), [](const BucketInfo& a, const BucketInfo& b) { return a.name < b.name; });
  return out;
}

Result<bool> Buckets::Create(std::string_view bucket) const {
  if (!ValidBucketName(bucket)) return Status::Errorf("'{}' is not a valid bucket name", shown(bucket));
  const stdfs::path dir = bucket == kLakeBucket ? data_dir_ / "lake" : data_dir_ / "s3" / std::string(bucket);
  std::error_code ec;
  const bool made = stdfs::create_directories(dir, ec);
  if (ec) return Status::Errorf("cannot create the bucket {} ({}): {}", bucket, dir.string(), ec.message());
  return made;
}

std::map<std::string, stdfs::path> Buckets::LocalDirs() const {
  std::map<std::string, stdfs::path> out;
  for (const BucketInfo& b : List()) {
    if (auto dir = LocalDir(b.name); dir.ok()) out.emplace(b.name, dir.value());
  }
  return out;
}

Result<BucketLocation> Buckets::Resolve(std::string_view location, std::string_view what) const {
  if (location.size() > 2048) return Status::Errorf("{} is longer than 2,048 characters", what);
  for (std::string_view scheme : {"s3://", "s3a://", "s3n://"}) {
    if (location.substr(0, scheme.size()) == scheme) return ResolveS3(location.substr(scheme.size()), location, what);
  }
  if (location.substr(0, 7) == "file://") return ResolvePath(location.substr(7), location, what);
  if (!location.empty() && location.front() == '/') return ResolvePath(location, location, what);
  return Status::Errorf("{} '{}' is not an s3:// location of this data directory's buckets", what, shown(location));
}

Result<BucketLocation> Buckets::ResolveS3(std::string_view rest, std::string_view location, std::string_view what) const {
  const size_t slash = rest.find('/');
  BucketLocation out;
  out.bucket = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) out.prefix = std::string(rest.substr(slash + 1));
  if (!ValidBucketName(out.bucket))
    return Status::Errorf("{} '{}': '{}' is not a valid bucket name", what, shown(location), shown(out.bucket));
  ORDERLAKE_RETURN_IF_ERROR(CheckPrefix(out.prefix, what));
  out.url = "s3://" + out.bucket + (out.prefix.empty() ? "/" : "/" + out.prefix);
  auto dir = LocalDir(out.bucket);
  if (dir.ok()) {
    auto root = ResolveRoot(*dir);
    if (!root.ok()) return root.status();
    if (out.prefix.empty()) {
      out.dir = *root;
    } else {
      std::string key = out.prefix;
      while (!key.empty() && key.back() == '/') key.pop_back();
      auto p = ConfinedPath(*root, key);
      if (!p.ok()) return Status::Errorf("{} '{}': {}", what, shown(location), p.status().message());
      out.dir = *p;
    }
    return out;
  }
  if (!remote_)
    return Status::Errorf("{} '{}': the bucket {} does not exist in {} (its buckets are the directories of {}/s3/ and {})",
                          what, shown(location), out.bucket, data_dir_.string(), data_dir_.string(), kLakeBucket);
  out.local = false;
  return out;
}

Result<BucketLocation> Buckets::ResolvePath(std::string_view path, std::string_view location, std::string_view what) const {
  if (path.find('\0') != std::string_view::npos) return Status::Errorf("{} contains a NUL character", what);
  const stdfs::path p(path);
  if (!p.is_absolute()) return Status::Errorf("{} '{}' is not an absolute path", what, shown(location));
  for (const auto& part : p) {
    if (part == "..") return Status::Errorf("{} '{}' contains '..'", what, shown(location));
  }
  const stdfs::path norm = p.lexically_normal();
  std::error_code ec;
  const stdfs::path real = stdfs::weakly_canonical(norm, ec);
  if (ec) return Status::Errorf("{} '{}': {}", what, shown(location), ec.message());
  for (const BucketInfo& b : List()) {
    auto dir = LocalDir(b.name);
    if (!dir.ok()) continue;
    auto root = ResolveRoot(*dir);
    if (!root.ok() || !inside(real, *root)) continue;
    BucketLocation out;
    out.bucket = b.name;
    out.prefix = real.lexically_relative(*root).generic_string();
    if (out.prefix == ".") out.prefix.clear();
    if (!out.prefix.empty() && path.back() == '/') out.prefix += '/';
    out.dir = real;
    out.url = "s3://" + out.bucket + "/" + out.prefix;
    return out;
  }
  return Status::Errorf("{} '{}' is outside this data directory's buckets ({}/s3/*, {}/lake)", what, shown(location),
                        data_dir_.string(), data_dir_.string());
}

Result<std::unique_ptr<ObjectStore>> Buckets::OpenStore(const BucketLocation& location) const {
  if (location.local) return OpenLocal(location.dir.string());
  if (!remote_) return Status::Errorf("the bucket {} is not local and no S3 endpoint is configured", location.bucket);
  return OpenS3(location.bucket, location.prefix, s3_);
}

}  // namespace orderlake::store
