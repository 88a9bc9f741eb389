#include "core/sigv4.h"

#include <openssl/hmac.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/sha256.h"

namespace orderlake::aws {

namespace {
std::string getenv_str(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string hex(const unsigned char* p, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[p[i] >> 4];
    out[2 * i + 1] = kHex[p[i] & 15];
  }
  return out;
}

std::string trim(std::string s) {
  auto sp = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && sp(s.back())) s.pop_back();
  size_t i = 0;
  while (i < s.size() && sp(s[i])) ++i;
  return s.substr(i);
}
}  // namespace

Credentials default_credentials() {
  Credentials c{getenv_str("AWS_ACCESS_KEY_ID"), getenv_str("AWS_SECRET_ACCESS_KEY"), getenv_str("AWS_SESSION_TOKEN")};
  if (!c.access_key_id.empty() && !c.secret_access_key.empty()) return c;
  std::string file = getenv_str("AWS_SHARED_CREDENTIALS_FILE");
  if (file.empty()) {
    const std::string home = getenv_str("HOME");
    if (home.empty()) return {};
    file = home + "/.aws/credentials";
  }
  std::string profile = getenv_str("AWS_PROFILE");
  if (profile.empty()) profile = "default";
  auto kv = read_profile(file, profile);
  Credentials out{kv["aws_access_key_id"], kv["aws_secret_access_key"], kv["aws_session_token"]};
  return out.secret_access_key.empty() ? Credentials{} : out;
}

std::map<std::string, std::string> read_profile(const std::string& path, const std::string& profile) {
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  std::string line, section;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = trim(line.substr(1, line.size() - 2));
      continue;
    }
    const size_t eq = line.find('=');
    if (eq == std::string::npos || section != profile) continue;
    out[trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
  }
  return out;
}

std::string default_region(std::string_view fallback) {
  std::string r = getenv_str("AWS_REGION");
  if (r.empty()) r = getenv_str("AWS_DEFAULT_REGION");
  return r.empty() ? std::string(fallback) : r;
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

std::string canonical_request(const Request& req, std::string_view signed_headers) {
  std::vector<std::pair<std::string, std::string>> q;
  for (auto& [k, v] : req.query) q.emplace_back(uri_encode(k), uri_encode(v));
  std::sort(q.begin(), q.end());
  std::string query;
  for (auto& [k, v] : q) {
    if (!query.empty()) query.push_back('&');
    query += k + "=" + v;
  }
  std::string headers;
  std::string_view names = signed_headers;
  while (!names.empty()) {
    const size_t semi = names.find(';');
    const std::string name(names.substr(0, semi));
    names = semi == std::string_view::npos ? std::string_view() : names.substr(semi + 1);
    auto it = req.headers.find(name);
    std::string value = it == req.headers.end() ? std::string() : trim(it->second);
    // Sequential spaces collapse to one.
    std::string collapsed;
    for (char c : value)
      if (!(c == ' ' && !collapsed.empty() && collapsed.back() == ' ')) collapsed.push_back(c);
    headers += name + ":" + collapsed + "\n";
  }
  return fmt::format("{}\n{}\n{}\n{}\n{}\n{}", req.method, req.canonical_uri.empty() ? "/" : req.canonical_uri,
                     query, headers, signed_headers, req.payload_sha256);
}

std::string signature(const Credentials& creds, std::string_view date, std::string_view region,
                      std::string_view service, std::string_view string_to_sign) {
  std::string k = hmac_sha256("AWS4" + creds.secret_access_key, date);
  k = hmac_sha256(k, region);
  k = hmac_sha256(k, service);
  k = hmac_sha256(k, "aws4_request");
  const std::string sig = hmac_sha256(k, string_to_sign);
  return hex(reinterpret_cast<const unsigned char*>(sig.data()), sig.size());
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
  const std::string to_sign = fmt::format("AWS4-HMAC-SHA256\n{}\n{}\n{}", stamp, scope,
                                          hex_sha256(canonical_request(req, signed_headers)));
  req.headers["authorization"] =
      fmt::format("AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders={}, Signature={}", creds.access_key_id, scope,
                  signed_headers, signature(creds, date, region, service, to_sign));
}

}  // namespace orderlake::aws
