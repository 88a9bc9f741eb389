#include "core/metrics_server.h"

#include <charconv>

#include "core/http_server.h"

namespace orderlake {
namespace {

// Splits HOST:PORT ("[::1]:9102" too); false when there is no colon or no valid port.
bool split_listen(const std::string& listen, std::string* host, std::string* port) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  *host = listen.substr(0, colon);
  *port = listen.substr(colon + 1);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') *host = host->substr(1, host->size() - 2);
  int n = -1;
  auto [p, ec] = std::from_chars(port->data(), port->data() + port->size(), n);
  return ec == std::errc() && p == port->data() + port->size() && n >= 0 && n <= 65535;
}

}  // namespace

Status ValidateListenAddress(const std::string& listen, std::string_view option) {
  if (listen.empty()) return Status::OK();
  std::string host, port;
  if (!split_listen(listen, &host, &port))
    return Status::Errorf("{} must be HOST:PORT with a port from 0 to 65535, got \"{}\"", option, listen);
  return Status::OK();
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& listen, const metrics::Registry& registry,
                                                            HealthCheck health, const http::TlsOptions& tls) {
  return Start(listen, [&registry] { return registry.Text(); }, std::move(health), tls);
}

const char* MetricsServer::scheme() const { return http_->scheme(); }

MetricsServer::MetricsServer() = default;

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& listen, Render render,
                                                            HealthCheck health, const http::TlsOptions& tls) {
  std::string host, port;
  if (!split_listen(listen, &host, &port)) return Status::Errorf("--metrics-listen {}: expected HOST:PORT", listen);
  std::unique_ptr<MetricsServer> s(new MetricsServer());
  s->render_ = std::move(render);
  s->health_ = std::move(health);
  http::ServerOptions o;
  o.workers = 1;
  o.max_connections = 64;
  o.max_body_bytes = 64 << 10;
  o.tls = tls;
  if (Status st = tls.Validate(); !st.ok()) return st;
  s->http_ = std::make_unique<http::HttpServer>(o);
  MetricsServer* m = s.get();
  constexpr const char* kType = "text/plain; version=0.0.4";
  s->http_->Get("/metrics", [m](const httplib::Request&, httplib::Response& res) {
    res.set_content(m->render_ ? m->render_() : std::string(), kType);
  });
  s->http_->Get("/health", [m](const httplib::Request&, httplib::Response& res) {
    const HealthReport h = m->health_ ? m->health_() : HealthReport::Healthy();
    res.status = h.ok ? 200 : 503;
    res.set_content(h.ok ? "ok\n" : (h.reason.empty() ? "unhealthy" : h.reason) + "\n", kType);
  });
  s->http_->set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty() && res.status == 404) res.set_content("not found: try /metrics or /health\n", kType);
  });
  auto bound = s->http_->Bind(host, std::stoi(port));
  if (!bound.ok()) return Status::Errorf("--metrics-listen {}: {}", listen, bound.status().message());
  s->port_ = *bound;
  const bool v6 = host.find(':') != std::string::npos;
  s->address_ = (v6 ? "[" + host + "]" : host) + ":" + std::to_string(s->port_);
  s->http_->Start();
  return s;
}

MetricsServer::~MetricsServer() {
  if (http_) http_->Stop();
}

}  // namespace orderlake
