// Multipart uploads (CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
// AbortMultipartUpload), what `aws s3 cp` of a large file uses. An upload is a directory
// <uploads_dir>/<32 hex digits>/ holding `target` (bucket, key, content type) and one file
// per part; Complete concatenates the parts in 1 MiB pieces into a temporary in the bucket
// and renames it onto the key. Bounded: at most max_uploads open, max_parts parts each, and
// uploads untouched for upload_ttl are removed whenever a new one starts.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>

#include "core/fs.h"
#include "store/s3_internal.h"

namespace orderlake::store::s3 {
namespace {
namespace stdfs = std::filesystem;

constexpr uint64_t kMinPart = uint64_t{5} << 20;  // S3's minimum for every part but the last

bool ValidUploadId(std::string_view id) {
  return id.size() == 32 && id.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

struct Upload {
  stdfs::path dir;
  std::string bucket, key, content_type;
};

// The upload call.param("uploadId") names, for call.bucket / call.key.
std::optional<Upload> FindUpload(const Env& env, const Call& call, Error* e) {
  const std::string id = call.param("uploadId");
  *e = Error{404, "NoSuchUpload",
             "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted "
             "or completed."};
  if (!ValidUploadId(id)) return std::nullopt;
  Upload u;
  u.dir = env.uploads_dir / id;
  auto text = fs::read_file(u.dir / "target");
  if (!text.ok()) return std::nullopt;
  const size_t a = text->find('\n'), b = a == std::string::npos ? a : text->find('\n', a + 1);
  if (b == std::string::npos) return std::nullopt;
  u.bucket = text->substr(0, a);
  u.key = text->substr(a + 1, b - a - 1);
  u.content_type = text->substr(b + 1);
  if (u.bucket != call.bucket || u.key != call.key) return std::nullopt;
  return u;
}

}  // namespace

size_t SweepUploads(const Env& env) {
  const auto now = stdfs::file_time_type::clock::now();
  size_t open = 0;
  std::error_code ec;
  for (stdfs::directory_iterator it(env.uploads_dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code e2;
    const auto t = stdfs::last_write_time(it->path(), e2);
    if (!e2 && now - t > env.opt.upload_ttl) {
      stdfs::remove_all(it->path(), e2);
      continue;
    }
    ++open;
  }
  return open;
}

namespace {

std::string PartName(int n) { return fmt::format("part-{:05d}", n); }

std::string Unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

// Appends the file `part` to `out`, feeding `md5` nothing (the parts' MD5s are stored).
Status AppendFile(const stdfs::path& part, int out) {
  const int in = ::open(part.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Status::Errorf("cannot open {}: {}", part.string(), std::strerror(errno));
  std::string buf(size_t{1} << 20, '\0');
  for (;;) {
    const ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(in);
      return Status::Errorf("cannot read {}: {}", part.string(), std::strerror(errno));
    }
    if (n == 0) break;
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::write(out, buf.data() + done, static_cast<size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        ::close(in);
        return Status::Errorf("cannot write the object: {}", std::strerror(errno));
      }
      done += w;
    }
  }
  ::close(in);
  return Status::OK();
}

}  // namespace

void CreateUpload(const Env& env, Call& call) {
  BucketRoot b = OpenBucket(env, call, true);
  if (b.error) return SendError(call, *b.error);
  Error e;
  auto path = KeyPath(b.root, call.key, true, &e);
  if (!path.ok()) return SendError(call, e);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::string id = fmt::format("{:016x}{:016x}", rng(), rng());
  {
    std::lock_guard lock(env.uploads_mu);
    if (SweepUploads(env) >= env.opt.max_uploads)
      return SendError(call, {503, "SlowDown",
                              fmt::format("{} multipart uploads are open already: complete or abort one first",
                                          env.opt.max_uploads)});
    std::string ct = call.header("Content-Type");
    if (ct.size() > 256 || ct.find('\n') != std::string::npos) ct.clear();
    if (Status st = fs::write_file_atomic(env.uploads_dir / id / "target",
                                          fmt::format("{}\n{}\n{}", call.bucket, call.key, ct));
        !st.ok())
      return SendError(call, {500, "InternalError", st.message()});
  }
  SendXml(call, 200,
          fmt::format("{}<InitiateMultipartUploadResult xmlns=\"{}\"><Bucket>{}</Bucket><Key>{}</Key><UploadId>{}"
                      "</UploadId></InitiateMultipartUploadResult>",
                      kXmlHead, kXmlNs, XmlEscape(call.bucket), XmlEscape(call.key), id));
}

void UploadPart(const Env& env, Call& call) {
  BucketRoot b = OpenBucket(env, call, true);
  if (b.error) return SendError(call, *b.error);
  if (call.req.has_header("x-amz-copy-source"))
    return SendError(call, {501, "NotImplemented", "UploadPartCopy is not implemented"});
  const std::string pn = call.param("partNumber");
  const int n = pn.size() >= 1 && pn.size() <= 5 && pn.find_first_not_of("0123456789") == std::string::npos
                    ? std::stoi(pn) : 0;
  if (n < 1 || n > env.opt.max_parts)
    return SendError(call, {400, "InvalidArgument",
                            fmt::format("Part number must be an integer between 1 and {}, inclusive", env.opt.max_parts)});
  Error e;
  auto up = FindUpload(env, call, &e);
  if (!up) return SendError(call, e);
  const std::string md5 = Md5Hex(call.body);
  if (Status st = fs::write_file_atomic(up->dir / PartName(n), call.body); !st.ok())
    return SendError(call, {500, "InternalError", st.message()});
  if (Status st = fs::write_file_atomic(up->dir / (PartName(n) + ".md5"), md5); !st.ok())
    return SendError(call, {500, "InternalError", st.message()});
  call.res.set_header("ETag", "\"" + md5 + "\"");
  for (const auto& [name, value] : call.checksums) call.res.set_header(name, value);
  call.res.status = 200;
}

void CompleteUpload(const Env& env, Call& call) {
  BucketRoot b = OpenBucket(env, call, true);
  if (b.error) return SendError(call, *b.error);
  Error e;
  auto path = KeyPath(b.root, call.key, true, &e);
  if (!path.ok()) return SendError(call, e);
  auto up = FindUpload(env, call, &e);
  if (!up) return SendError(call, e);
  const size_t limit = static_cast<size_t>(env.opt.max_parts) + 1;
  const auto numbers = XmlValues(call.body, "PartNumber", limit), etags = XmlValues(call.body, "ETag", limit);
  if (numbers.empty() || numbers.size() != etags.size() || numbers.size() >= limit)
    return SendError(call, {400, "MalformedXML", "The XML you provided was not well-formed or did not validate"});
  std::vector<int> parts;
  std::string md5s;
  for (size_t i = 0; i < numbers.size(); ++i) {
    const int n = numbers[i].size() <= 5 && !numbers[i].empty() &&
                          numbers[i].find_first_not_of("0123456789") == std::string::npos
                      ? std::stoi(numbers[i]) : 0;
    if (n < 1 || (!parts.empty() && n <= parts.back()))
      return SendError(call, {400, "InvalidPartOrder", "The list of parts was not in ascending order."});
    auto stored = fs::read_file(up->dir / (PartName(n) + ".md5"));
    if (!stored.ok() || *stored != Unquote(etags[i]))
      return SendError(call, {400, "InvalidPart", fmt::format("Part {} could not be found or its ETag does not match", n)});
    struct stat st {};
    if (::stat((up->dir / PartName(n)).c_str(), &st) != 0)
      return SendError(call, {400, "InvalidPart", fmt::format("Part {} could not be found", n)});
    if (i + 1 < numbers.size() && static_cast<uint64_t>(st.st_size) < kMinPart)
      return SendError(call, {400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size."});
    parts.push_back(n);
    for (size_t k = 0; k + 1 < stored->size(); k += 2) md5s.push_back(static_cast<char>(std::stoi(stored->substr(k, 2), nullptr, 16)));
  }
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const stdfs::path tmp = b.root / fmt::format(".upload-{:016x}.tmp", rng());
  const int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (out < 0) return SendError(call, {500, "InternalError", fmt::format("cannot create the object: {}", std::strerror(errno))});
  Status st;
  for (int n : parts) {
    st = AppendFile(up->dir / PartName(n), out);
    if (!st.ok()) break;
  }
  if (st.ok() && ::fsync(out) != 0) st = Status::Errorf("fsync failed: {}", std::strerror(errno));
  ::close(out);
  const Meta meta{fmt::format("\"{}-{}\"", Md5Hex(md5s), parts.size()), up->content_type};
  if (st.ok()) st = Publish(b.root, call.key, tmp, *path, meta);
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return SendError(call, {500, "InternalError", st.message()});
  }
  std::error_code ec;
  stdfs::remove_all(up->dir, ec);
  SendXml(call, 200,
          fmt::format("{}<CompleteMultipartUploadResult xmlns=\"{}\"><Location>/{}/{}</Location><Bucket>{}</Bucket>"
                      "<Key>{}</Key><ETag>{}</ETag></CompleteMultipartUploadResult>",
                      kXmlHead, kXmlNs, XmlEscape(call.bucket), XmlEscape(UrlEncode(call.key)), XmlEscape(call.bucket),
                      XmlEscape(call.key), XmlEscape(meta.etag)));
}

void AbortUpload(const Env& env, Call& call) {
  BucketRoot b = OpenBucket(env, call, true);
  if (b.error) return SendError(call, *b.error);
  Error e;
  auto up = FindUpload(env, call, &e);
  if (!up) return SendError(call, e);
  std::error_code ec;
  stdfs::remove_all(up->dir, ec);
  call.res.status = 204;
}

}  // namespace orderlake::store::s3
