// What the files of the S3 REST API (store/s3_api*.cpp) share: one request as the handlers
// see it, S3's XML error document, the object metadata kept beside an object, and small
// helpers (XML, dates, ranges, aws-chunked bodies, SigV4 for service "s3").
#pragma once
#include <httplib.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/buckets.h"
#include "store/s3_api.h"
#include "store/xml.h"

namespace orderlake::store::s3 {

inline constexpr std::string_view kXmlNs = "http://s3.amazonaws.com/doc/2006-03-01/";
inline constexpr std::string_view kXmlHead = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
// Object metadata (ETag, Content-Type) of objects written through the API lives under this
// hidden directory of the bucket: <bucket>/.s3meta/<key>.
inline constexpr std::string_view kMetaDir = ".s3meta";

// An S3 error: the HTTP status, the <Code> and a message a person can act on.
struct Error {
  int status = 400;
  std::string code;
  std::string message;
};

// One request as the operations see it.
struct Call {
  const httplib::Request& req;
  httplib::Response& res;
  std::string bucket, key;  // decoded; empty when the request names none
  std::string request_id;
  std::string body;         // the payload (aws-chunked framing removed)
  // Checksums the client sent (x-amz-checksum-crc32: value), verified against the body;
  // echoed in the answer of a put.
  std::vector<std::pair<std::string, std::string>> checksums;
  std::string param(const char* name) const { return req.has_param(name) ? req.get_param_value(name) : ""; }
  bool has(const char* name) const { return req.has_param(name); }
  std::string header(const char* name) const { return req.get_header_value(name); }
};

// Writes S3's <Error> document (no body for HEAD, as S3 answers).
void SendError(Call& call, const Error& e);
void SendXml(Call& call, int status, const std::string& xml);

std::string XmlEscape(std::string_view s);
// Every <tag>…</tag> value in `xml`, unescaped, in order (at most `limit`).
std::vector<std::string> XmlValues(std::string_view xml, std::string_view tag, size_t limit);
std::string IsoTime(int64_t ms);   // 2026-12-07T12:00:00.000Z
std::string HttpTime(int64_t ms);  // Mon, 07 Dec 2026 12:00:00 GMT (RFC 1123)
std::string UrlEncode(std::string_view s);  // encoding-type=url: '/' kept

// A byte range of an object of `size` bytes: [first, last].
struct ByteRange {
  uint64_t first = 0, last = 0;
};
// Parses a Range header: nullopt = serve the whole object (absent, several ranges or not a
// bytes range, which S3 ignores); an Error (416 InvalidRange) when it cannot be satisfied.
Result<std::optional<ByteRange>> ParseRange(std::string_view header, uint64_t size);

// Stored metadata of an object, valid while the file keeps the size and mtime it had.
struct Meta {
  std::string etag;  // quoted
  std::string content_type;
};
// The metadata of the object at `path` (the bucket's resolved root `root`, key `key`):
// the stored one, or an ETag derived from the file's identity and octet-stream.
Meta ReadMeta(const std::filesystem::path& root, std::string_view key, const std::filesystem::path& path);
void WriteMeta(const std::filesystem::path& root, std::string_view key, const std::filesystem::path& path,
               const Meta& meta);
void DropMeta(const std::filesystem::path& root, std::string_view key);

std::string Md5Hex(std::string_view data);
std::string Md5Raw(std::string_view data);

// What the operations reach: the buckets, the options, the multipart state.
struct Env {
  const Buckets& buckets;
  const S3ApiOptions& opt;
  std::filesystem::path uploads_dir;
  std::mutex& uploads_mu;
};

// The bucket a call names, resolved: its directory with symlinks resolved. An Error when the
// name is invalid (InvalidBucketName), the bucket is not local (NoSuchBucket) or `write` is
// asked of a read-only bucket (AccessDenied).
struct BucketRoot {
  std::filesystem::path root;
  std::optional<Error> error;
};
BucketRoot OpenBucket(const Env& env, const Call& call, bool write);
// The file of call.key in `root`: an Error for a key the policy refuses (hidden segment,
// "..", control characters, a symlink out of the bucket) or, with `write`, one that cannot
// name a file (empty segment, trailing '/').
Result<std::filesystem::path> KeyPath(const std::filesystem::path& root, std::string_view key, bool write,
                                      Error* error);

// ---- s3_api_list.cpp ----
void ListObjects(const Env& env, Call& call, bool v2);

// ---- s3_api_objects.cpp ----
void GetObject(const Env& env, Call& call, bool head);
void PutObject(const Env& env, Call& call);
void CopyObject(const Env& env, Call& call);
void DeleteObject(const Env& env, Call& call);
void DeleteObjects(const Env& env, Call& call);
// Moves the finished temporary `tmp` to `path` (making its directories), records `meta`.
Status Publish(const std::filesystem::path& root, std::string_view key, const std::filesystem::path& tmp,
               const std::filesystem::path& path, const Meta& meta);

// ---- s3_api_multipart.cpp ----
// Removes the uploads untouched for upload_ttl; returns how many remain.
size_t SweepUploads(const Env& env);
void CreateUpload(const Env& env, Call& call);
void UploadPart(const Env& env, Call& call);
void CompleteUpload(const Env& env, Call& call);
void AbortUpload(const Env& env, Call& call);

// ---- s3_api_auth.cpp ----
// Checks the request's credentials (Authorization header or presigned query) and decodes
// its body into call.body (aws-chunked framing removed, chunk signatures and trailing or
// header checksums verified). `keys` empty: any well-formed signature or none is accepted.
std::optional<Error> Authenticate(Call& call, const S3ApiOptions& opt);

}  // namespace orderlake::store::s3
