#include "firehose/server.h"

#include <httplib.h>

#include <atomic>
#include <random>

#include "core/log.h"
#include "firehose/sigv4.h"

namespace orderlake::firehose {

struct FirehoseServer::Impl {
  FirehoseService& service;
  ServerOptions opt;
  httplib::Server http;
  std::atomic<uint64_t> counter{0};
  uint64_t salt = std::random_device{}();
  Impl(FirehoseService& s, ServerOptions o) : service(s), opt(std::move(o)) {}

  std::string request_id() {
    uint64_t n = counter.fetch_add(1) ^ (salt << 20);
    uint64_t r = salt * 0x9e3779b97f4a7c15ULL + n;
    return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", static_cast<uint32_t>(r >> 32), (r >> 16) & 0xffff,
                       r & 0xffff, (n >> 48) & 0xffff, n & 0xffffffffffffULL);
  }

  void Api(const httplib::Request& req, httplib::Response& res) {
    res.set_header("x-amzn-RequestId", request_id());
    ApiResponse out;
    if (!opt.keys.empty()) {
      SigV4Request sr;
      sr.method = req.method;
      sr.path = req.path;
      for (auto& [k, v] : req.headers) sr.headers.emplace_back(k, v);
      sr.body = req.body;
      auto q = req.target.find('?');
      if (q != std::string::npos) sr.query = req.target.substr(q + 1);
      SigV4Result v = verify_sigv4(sr, opt.keys);
      if (!v.ok) {
        out = api_error(403, v.error_type, v.message);
        res.status = out.status;
        res.set_content(out.body, "application/x-amz-json-1.1");
        return;
      }
    }
    out = service.Handle(req.get_header_value("X-Amz-Target"), req.body, req.get_header_value("X-Orderlake-Batch"));
    res.status = out.status;
    res.set_content(std::move(out.body), "application/x-amz-json-1.1");
  }
};

FirehoseServer::FirehoseServer(FirehoseService& service, ServerOptions options)
    : impl_(std::make_unique<Impl>(service, std::move(options))) {
  auto& h = impl_->http;
  Impl* m = impl_.get();
  int threads = impl_->opt.threads;
  h.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  h.set_keep_alive_max_count(1000000);
  // An open connection holds a worker thread, so idle keep-alive connections are closed soon.
  h.set_keep_alive_timeout(5);
  h.set_read_timeout(30);
  h.set_tcp_nodelay(true);
  h.set_payload_max_length(8u << 20);  // 4 MiB of records, base64, plus JSON
  h.Post("/", [m](const httplib::Request& req, httplib::Response& res) { m->Api(req, res); });
  h.Get("/metrics", [m](const httplib::Request&, httplib::Response& res) {
    res.set_header("x-amzn-RequestId", m->request_id());
    res.set_content(m->service.Metrics(), "text/plain; version=0.0.4");
  });
  h.Get("/health", [m](const httplib::Request&, httplib::Response& res) {
    res.set_header("x-amzn-RequestId", m->request_id());
    res.set_content("{\"status\":\"ok\"}", "application/json");
  });
  h.set_error_handler([m](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    res.set_header("x-amzn-RequestId", m->request_id());
    std::string type = res.status == 413 ? "InvalidArgumentException" : "UnknownOperationException";
    auto e = api_error(res.status, type, fmt::format("HTTP {}: only POST / (the Firehose API), GET /metrics and GET /health exist", res.status));
    res.set_content(e.body, "application/x-amz-json-1.1");
  });
}

FirehoseServer::~FirehoseServer() { Stop(); }

Result<int> FirehoseServer::Bind() {
  auto& h = impl_->http;
  if (impl_->opt.port == 0) {
    int p = h.bind_to_any_port(impl_->opt.host);
    if (p <= 0) return Status::Errorf("cannot listen on {}:0", impl_->opt.host);
    return p;
  }
  if (!h.bind_to_port(impl_->opt.host, impl_->opt.port))
    return Status::Errorf("cannot listen on {}:{} (in use or not a local address)", impl_->opt.host, impl_->opt.port);
  return impl_->opt.port;
}

void FirehoseServer::Run() { impl_->http.listen_after_bind(); }
void FirehoseServer::Stop() { impl_->http.stop(); }

}  // namespace orderlake::firehose
