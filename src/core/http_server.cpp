// The public face of HttpServer, the worker side (routing, handlers, streaming pumps) and
// the transport; the event loop is in http_loop.cpp.
#include "core/http_server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/http_internal.h"
#include <spdlog/spdlog.h>

namespace orderlake::http {
namespace internal {
namespace {

class Tcp final : public Transport {
 public:
  explicit Tcp(int fd) : fd_(fd) {}
  ~Tcp() override { ::close(fd_); }
  long Read(char* data, size_t size) override { return ::recv(fd_, data, size, 0); }
  long Write(const char* data, size_t size) override { return ::send(fd_, data, size, MSG_NOSIGNAL); }
  void ShutdownWrite() override { ::shutdown(fd_, SHUT_WR); }
  int fd() const override { return fd_; }

 private:
  int fd_;
};

}  // namespace

std::unique_ptr<Transport> TcpTransport(int fd) { return std::make_unique<Tcp>(fd); }

const char* RejectName(int reason) {
  static const char* const kNames[kRejectReasons] = {"max_connections", "queue_full",   "header_too_large",
                                                     "header_timeout",  "body_too_large", "body_timeout",
                                                     "bad_request",     "write_timeout",  "tls_handshake"};
  return reason >= 0 && reason < kRejectReasons ? kNames[reason] : "unknown";
}

void WorkerPool::Start(int n) {
  std::lock_guard lock(mu_);
  stop_ = false;
  for (int i = 0; i < n; ++i)
    threads_.emplace_back([this] {
      for (;;) {
        std::function<void()> job;
        {
          std::unique_lock lock(mu_);
          cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
          if (stop_) return;
          job = std::move(jobs_.front());
          jobs_.pop_front();
        }
        job();
      }
    });
}

bool WorkerPool::Push(std::function<void()> job, bool bounded, size_t max_queued) {
  {
    std::lock_guard lock(mu_);
    if (stop_ || (bounded && jobs_.size() >= max_queued)) return false;
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

void WorkerPool::Stop() {
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    dropped.swap(jobs_);
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

size_t WorkerPool::queued() const {
  std::lock_guard lock(mu_);
  return jobs_.size();
}

std::string ResponseHead(const httplib::Response& res, bool keep_alive, bool chunked, size_t length) {
  std::string h = fmt::format("HTTP/1.1 {} {}\r\n", res.status, ReasonPhrase(res.status));
  for (const auto& [k, v] : res.headers) {
    if (k == "Content-Length" || k == "Connection" || k == "Transfer-Encoding") continue;
    h += k;
    h += ": ";
    h += v;
    h += "\r\n";
  }
  if (chunked) h += "Transfer-Encoding: chunked\r\n";
  else if (length != std::string::npos) h += fmt::format("Content-Length: {}\r\n", length);
  h += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  return h;
}

}  // namespace internal

using internal::Completion;

Status ServerOptions::Validate() const {
  if (workers < 1 || workers > 1024) return Status::Errorf("http: workers must be between 1 and 1024, got {}", workers);
  if (max_header_bytes < 1024) return Status::Errorf("http: max_header_bytes must be at least 1024, got {}", max_header_bytes);
  if (max_connections < 1) return Status::Error("http: max_connections must be at least 1");
  if (max_queued < 1) return Status::Error("http: max_queued must be at least 1");
  if (body_min_rate < 1) return Status::Error("http: body_min_rate must be at least 1 byte/s");
  for (auto t : {header_timeout, body_timeout, idle_timeout, write_timeout, stream_poll})
    if (t.count() < 1) return Status::Error("http: every timeout must be at least 1 ms");
  return tls.Validate();
}

HttpServer::HttpServer(ServerOptions options) : impl_(std::make_unique<Impl>()) { impl_->opt = options; }

HttpServer::~HttpServer() {
  Stop();
  if (impl_->listen_fd >= 0) ::close(impl_->listen_fd);
  if (impl_->epoll_fd >= 0) ::close(impl_->epoll_fd);
  if (impl_->wake_fd >= 0) ::close(impl_->wake_fd);
}

HttpServer& HttpServer::Get(const std::string& p, Handler h) {
  impl_->routes.push_back({"GET", std::regex(p), std::move(h)});
  return *this;
}
HttpServer& HttpServer::Post(const std::string& p, Handler h) {
  impl_->routes.push_back({"POST", std::regex(p), std::move(h)});
  return *this;
}
HttpServer& HttpServer::Put(const std::string& p, Handler h) {
  impl_->routes.push_back({"PUT", std::regex(p), std::move(h)});
  return *this;
}
HttpServer& HttpServer::Delete(const std::string& p, Handler h) {
  impl_->routes.push_back({"DELETE", std::regex(p), std::move(h)});
  return *this;
}
HttpServer& HttpServer::Options(const std::string& p, Handler h) {
  impl_->routes.push_back({"OPTIONS", std::regex(p), std::move(h)});
  return *this;
}
void HttpServer::set_pre_routing_handler(PreRouting handler) { impl_->pre_routing = std::move(handler); }
void HttpServer::set_error_handler(Handler handler) { impl_->error_handler = std::move(handler); }

ServerOptions& HttpServer::options() { return impl_->opt; }

void HttpServer::RegisterMetrics(metrics::Registry& r, const std::string& prefix) {
  impl_->open_gauge = &r.gauge(prefix + "_connections_open", "HTTP connections open now");
  impl_->accepted = &r.counter(prefix + "_connections_accepted_total", "HTTP connections accepted");
  impl_->requests = &r.counter(prefix + "_requests_total", "HTTP requests handed to a handler");
  for (int i = 0; i < internal::kRejectReasons; ++i)
    impl_->rejected[i] = &r.counter(prefix + "_connections_rejected_total",
                                    "HTTP requests or connections refused or closed by a limit, by reason",
                                    {{"reason", internal::RejectName(i)}});
}

Result<int> HttpServer::Bind(const std::string& host_in, int port) {
  ORDERLAKE_RETURN_IF_ERROR(impl_->opt.Validate());
  if (impl_->opt.tls.enabled()) {
    auto ctx = TlsContext::Create(impl_->opt.tls);
    if (!ctx.ok()) return ctx.status();
    impl_->tls = std::move(ctx).value();
  }
  std::string host = host_in;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res); rc != 0)
    return Status::Errorf("cannot listen on {}:{}: {}", host, port, gai_strerror(rc));
  std::string err = "no address";
  for (addrinfo* a = res; a && impl_->listen_fd < 0; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 1024) == 0) {
      impl_->listen_fd = fd;
      break;
    }
    err = std::strerror(errno);
    ::close(fd);
  }
  freeaddrinfo(res);
  if (impl_->listen_fd < 0) return Status::Errorf("cannot listen on {}:{}: {}", host, port, err);
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(impl_->listen_fd, reinterpret_cast<sockaddr*>(&ss), &len);
  impl_->port = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                         : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  impl_->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  impl_->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl_->epoll_fd < 0 || impl_->wake_fd < 0) return Status::Errorf("http: epoll/eventfd: {}", std::strerror(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0;
  epoll_ctl(impl_->epoll_fd, EPOLL_CTL_ADD, impl_->listen_fd, &ev);
  ev.data.u64 = 1;
  epoll_ctl(impl_->epoll_fd, EPOLL_CTL_ADD, impl_->wake_fd, &ev);
  return impl_->port;
}

int HttpServer::port() const { return impl_->port; }
const char* HttpServer::scheme() const { return impl_->opt.tls.enabled() ? "https" : "http"; }

void HttpServer::Run() {
  {
    std::lock_guard lock(impl_->run_mu);
    if (impl_->stopped || impl_->running || impl_->epoll_fd < 0) return;
    impl_->running = true;
  }
  impl_->pool.Start(impl_->opt.workers);
  impl_->Loop();
  impl_->conns.clear();  // closes every connection; streaming responses release their resources
  if (impl_->open_gauge) impl_->open_gauge->Set(0);
  impl_->pool.Stop();
  {
    std::lock_guard lock(impl_->done_mu);
    impl_->done.clear();
  }
  std::lock_guard lock(impl_->run_mu);
  impl_->running = false;
  impl_->run_cv.notify_all();
}

void HttpServer::Start() {
  impl_->own_thread = std::thread([this] { Run(); });
}

void HttpServer::Stop() {
  impl_->stop = true;
  if (impl_->wake_fd >= 0) {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(impl_->wake_fd, &one, sizeof one);
  }
  if (impl_->own_thread.joinable() && impl_->own_thread.get_id() != std::this_thread::get_id())
    impl_->own_thread.join();
  std::unique_lock lock(impl_->run_mu);
  impl_->stopped = true;
  impl_->run_cv.wait(lock, [this] { return !impl_->running; });
}

void HttpServer::NotifyStreams() {
  impl_->notify_streams = true;
  if (impl_->wake_fd >= 0) {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(impl_->wake_fd, &one, sizeof one);
  }
}

// ---- the worker side ----

void HttpServer::Impl::Post(Completion c) {
  {
    std::lock_guard lock(done_mu);
    done.push_back(std::move(c));
  }
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd, &one, sizeof one);
}

