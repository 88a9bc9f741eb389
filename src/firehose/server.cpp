#include "firehose/server.h"

#include "aws/json_service.h"
#include "core/http_server.h"
#include "core/listen.h"
#include "core/log.h"

namespace orderlake::firehose {

Status ServerOptions::SetListen(std::string_view listen) { return ParseListen(listen, host, port); }

Status ServerOptions::Validate() const {
  if (host.empty()) return Status::Error("--listen needs a host (HOST:PORT), got an empty one");
  if (port < 0 || port > 65535) return Status::Errorf("--listen port must be between 0 and 65535, got {}", port);
  if (threads < 2 || threads > 1024) return Status::Errorf("--threads must be between 2 and 1024, got {}", threads);
  if (max_connections < 1 || max_connections > 100000)
    return Status::Errorf("--max-connections must be between 1 and 100000, got {}", max_connections);
  for (const auto& [id, secret] : keys)
    if (id.empty() || secret.empty())
      return Status::Errorf("--access-key/--secret-key: an access key id and its secret must both be non-empty{}",
                            id.empty() ? "" : " (key " + id + ")");
  if (Status st = aws::check_unsigned_listener(host, keys); !st.ok())
    return Status::Error(st.message() + ": give --access-key/--secret-key or --credentials-file");
  return tls.Validate();
}

struct FirehoseServer::Impl {
  FirehoseService& service;
  ServerOptions opt;
  metrics::Registry http_metrics;  // declared before `http`, which counts on it until it stops
  http::HttpServer http;
  aws::RequestIds ids;
  aws::JsonRouter router;
  Impl(FirehoseService& s, ServerOptions o) : service(s), opt(std::move(o)), http(HttpOptions(opt)), router(opt.keys) {
    router.Mount(service.api());
  }
  static http::ServerOptions HttpOptions(const ServerOptions& o) {
    http::ServerOptions h;
    h.workers = o.threads;
    h.max_connections = o.max_connections;
    h.tls = o.tls;
    return h;
  }
};

FirehoseServer::FirehoseServer(FirehoseService& service, ServerOptions options)
    : impl_(std::make_unique<Impl>(service, std::move(options))) {
  auto& h = impl_->http;
  Impl* m = impl_.get();
  h.RegisterMetrics(m->http_metrics);
  aws::JsonHttpOptions api;
  api.max_body_bytes = 8u << 20;  // 4 MiB of records, base64, plus JSON
  api.routes_help = "only POST / (the Firehose API), GET /metrics and GET /health exist";
  aws::install_json_api(h, m->router, m->ids, api);
  h.Get("/metrics", [m](const httplib::Request&, httplib::Response& res) {
    res.set_header("x-amzn-RequestId", m->ids.Next());
    res.set_content(m->service.metrics().Text() + m->http_metrics.Text(), "text/plain; version=0.0.4");
  });
  h.Get("/health", [m](const httplib::Request&, httplib::Response& res) {
    res.set_header("x-amzn-RequestId", m->ids.Next());
    res.set_content("{\"status\":\"ok\"}", "application/json");
  });
}

FirehoseServer::~FirehoseServer() { Stop(); }

Result<int> FirehoseServer::Bind() {
  ORDERLAKE_RETURN_IF_ERROR(impl_->opt.Validate());
  return impl_->http.Bind(impl_->opt.host, impl_->opt.port);
}

const char* FirehoseServer::scheme() const { return impl_->http.scheme(); }

const metrics::Registry& FirehoseServer::http_metrics() const { return impl_->http_metrics; }

void FirehoseServer::Run() { impl_->http.Run(); }
void FirehoseServer::Stop() { impl_->http.Stop(); }

}  // namespace orderlake::firehose
