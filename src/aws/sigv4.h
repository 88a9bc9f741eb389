// AWS Signature Version 4, both directions, from one canonical-request builder:
//   - sign():   a client request (the S3 store; tests) gets x-amz-date, x-amz-security-token
//               and Authorization;
//   - verify(): a received request (the Firehose API; Athena and Glue next) is checked against
//               configured keys for one expected service name, with the error types AWS gives:
//               MissingAuthenticationTokenException, IncompleteSignatureException,
//               UnrecognizedClientException, InvalidSignatureException (wrong service, wrong
//               signature, or x-amz-date more than 15 minutes from the server's clock).
// The canonical request is: method, URI, the query pairs sorted by encoded name then value,
// the signed headers (names lower-cased, values trimmed with inner runs of blanks collapsed,
// repeated headers joined by ','), the signed header list and the payload hash (the
// x-amz-content-sha256 header when the request carries one, else the SHA-256 of the body).
// Signatures are compared in constant time.
#pragma once
#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/credentials.h"

namespace orderlake::aws {

// RFC 3986 encoding as SigV4 wants it: unreserved characters kept, the rest %XX
// (uppercase); '/' kept when encode_slash is false (S3 object keys in paths).
std::string uri_encode(std::string_view s, bool encode_slash = true);

std::string hex_sha256(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw 32 bytes
std::string amz_date(std::chrono::system_clock::time_point t);       // yyyyMMddTHHmmssZ

// The canonical request of the SigV4 documentation. `query` holds encoded names and values;
// `headers` any case, repeats allowed; `signed_headers` lower-case names in sorted order.
using HeaderList = std::vector<std::pair<std::string_view, std::string_view>>;
std::string build_canonical_request(std::string_view method, std::string_view uri,
                                    std::vector<std::pair<std::string, std::string>> query, const HeaderList& headers,
                                    const std::vector<std::string>& signed_headers, std::string_view payload_hash);

// The hex signature of `string_to_sign` with the key derived from (secret, date, region, service).
std::string signature(const Credentials& creds, std::string_view date, std::string_view region,
                      std::string_view service, std::string_view string_to_sign);

// ---- client side ----
struct Request {
  std::string method;                                      // GET, PUT, POST, ...
  std::string canonical_uri;                               // already encoded path, e.g. "/bucket/a%20b"
  std::vector<std::pair<std::string, std::string>> query;  // raw (unencoded) names and values
  std::map<std::string, std::string> headers;              // lowercase names; must hold "host"
  std::string payload_sha256;                              // hex, or "UNSIGNED-PAYLOAD"
};

// The canonical request of `req` for the given ';'-separated signed headers.
std::string canonical_request(const Request& req, std::string_view signed_headers);

// Signs every header of req: adds x-amz-date, x-amz-security-token (when any) and authorization.
void sign(Request& req, const Credentials& creds, std::string_view region, std::string_view service,
          std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// ---- server side ----
// Seconds since the epoch of an X-Amz-Date stamp (yyyyMMdd'T'HHmmss'Z'), or -1.
long long parse_amz_date(const std::string& d);

struct ReceivedRequest {
  std::string_view method, path;  // path as received (already encoded)
  std::string_view query;         // raw, without '?'
  HeaderList headers;             // as received
  std::string_view body;
};

struct VerifyResult {
  bool ok = false;
  std::string error_type;  // e.g. "InvalidSignatureException"
  std::string message;
  std::string access_key;  // the verified key id
};

// keys: access key id -> secret access key. `service` is the name the credential scope must
// carry ("firehose", "athena", "glue").
VerifyResult verify(const ReceivedRequest& req, const std::map<std::string, std::string>& keys,
                    std::string_view service,
                    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// The Authorization header value for a received-style request, signing all its headers
// (tests and load generators use it to produce requests the verifier accepts).
std::string authorization(const ReceivedRequest& req, const Credentials& creds, std::string_view region,
                          std::string_view service, std::string_view amz_date);

}  // namespace orderlake::aws
