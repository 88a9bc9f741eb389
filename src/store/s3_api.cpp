// The S3 REST API: addressing (path-style and virtual-host), authentication, the dispatch
// of a request to its operation, and the bucket operations. Objects, listings, multipart
// uploads and SigV4 live in the other s3_api_*.cpp files (see store/s3_internal.h).
#include "store/s3_api.h"

#include <fmt/format.h>

#include <atomic>
#include <random>

#include "core/fs.h"
#include "store/keys.h"
#include "store/s3_internal.h"

namespace orderlake::store {
namespace stdfs = std::filesystem;
using s3::Call;
using s3::Error;

Status S3ApiOptions::Validate() const {
  for (const auto& [id, secret] : keys)
    if (id.empty() || secret.empty()) return Status::Error("S3 API keys: access key id and secret must be non-empty");
  if (region.empty()) return Status::Error("S3 API: the region must not be empty");
  if (max_uploads < 1) return Status::Error("S3 API: max_uploads must be at least 1");
  if (max_parts < 1 || max_parts > 10000) return Status::Errorf("S3 API: max_parts must be 1-10000, got {}", max_parts);
  if (upload_ttl.count() < 1) return Status::Error("S3 API: upload_ttl must be at least 1 s");
  if (max_buckets < 1) return Status::Error("S3 API: max_buckets must be at least 1");
  return Status::OK();
}

struct S3Api::State {
  std::atomic<uint64_t> next_id{0};
  uint64_t id_base = std::random_device{}();
  std::mutex uploads_mu;
};

S3Api::S3Api(const Buckets& buckets, S3ApiOptions options)
    : buckets_(buckets), opt_(std::move(options)), state_(std::make_unique<State>()) {
  if (opt_.uploads_dir.empty()) opt_.uploads_dir = buckets_.data_dir() / ".s3-uploads";
  s3::SweepUploads(s3::Env{buckets_, opt_, opt_.uploads_dir, state_->uploads_mu});  // left by an earlier run
}
S3Api::~S3Api() = default;

namespace s3 {

void SendXml(Call& call, int status, const std::string& xml) {
  call.res.status = status;
  call.res.set_content(xml, "application/xml");
}

void SendError(Call& call, const Error& e) {
  call.res.status = e.status;
  if (call.req.method == "HEAD") return;  // S3 answers HEAD errors without a body
  std::string resource = "/" + call.bucket;
  if (!call.key.empty()) resource += "/" + call.key;
  call.res.set_content(fmt::format("{}<Error><Code>{}</Code><Message>{}</Message><Resource>{}</Resource>"
                                   "<RequestId>{}</RequestId></Error>",
                                   kXmlHead, e.code, XmlEscape(e.message), XmlEscape(resource), call.request_id),
                       "application/xml");
}

std::string XmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\r': out += "&#13;"; break;
      case '\n': out += "&#10;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::vector<std::string> XmlValues(std::string_view xml, std::string_view tag, size_t limit) {
  std::vector<std::string> out;
  const std::string open = fmt::format("<{}>", tag), close = fmt::format("</{}>", tag);
  size_t pos = 0;
  while (out.size() < limit) {
    const size_t a = xml.find(open, pos);
    if (a == std::string_view::npos) break;
    const size_t b = xml.find(close, a + open.size());
    if (b == std::string_view::npos) break;
    out.push_back(XmlUnescape(xml.substr(a + open.size(), b - a - open.size())));
    pos = b + close.size();
  }
  return out;
}

std::string IsoTime(int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
}

std::string HttpTime(int64_t ms) {
  static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{}, {:02d} {} {:04d} {:02d}:{:02d}:{:02d} GMT", kDays[tm.tm_wday], tm.tm_mday,
                     kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string UrlEncode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') out.push_back(static_cast<char>(c));
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

Result<std::optional<ByteRange>> ParseRange(std::string_view h, uint64_t size) {
  using R = std::optional<ByteRange>;
  if (h.substr(0, 6) != "bytes=" || h.find(',') != std::string_view::npos) return R();
  const std::string_view spec = h.substr(6);
  const size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return R();
  auto number = [](std::string_view s, uint64_t* v) {
    if (s.empty() || s.size() > 19) return false;
    *v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      *v = *v * 10 + static_cast<uint64_t>(c - '0');
    }
    return true;
  };
  uint64_t a = 0, b = 0;
  const std::string_view first = spec.substr(0, dash), last = spec.substr(dash + 1);
  auto unsatisfiable = [&] {
    return Status::Errorf("The requested range {} is not satisfiable (the object has {} bytes)", h, size);
  };
  if (first.empty()) {  // the last n bytes
    if (!number(last, &b)) return R();
    if (b == 0 || size == 0) return unsatisfiable();
    return R(ByteRange{size - std::min(b, size), size - 1});
  }
  if (!number(first, &a)) return R();
  if (!last.empty() && (!number(last, &b) || b < a)) return R();
  if (a >= size) return unsatisfiable();
  return R(ByteRange{a, last.empty() ? size - 1 : std::min(b, size - 1)});
}

BucketRoot OpenBucket(const Env& env, const Call& call, bool write) {
  BucketRoot out;
  if (!ValidBucketName(call.bucket)) {
    out.error = Error{400, "InvalidBucketName", fmt::format("The specified bucket is not valid: '{}'",
                                                            call.bucket.substr(0, 100))};
    return out;
  }
  auto dir = env.buckets.LocalDir(call.bucket);
  if (!dir.ok()) {
    out.error = Error{404, "NoSuchBucket", fmt::format("The specified bucket does not exist: {}", call.bucket)};
    return out;
  }
  if (write && env.opt.read_only && env.opt.read_only(call.bucket)) {
    out.error = Error{403, "AccessDenied", fmt::format("The bucket {} is read-only on this endpoint", call.bucket)};
    return out;
  }
  auto root = ResolveRoot(*dir);
  if (!root.ok()) {
    out.error = Error{500, "InternalError", root.status().message()};
    return out;
  }
  out.root = *root;
  return out;
}

Result<stdfs::path> KeyPath(const stdfs::path& root, std::string_view key, bool write, Error* error) {
  size_t start = 0;
  while (start <= key.size()) {
    size_t slash = key.find('/', start);
    if (slash == std::string_view::npos) slash = key.size();
    const std::string_view seg = key.substr(start, slash - start);
    if (!seg.empty() && seg.front() == '.' && seg != "." && seg != "..") {
      *error = write ? Error{403, "AccessDenied", "Keys with a segment starting with '.' are reserved on this endpoint"}
                     : Error{404, "NoSuchKey", "The specified key does not exist."};
      return Status::Error(error->message);
    }
    if (write && seg.empty()) {
      *error = Error{400, "InvalidArgument",
                     "Keys with an empty segment ('//' or a trailing '/') cannot be stored on this endpoint"};
      return Status::Error(error->message);
    }
    start = slash + 1;
  }
  auto path = ConfinedPath(root, key);
  if (!path.ok()) *error = Error{403, "AccessDenied", path.status().message()};
  return path;
}

}  // namespace s3

