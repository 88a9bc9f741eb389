// A tiny HTTP endpoint for a long-running stage: GET /metrics answers the Prometheus
// text (content type text/plain; version=0.0.4) of a callback or of a metrics::Registry;
// GET /health answers 200 "ok" or 503 with the reason the health callback gives (200 "ok"
// when there is none); anything else is 404. Served by core/http_server.h with one worker
// (so the callbacks never run concurrently, on that worker's thread), loopback unless told
// otherwise; slow or idle clients cannot block a scrape.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "core/metrics.h"
#include "core/status.h"
#include "core/tls.h"

namespace orderlake {
namespace http {
class HttpServer;
}

// What /health says: healthy, or not and why ("the last etl run failed: ...").
struct HealthReport {
  bool ok = true;
  std::string reason;
  static HealthReport Healthy() { return {}; }
  static HealthReport Failing(std::string why) { return {false, std::move(why)}; }
};

class MetricsServer {
 public:
  using Render = std::function<std::string()>;
  using HealthCheck = std::function<HealthReport()>;

  // `listen` is HOST:PORT (port 0 picks a free one; see port()). Errors name the option
  // as the CLI user knows it (--metrics-listen).
  // With `tls` (--tls-cert/--tls-key) the listener speaks HTTPS only.
  static Result<std::unique_ptr<MetricsServer>> Start(const std::string& listen, Render render,
                                                      HealthCheck health = {}, const http::TlsOptions& tls = {});
  // Serves the registry's Text(); the registry must outlive the server.
  static Result<std::unique_ptr<MetricsServer>> Start(const std::string& listen, const metrics::Registry& registry,
                                                      HealthCheck health = {}, const http::TlsOptions& tls = {});
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;
  int port() const { return port_; }
  // "127.0.0.1:9102": the host as given and the port actually bound.
  const std::string& address() const { return address_; }
  const char* scheme() const;  // "https" or "http"

 private:
  MetricsServer();
  int port_ = 0;
  std::string address_;
  Render render_;
  HealthCheck health_;
  std::unique_ptr<http::HttpServer> http_;
};

// Checks a HOST:PORT value without binding it ("" is allowed: off). `option` names it.
Status ValidateListenAddress(const std::string& listen, std::string_view option = "--metrics-listen");

}  // namespace orderlake
