// HttpServer: the HTTP/1.1 server of every orderlake service, with cpp-httplib's handler API
// (routes Get/Post/Put/Delete/Options(regex, handler), handler(const httplib::Request&,
// httplib::Response&)) so handlers need not know which server runs them.
//
// Design: one event-loop thread (epoll, non-blocking sockets) accepts connections and reads
// requests into per-connection buffers. A request goes to the fixed worker pool only once its
// head AND body are complete, so a slow or idle client holds a buffer, never a worker; a
// keep-alive connection returns to the loop between requests. A worker runs the handler and
// serializes the response into the connection's output buffer; the loop writes it, under a
// write deadline, so a slow reader never blocks a worker. A streaming response
// (set_chunked_content_provider) is pumped on a worker each time its output has drained; a
// provider that has nothing to say writes nothing and is asked again after stream_poll (or at
// once after NotifyStreams()), so an idle event stream holds no thread. A provider must not
// block. A sized provider (set_content_provider(length, ...), e.g. a file served in pieces)
// is pumped the same way, sent with its Content-Length and no chunk framing; a HEAD answer
// gets that Content-Length and the provider is never asked.
//
// Every bound is an option below; a client beyond one gets a short answer and is closed:
// 431 (head too large), 408 (head or body too slow), 413 (body too large, before it is read),
// 400 (bad framing: two Content-Length, Content-Length with Transfer-Encoding, ...), 503 with
// Retry-After (too many connections, or the worker queue is full). Each rejection is counted
// by reason in the metrics RegisterMetrics() adds to a registry.
//
// TLS (options.tls, see core/tls.h): the same loop, limits and counters over a TLS transport.
// The handshake runs non-blocking on the loop thread and must end within header_timeout
// (a client that stalls in it holds no worker and is closed, counted as header_timeout; a
// failed handshake is counted as tls_handshake). A plain HTTP request on a TLS port is
// answered "400 this port speaks HTTPS" in plain text and closed; a connection over
// max_connections on a TLS port is closed without an answer (it could not read one).
#pragma once
#include <httplib.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "core/metrics.h"
#include "core/status.h"
#include "core/tls.h"

namespace orderlake::http {

struct ServerOptions {
  int workers = 8;                                       // handler threads
  size_t max_header_bytes = 64 << 10;                    // request line + headers; beyond: 431
  std::chrono::milliseconds header_timeout{10'000};      // whole head, from its first byte; beyond: 408
  std::chrono::milliseconds body_timeout{30'000};        // whole body, from the end of the head ...
  size_t body_min_rate = 64 << 10;                       // ... plus 1 s per body_min_rate bytes declared
  size_t max_body_bytes = 8 << 20;                       // beyond: 413, before the body is read
  std::chrono::milliseconds idle_timeout{5'000};         // keep-alive connection with no request: closed
  std::chrono::milliseconds write_timeout{30'000};       // a response (or stream chunk) not taken: closed
  size_t max_connections = 512;                          // open at once; beyond: 503 + Retry-After
  size_t max_queued = 1024;                              // requests waiting for a worker; beyond: 503
  std::chrono::milliseconds stream_poll{250};            // streaming provider asked again when it was idle
  int retry_after_s = 1;                                 // the Retry-After of a 503
  TlsOptions tls;                                        // cert + key: HTTPS only; none: plain HTTP
  Status Validate() const;
};

class HttpServer {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
  // Runs before routing; true = handled (the response is sent as it is).
  using PreRouting = std::function<bool(const httplib::Request&, httplib::Response&)>;

  explicit HttpServer(ServerOptions options = {});
  ~HttpServer();  // Stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Routes (register before Bind): the whole path must match the regex; its groups fill
  // Request::matches. HEAD is answered by the GET routes, without the body.
  HttpServer& Get(const std::string& pattern, Handler handler);
  HttpServer& Post(const std::string& pattern, Handler handler);
  HttpServer& Put(const std::string& pattern, Handler handler);
  HttpServer& Delete(const std::string& pattern, Handler handler);
  HttpServer& Options(const std::string& pattern, Handler handler);
  void set_pre_routing_handler(PreRouting handler);
  // Called for an answer with status >= 400 and no body (a route's, or the server's own
  // 404/413/...), to give it the service's error document.
  void set_error_handler(Handler handler);

  // The options, to adjust before Bind (e.g. the body limit of an API installed on it).
  ServerOptions& options();

  // Counts on `registry` (which must outlive the server): <prefix>_connections_open,
  // <prefix>_connections_accepted_total, <prefix>_connections_rejected_total{reason},
  // <prefix>_requests_total. Two servers whose registries are shown together (as under
  // `orderlake up`) take different prefixes.
  void RegisterMetrics(metrics::Registry& registry, const std::string& prefix = "orderlake_http");

  // Binds host:port (port 0 = any free port); returns the bound port.
  Result<int> Bind(const std::string& host, int port);
  // Serves until Stop() (blocking); Start() runs the same loop on its own thread.
  void Run();
  void Start();
  // Stops the loop and the workers and joins them; open connections are closed.
  void Stop();
  // Asks every idle streaming response for more now (e.g. a new table version).
  void NotifyStreams();
  int port() const;
  // "https" when options().tls is enabled, else "http" (for the URL a command prints).
  const char* scheme() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace orderlake::http
