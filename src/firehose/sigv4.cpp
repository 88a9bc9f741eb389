#include "firehose/sigv4.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "core/sha256.h"
#include "core/sigv4.h"

namespace orderlake::firehose {
namespace {

std::string lower(std::string_view s) {
  std::string o(s);
  for (auto& c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return o;
}

std::string trim_collapse(std::string_view v) {
  std::string o;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !o.empty();
      continue;
    }
    if (space) o += ' ';
    space = false;
    o += c;
  }
  return o;
}

std::string header(const SigV4Request& r, std::string_view name) {
  for (auto& [k, v] : r.headers)
    if (lower(k) == name) return v;
  return {};
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

std::string canonical_request(const SigV4Request& r, const std::vector<std::string>& signed_headers) {
  std::string out = r.method + "\n" + (r.path.empty() ? "/" : r.path) + "\n";
  auto q = r.query.empty() ? std::vector<std::string>{} : split(r.query, '&');
  for (auto& p : q)
    if (p.find('=') == std::string::npos) p += '=';
  std::sort(q.begin(), q.end());
  for (size_t i = 0; i < q.size(); ++i) out += (i ? "&" : "") + q[i];
  out += "\n";
  for (auto& h : signed_headers) {
    std::string joined;
    for (auto& [k, v] : r.headers)
      if (lower(k) == h) joined += (joined.empty() ? "" : ",") + trim_collapse(v);
    out += h + ":" + joined + "\n";
  }
  out += "\n";
  for (size_t i = 0; i < signed_headers.size(); ++i) out += (i ? ";" : "") + signed_headers[i];
  out += "\n";
  std::string payload_hash = header(r, "x-amz-content-sha256");
  if (payload_hash.empty() || payload_hash == "UNSIGNED-PAYLOAD") payload_hash = hex_sha256(r.body);
  out += payload_hash;
  return out;
}

std::string signature(std::string_view secret, std::string_view date, std::string_view region,
                      std::string_view service, std::string_view amz_date, std::string_view scope,
                      std::string_view creq) {
  const std::string sts =
      "AWS4-HMAC-SHA256\n" + std::string(amz_date) + "\n" + std::string(scope) + "\n" + hex_sha256(creq);
  return aws::signature(aws::Credentials{"", std::string(secret), ""}, date, region, service, sts);
}

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

}  // namespace

std::string hex_sha256(std::string_view data) { return sha256_hex(data); }

SigV4Result verify_sigv4(const SigV4Request& req, const std::map<std::string, std::string>& keys) {
  SigV4Result res;
  std::string auth = header(req, "authorization");
  if (auth.empty()) {
    res.error_type = "MissingAuthenticationTokenException";
    res.message = "Missing Authentication Token";
    return res;
  }
  const std::string kAlg = "AWS4-HMAC-SHA256 ";
  auto incomplete = [&](std::string why) {
    res.error_type = "IncompleteSignatureException";
    res.message = std::move(why);
    return res;
  };
  if (auth.compare(0, kAlg.size(), kAlg) != 0)
    return incomplete("Authorization header requires the AWS4-HMAC-SHA256 algorithm");
  std::string credential, signed_headers, sig;
  for (auto& part : split(std::string_view(auth).substr(kAlg.size()), ',')) {
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
  auto it = keys.find(cred[0]);
  if (it == keys.end()) {
    res.error_type = "UnrecognizedClientException";
    res.message = "The security token included in the request is invalid.";
    return res;
  }
  if (cred[3] != "firehose") {
    res.error_type = "InvalidSignatureException";
    res.message = "Credential should be scoped to correct service: 'firehose'.";
    return res;
  }
  std::string amz_date = header(req, "x-amz-date");
  if (amz_date.size() < 8 || amz_date.compare(0, 8, cred[1]) != 0)
    return incomplete("X-Amz-Date header is missing or does not match the credential scope date");
  if (auto t = parse_amz_date(amz_date); t < 0 || std::llabs(t - static_cast<long long>(std::time(nullptr))) > 15 * 60) {
    res.error_type = "InvalidSignatureException";
    res.message = "Signature expired: " + amz_date + " is not within 15 minutes of the server's time.";
    return res;
  }
  auto sh = split(signed_headers, ';');
  std::string scope = cred[1] + "/" + cred[2] + "/" + cred[3] + "/aws4_request";
  std::string expect = signature(it->second, cred[1], cred[2], cred[3], amz_date, scope, canonical_request(req, sh));
  if (expect.size() != sig.size() || CRYPTO_memcmp(expect.data(), sig.data(), sig.size()) != 0) {
    res.error_type = "InvalidSignatureException";
    res.message =
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
        "Access Key and signing method. Consult the service documentation for details.";
    return res;
  }
  res.ok = true;
  res.access_key = cred[0];
  return res;
}

std::string sigv4_authorization(const SigV4Request& req, std::string_view access_key, std::string_view secret,
                                std::string_view region, std::string_view amz_date) {
  std::vector<std::string> sh;
  for (auto& [k, v] : req.headers) sh.push_back(lower(k));
  std::sort(sh.begin(), sh.end());
  sh.erase(std::unique(sh.begin(), sh.end()), sh.end());
  std::string date(amz_date.substr(0, 8));
  std::string scope = date + "/" + std::string(region) + "/firehose/aws4_request";
  std::string sig = signature(secret, date, region, "firehose", amz_date, scope, canonical_request(req, sh));
  std::string joined;
  for (size_t i = 0; i < sh.size(); ++i) joined += (i ? ";" : "") + sh[i];
  return "AWS4-HMAC-SHA256 Credential=" + std::string(access_key) + "/" + scope + ", SignedHeaders=" + joined +
         ", Signature=" + sig;
}

}  // namespace orderlake::firehose