namespace {

// The bucket of a virtual-host request (Host: bucket.localhost:P, bucket.s3.<host>, or
// <bucket>.<host> when <bucket> is a local bucket); empty for path-style.
std::string VirtualHostBucket(const Buckets& buckets, std::string host) {
  if (host.empty() || host.front() == '[') return {};
  if (const size_t colon = host.rfind(':'); colon != std::string::npos) host.resize(colon);
  for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string bucket;
  if (host.ends_with(".localhost")) bucket = host.substr(0, host.size() - 10);
  else if (const size_t s3 = host.find(".s3."); s3 != std::string::npos) bucket = host.substr(0, s3);
  else if (const size_t dot = host.find('.'); dot != std::string::npos && !std::isdigit(static_cast<unsigned char>(host.back())))
    bucket = buckets.IsLocal(host.substr(0, dot)) ? host.substr(0, dot) : "";
  return bucket;
}

void ListBuckets(const Buckets& buckets, Call& call) {
  std::string xml = fmt::format("{}<ListAllMyBucketsResult xmlns=\"{}\"><Owner><ID>orderlake</ID><DisplayName>orderlake"
                                "</DisplayName></Owner><Buckets>",
                                s3::kXmlHead, s3::kXmlNs);
  for (const BucketInfo& b : buckets.List())
    xml += fmt::format("<Bucket><Name>{}</Name><CreationDate>{}</CreationDate></Bucket>", s3::XmlEscape(b.name),
                       s3::IsoTime(b.created_ms));
  xml += "</Buckets></ListAllMyBucketsResult>";
  s3::SendXml(call, 200, xml);
}

void CreateBucket(const s3::Env& env, Call& call) {
  if (!ValidBucketName(call.bucket))
    return SendError(call, {400, "InvalidBucketName", fmt::format("The specified bucket is not valid: '{}'",
                                                                  call.bucket.substr(0, 100))});
  if (env.buckets.IsLocal(call.bucket))
    return SendError(call, {409, "BucketAlreadyOwnedByYou",
                            "Your previous request to create the named bucket succeeded and you already own it."});
  if (call.bucket == kLakeBucket || (env.opt.read_only && env.opt.read_only(call.bucket)))
    return SendError(call, {403, "AccessDenied", fmt::format("The bucket name {} is reserved", call.bucket)});
  if (env.buckets.List().size() >= env.opt.max_buckets)
    return SendError(call, {400, "TooManyBuckets",
                            fmt::format("You have attempted to create more than {} buckets", env.opt.max_buckets)});
  auto made = env.buckets.Create(call.bucket);
  if (!made.ok()) return SendError(call, {500, "InternalError", made.status().message()});
  if (!*made)
    return SendError(call, {409, "BucketAlreadyOwnedByYou",
                            "Your previous request to create the named bucket succeeded and you already own it."});
  call.res.set_header("Location", "/" + call.bucket);
  call.res.status = 200;
}

void DeleteBucket(const s3::Env& env, Call& call) {
  s3::BucketRoot b = s3::OpenBucket(env, call, true);
  if (b.error) return SendError(call, *b.error);
  std::error_code ec;
  for (stdfs::directory_iterator it(b.root, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.starts_with('.')) continue;
    return SendError(call, {409, "BucketNotEmpty", "The bucket you tried to delete is not empty"});
  }
  stdfs::remove_all(b.root, ec);
  if (ec) return SendError(call, {500, "InternalError", fmt::format("cannot remove the bucket: {}", ec.message())});
  call.res.status = 204;
}

// Sub-resources of a bucket or an object that this endpoint does not serve.
bool Unsupported(const Call& call) {
  static const char* const kNames[] = {"acl",      "policy",  "versioning", "tagging",   "cors",   "lifecycle",
                                       "website",  "logging", "encryption", "replication", "notification",
                                       "versions", "retention", "legal-hold", "torrent",  "restore", "select",
                                       "object-lock", "ownershipControls", "publicAccessBlock", "accelerate",
                                       "requestPayment", "analytics", "inventory", "metrics", "intelligent-tiering",
                                       "attributes"};
  for (const char* n : kNames)
    if (call.has(n)) return true;
  return false;
}

void Dispatch(const s3::Env& env, Call& call) {
  const std::string& m = call.req.method;
  if (call.bucket.empty()) {
    if (m == "GET" || m == "HEAD") return ListBuckets(env.buckets, call);
    return SendError(call, {405, "MethodNotAllowed", "The specified method is not allowed against this resource."});
  }
  if (Unsupported(call))
    return SendError(call, {501, "NotImplemented", "This sub-resource is not implemented by orderlake's S3 API"});
  if (call.key.empty()) {
    if (m == "PUT") return CreateBucket(env, call);
    if (m == "DELETE") return DeleteBucket(env, call);
    if (m == "POST" && call.has("delete")) return s3::DeleteObjects(env, call);
    if (m == "HEAD" || m == "GET") {
      s3::BucketRoot b = s3::OpenBucket(env, call, false);
      if (b.error) return SendError(call, *b.error);
      if (m == "HEAD") {
        call.res.set_header("x-amz-bucket-region", env.opt.region);
        call.res.status = 200;
        return;
      }
      if (call.has("location"))
        return s3::SendXml(call, 200, fmt::format("{}<LocationConstraint xmlns=\"{}\">{}</LocationConstraint>",
                                                  s3::kXmlHead, s3::kXmlNs,
                                                  env.opt.region == "us-east-1" ? "" : env.opt.region));
      if (call.has("uploads"))
        return SendError(call, {501, "NotImplemented", "ListMultipartUploads is not implemented"});
      return s3::ListObjects(env, call, call.param("list-type") == "2");
    }
    return SendError(call, {405, "MethodNotAllowed", "The specified method is not allowed against this resource."});
  }
  if (m == "GET" || m == "HEAD") {
    if (call.has("uploadId")) return SendError(call, {501, "NotImplemented", "ListParts is not implemented"});
    return s3::GetObject(env, call, m == "HEAD");
  }
  if (m == "PUT") {
    if (call.has("uploadId") || call.has("partNumber")) return s3::UploadPart(env, call);
    if (call.req.has_header("x-amz-copy-source")) return s3::CopyObject(env, call);
    return s3::PutObject(env, call);
  }
  if (m == "POST") {
    if (call.has("uploads")) return s3::CreateUpload(env, call);
    if (call.has("uploadId")) return s3::CompleteUpload(env, call);
    return SendError(call, {405, "MethodNotAllowed", "POST on an object needs ?uploads or ?uploadId"});
  }
  if (m == "DELETE") {
    if (call.has("uploadId")) return s3::AbortUpload(env, call);
    return s3::DeleteObject(env, call);
  }
  SendError(call, {405, "MethodNotAllowed", "The specified method is not allowed against this resource."});
}

}  // namespace

void S3Api::Handle(const httplib::Request& req, httplib::Response& res) const {
  Call call{req, res, {}, {}, {}, {}, {}};
  call.request_id = fmt::format("{:016X}", state_->id_base + state_->next_id.fetch_add(1));
  res.set_header("x-amz-request-id", call.request_id);
  res.set_header("x-amz-id-2", call.request_id);
  res.set_header("Server", "orderlake");
  std::string_view path = req.path;
  std::string bucket = VirtualHostBucket(buckets_, req.get_header_value("Host"));
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (bucket.empty()) {
    const size_t slash = path.find('/');
    bucket = std::string(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  }
  call.bucket = std::move(bucket);
  call.key = std::string(path);
  if (call.bucket.size() > 255 || call.key.size() > 1024)
    return SendError(call, {400, call.key.size() > 1024 ? "KeyTooLongError" : "InvalidBucketName",
                            "The bucket name or the key is too long"});
  if (auto e = s3::Authenticate(call, opt_)) return SendError(call, *e);
  s3::Env env{buckets_, opt_, opt_.uploads_dir, state_->uploads_mu};
  Dispatch(env, call);
}

}  // namespace orderlake::store
