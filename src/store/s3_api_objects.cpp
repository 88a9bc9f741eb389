// The object operations of the S3 REST API: GetObject and HeadObject (Range, conditional
// headers; the file streamed in 1 MiB pieces, HEAD only stats it), PutObject (atomic:
// temporary + rename; If-None-Match: * through link()), CopyObject, DeleteObject and DeleteObjects, and the metadata kept
// beside objects written through the API (<bucket>/.s3meta/<key>: ETag and Content-Type).
#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "core/base64.h"
#include "core/fs.h"
#include "store/keys.h"
#include "store/s3_internal.h"

namespace orderlake::store::s3 {
namespace stdfs = std::filesystem;

std::string Md5Raw(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_md5(), nullptr);
  return std::string(reinterpret_cast<char*>(md), n);
}

std::string Md5Hex(std::string_view data) {
  std::string out;
  for (unsigned char c : Md5Raw(data)) out += fmt::format("{:02x}", c);
  return out;
}

namespace {

constexpr size_t kPiece = size_t{1} << 20;  // bytes a GET reads and sends at a time

std::string Identity(const struct stat& st) {
  return fmt::format("{} {}.{}", st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

int64_t MtimeMs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
}

// An open file, closed when the last streaming piece is sent (or the connection drops).
struct OpenFile {
  int fd = -1;
  ~OpenFile() {
    if (fd >= 0) ::close(fd);
  }
};

bool EtagMatches(std::string_view header, std::string_view etag) {
  if (header == "*") return true;
  size_t pos = 0;
  while (pos <= header.size()) {
    size_t comma = header.find(',', pos);
    if (comma == std::string_view::npos) comma = header.size();
    std::string_view v = header.substr(pos, comma - pos);
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    if (v.starts_with("W/")) v.remove_prefix(2);
    if (v == etag || (v.size() + 2 == etag.size() && etag.substr(1, v.size()) == v)) return true;
    pos = comma + 1;
  }
  return false;
}

std::string ContentType(const Call& call) {
  std::string t = call.header("Content-Type");
  if (t.size() > 256) t.resize(256);
  return t;
}

void SetObjectHeaders(Call& call, const Meta& meta, int64_t mtime_ms) {
  call.res.set_header("ETag", meta.etag);
  call.res.set_header("Last-Modified", HttpTime(mtime_ms));
  call.res.set_header("Accept-Ranges", "bytes");
  for (const char* h : {"response-content-disposition", "response-content-encoding", "response-content-language",
                        "response-cache-control", "response-expires"}) {
    if (!call.has(h)) continue;
    std::string name = std::string(h).substr(9);
    name[0] = static_cast<char>(std::toupper(name[0]));
    if (const size_t d = name.find('-'); d != std::string::npos) name[d + 1] = static_cast<char>(std::toupper(name[d + 1]));
    if (const std::string v = call.param(h); v.size() < 1024 && v.find_first_of("\r\n") == std::string::npos)
      call.res.set_header(name, v);
  }
}

// Removes the directories left empty under `root` on the way up from `dir`.
void PruneEmpty(const stdfs::path& root, stdfs::path dir) {
  std::error_code ec;
  while (dir != root && dir.string().size() > root.string().size()) {
    if (!stdfs::is_empty(dir, ec) || ec || !stdfs::remove(dir, ec)) return;
    dir = dir.parent_path();
  }
}

// Deletes one key: nullopt when done (or when there was nothing to delete, as S3 answers).
std::optional<Error> DeleteKey(const stdfs::path& root, std::string_view key) {
  Error e;
  auto path = KeyPath(root, key, false, &e);
  if (!path.ok()) return e.code == "NoSuchKey" ? std::nullopt : std::optional<Error>(e);
  struct stat st {};
  if (::lstat(path->c_str(), &st) != 0 || S_ISDIR(st.st_mode)) return std::nullopt;
  if (::unlink(path->c_str()) != 0 && errno != ENOENT)
    return Error{500, "InternalError", fmt::format("cannot delete: {}", std::strerror(errno))};
  DropMeta(root, key);
  PruneEmpty(root, path->parent_path());
  return std::nullopt;
}

}  // namespace

Meta ReadMeta(const stdfs::path& root, std::string_view key, const stdfs::path& path) {
  Meta m;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return m;
  auto text = fs::read_file(root / kMetaDir / std::string(key));
  if (text.ok() && text->size() < 4096) {
    // identity \n etag \n content type
    const size_t a = text->find('\n'), b = a == std::string::npos ? a : text->find('\n', a + 1);
    if (b != std::string::npos && text->substr(0, a) == Identity(st)) {
      m.etag = text->substr(a + 1, b - a - 1);
      m.content_type = text->substr(b + 1);
      while (!m.content_type.empty() && m.content_type.back() == '\n') m.content_type.pop_back();
    }
  }
  if (m.etag.empty()) m.etag = "\"" + Md5Hex(fmt::format("{} {}", Identity(st), st.st_ino)) + "\"";
  if (m.content_type.empty()) m.content_type = "application/octet-stream";
  return m;
}

void WriteMeta(const stdfs::path& root, std::string_view key, const stdfs::path& path, const Meta& meta) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return;
  const stdfs::path mp = root / kMetaDir / std::string(key);
  (void)fs::create_directories(mp.parent_path());
  // Not fsynced: metadata lost in a crash falls back to the derived ETag.
  FILE* f = std::fopen((mp.string() + ".tmp").c_str(), "w");
  if (!f) return;
  const std::string text = fmt::format("{}\n{}\n{}\n", Identity(st), meta.etag, meta.content_type);
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  std::fclose(f);
  if (ok) ::rename((mp.string() + ".tmp").c_str(), mp.c_str());
}

