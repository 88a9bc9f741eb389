// The scaffolding every AWS JSON-1.1 API needs (Firehose today; Athena and Glue next):
//   - JsonService: one API, i.e. an X-Amz-Target prefix ("Firehose_20150804"), the SigV4
//     service name its requests are signed for ("firehose") and its operations. Dispatch
//     answers an unknown target or operation with UnknownOperationException, and a
//     document handler gets a parsed JSON object (SerializationException for a body that is
//     not JSON or not an object, or when the handler meets a member of the wrong type).
//   - JsonRouter: several services on one endpoint, chosen by the target's prefix; with
//     keys configured every request must carry a valid SigV4 signature for the chosen
//     service (403 with the SigV4 error type otherwise); with no keys unsigned requests are
//     accepted, which check_unsigned_listener() allows on loopback listeners only.
//   - install_json_api(): the HTTP face on a core/http_server.h server: POST / to the router,
//     bodies over a limit refused with 413 (before they are read), content type application/x-amz-json-1.1 and an
//     x-amzn-RequestId on every answer, AWS error documents for unknown paths.
// Errors are the AWS shape {"__type": "...", "message": "..."} with the HTTP status given.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "aws/sigv4.h"
#include "core/status.h"

namespace orderlake::http {
class HttpServer;
}
namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace orderlake::aws {

struct JsonResponse {
  int status = 200;
  std::string body;
};

// An AWS error document {"__type": type, "message": message}.
JsonResponse json_error(int status, std::string_view type, std::string_view message);

// One call as a handler sees it.
struct JsonCall {
  std::string_view body;
  HeaderList headers;      // as received (any case)
  std::string access_key;  // the verified SigV4 key id; empty when unsigned
  std::string_view header(std::string_view name) const;  // "" when absent
  // True when the request was signed (access_key set) and `lower_name` is one of the
  // SignedHeaders of its verified Authorization header: a header that changes what is
  // stored must be covered by the signature, or a replayed request could alter it.
  bool header_signed(std::string_view lower_name) const;
};

class JsonService {
 public:
  // Handlers of the raw body (hot paths with their own parser) or of the parsed object.
  using RawHandler = std::function<JsonResponse(const JsonCall&)>;
  using DocHandler = std::function<JsonResponse(const nlohmann::json& request, const JsonCall&)>;

  JsonService(std::string target_prefix, std::string signing_name);
  ~JsonService();
  JsonService(const JsonService&) = delete;
  JsonService& operator=(const JsonService&) = delete;

  void AddRaw(std::string operation, RawHandler handler);
  void Add(std::string operation, DocHandler handler);

  const std::string& target_prefix() const { return prefix_; }
  const std::string& signing_name() const { return signing_name_; }

  // Runs the operation `target` ("<prefix>.<Operation>") names.
  JsonResponse Dispatch(std::string_view target, const JsonCall& call) const;

 private:
  struct Operation;
  std::string prefix_, signing_name_;
  std::map<std::string, std::unique_ptr<Operation>, std::less<>> operations_;
};

class JsonRouter {
 public:
  // keys: access key id -> secret; empty = unsigned requests accepted.
  explicit JsonRouter(std::map<std::string, std::string> keys = {});
  // The service must outlive the router.
  void Mount(const JsonService& service);
  // One POST: SigV4 check, then dispatch on X-Amz-Target.
  JsonResponse Handle(const ReceivedRequest& request) const;
  bool signed_only() const { return !keys_.empty(); }

 private:
  const JsonService* find(std::string_view target) const;
  std::map<std::string, std::string> keys_;
  std::vector<const JsonService*> services_;
};

// Unique-looking x-amzn-RequestId values (UUID-shaped), cheap and thread-safe.
class RequestIds {
 public:
  RequestIds();
  std::string Next();

 private:
  std::atomic<uint64_t> counter_{0};
  uint64_t salt_;
};

struct JsonHttpOptions {
  size_t max_body_bytes = 8u << 20;  // larger bodies get 413 (sets the server's max_body_bytes)
  // Completes "HTTP <status>: ..." in the answer to a path or method that does not exist.
  std::string routes_help = "only POST / exists";
};

// Answers one JSON 1.1 request (any path) through `router`, with an x-amzn-RequestId.
void answer_json(const JsonRouter& router, RequestIds& ids, const httplib::Request& req, httplib::Response& res);

// Serves `router` on POST / of `http` (before its Bind). The router and ids must outlive the
// server. The server's own refusals (413, 503, 400, 408, ...) get AWS error documents too.
void install_json_api(http::HttpServer& http, const JsonRouter& router, RequestIds& ids, const JsonHttpOptions& options);

// True for localhost, ::1 and 127.x.y.z.
bool is_loopback(std::string_view host);
// An API without keys accepts unsigned requests: only allowed on a loopback listener.
Status check_unsigned_listener(std::string_view host, const std::map<std::string, std::string>& keys);

}  // namespace orderlake::aws
