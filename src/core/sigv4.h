// AWS Signature Version 4 (the request signing of every AWS API orderlake speaks to or
// serves): canonical request, string to sign, signing key, Authorization header. The
// signer adds x-amz-date (and x-amz-security-token) itself; the caller gives the headers
// to sign, which must include host, and the hex SHA-256 of the payload.
#pragma once
#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace orderlake::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // optional
  bool empty() const { return access_key_id.empty(); }
};

// The usual sources, in the AWS CLI's order: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY
// (+AWS_SESSION_TOKEN), then the [AWS_PROFILE or default] profile of
// AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials. Empty credentials when none is set.
Credentials default_credentials();
// The key = value pairs of one [profile] of an INI-style AWS file (~/.aws/credentials);
// empty when the file or the profile is missing.
std::map<std::string, std::string> read_profile(const std::string& path, const std::string& profile);

// The region from AWS_REGION or AWS_DEFAULT_REGION, else `fallback`.
std::string default_region(std::string_view fallback = "us-east-1");

// RFC 3986 encoding as SigV4 wants it: unreserved characters kept, the rest %XX
// (uppercase); '/' kept when encode_slash is false (S3 object keys in paths).
std::string uri_encode(std::string_view s, bool encode_slash = true);

std::string hex_sha256(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw 32 bytes

struct Request {
  std::string method;                                      // GET, PUT, POST, ...
  std::string canonical_uri;                               // already encoded path, e.g. "/bucket/a%20b"
  std::vector<std::pair<std::string, std::string>> query;  // raw (unencoded) names and values
  std::map<std::string, std::string> headers;              // lowercase names; must hold "host"
  std::string payload_sha256;                              // hex, or "UNSIGNED-PAYLOAD"
};

// Adds x-amz-date, x-amz-security-token (when any) and authorization to req.headers.
void sign(Request& req, const Credentials& creds, std::string_view region, std::string_view service,
          std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// The pieces, exposed for the server side (verification) and for tests.
std::string canonical_request(const Request& req, std::string_view signed_headers);
std::string signature(const Credentials& creds, std::string_view date, std::string_view region,
                      std::string_view service, std::string_view string_to_sign);
std::string amz_date(std::chrono::system_clock::time_point t);  // yyyyMMddTHHmmssZ

}  // namespace orderlake::aws
