// The HTTP face of the Firehose service on one listener: POST / is the Firehose API (JSON
// 1.1, X-Amz-Target, SigV4-verified for service "firehose" when keys are configured; see
// aws/json_service.h), GET /metrics the Prometheus counters, GET /health a liveness answer.
// Every response carries x-amzn-RequestId. Connections are handled by core/http_server.h:
// slow or idle clients hold no worker, heads must arrive within 10 s, bodies at a minimum
// rate, and the server's refusals are counted on /metrics (orderlake_http_*).
#pragma once
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/metrics.h"
#include "core/status.h"
#include "core/tls.h"
#include "firehose/service.h"

namespace orderlake::firehose {

// The listener's options, with their only defaults. Validate() names the CLI flags.
struct ServerOptions {
  std::string host = "127.0.0.1";           // --listen HOST
  int port = 4573;                          // --listen PORT; 0 = any free port
  std::map<std::string, std::string> keys;  // --access-key/--secret-key, --credentials-file: id -> secret;
                                            // empty = unsigned requests accepted (loopback only)
  int threads = 64;                         // --threads: handler workers; a connection holds one only
                                            // while its complete request is handled (core/http_server.h)
  size_t max_connections = 512;             // --max-connections: open at once; beyond: 503 + Retry-After
  http::TlsOptions tls;                     // --tls-cert/--tls-key: HTTPS only on this listener (none: HTTP)

  // Sets host and port from "HOST:PORT" ("[::1]:PORT" for IPv6).
  Status SetListen(std::string_view listen);
  Status Validate() const;
};

// The listener speaks HTTPS when options.tls names a certificate and key (core/tls.h).
class FirehoseServer {
 public:
  FirehoseServer(FirehoseService& service, ServerOptions options);
  ~FirehoseServer();
  // Binds (and loads the TLS certificate and key); returns the bound port.
  Result<int> Bind();
  // "https" with TLS, else "http".
  const char* scheme() const;
  // Serves until Stop() (blocking).
  void Run();
  void Stop();
  // The connection counters (orderlake_http_*), also on GET /metrics after the service's.
  const metrics::Registry& http_metrics() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace orderlake::firehose