void DropMeta(const stdfs::path& root, std::string_view key) {
  std::error_code ec;
  stdfs::remove(root / kMetaDir / std::string(key), ec);
}

Status Publish(const stdfs::path& root, std::string_view key, const stdfs::path& tmp, const stdfs::path& path,
               const Meta& meta) {
  ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(path.parent_path()));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return Status::Errorf("cannot store the object {}: {}", key, std::strerror(e));
  }
  WriteMeta(root, key, path, meta);
  return Status::OK();
}

void GetObject(const Env& env, Call& call, bool head) {
  BucketRoot b = OpenBucket(env, call, false);
  if (b.error) return SendError(call, *b.error);
  Error e;
  auto path = KeyPath(b.root, call.key, false, &e);
  if (!path.ok()) return SendError(call, e);
  struct stat st {};
  if (::stat(path->c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return SendError(call, {404, "NoSuchKey", "The specified key does not exist."});
  std::shared_ptr<OpenFile> file;
  if (!head) {  // a HEAD stats the object and never opens it
    file = std::make_shared<OpenFile>();
    file->fd = ::open(path->c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (file->fd < 0 || ::fstat(file->fd, &st) != 0 || !S_ISREG(st.st_mode))
      return SendError(call, {404, "NoSuchKey", "The specified key does not exist."});
  }
  const Meta meta = ReadMeta(b.root, call.key, *path);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (const std::string im = call.header("If-Match"); !im.empty() && !EtagMatches(im, meta.etag))
    return SendError(call, {412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold"});
  SetObjectHeaders(call, meta, MtimeMs(st));
  if (const std::string inm = call.header("If-None-Match"); !inm.empty() && EtagMatches(inm, meta.etag)) {
    call.res.status = 304;
    return;
  }
  auto range = ParseRange(call.header("Range"), size);
  if (!range.ok()) {
    call.res.set_header("Content-Range", fmt::format("bytes */{}", size));
    return SendError(call, {416, "InvalidRange", range.status().message()});
  }
  uint64_t first = 0, length = size;
  call.res.status = 200;
  if (*range) {
    first = (*range)->first;
    length = (*range)->last - first + 1;
    call.res.status = 206;
    call.res.set_header("Content-Range", fmt::format("bytes {}-{}/{}", first, (*range)->last, size));
  }
  const std::string type = call.has("response-content-type") && call.param("response-content-type").size() < 256
                               ? call.param("response-content-type")
                               : meta.content_type;
  if (length == 0) {
    call.res.set_content("", type);
    return;
  }
  // A sized provider: the server sends Content-Length (also for a HEAD, which it never pumps).
  call.res.set_content_provider(
      length, type, [file, first, length](size_t offset, size_t, httplib::DataSink& sink) {
        if (!file || offset >= length) return false;
        const size_t n = static_cast<size_t>(std::min<uint64_t>(kPiece, length - offset));
        std::string buf(n, '\0');
        size_t got = 0;
        while (got < n) {
          const ssize_t r = ::pread(file->fd, buf.data() + got, n - got, static_cast<off_t>(first + offset + got));
          if (r < 0 && errno == EINTR) continue;
          if (r <= 0) return false;  // truncated meanwhile: the connection is closed short
          got += static_cast<size_t>(r);
        }
        sink.write(buf.data(), n);
        if (offset + n >= length) sink.done();
        return true;
      });
}

void PutObject(const Env& env, Call& call) {
  BucketRoot b = OpenBucket(env, call, true);
  if (b.error) return SendError(call, *b.error);
  Error e;
  auto path = KeyPath(b.root, call.key, true, &e);
  if (!path.ok()) return SendError(call, e);
  const std::string raw_md5 = Md5Raw(call.body);
  if (const std::string given = call.header("Content-MD5"); !given.empty()) {
    auto want = base64_decode(given);
    if (!want || want->size() != 16) return SendError(call, {400, "InvalidDigest", "The Content-MD5 you specified was invalid."});
    if (*want != raw_md5)
      return SendError(call, {400, "BadDigest", "The Content-MD5 you specified did not match what we received."});
  }
  std::error_code ec;
  if (stdfs::is_directory(*path, ec))
    return SendError(call, {409, "InvalidRequest", fmt::format("The key {} is a prefix of other keys here and cannot also "
                                                               "name an object",
                                                               call.key)});
  if (call.header("If-None-Match") == "*") {
    // A conditional write (S3's If-None-Match: *): a temporary linked to the key, which
    // fails when the key exists, so of two writers exactly one wins.
    thread_local std::mt19937_64 rng{std::random_device{}()};
    const stdfs::path tmp = path->parent_path() / fmt::format(".put-{:016x}.tmp", rng());
    if (Status st = fs::write_file_atomic(tmp, call.body); !st.ok())
      return SendError(call, {500, "InternalError", st.message()});
    const int rc = ::link(tmp.c_str(), path->c_str());
    const int err = errno;
    ::unlink(tmp.c_str());
    if (rc != 0 && err == EEXIST)
      return SendError(call, {412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold"});
    if (rc != 0) return SendError(call, {500, "InternalError", fmt::format("cannot store the object: {}", std::strerror(err))});
  } else if (Status st = fs::write_file_atomic(*path, call.body); !st.ok()) {
    return SendError(call, {500, "InternalError", st.message()});
  }
  Meta meta{"\"" + Md5Hex(call.body) + "\"", ContentType(call)};
  WriteMeta(b.root, call.key, *path, meta);
  call.res.set_header("ETag", meta.etag);
  for (const auto& [name, value] : call.checksums) call.res.set_header(name, value);
  call.res.status = 200;
}

void CopyObject(const Env& env, Call& call) {
  BucketRoot dst = OpenBucket(env, call, true);
  if (dst.error) return SendError(call, *dst.error);
  Error e;
  auto path = KeyPath(dst.root, call.key, true, &e);
  if (!path.ok()) return SendError(call, e);
  std::string source = httplib::detail::decode_url(call.header("x-amz-copy-source"), false);
  if (const size_t q = source.find("?versionId="); q != std::string::npos) source.resize(q);
  if (!source.empty() && source.front() == '/') source.erase(0, 1);
  const size_t slash = source.find('/');
  if (slash == std::string::npos || slash + 1 == source.size())
    return SendError(call, {400, "InvalidArgument", "Copy Source must mention the source bucket and key: bucket/key"});
  Call src_call{call.req, call.res, source.substr(0, slash), source.substr(slash + 1), call.request_id, {}, {}};
  BucketRoot src = OpenBucket(env, src_call, false);
  if (src.error) return SendError(call, *src.error);
  auto src_path = KeyPath(src.root, src_call.key, false, &e);
  if (!src_path.ok()) return SendError(call, e);
  struct stat st {};
  if (::stat(src_path->c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return SendError(call, {404, "NoSuchKey", "The specified key does not exist."});
  Meta meta = ReadMeta(src.root, src_call.key, *src_path);
  if (call.header("x-amz-metadata-directive") == "REPLACE") meta.content_type = ContentType(call);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const stdfs::path tmp = dst.root / fmt::format(".copy-{:016x}.tmp", rng());
  std::error_code ec;
  stdfs::copy_file(*src_path, tmp, stdfs::copy_options::overwrite_existing, ec);
  if (ec) {
    stdfs::remove(tmp, ec);
    return SendError(call, {500, "InternalError", fmt::format("cannot copy: {}", ec.message())});
  }
  if (Status s = Publish(dst.root, call.key, tmp, *path, meta); !s.ok())
    return SendError(call, {500, "InternalError", s.message()});
  SendXml(call, 200,
          fmt::format("{}<CopyObjectResult xmlns=\"{}\"><LastModified>{}</LastModified><ETag>{}</ETag></CopyObjectResult>",
                      kXmlHead, kXmlNs, IsoTime(MtimeMs(st)), XmlEscape(meta.etag)));
}

void DeleteObject(const Env& env, Call& call) {
  BucketRoot b = OpenBucket(env, call, true);
  if (b.error) return SendError(call, *b.error);
  if (auto e = DeleteKey(b.root, call.key)) return SendError(call, *e);
  call.res.status = 204;
}

void DeleteObjects(const Env& env, Call& call) {
  BucketRoot b = OpenBucket(env, call, true);
  if (b.error) return SendError(call, *b.error);
  const std::vector<std::string> keys = XmlValues(call.body, "Key", 1001);
  if (keys.empty() || keys.size() > 1000 || call.body.find("<Delete") == std::string::npos)
    return SendError(call, {400, "MalformedXML", "The XML you provided was not well-formed or did not validate: "
                                                 "a <Delete> of 1 to 1,000 <Object><Key> entries"});
  const bool quiet = call.body.find("<Quiet>true</Quiet>") != std::string::npos;
  std::string xml = fmt::format("{}<DeleteResult xmlns=\"{}\">", kXmlHead, kXmlNs);
  for (const std::string& key : keys) {
    auto e = key.empty() || key.size() > 1024 ? std::optional<Error>(Error{400, "InvalidArgument", "invalid key"})
                                              : DeleteKey(b.root, key);
    if (e)
      xml += fmt::format("<Error><Key>{}</Key><Code>{}</Code><Message>{}</Message></Error>", XmlEscape(key), e->code,
                         XmlEscape(e->message));
    else if (!quiet)
      xml += fmt::format("<Deleted><Key>{}</Key></Deleted>", XmlEscape(key));
  }
  xml += "</DeleteResult>";
  SendXml(call, 200, xml);
}

}  // namespace orderlake::store::s3
