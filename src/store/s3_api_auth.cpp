// SigV4 for service "s3" (Authorization header and presigned query strings; SigV2, which
// boto3 and the AWS CLI still use for presigned URLs in us-east-1, as well), the
// aws-chunked bodies of modern clients (STREAMING-UNSIGNED-PAYLOAD-TRAILER with an
// x-amz-checksum-* trailer; STREAMING-AWS4-HMAC-SHA256-PAYLOAD with chunk signatures), and
// the checksums a client sends (CRC32, CRC32C, SHA1, SHA256, Content-MD5 in PutObject).
// S3 differs from the JSON services: the payload line of the canonical request is the
// x-amz-content-sha256 header (a hash, UNSIGNED-PAYLOAD or STREAMING-…), and the canonical
// URI is the path encoded once.
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <zlib.h>

#include <array>
#include <chrono>
#include <map>

#include "aws/sigv4.h"
#include "core/base64.h"
#include "store/s3_internal.h"

namespace orderlake::store::s3 {
namespace {

struct Signed {
  std::string key_id, date, region, service, signed_headers, signature, stamp;
  bool presigned = false;
  long expires = 0;
};

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t p = s.find(sep, start);
    out.emplace_back(s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) return out;
    start = p + 1;
  }
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

bool IsHex(std::string_view s, size_t n) {
  return s.size() == n && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

bool SetCredential(Signed& s, std::string_view credential) {
  auto parts = Split(credential, '/');
  if (parts.size() != 5 || parts[4] != "aws4_request" || parts[0].empty() || parts[1].size() != 8) return false;
  s.key_id = parts[0];
  s.date = parts[1];
  s.region = parts[2];
  s.service = parts[3];
  return true;
}

std::optional<Error> Malformed(std::string why) { return Error{400, "AuthorizationHeaderMalformed", std::move(why)}; }


// The canonical query of the raw target: names and values decoded, encoded again as SigV4
// wants, X-Amz-Signature left out.
std::vector<std::pair<std::string, std::string>> CanonicalQuery(const std::string& target) {
  std::vector<std::pair<std::string, std::string>> out;
  const size_t q = target.find('?');
  if (q == std::string::npos) return out;
  for (const std::string& part : Split(std::string_view(target).substr(q + 1), '&')) {
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    std::string name = httplib::detail::decode_url(part.substr(0, eq), false);
    std::string value = eq == std::string::npos ? "" : httplib::detail::decode_url(part.substr(eq + 1), false);
    if (name == "X-Amz-Signature") continue;
    out.emplace_back(aws::uri_encode(name), aws::uri_encode(value));
  }
  return out;
}

std::optional<Error> Parse(const Call& call, Signed& s) {
  const std::string auth = call.header("Authorization");
  if (!auth.empty()) {
    constexpr std::string_view kAlg = "AWS4-HMAC-SHA256 ";
    if (!std::string_view(auth).starts_with(kAlg))
      return Error{400, "InvalidRequest", "Only AWS4-HMAC-SHA256 (SigV4) signatures are supported"};
    for (const std::string& raw : Split(std::string_view(auth).substr(kAlg.size()), ',')) {
      const std::string p = Trim(raw);
      if (p.starts_with("Credential=") && !SetCredential(s, p.substr(11)))
        return Malformed("The Credential must be KEY/yyyyMMdd/REGION/SERVICE/aws4_request");
      if (p.starts_with("SignedHeaders=")) s.signed_headers = p.substr(14);
      if (p.starts_with("Signature=")) s.signature = p.substr(10);
    }
    s.stamp = call.header("x-amz-date");
  } else {
    s.presigned = true;
    if (call.param("X-Amz-Algorithm") != "AWS4-HMAC-SHA256")
      return Error{400, "InvalidRequest", "X-Amz-Algorithm must be AWS4-HMAC-SHA256"};
    if (!SetCredential(s, call.param("X-Amz-Credential")))
      return Malformed("X-Amz-Credential must be KEY/yyyyMMdd/REGION/SERVICE/aws4_request");
    s.signed_headers = call.param("X-Amz-SignedHeaders");
    s.signature = call.param("X-Amz-Signature");
    s.stamp = call.param("X-Amz-Date");
    const std::string exp = call.param("X-Amz-Expires");
    if (exp.empty() || exp.size() > 6 || exp.find_first_not_of("0123456789") != std::string::npos ||
        (s.expires = std::stol(exp)) < 1 || s.expires > 604800)
      return Error{400, "AuthorizationQueryParametersError", "X-Amz-Expires must be between 1 and 604800 seconds"};
  }
  if (s.key_id.empty() || s.signed_headers.empty() || !IsHex(s.signature, 64))
    return Malformed("The signature needs Credential, SignedHeaders and a 64-hex-digit Signature");
  if (s.stamp.size() != 16 || s.stamp.compare(0, 8, s.date) != 0 || aws::parse_amz_date(s.stamp) < 0)
    return Malformed("X-Amz-Date is missing or does not match the date of the credential scope");
  return std::nullopt;
}

std::optional<Error> CheckTime(const Signed& s) {
  const long long now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const long long t = aws::parse_amz_date(s.stamp);
  if (s.presigned && now > t + s.expires) return Error{403, "AccessDenied", "Request has expired"};
  if ((!s.presigned && std::llabs(now - t) > 15 * 60) || (s.presigned && t - now > 15 * 60))
    return Error{403, "RequestTimeTooSkewed",
                 "The difference between the request time and the current time is too large."};
  return std::nullopt;
}

struct Chunk {
  std::string signature;
  size_t offset = 0, size = 0;
};

// Decodes an aws-chunked body: "<hex>[;chunk-signature=<sig>]\r\n<data>\r\n" … a last
// chunk of size 0, then trailer lines "name:value\r\n" and an empty line.
std::optional<Error> Dechunk(std::string_view in, std::string& out, std::vector<Chunk>& chunks,
                             std::vector<std::pair<std::string, std::string>>& trailers) {
  const Error bad{400, "IncompleteBody", "The aws-chunked request body is malformed"};
  size_t pos = 0;
  for (;;) {
    const size_t eol = in.find("\r\n", pos);
    if (eol == std::string_view::npos || eol - pos > 256) return bad;
    const std::string_view line = in.substr(pos, eol - pos);
    const size_t semi = line.find(';');
    const std::string_view hex = line.substr(0, semi);
    if (hex.empty() || hex.size() > 8 || hex.find_first_not_of("0123456789abcdefABCDEF") != std::string_view::npos)
      return bad;
    const size_t n = std::stoul(std::string(hex), nullptr, 16);
    Chunk c;
    if (semi != std::string_view::npos) {
      const std::string_view ext = line.substr(semi + 1);
      if (ext.starts_with("chunk-signature=")) c.signature = std::string(ext.substr(16));
    }
    pos = eol + 2;
    if (n > in.size() - pos) return bad;
    c.offset = out.size();
    c.size = n;
    out.append(in.substr(pos, n));
    chunks.push_back(std::move(c));
    pos += n;
    if (n == 0) break;
    if (in.substr(pos, 2) != "\r\n") return bad;
    pos += 2;
  }
  while (pos < in.size()) {
    size_t eol = in.find("\r\n", pos);
    if (eol == std::string_view::npos) eol = in.size();
    const std::string_view line = in.substr(pos, eol - pos);
    pos = eol + 2;
    if (line.empty()) break;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || trailers.size() > 8) return bad;
    std::string name(line.substr(0, colon));
    for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    trailers.emplace_back(std::move(name), Trim(line.substr(colon + 1)));
  }
  return std::nullopt;
}

uint32_t Crc32c(std::string_view data) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = c & 1 ? 0x82f63b78u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xffffffffu;
  for (unsigned char b : data) c = table[(c ^ b) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

std::string Be32(uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                     static_cast<char>(v)};
  return std::string(b, 4);
}

std::string Digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), out, &n, md, nullptr);
  return std::string(reinterpret_cast<char*>(out), n);
}

