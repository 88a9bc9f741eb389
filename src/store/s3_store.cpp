// The S3 implementation of ObjectStore: REST over libcurl, signed with SigV4
// (aws/sigv4.h), path-style or virtual-host addressing, ListObjectsV2 with pagination,
// multipart upload for large objects, conditional create, retries with exponential backoff
// and jitter on throttling, 5xx and network errors.
#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "aws/sigv4.h"
#include "core/log.h"
#include "store/object_store.h"
#include "store/xml.h"

namespace orderlake::store {

S3Options s3_options_from_env() {
  S3Options o;
  for (const char* name : {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"}) {
    const char* v = std::getenv(name);
    if (v && *v) {
      o.endpoint = v;
      break;
    }
  }
  const char* vh = std::getenv("ORDERLAKE_S3_VIRTUAL_HOST");
  o.path_style = !(vh && std::string_view(vh) == "1");
  return o;
}

Status S3Options::Validate() const {
  if (!endpoint.empty() && endpoint.rfind("http://", 0) != 0 && endpoint.rfind("https://", 0) != 0 &&
      endpoint.find("://") != std::string::npos)
    return Status::Errorf("AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL must be an http:// or https:// URL, got {}", endpoint);
  if (part_size < (size_t{5} << 20))
    return Status::Errorf("S3 part_size must be at least 5 MiB (S3's minimum part size), got {} bytes", part_size);
  if (multipart_threshold < part_size)
    return Status::Errorf("S3 multipart_threshold ({} bytes) must not be below part_size ({} bytes)",
                          multipart_threshold, part_size);
  if (max_attempts < 1 || max_attempts > 100)
    return Status::Errorf("S3 max_attempts must be between 1 and 100, got {}", max_attempts);
  if (connect_timeout_ms < 1) return Status::Errorf("S3 connect_timeout_ms must be positive, got {}", connect_timeout_ms);
  for (const auto& c : connect_to)
    if (std::count(c.begin(), c.end(), ':') < 3)
      return Status::Errorf("S3 connect_to entries are HOST:PORT:CONNECT-HOST:CONNECT-PORT, got '{}'", c);
  return Status::OK();
}

namespace {

struct HttpResponse {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lowercase names
  std::string network_error;                   // set when no HTTP answer came
};

std::string_view xml_raw(std::string_view xml, std::string_view tag, size_t* pos = nullptr) {
  const std::string open = "<" + std::string(tag) + ">", close = "</" + std::string(tag) + ">";
  const size_t start = xml.find(open, pos ? *pos : 0);
  if (start == std::string_view::npos) return {};
  const size_t end = xml.find(close, start + open.size());
  if (end == std::string_view::npos) return {};
  if (pos) *pos = end + close.size();
  return xml.substr(start + open.size(), end - start - open.size());
}

// The text of the first <tag>…</tag> in xml, entities decoded; empty when absent.
std::string xml_text(std::string_view xml, std::string_view tag) { return XmlUnescape(xml_raw(xml, tag)); }

int64_t parse_iso8601_ms(std::string_view s) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(std::string(s).c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &ms) < 6)
    return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
}

int64_t parse_http_date_ms(const std::string& s) {
  std::tm tm{};
  if (!strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S", &tm)) return 0;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

size_t on_body(char* p, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(p, size * n);
  return size * n;
}

size_t on_header(char* p, size_t size, size_t n, void* user) {
  std::string_view line(p, size * n);
  const size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view v = line.substr(colon + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.remove_suffix(1);
    (*static_cast<std::map<std::string, std::string>*>(user))[name] = std::string(v);
  }
  return size * n;
}

void global_curl_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

class S3Store final : public ObjectStore {
 public:
  S3Store(std::string bucket, std::string prefix, S3Options opt) : bucket_(std::move(bucket)), opt_(std::move(opt)) {
    global_curl_init();
    prefix_ = std::move(prefix);
    while (!prefix_.empty() && prefix_.front() == '/') prefix_.erase(0, 1);
    if (!prefix_.empty() && prefix_.back() != '/') prefix_.push_back('/');
    if (opt_.region.empty()) opt_.region = aws::default_region();
    std::string ep = opt_.endpoint.empty() ? fmt::format("https://s3.{}.amazonaws.com", opt_.region) : opt_.endpoint;
    while (!ep.empty() && ep.back() == '/') ep.pop_back();
    if (ep.find("://") == std::string::npos) ep = "https://" + ep;
    scheme_ = ep.substr(0, ep.find("://"));
    host_ = ep.substr(ep.find("://") + 3);
    endpoint_ = ep;
  }
  ~S3Store() override {
    for (CURL* c : pool_) curl_easy_cleanup(c);
  }

  Result<std::vector<ObjectInfo>> List(std::string_view prefix, std::string_view start_after = {}) override {
    std::vector<ObjectInfo> out;
    std::string token;
    const std::string full_prefix = prefix_ + std::string(prefix);
    for (;;) {
      std::vector<std::pair<std::string, std::string>> q = {{"list-type", "2"}, {"prefix", full_prefix}};
      if (list_page_size_ > 0) q.emplace_back("max-keys", std::to_string(list_page_size_));
      if (!start_after.empty() && token.empty()) q.emplace_back("start-after", prefix_ + std::string(start_after));
      if (!token.empty()) q.emplace_back("continuation-token", token);
      HttpResponse r = Perform("GET", "", q, {}, {});
      if (r.status != 200) return Fail(r, "list", full_prefix);
      size_t pos = 0;
      for (;;) {
        std::string_view c = xml_raw(r.body, "Contents", &pos);
        if (c.empty()) break;
        ObjectInfo o;
        o.key = XmlUnescape(xml_raw(c, "Key"));
        if (!o.key.starts_with(prefix_)) continue;
        o.key = o.key.substr(prefix_.size());
        const size_t slash = o.key.rfind('/');
        if (o.key.substr(slash == std::string::npos ? 0 : slash + 1).starts_with('.')) continue;
        o.size = std::strtoull(std::string(xml_raw(c, "Size")).c_str(), nullptr, 10);
        o.mtime_ms = parse_iso8601_ms(xml_raw(c, "LastModified"));
        o.etag = XmlUnescape(xml_raw(c, "ETag"));
        out.push_back(std::move(o));
      }
      if (xml_raw(r.body, "IsTruncated") != "true") break;
      token = xml_text(r.body, "NextContinuationToken");
      if (token.empty()) return Status::Errorf("list s3://{}/{}: truncated listing without a continuation token", bucket_, full_prefix);
    }
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.key < b.key; });
    return out;
  }

  Result<std::optional<ObjectInfo>> Head(std::string_view key) override {
    const std::string k = prefix_ + std::string(key);
    HttpResponse r = Perform("HEAD", k, {}, {}, {});
    if (r.status == 404) return std::optional<ObjectInfo>();
    if (r.status != 200) return Fail(r, "head", k);
    ObjectInfo o{std::string(key), std::strtoull(r.headers["content-length"].c_str(), nullptr, 10),
                 parse_http_date_ms(r.headers["last-modified"]), r.headers["etag"]};
    return std::optional<ObjectInfo>(std::move(o));
  }

  Result<std::string> Get(std::string_view key, uint64_t offset, std::optional<uint64_t> length) override {
    const std::string k = prefix_ + std::string(key);
    if (length && *length == 0) return std::string();
    std::map<std::string, std::string> h;
    if (offset > 0 || length)
      h["range"] = length ? fmt::format("bytes={}-{}", offset, offset + *length - 1) : fmt::format("bytes={}-", offset);
    HttpResponse r = Perform("GET", k, {}, h, {});
    if (r.status == 416) return std::string();  // offset past the end
    if (r.status != 200 && r.status != 206) return Fail(r, "get", k);
    if (r.status == 200 && (offset > 0 || length)) {  // a server that ignored the range
      if (offset >= r.body.size()) return std::string();
      return r.body.substr(offset, length ? *length : std::string::npos);
    }
    return std::move(r.body);
  }

  Status Put(std::string_view key, std::string_view data) override {
    const std::string k = prefix_ + std::string(key);
    if (data.size() > opt_.multipart_threshold) return PutMultipart(k, data);
    HttpResponse r = Perform("PUT", k, {}, {}, data);
    if (r.status != 200) return Fail(r, "put", k);
    return Status::OK();
  }

  Result<bool> PutIfAbsent(std::string_view key, std::string_view data) override {
    const std::string k = prefix_ + std::string(key);
    HttpResponse r = Perform("PUT", k, {}, {{"if-none-match", "*"}}, data);
    if (r.status == 412 || r.status == 409) return false;
    if (r.status != 200) return Fail(r, "conditional put", k);
    return true;
  }

  Status Delete(std::string_view key) override {
    const std::string k = prefix_ + std::string(key);
    HttpResponse r = Perform("DELETE", k, {}, {}, {});
    if (r.status != 204 && r.status != 200 && r.status != 404) return Fail(r, "delete", k);
    return Status::OK();
  }

  std::string url() const override {
    return prefix_.empty() ? "s3://" + bucket_ : "s3://" + bucket_ + "/" + prefix_.substr(0, prefix_.size() - 1);
  }

  void set_list_page_size(int n) { list_page_size_ = n; }

 private:
  Status PutMultipart(const std::string& k, std::string_view data) {
    HttpResponse r = Perform("POST", k, {{"uploads", ""}}, {}, {});
    if (r.status != 200) return Fail(r, "start multipart upload of", k);
    const std::string upload_id = xml_text(r.body, "UploadId");
    if (upload_id.empty()) return Status::Errorf("multipart upload of s3://{}/{}: no UploadId in the answer", bucket_, k);
    std::string complete = "<CompleteMultipartUpload>";
    Status st;
    const size_t part = std::max<size_t>(opt_.part_size, size_t{5} << 20);
    for (size_t off = 0, n = 1; off < data.size() && st.ok(); off += part, ++n) {
      HttpResponse p = Perform("PUT", k, {{"partNumber", std::to_string(n)}, {"uploadId", upload_id}}, {},
                               data.substr(off, part));
      if (p.status != 200) {
        st = Fail(p, fmt::format("upload part {} of", n), k);
        break;
      }
      complete += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", n, p.headers["etag"]);
    }
    if (st.ok()) {
      complete += "</CompleteMultipartUpload>";
      HttpResponse c = Perform("POST", k, {{"uploadId", upload_id}}, {}, complete);
      // S3 can answer 200 with an <Error> document for a failed completion.
      if (c.status != 200 || c.body.find("<Error>") != std::string::npos)
        st = Fail(c, "complete multipart upload of", k);
    }
    if (!st.ok()) Perform("DELETE", k, {{"uploadId", upload_id}}, {}, {});  // abort, best effort
    return st;
  }

  Status Fail(const HttpResponse& r, std::string_view what, std::string_view key) {
    const std::string where = fmt::format("s3://{}/{}", bucket_, key);
    if (!r.network_error.empty())
      return Status::Errorf("{} {}: cannot reach the S3 endpoint {}: {}", what, where, endpoint_, r.network_error);
    const std::string code = xml_text(r.body, "Code"), message = xml_text(r.body, "Message");
    if (code == "NoSuchBucket" || (r.status == 404 && code.empty() && key.empty()))
      return Status::Errorf("{} {}: bucket {} does not exist at {}", what, where, bucket_, endpoint_);
    if (r.status == 403 || code == "AccessDenied" || code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch")
      return Status::Errorf("{} {}: access denied ({}{}{}); check the credentials", what, where,
                            code.empty() ? "HTTP 403" : code, message.empty() ? "" : ": ", message);
    if (code == "NoSuchKey" || r.status == 404) return Status::Errorf("{} {}: no such object", what, where);
    return Status::Errorf("{} {}: HTTP {}{}{}{}{}", what, where, r.status, code.empty() ? "" : " ", code,
                          message.empty() ? "" : ": ", message);
  }

  CURL* Acquire() {
    std::lock_guard lk(pool_mu_);
    if (!pool_.empty()) {
      CURL* c = pool_.back();
      pool_.pop_back();
      return c;
    }
    return curl_easy_init();
  }
  void Release(CURL* c) {
    std::lock_guard lk(pool_mu_);
    pool_.push_back(c);
  }

  // One request, retried on throttling, 5xx and network errors.
  HttpResponse Perform(const std::string& method, const std::string& key,
                       const std::vector<std::pair<std::string, std::string>>& query,
                       const std::map<std::string, std::string>& extra_headers, std::string_view body) {
    HttpResponse r;
    thread_local std::mt19937 rng{std::random_device{}()};
    for (int attempt = 1;; ++attempt) {
      r = PerformOnce(method, key, query, extra_headers, body);
      const std::string code = r.status >= 400 ? xml_text(r.body, "Code") : std::string();
      const bool retry = !r.network_error.empty() || r.status == 429 || r.status >= 500 || code == "SlowDown" ||
                         code == "RequestTimeout";
      if (!retry || attempt >= opt_.max_attempts) return r;
      const int cap = std::min(5000, 100 << attempt);
      const int sleep_ms = std::uniform_int_distribution<int>(cap / 2, cap)(rng);
      spdlog::debug("s3: {} {} failed ({}), retry {} in {} ms", method, key,
                    r.network_error.empty() ? fmt::format("HTTP {} {}", r.status, code) : r.network_error, attempt,
                    sleep_ms);
      std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
    }
  }

  HttpResponse PerformOnce(const std::string& method, const std::string& key,
                           const std::vector<std::pair<std::string, std::string>>& query,
                           const std::map<std::string, std::string>& extra_headers, std::string_view body) {
    aws::Request req;
    req.method = method;
    std::string host = host_, path;
    if (opt_.path_style) {
      path = "/" + bucket_ + (key.empty() ? "/" : "/" + aws::uri_encode(key, false));
    } else {
      host = bucket_ + "." + host_;
      path = "/" + aws::uri_encode(key, false);
    }
    req.canonical_uri = path;
    req.query = query;
    req.headers = extra_headers;
    req.headers["host"] = host;
    // Without it libcurl would send a form content type, which some servers parse away.
    if (method == "PUT" || method == "POST") req.headers.emplace("content-type", "application/octet-stream");
    req.payload_sha256 = aws::hex_sha256(body);
    req.headers["x-amz-content-sha256"] = req.payload_sha256;
    aws::sign(req, opt_.credentials.empty() ? aws::Credentials{"anonymous", "anonymous", "", "anonymous"} : opt_.credentials,
              opt_.region, "s3");
    std::string url = scheme_ + "://" + host + path;
    for (size_t i = 0; i < query.size(); ++i)
      url += (i ? "&" : "?") + aws::uri_encode(query[i].first) + "=" + aws::uri_encode(query[i].second);

    HttpResponse r;
    CURL* c = Acquire();
    curl_easy_reset(c);
    curl_slist* headers = nullptr;
    for (auto& [name, value] : req.headers) headers = curl_slist_append(headers, (name + ": " + value).c_str());
    headers = curl_slist_append(headers, "Expect:");
    curl_slist* connect_to = nullptr;
    for (auto& e : opt_.connect_to) connect_to = curl_slist_append(connect_to, e.c_str());
    if (connect_to) curl_easy_setopt(c, CURLOPT_CONNECT_TO, connect_to);
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r.headers);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(opt_.connect_timeout_ms));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (method == "HEAD") {
      curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (method == "GET") {
      curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    }
    const CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) r.network_error = curl_easy_strerror(rc);
    else curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(headers);
    curl_slist_free_all(connect_to);
    Release(c);
    return r;
  }

  std::string bucket_, prefix_;
  S3Options opt_;
  std::string scheme_, host_, endpoint_;
  std::mutex pool_mu_;
  std::vector<CURL*> pool_;
  int list_page_size_ = 0;
};

}  // namespace

Result<std::unique_ptr<ObjectStore>> OpenS3(std::string_view bucket, std::string_view prefix, const S3Options& options) {
  if (bucket.empty()) return Status::Error("S3 location without a bucket");
  ORDERLAKE_RETURN_IF_ERROR(options.Validate());
  S3Options resolved = options;
  if (resolved.credentials.empty()) {
    auto creds = aws::resolve_credentials(aws::CredentialChain{});
    if (!creds.ok()) return Status::Errorf("s3://{}: {}", bucket, creds.status().message());
    resolved.credentials = std::move(creds).value();
  }
  auto s = std::make_unique<S3Store>(std::string(bucket), std::string(prefix), std::move(resolved));
  if (const char* page = std::getenv("ORDERLAKE_S3_LIST_PAGE_SIZE")) s->set_list_page_size(std::atoi(page));
  return std::unique_ptr<ObjectStore>(std::move(s));
}

}  // namespace orderlake::store
