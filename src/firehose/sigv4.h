// Verification of AWS Signature Version 4 on incoming requests (Authorization header form),
// for service "firehose" in any region: the canonical request (method, URI, sorted query,
// the signed headers lower-cased with trimmed values, the payload's SHA-256 or
// x-amz-content-sha256), the string to sign and the derived signing key, as the AWS
// documentation defines them.
#pragma once
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace orderlake::firehose {

struct SigV4Request {
  std::string method, path, query;                          // query: raw, without '?'
  std::vector<std::pair<std::string, std::string>> headers;  // as received
  std::string_view body;
};

struct SigV4Result {
  bool ok = false;
  std::string error_type;  // e.g. "InvalidSignatureException"
  std::string message;
  std::string access_key;
};

// keys: access key id -> secret access key.
SigV4Result verify_sigv4(const SigV4Request& req, const std::map<std::string, std::string>& keys);

// Signs a request (adds Authorization); used by the tests and the benchmark client.
std::string sigv4_authorization(const SigV4Request& req, std::string_view access_key, std::string_view secret,
                                std::string_view region, std::string_view amz_date);

std::string hex_sha256(std::string_view data);

}  // namespace orderlake::firehose
