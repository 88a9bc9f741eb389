#include "core/metrics_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

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

void send_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
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
                                                            HealthCheck health) {
  return Start(listen, [&registry] { return registry.Text(); }, std::move(health));
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& listen, Render render,
                                                            HealthCheck health) {
  std::string host, port;
  if (!split_listen(listen, &host, &port)) return Status::Errorf("--metrics-listen {}: expected HOST:PORT", listen);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) return Status::Errorf("--metrics-listen {}: {}", listen, gai_strerror(rc));
  std::unique_ptr<MetricsServer> s(new MetricsServer());
  s->render_ = std::move(render);
  s->health_ = std::move(health);
  std::string err = "no address";
  for (addrinfo* a = res; a; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 16) == 0) {
      s->fd_ = fd;
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
      s->port_ = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                          : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
      break;
    }
    err = std::strerror(errno);
    ::close(fd);
  }
  freeaddrinfo(res);
  if (s->fd_ < 0) return Status::Errorf("--metrics-listen {}: cannot listen: {}", listen, err);
  const bool v6 = host.find(':') != std::string::npos;
  s->address_ = (v6 ? "[" + host + "]" : host) + ":" + std::to_string(s->port_);
  s->thread_ = std::thread([p = s.get()] { p->loop(); });
  return s;
}

MetricsServer::~MetricsServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) ::close(fd_);
}

void MetricsServer::loop() {
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    answer(c);
    ::close(c);
  }
}

void MetricsServer::answer(int c) {
  timeval tv{2, 0};
  setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string req;
  char buf[2048];
  while (req.find("\r\n\r\n") == std::string::npos && req.size() < 16384) {
    ssize_t n = ::recv(c, buf, sizeof buf, 0);
    if (n <= 0) break;
    req.append(buf, static_cast<size_t>(n));
  }
  // The request target, without a query string.
  auto is_get = [&req](std::string_view path) {
    if (req.rfind("GET ", 0) != 0) return false;
    const size_t end = req.find_first_of(" ?\r\n", 4);
    return req.compare(4, end == std::string::npos ? std::string::npos : end - 4, path) == 0;
  };
  std::string status = "404 Not Found", body = "not found: try /metrics or /health\n";
  if (is_get("/metrics")) {
    status = "200 OK";
    body = render_ ? render_() : std::string();
  } else if (is_get("/health")) {
    const HealthReport h = health_ ? health_() : HealthReport::Healthy();
    status = h.ok ? "200 OK" : "503 Service Unavailable";
    body = h.ok ? "ok\n" : (h.reason.empty() ? "unhealthy" : h.reason) + "\n";
  }
  send_all(c, "HTTP/1.0 " + status + "\r\nContent-Type: text/plain; version=0.0.4\r\nConnection: close\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n" + body);
}

}  // namespace orderlake