// The base64 checksum `name` (x-amz-checksum-crc32, …) of `data`; nullopt for an algorithm
// not checked here (CRC64NVME).
std::optional<std::string> Checksum(std::string_view name, std::string_view data) {
  if (name == "x-amz-checksum-crc32")
    return base64_encode(Be32(static_cast<uint32_t>(
        crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())))));
  if (name == "x-amz-checksum-crc32c") return base64_encode(Be32(Crc32c(data)));
  if (name == "x-amz-checksum-sha1") return base64_encode(Digest(EVP_sha1(), data));
  if (name == "x-amz-checksum-sha256") return base64_encode(Digest(EVP_sha256(), data));
  return std::nullopt;
}

std::optional<Error> VerifyChunks(const Signed& s, const std::string& secret, const std::string& data,
                                  const std::vector<Chunk>& chunks) {
  const std::string scope = fmt::format("{}/{}/{}/aws4_request", s.date, s.region, s.service);
  const std::string empty = aws::hex_sha256("");
  std::string prev = s.signature;
  const aws::Credentials creds{"", secret, "", ""};
  for (const Chunk& c : chunks) {
    const std::string sts = fmt::format("AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{}\n{}", s.stamp, scope, prev, empty,
                                        aws::hex_sha256(std::string_view(data).substr(c.offset, c.size)));
    const std::string want = aws::signature(creds, s.date, s.region, s.service, sts);
    if (want.size() != c.signature.size() || CRYPTO_memcmp(want.data(), c.signature.data(), want.size()) != 0)
      return Error{403, "SignatureDoesNotMatch", "The chunk signature of the aws-chunked body does not match"};
    prev = want;
  }
  return std::nullopt;
}

