// Internals of core/http_server.h shared by its two source files: the transport seam, the
// per-connection state the event loop keeps, the worker pool, and the route table.
#pragma once
#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <atomic>
#include <deque>
#include <map>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "core/http_parse.h"
#include "core/http_server.h"
#include "core/tls.h"

namespace orderlake::http::internal {

using Clock = std::chrono::steady_clock;

// How bytes leave and enter a connection: plain TCP, or TLS (core/tls.cpp, with its
// handshake inside Read/Write). Both are non-blocking: -1 with errno EAGAIN when nothing can
// move now, 0 from Read at the end of the stream.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual long Read(char* data, size_t size) = 0;
  virtual long Write(const char* data, size_t size) = 0;
  virtual void ShutdownWrite() = 0;  // after the last response of a closing connection
  virtual int fd() const = 0;
  // TLS only. A Read that got EAGAIN may wait for the socket to be writable (a handshake
  // message to send), a Write for it to be readable; the loop then watches that event too.
  virtual bool read_wants_write() const { return false; }
  virtual bool write_wants_read() const { return false; }
  // Plaintext already decrypted, which Read returns though the socket is not readable.
  virtual bool buffered() const { return false; }
  // The TLS handshake is not finished (no request byte can have arrived).
  virtual bool handshaking() const { return false; }
  // The client spoke plain HTTP to a TLS port: the transport now passes bytes unencrypted
  // (so the loop can answer it a 400 it can read) and Read returns EAGAIN until then.
  virtual bool plaintext_on_tls() const { return false; }
  // Why the last call failed (OpenSSL's reason), for the debug log; "" when it did not.
  virtual std::string failure() const { return {}; }
};
std::unique_ptr<Transport> TcpTransport(int fd);  // owns and closes fd
std::unique_ptr<Transport> TlsTransport(int fd, const TlsContext& ctx);  // core/tls.cpp; owns and closes fd

// A streaming response being pumped: the provider runs on a worker, one call at a time.
struct StreamState {
  std::shared_ptr<httplib::Response> res;
  size_t offset = 0;
  bool chunked = true;  // chunk framing (HTTP/1.1); HTTP/1.0 gets raw bytes and a close
  bool keep_alive = true;
  bool busy = false;    // a pump is on a worker
  bool notified = false;  // NotifyStreams() came while busy: pump again at once after it
  Clock::time_point next_pump;
};

enum class Phase { kHead, kBody, kBusy, kStreaming, kClosing, kLinger };

struct Conn {
  uint64_t id = 0;
  std::unique_ptr<Transport> t;
  std::string remote_addr;
  int remote_port = -1;
  Phase phase = Phase::kHead;
  std::string in, out;
  size_t out_off = 0;
  bool head_started = false;
  bool tls_pending = false;          // TLS: the handshake is on (deadline: header_timeout from accept)
  Clock::time_point deadline;        // of the current read phase (idle, head, body, linger)
  Clock::time_point write_deadline;  // while `out` has bytes
  httplib::Request req;
  HeadResult head;
  std::optional<ChunkedDecoder> chunked;
  std::optional<StreamState> stream;
  uint32_t events = 0;  // registered with epoll
  bool dead = false;    // closed; erased at the end of the loop's turn
  bool pending_out() const { return out_off < out.size(); }
};

// A fixed pool of threads running jobs in arrival order.
class WorkerPool {
 public:
  void Start(int n);
  // Refused (false) when `bounded` and the queue already holds `max_queued` jobs.
  bool Push(std::function<void()> job, bool bounded, size_t max_queued);
  void Stop();  // drops queued jobs, joins the threads
  size_t queued() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  bool stop_ = false;
};

struct Route {
  std::string method;
  std::regex pattern;
  HttpServer::Handler handler;
};

// What a worker hands back to the loop for one connection.
struct Completion {
  uint64_t conn = 0;
  std::string out;
  bool keep_alive = false;
  std::shared_ptr<httplib::Response> stream;  // a streaming response starts
  bool chunked = true;
  bool pump = false;       // the result of a stream pump
  bool stream_end = false; // the provider is done (or failed: then close)
  bool stream_failed = false;
  size_t bytes = 0;         // the provider's bytes in `out` (the next offset moves by them)
};

// Serializes the status line and headers (Content-Length, Connection added).
std::string ResponseHead(const httplib::Response& res, bool keep_alive, bool head_only_chunked, size_t length);

enum Reject { kMaxConnections, kQueueFull, kHeaderTooLarge, kHeaderTimeout, kBodyTooLarge, kBodyTimeout, kBadRequest,
              kWriteTimeout, kTlsHandshake, kRejectReasons };
const char* RejectName(int reason);

}  // namespace orderlake::http::internal

namespace orderlake::http {

// The server's state: routes and hooks (set before Bind), the worker pool, and what only
// the loop thread touches (connections, epoll).
struct HttpServer::Impl {
  using Conn = internal::Conn;
  ServerOptions opt;
  std::vector<internal::Route> routes;
  PreRouting pre_routing;
  Handler error_handler;
  internal::WorkerPool pool;

  // Metrics (null until RegisterMetrics).
  metrics::Gauge* open_gauge = nullptr;
  metrics::Counter* accepted = nullptr;
  metrics::Counter* requests = nullptr;
  metrics::Counter* rejected[internal::kRejectReasons] = {};

  std::shared_ptr<TlsContext> tls;  // set by Bind when opt.tls is enabled
  int listen_fd = -1, epoll_fd = -1, wake_fd = -1, port = 0;
  std::mutex run_mu;
  std::condition_variable run_cv;
  bool running = false, stopped = false;
  std::atomic<bool> stop{false}, notify_streams{false};
  std::thread own_thread;

  std::mutex done_mu;
  std::vector<internal::Completion> done;

  // Loop thread only.
  std::map<uint64_t, std::unique_ptr<Conn>> conns;
  uint64_t next_id = 16;

  // http_server.cpp: what runs on a worker.
  void Serve(uint64_t conn, httplib::Request req, bool keep_alive);
  void Pump(uint64_t conn, std::shared_ptr<httplib::Response> res, size_t offset, bool chunked);
  void Route(httplib::Request& req, httplib::Response& res, bool* found);
  void Post(internal::Completion c);
  void Count(int reason);

  // http_loop.cpp: the loop.
  void Loop();
  void Accept();
  void OnEvent(Conn& c, uint32_t ev);
  void ReadInput(Conn& c);
  bool AfterRead(Conn& c);
  void Process(Conn& c);
  bool ProcessHead(Conn& c);
  void ProcessBody(Conn& c);
  void Dispatch(Conn& c);
  void Reject(Conn& c, int status, int reason, const std::string& why);
  void Flush(Conn& c);
  void Refuse(int fd);
  void Complete(internal::Completion& done);
  void Tick();
  void Close(Conn& c);
  void Append(Conn& c, const std::string& data);
  std::vector<uint64_t> reap;
  void UpdateEvents(Conn& c);
  void StartPump(Conn& c);
  void ResumeReading(Conn& c);
};

}  // namespace orderlake::http