void HttpServer::Impl::Count(int reason) {
  if (rejected[reason]) rejected[reason]->Inc();
}

void HttpServer::Impl::Route(httplib::Request& req, httplib::Response& res, bool* found) {
  *found = false;
  if (pre_routing && pre_routing(req, res)) {
    *found = true;
    return;
  }
  const std::string& method = req.method == "HEAD" ? std::string("GET") : req.method;
  for (const auto& r : routes) {
    if (r.method != method || !std::regex_match(req.path, req.matches, r.pattern)) continue;
    *found = true;
    r.handler(req, res);
    return;
  }
}

void HttpServer::Impl::Serve(uint64_t conn, httplib::Request req, bool keep_alive) {
  auto res = std::make_shared<httplib::Response>();
  bool found = false;
  try {
    Route(req, *res, &found);
  } catch (const std::exception& e) {
    spdlog::warn("http: {} {}: the handler failed: {}", req.method, req.path.substr(0, 200), e.what());
    *res = httplib::Response();
    res->status = 500;
  }
  if (res->status == -1) res->status = found ? 200 : 404;
  if (res->status >= 400 && error_handler && !res->content_provider_) error_handler(req, *res);
  Completion c;
  c.conn = conn;
  c.keep_alive = keep_alive;
  const bool head = req.method == "HEAD";
  // A sized provider (set_content_provider(length, ...)) is sent with its Content-Length and
  // no chunk framing; a HEAD answer gets that length without the provider being asked.
  const bool sized = res->content_provider_ && !res->is_chunked_content_provider_ && res->content_length_ > 0;
  if (res->content_provider_ && !head) {
    c.chunked = !sized && req.version == "HTTP/1.1";
    c.keep_alive = keep_alive && (sized || c.chunked);
    c.out = internal::ResponseHead(*res, c.keep_alive, c.chunked, sized ? res->content_length_ : std::string::npos);
    c.stream = std::move(res);
    return Post(std::move(c));
  }
  c.out = internal::ResponseHead(*res, keep_alive, false, sized ? res->content_length_ : res->body.size());
  if (!head) c.out += res->body;
  Post(std::move(c));
}