// Sets call.body from the request body; verifies its hashes and checksums.
std::optional<Error> ReadBody(Call& call, const Signed* s, const std::string* secret) {
  const std::string sha = call.header("x-amz-content-sha256");
  const bool chunked = sha.starts_with("STREAMING-") ||
                       call.header("Content-Encoding").find("aws-chunked") != std::string::npos;
  std::vector<std::pair<std::string, std::string>> trailers;
  if (chunked) {
    std::vector<Chunk> chunks;
    if (auto e = Dechunk(call.req.body, call.body, chunks, trailers)) return e;
    const std::string decoded = call.header("x-amz-decoded-content-length");
    if (!decoded.empty() && decoded != std::to_string(call.body.size()))
      return Error{400, "IncompleteBody", "The body does not hold x-amz-decoded-content-length bytes"};
    if (sha.starts_with("STREAMING-AWS4-HMAC-SHA256-PAYLOAD") && s && secret && !s->presigned)
      if (auto e = VerifyChunks(*s, *secret, call.body, chunks)) return e;
  } else {
    call.body = call.req.body;
    if (IsHex(sha, 64) && sha != aws::hex_sha256(call.body))
      return Error{400, "XAmzContentSHA256Mismatch",
                   "The provided 'x-amz-content-sha256' header does not match what was computed."};
  }
  for (const auto& [name, value] : call.req.headers) {
    std::string lower = name;
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (lower.starts_with("x-amz-checksum-") && lower != "x-amz-checksum-algorithm" && lower != "x-amz-checksum-type")
      trailers.emplace_back(lower, value);
  }
  for (const auto& [name, value] : trailers) {
    if (!name.starts_with("x-amz-checksum-")) continue;
    auto want = Checksum(name, call.body);
    if (want && *want != value)
      return Error{400, "BadDigest", fmt::format("The {} you specified did not match the calculated checksum.",
                                                 name.substr(15))};
    call.checksums.emplace_back(name, value);
  }
  return std::nullopt;
}

