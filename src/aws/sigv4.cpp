#include "aws/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "core/sha256.h"

namespace orderlake::aws {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

std::string hex(const unsigned char* p, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[p[i] >> 4];
    out[2 * i + 1] = kHex[p[i] & 15];
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string o(s);
  for (auto& c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return o;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

// SigV4's Trimall: no blanks at either end, inner runs of blanks as one space.
std::string trim_collapse(std::string_view v) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  std::string o;
  bool pending_space = false;
  for (char c : v) {
    if (blank(c)) {
      pending_space = !o.empty();
      continue;
    }
    if (pending_space) o += ' ';
    pending_space = false;
    o += c;
  }
  return o;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t p = s.find(sep, start);
    out.emplace_back(s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}

std::string_view header(const HeaderList& headers, std::string_view name) {
  for (auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return {};
}

// The encoded (name, value) pairs of a query string as received.
std::vector<std::pair<std::string, std::string>> received_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  if (query.empty()) return out;
  for (auto& part : split(query, '&')) {
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    if (eq == std::string::npos) out.emplace_back(part, "");
    else out.emplace_back(part.substr(0, eq), part.substr(eq + 1));
  }
  return out;
}

// The payload line of a received request: x-amz-content-sha256 when given, else the body's hash.
std::string received_payload_hash(const ReceivedRequest& r) {
  std::string h(header(r.headers, "x-amz-content-sha256"));
  if (h.empty() || h == "UNSIGNED-PAYLOAD") return hex_sha256(r.body);
  return h;
}

std::string string_to_sign(std::string_view stamp, std::string_view scope, std::string_view creq) {
  return fmt::format("{}\n{}\n{}\n{}", kAlgorithm, stamp, scope, hex_sha256(creq));
}


VerifyResult failure(std::string type, std::string message) {
  VerifyResult r;
  r.error_type = std::move(type);
  r.message = std::move(message);
  return r;
}

}  // namespace

// Seconds since the epoch of a yyyyMMdd'T'HHmmss'Z' stamp, or -1.
long long parse_amz_date(const std::string& d) {
  struct tm tm {};
  if (d.size() != 16 || d[8] != 'T' || d[15] != 'Z') return -1;
  if (std::sscanf(d.c_str(), "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec) != 6)
    return -1;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<long long>(timegm(&tm));
}

std::string uri_encode(std::string_view s, bool encode_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~' || (c == '/' && !encode_slash)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string hex_sha256(std::string_view data) { return sha256_hex(data); }

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char md[32];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), md, &n);
  return std::string(reinterpret_cast<char*>(md), n);
}

std::string amz_date(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return fmt::format("{:04d}{:02d}{:02d}T{:02d}{:02d}{:02d}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string build_canonical_request(std::string_view method, std::string_view uri,
                                    std::vector<std::pair<std::string, std::string>> query, const HeaderList& headers,
                                    const std::vector<std::string>& signed_headers, std::string_view payload_hash) {
  std::string out;
  out.reserve(256);
  out.append(method).append("\n").append(uri.empty() ? "/" : uri).append("\n");
  std::sort(query.begin(), query.end());
  for (size_t i = 0; i < query.size(); ++i) {
    if (i) out += '&';
    out.append(query[i].first).append("=").append(query[i].second);
  }
  out += '\n';
  for (const auto& name : signed_headers) {
    out.append(name).append(":");
    bool first = true;
    for (auto& [k, v] : headers) {
      if (!iequals(k, name)) continue;
      if (!first) out += ',';
      out += trim_collapse(v);
      first = false;
    }
    out += '\n';
  }
  out += '\n';
  for (size_t i = 0; i < signed_headers.size(); ++i) out.append(i ? ";" : "").append(signed_headers[i]);
  out.append("\n").append(payload_hash);
  return out;
}

std::string signature(const Credentials& creds, std::string_view date, std::string_view region,
                      std::string_view service, std::string_view to_sign) {
  std::string k = hmac_sha256("AWS4" + creds.secret_access_key, date);
  k = hmac_sha256(k, region);
  k = hmac_sha256(k, service);
  k = hmac_sha256(k, "aws4_request");
  const std::string sig = hmac_sha256(k, to_sign);
  return hex(reinterpret_cast<const unsigned char*>(sig.data()), sig.size());
}

std::string canonical_request(const Request& req, std::string_view signed_headers) {
  std::vector<std::pair<std::string, std::string>> q;
  for (auto& [k, v] : req.query) q.emplace_back(uri_encode(k), uri_encode(v));
  HeaderList headers(req.headers.begin(), req.headers.end());
  return build_canonical_request(req.method, req.canonical_uri, std::move(q), headers, split(signed_headers, ';'),
                                 req.payload_sha256);
}

void sign(Request& req, const Credentials& creds, std::string_view region, std::string_view service,
          std::chrono::system_clock::time_point now) {
  const std::string stamp = amz_date(now);
  const std::string date = stamp.substr(0, 8);
  req.headers["x-amz-date"] = stamp;
  if (!creds.session_token.empty()) req.headers["x-amz-security-token"] = creds.session_token;
  req.headers.erase("authorization");
  std::string signed_headers;
  for (auto& [name, v] : req.headers) {
    if (!signed_headers.empty()) signed_headers.push_back(';');
    signed_headers += name;
  }
  const std::string scope = fmt::format("{}/{}/{}/aws4_request", date, region, service);
  const std::string to_sign = string_to_sign(stamp, scope, canonical_request(req, signed_headers));
  req.headers["authorization"] =
      fmt::format("{} Credential={}/{}, SignedHeaders={}, Signature={}", kAlgorithm, creds.access_key_id, scope,
                  signed_headers, signature(creds, date, region, service, to_sign));
}

VerifyResult verify(const ReceivedRequest& req, const std::map<std::string, std::string>& keys,
                    std::string_view service, std::chrono::system_clock::time_point now) {
  const std::string_view auth = header(req.headers, "authorization");
  if (auth.empty()) return failure("MissingAuthenticationTokenException", "Missing Authentication Token");
  auto incomplete = [](std::string why) { return failure("IncompleteSignatureException", std::move(why)); };
  if (auth.substr(0, kAlgorithm.size() + 1) != fmt::format("{} ", kAlgorithm))
    return incomplete("Authorization header requires the AWS4-HMAC-SHA256 algorithm");
  std::string credential, signed_headers, sig;
  for (auto& part : split(auth.substr(kAlgorithm.size() + 1), ',')) {
    std::string p = trim_collapse(part);
    if (p.rfind("Credential=", 0) == 0) credential = p.substr(11);
    else if (p.rfind("SignedHeaders=", 0) == 0) signed_headers = p.substr(14);
    else if (p.rfind("Signature=", 0) == 0) sig = p.substr(10);
  }
  if (credential.empty() || signed_headers.empty() || sig.empty())
    return incomplete("Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters");
  auto cred = split(credential, '/');
  if (cred.size() != 5 || cred[4] != "aws4_request")
    return incomplete("Credential should be scoped to a valid region, like 'us-east-1'");
  auto key = keys.find(cred[0]);
  if (key == keys.end())
    return failure("UnrecognizedClientException", "The security token included in the request is invalid.");
  if (cred[3] != service)
    return failure("InvalidSignatureException", fmt::format("Credential should be scoped to correct service: '{}'.", service));
  const std::string stamp(header(req.headers, "x-amz-date"));
  if (stamp.size() < 8 || stamp.compare(0, 8, cred[1]) != 0)
    return incomplete("X-Amz-Date header is missing or does not match the credential scope date");
  const long long t = parse_amz_date(stamp);
  const long long server_now = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (t < 0 || std::llabs(t - server_now) > 15 * 60)
    return failure("InvalidSignatureException",
                   "Signature expired: " + stamp + " is not within 15 minutes of the server's time.");
  const std::string_view given_hash = header(req.headers, "x-amz-content-sha256");
  const std::string payload = received_payload_hash(req);
  if (!given_hash.empty() && given_hash != "UNSIGNED-PAYLOAD" && payload != hex_sha256(req.body))
    return failure("InvalidSignatureException",
                   "The provided x-amz-content-sha256 header does not match the SHA-256 of the request body.");
  const std::string scope = fmt::format("{}/{}/{}/aws4_request", cred[1], cred[2], cred[3]);
  const std::string creq = build_canonical_request(req.method, req.path, received_query(req.query), req.headers,
                                                   split(signed_headers, ';'), payload);
  const std::string expect =
      signature(Credentials{"", key->second, "", ""}, cred[1], cred[2], cred[3], string_to_sign(stamp, scope, creq));
  if (expect.size() != sig.size() || CRYPTO_memcmp(expect.data(), sig.data(), sig.size()) != 0)
    return failure("InvalidSignatureException",
                   "The request signature we calculated does not match the signature you provided. Check your AWS "
                   "Secret Access Key and signing method. Consult the service documentation for details.");
  VerifyResult ok;
  ok.ok = true;
  ok.access_key = cred[0];
  return ok;
}

std::string authorization(const ReceivedRequest& req, const Credentials& creds, std::string_view region,
                          std::string_view service, std::string_view stamp) {
  std::vector<std::string> names;
  for (auto& [k, v] : req.headers) names.push_back(lower(k));
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  const std::string date(stamp.substr(0, 8));
  const std::string scope = fmt::format("{}/{}/{}/aws4_request", date, region, service);
  const std::string creq = build_canonical_request(req.method, req.path, received_query(req.query), req.headers,
                                                   names, received_payload_hash(req));
  std::string joined;
  for (size_t i = 0; i < names.size(); ++i) joined.append(i ? ";" : "").append(names[i]);
  return fmt::format("{} Credential={}/{}, SignedHeaders={}, Signature={}", kAlgorithm, creds.access_key_id, scope,
                     joined, signature(creds, date, region, service, string_to_sign(stamp, scope, creq)));
}

}  // namespace orderlake::aws