void HttpServer::Impl::Pump(uint64_t conn, std::shared_ptr<httplib::Response> res, size_t offset, bool chunked) {
  Completion c;
  c.conn = conn;
  c.pump = true;
  c.chunked = chunked;
  httplib::DataSink sink;
  sink.write = [&c, chunked](const char* d, size_t n) {
    if (n == 0) return true;
    c.bytes += n;
    if (chunked) c.out += fmt::format("{:x}\r\n", n);
    c.out.append(d, n);
    if (chunked) c.out += "\r\n";
    return true;
  };
  sink.is_writable = [] { return true; };
  sink.done = [&c, chunked] {
    if (c.stream_end) return;
    c.stream_end = true;
    if (chunked) c.out += "0\r\n\r\n";
  };
  bool ok = false;
  try {
    const bool sized = !res->is_chunked_content_provider_ && res->content_length_ > 0;
    ok = res->content_provider_(offset, sized ? res->content_length_ - offset : 0, sink);
    // A sized provider is done once its length is sent, whether or not it says so.
    if (ok && sized && offset + c.bytes >= res->content_length_) sink.done();
  } catch (const std::exception& e) {
    spdlog::warn("http: a streaming response failed: {}", e.what());
  }
  if (!ok) {
    c.stream_end = true;
    c.stream_failed = true;
  } else if (c.stream_end) {
    res->content_provider_success_ = true;
  }
  c.stream = std::move(res);
  Post(std::move(c));
}

}  // namespace orderlake::http