// SigV2 (HMAC-SHA1), which boto3 and the AWS CLI still use for presigned URLs in
// us-east-1 (?AWSAccessKeyId=&Signature=&Expires=) and old clients in Authorization: AWS K:S.
std::optional<Error> VerifyV2(const Call& call, const S3ApiOptions& opt) {
  const std::string auth = call.header("Authorization");
  const bool query = auth.empty();
  std::string key_id, sig, date;
  if (query) {
    key_id = call.param("AWSAccessKeyId");
    sig = call.param("Signature");
    date = call.param("Expires");
    if (date.empty() || date.size() > 12 || date.find_first_not_of("0123456789") != std::string::npos)
      return Error{403, "AccessDenied", "Query-string authentication requires the Signature, Expires and "
                                        "AWSAccessKeyId parameters"};
    const long long now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    if (std::stoll(date) < now) return Error{403, "AccessDenied", "Request has expired"};
  } else {
    const size_t colon = auth.find(':');
    if (colon == std::string::npos) return Malformed("Authorization: AWS ACCESS_KEY:SIGNATURE");
    key_id = auth.substr(4, colon - 4);
    sig = auth.substr(colon + 1);
    date = call.req.has_header("x-amz-date") ? "" : call.header("Date");
  }
  if (opt.keys.empty()) return std::nullopt;
  const auto key = opt.keys.find(key_id);
  if (key == opt.keys.end())
    return Error{403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."};
  std::string sts = fmt::format("{}\n{}\n{}\n{}\n", call.req.method, call.header("Content-MD5"),
                                call.header("Content-Type"), date);
  std::map<std::string, std::string> amz;
  for (const auto& [k, v] : call.req.headers) {
    std::string lower = k;
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (lower.starts_with("x-amz-")) amz[lower] += (amz.count(lower) ? "," : "") + Trim(v);
  }
  for (const auto& [k, v] : amz) sts += k + ":" + v + "\n";
  const std::string& target = call.req.target;
  const size_t q = target.find('?');
  std::string resource = target.substr(0, q);
  if (!call.bucket.empty() && !resource.starts_with("/" + call.bucket)) resource = "/" + call.bucket + resource;
  static const char* const kSub[] = {"acl", "cors", "delete", "lifecycle", "location", "logging", "notification",
                                     "partNumber", "policy", "requestPayment", "response-cache-control",
                                     "response-content-disposition", "response-content-encoding",
                                     "response-content-language", "response-content-type", "response-expires",
                                     "restore", "tagging", "torrent", "uploadId", "uploads", "versionId", "versioning",
                                     "versions", "website"};
  char sep = '?';
  for (const char* name : kSub) {  // already in sorted order
    if (!call.has(name)) continue;
    resource += sep;
    resource += name;
    if (const std::string v = call.param(name); !v.empty()) resource += "=" + v;
    sep = '&';
  }
  sts += resource;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha1(), key->second.data(), static_cast<int>(key->second.size()),
       reinterpret_cast<const unsigned char*>(sts.data()), sts.size(), md, &n);
  const std::string want = base64_encode(std::string(reinterpret_cast<char*>(md), n));
  if (want.size() != sig.size() || CRYPTO_memcmp(want.data(), sig.data(), want.size()) != 0)
    return Error{403, "SignatureDoesNotMatch",
                 "The request signature we calculated does not match the signature you provided. Check your key and "
                 "signing method."};
  return std::nullopt;
}

}  // namespace

std::optional<Error> Authenticate(Call& call, const S3ApiOptions& opt) {
  const bool has_sig = call.req.has_header("Authorization") || call.has("X-Amz-Signature") ||
                       call.has("X-Amz-Algorithm") || call.has("AWSAccessKeyId");
  if (!has_sig) {
    if (!opt.keys.empty())
      return Error{403, "AccessDenied", "Anonymous access is not allowed: sign the request (SigV4)"};
    return ReadBody(call, nullptr, nullptr);
  }
  if (std::string_view(call.header("Authorization")).starts_with("AWS ") || call.has("AWSAccessKeyId")) {
    if (auto e = VerifyV2(call, opt)) return e;
    return ReadBody(call, nullptr, nullptr);
  }
  Signed s;
  if (auto e = Parse(call, s)) return e;
  if (opt.keys.empty()) return ReadBody(call, nullptr, nullptr);  // any well-formed signature (loopback)
  const auto key = opt.keys.find(s.key_id);
  if (key == opt.keys.end())
    return Error{403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."};
  if (s.service != "s3") return Malformed(fmt::format("The credential scope names the service '{}', not 's3'", s.service));
  if (auto e = CheckTime(s)) return e;
  std::string payload = s.presigned ? "UNSIGNED-PAYLOAD" : call.header("x-amz-content-sha256");
  if (payload.empty()) payload = aws::hex_sha256(call.req.body);
  aws::HeaderList headers;
  for (const auto& [k, v] : call.req.headers) headers.emplace_back(k, v);
  const std::string creq = aws::build_canonical_request(call.req.method, aws::uri_encode(call.req.path, false),
                                                        CanonicalQuery(call.req.target), headers,
                                                        Split(s.signed_headers, ';'), payload);
  const std::string scope = fmt::format("{}/{}/{}/aws4_request", s.date, s.region, s.service);
  const std::string sts = fmt::format("AWS4-HMAC-SHA256\n{}\n{}\n{}", s.stamp, scope, aws::hex_sha256(creq));
  const std::string want = aws::signature(aws::Credentials{"", key->second, "", ""}, s.date, s.region, s.service, sts);
  if (want.size() != s.signature.size() || CRYPTO_memcmp(want.data(), s.signature.data(), want.size()) != 0)
    return Error{403, "SignatureDoesNotMatch",
                 "The request signature we calculated does not match the signature you provided. Check your key and "
                 "signing method."};
  return ReadBody(call, &s, &key->second);
}

}  // namespace orderlake::store::s3
