#include "aws/json_service.h"

#include "core/http_server.h"

#include <nlohmann/json.hpp>
#include <random>

namespace orderlake::aws {
using json = nlohmann::json;

JsonResponse json_error(int status, std::string_view type, std::string_view message) {
  json j{{"__type", type}, {"message", message}};
  // Messages quote the request (a target, a header): bytes that are not UTF-8 become U+FFFD
  // rather than an exception that would end the process.
  return JsonResponse{status, j.dump(-1, ' ', false, json::error_handler_t::replace)};
}

std::string_view JsonCall::header(std::string_view name) const {
  for (auto& [k, v] : headers)
    if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        }))
      return v;
  return {};
}

bool JsonCall::header_signed(std::string_view lower_name) const {
  if (access_key.empty()) return false;
  const std::string_view auth = header("Authorization");
  const size_t at = auth.find("SignedHeaders=");
  if (at == std::string_view::npos) return false;
  std::string_view list = auth.substr(at + 14);
  list = list.substr(0, list.find_first_of(", "));
  while (!list.empty()) {
    const size_t semi = list.find(';');
    if (list.substr(0, semi) == lower_name) return true;
    if (semi == std::string_view::npos) break;
    list.remove_prefix(semi + 1);
  }
  return false;
}

// ---- JsonService ----

struct JsonService::Operation {
  RawHandler raw;
  DocHandler doc;
};

JsonService::JsonService(std::string target_prefix, std::string signing_name)
    : prefix_(std::move(target_prefix)), signing_name_(std::move(signing_name)) {}
JsonService::~JsonService() = default;

void JsonService::AddRaw(std::string operation, RawHandler handler) {
  operations_[std::move(operation)] = std::make_unique<Operation>(Operation{std::move(handler), nullptr});
}

void JsonService::Add(std::string operation, DocHandler handler) {
  operations_[std::move(operation)] = std::make_unique<Operation>(Operation{nullptr, std::move(handler)});
}

JsonResponse JsonService::Dispatch(std::string_view target, const JsonCall& call) const {
  if (target.size() <= prefix_.size() || target.substr(0, prefix_.size()) != prefix_ || target[prefix_.size()] != '.')
    return json_error(400, "UnknownOperationException", fmt::format("Unknown operation: {}", target));
  const std::string_view name = target.substr(prefix_.size() + 1);
  auto it = operations_.find(name);
  if (it == operations_.end())
    return json_error(400, "UnknownOperationException",
                      fmt::format("Operation {} is not supported by this service", name));
  const Operation& op = *it->second;
  if (op.raw) return op.raw(call);
  json request;
  try {
    request = call.body.empty() ? json::object() : json::parse(call.body);
  } catch (const std::exception&) {
    return json_error(400, "SerializationException", "The request body is not valid JSON");
  }
  if (!request.is_object()) return json_error(400, "SerializationException", "The request body must be a JSON object");
  try {
    return op.doc(request, call);
  } catch (const json::exception& e) {
    return json_error(400, "SerializationException", fmt::format("A member has the wrong type: {}", e.what()));
  }
}

// ---- JsonRouter ----

JsonRouter::JsonRouter(std::map<std::string, std::string> keys) : keys_(std::move(keys)) {}

void JsonRouter::Mount(const JsonService& service) { services_.push_back(&service); }

const JsonService* JsonRouter::find(std::string_view target) const {
  const std::string_view prefix = target.substr(0, target.find('.'));
  for (const JsonService* s : services_)
    if (s->target_prefix() == prefix) return s;
  return nullptr;
}

JsonResponse JsonRouter::Handle(const ReceivedRequest& request) const {
  JsonCall call;
  call.body = request.body;
  call.headers = request.headers;
  const std::string_view target = call.header("x-amz-target");
  const JsonService* service = find(target);
  if (!keys_.empty()) {
    // A target no service claims is still authenticated (as for the first service), so an
    // unsigned caller learns nothing about what is mounted.
    const JsonService* signer = service ? service : services_.empty() ? nullptr : services_.front();
    VerifyResult v = verify(request, keys_, signer ? std::string_view(signer->signing_name()) : std::string_view());
    if (!v.ok) return json_error(403, v.error_type, v.message);
    call.access_key = std::move(v.access_key);
  }
  if (!service) return json_error(400, "UnknownOperationException", fmt::format("Unknown operation: {}", target));
  return service->Dispatch(target, call);
}

// ---- HTTP ----

RequestIds::RequestIds() : salt_(std::random_device{}()) {}

std::string RequestIds::Next() {
  const uint64_t n = counter_.fetch_add(1, std::memory_order_relaxed) ^ (salt_ << 20);
  const uint64_t r = salt_ * 0x9e3779b97f4a7c15ULL + n;
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", static_cast<uint32_t>(r >> 32), (r >> 16) & 0xffff,
                     r & 0xffff, (n >> 48) & 0xffff, n & 0xffffffffffffULL);
}

void answer_json(const JsonRouter& router, RequestIds& ids, const httplib::Request& req, httplib::Response& res) {
  res.set_header("x-amzn-RequestId", ids.Next());
  ReceivedRequest r;
  r.method = req.method;
  r.path = req.path;
  const size_t q = req.target.find('?');
  if (q != std::string::npos) r.query = std::string_view(req.target).substr(q + 1);
  r.headers.reserve(req.headers.size());
  for (auto& [k, v] : req.headers) r.headers.emplace_back(k, v);
  r.body = req.body;
  JsonResponse out = router.Handle(r);
  res.status = out.status;
  res.set_content(std::move(out.body), "application/x-amz-json-1.1");
}

void install_json_api(http::HttpServer& http, const JsonRouter& router, RequestIds& ids, const JsonHttpOptions& options) {
  constexpr const char* kType = "application/x-amz-json-1.1";
  http.options().max_body_bytes = options.max_body_bytes;
  http.Post("/", [&router, &ids](const httplib::Request& req, httplib::Response& res) {
    answer_json(router, ids, req, res);
  });
  http.set_error_handler([&ids, help = options.routes_help](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    res.set_header("x-amzn-RequestId", ids.Next());
    const char* type = res.status == 413   ? "InvalidArgumentException"
                       : res.status == 503 ? "ServiceUnavailableException"
                       : res.status == 404 ? "UnknownOperationException"
                       : res.status == 408 ? "RequestTimeoutException"
                       : res.status >= 400 && res.status < 500 && !res.reason.empty() ? "SerializationException"
                                                                                       : "UnknownOperationException";
    // The server's own refusals say why in `reason`.
    auto e = json_error(res.status, type, fmt::format("HTTP {}: {}", res.status, res.reason.empty() ? help : res.reason));
    res.set_content(e.body, kType);
  });
}

bool is_loopback(std::string_view host) {
  return host == "localhost" || host == "::1" || host.substr(0, 4) == "127.";
}

Status check_unsigned_listener(std::string_view host, const std::map<std::string, std::string>& keys) {
  if (keys.empty() && !is_loopback(host))
    return Status::Errorf("refusing to listen on {} without access keys", host);
  return Status::OK();
}

}  // namespace orderlake::aws
