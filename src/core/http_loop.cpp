// The event loop of HttpServer (see http_server.h): accepting, reading heads and bodies
// under their limits and deadlines, handing complete requests to the workers, writing what
// they answer, pumping streaming responses. Everything here runs on the loop thread only.
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include <spdlog/spdlog.h>

#include "core/http_internal.h"

namespace orderlake::http {
using internal::Clock;
using internal::Completion;
using internal::Phase;

namespace {
constexpr auto kLinger = std::chrono::seconds(2);  // reading what a refused client still sends
constexpr size_t kReadChunk = 16 << 10;
}  // namespace

void HttpServer::Impl::Loop() {
  epoll_event evs[256];
  auto last_tick = Clock::now();
  while (!stop) {
    const int n = epoll_wait(epoll_fd, evs, 256, 50);
    for (int i = 0; i < n; ++i) {
      const uint64_t id = evs[i].data.u64;
      if (id == 0) {
        Accept();
      } else if (id == 1) {
        uint64_t v = 0;
        [[maybe_unused]] auto r = ::read(wake_fd, &v, sizeof v);
      } else if (auto it = conns.find(id); it != conns.end() && !it->second->dead) {
        OnEvent(*it->second, evs[i].events);
      }
    }
    std::vector<Completion> batch;
    {
      std::lock_guard lock(done_mu);
      batch.swap(done);
    }
    for (auto& c : batch) Complete(c);
    if (notify_streams.exchange(false))
      for (auto& [id, c] : conns)
        if (c->stream) {
          c->stream->next_pump = Clock::now();
          c->stream->notified = c->stream->busy;  // the running pump may have looked too early
        }
    const auto now = Clock::now();
    if (n == 0 || now - last_tick >= std::chrono::milliseconds(20) || !batch.empty()) {
      last_tick = now;
      Tick();
    }
    for (uint64_t id : reap) conns.erase(id);
    reap.clear();
  }
}

// A short 503 to a connection over max_connections, written without waiting. (On a TLS
// port the connection is just closed: the client could not read a plain answer.)
void HttpServer::Impl::Refuse(int fd) {
  if (tls) {
    ::close(fd);
    return;
  }
  const std::string msg = fmt::format(
      "HTTP/1.1 503 Service Unavailable\r\nRetry-After: {}\r\nContent-Type: text/plain\r\nContent-Length: 45\r\n"
      "Connection: close\r\n\r\ntoo many connections: retry in a few seconds\n",
      opt.retry_after_s);
  [[maybe_unused]] auto n = ::send(fd, msg.data(), msg.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::shutdown(fd, SHUT_WR);
  char buf[4096];
  while (::recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
  }
  ::close(fd);
}

void HttpServer::Impl::Accept() {
  for (;;) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    const int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE) spdlog::warn("http: out of file descriptors: {} connections open", conns.size());
      return;
    }
    if (conns.size() - reap.size() >= opt.max_connections || stop) {
      Count(internal::kMaxConnections);
      Refuse(fd);
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto c = std::make_unique<Conn>();
    c->id = next_id++;
    c->t = tls ? internal::TlsTransport(fd, *tls) : internal::TcpTransport(fd);
    char host[NI_MAXHOST] = "", serv[NI_MAXSERV] = "";
    if (getnameinfo(reinterpret_cast<sockaddr*>(&ss), len, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
      c->remote_addr = host;
      c->remote_port = std::atoi(serv);
    }
    // A TLS handshake must end within header_timeout; then the idle timeout starts.
    c->tls_pending = tls != nullptr;
    c->deadline = Clock::now() + (tls ? opt.header_timeout : opt.idle_timeout);
    c->events = EPOLLIN | EPOLLRDHUP;
    epoll_event ev{};
    ev.events = c->events;
    ev.data.u64 = c->id;
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
    if (accepted) accepted->Inc();
    if (open_gauge) open_gauge->Add(1);
    conns.emplace(c->id, std::move(c));
  }
}

void HttpServer::Impl::Close(Conn& c) {
  if (c.dead) return;
  c.dead = true;
  epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c.t->fd(), nullptr);
  if (open_gauge) open_gauge->Add(-1);
  reap.push_back(c.id);
}

void HttpServer::Impl::UpdateEvents(Conn& c) {
  if (c.dead) return;
  uint32_t want = 0;
  const bool reading = c.phase == Phase::kHead || c.phase == Phase::kBody || c.phase == Phase::kLinger;
  if (reading) want = EPOLLIN | EPOLLRDHUP;
  else if (c.phase == Phase::kStreaming) want = EPOLLRDHUP;
  if (c.pending_out()) want |= EPOLLOUT;
  if (reading && c.t->read_wants_write()) want |= EPOLLOUT;       // TLS: a handshake message to send
  if (c.pending_out() && c.t->write_wants_read()) want |= EPOLLIN;  // TLS: one to receive first
  if (want == c.events) return;
  c.events = want;
  epoll_event ev{};
  ev.events = want;
  ev.data.u64 = c.id;
  epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c.t->fd(), &ev);
}

void HttpServer::Impl::OnEvent(Conn& c, uint32_t ev) {
  if (ev & (EPOLLERR | EPOLLHUP)) return Close(c);
  const bool write_waited = c.t->write_wants_read(), read_waited = c.t->read_wants_write();
  if ((ev & EPOLLOUT) || ((ev & EPOLLIN) && write_waited)) Flush(c);
  if (c.dead) return;
  if (c.phase == Phase::kStreaming) {
    if ((ev & EPOLLRDHUP) || ((ev & EPOLLIN) && !write_waited)) Close(c);  // the client went away
    return;
  }
  if ((ev & (EPOLLIN | EPOLLRDHUP)) || ((ev & EPOLLOUT) && read_waited)) ReadInput(c);
}

void HttpServer::Impl::ReadInput(Conn& c) {
  char buf[kReadChunk];
  // A bounded number of reads per turn, so one fast client does not starve the others.
  for (int i = 0; i < 16 && !c.dead; ++i) {
    if (c.phase != Phase::kHead && c.phase != Phase::kBody && c.phase != Phase::kLinger) break;
    const long n = c.t->Read(buf, sizeof buf);
    if (n == 0) return Close(c);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
      if (c.tls_pending) {
        Count(internal::kTlsHandshake);
        spdlog::debug("http: {}:{}: TLS handshake failed: {}", c.remote_addr, c.remote_port, c.t->failure());
      }
      return Close(c);
    }
    if (!AfterRead(c)) return;
    if (c.phase == Phase::kLinger) continue;
    c.in.append(buf, static_cast<size_t>(n));
    Process(c);
  }
  if (!c.dead) AfterRead(c);
  UpdateEvents(c);
}

// TLS: the end of the handshake starts the idle timeout; plain HTTP on the TLS port gets a
// 400 it can read (the transport now passes bytes as they are). False when `c` is done for.
bool HttpServer::Impl::AfterRead(Conn& c) {
  if (!c.tls_pending) return true;
  if (c.t->plaintext_on_tls()) {
    c.tls_pending = false;
    Reject(c, 400, internal::kBadRequest, "this port speaks HTTPS (TLS): use an https:// URL");
    return false;
  }
  if (c.t->handshaking()) return true;
  c.tls_pending = false;
  c.deadline = Clock::now() + opt.idle_timeout;
  return true;
}

void HttpServer::Impl::Process(Conn& c) {
  if (c.phase == Phase::kHead && !ProcessHead(c)) return;
  if (c.phase == Phase::kBody) ProcessBody(c);
}

// True when the head is complete and a body follows.
bool HttpServer::Impl::ProcessHead(Conn& c) {
  if (!c.head_started) {
    const size_t skip = c.in.find_first_not_of("\r\n");  // stray CRLFs between requests
    c.in.erase(0, skip == std::string::npos ? c.in.size() : skip);
    if (c.in.empty()) return false;
    c.head_started = true;
    c.deadline = Clock::now() + opt.header_timeout;
  }
  const size_t end = c.in.find("\r\n\r\n");
  if (end == std::string::npos || end + 4 > opt.max_header_bytes) {
    if (c.in.size() > opt.max_header_bytes)
      Reject(c, 431, internal::kHeaderTooLarge, fmt::format("the request head is larger than {} bytes", opt.max_header_bytes));
    return false;
  }
  c.req = httplib::Request();
  c.req.remote_addr = c.remote_addr;
  c.req.remote_port = c.remote_port;
  c.head = ParseHead(std::string_view(c.in).substr(0, end + 2), c.req);
  c.in.erase(0, end + 4);
  if (!c.head.ok()) {
    Reject(c, c.head.status, internal::kBadRequest, c.head.error);
    return false;
  }
  if (c.head.body == BodyKind::kLength && c.head.content_length > opt.max_body_bytes) {
    Reject(c, 413, internal::kBodyTooLarge, fmt::format("the body is larger than {} bytes", opt.max_body_bytes));
    return false;
  }
  if (c.head.body == BodyKind::kNone) {
    Dispatch(c);
    return false;
  }
  if (c.head.expect_continue) Append(c, "HTTP/1.1 100 Continue\r\n\r\n");
  const uint64_t expected = c.head.body == BodyKind::kLength ? c.head.content_length : opt.max_body_bytes;
  c.phase = Phase::kBody;
  c.deadline = Clock::now() + opt.body_timeout + std::chrono::seconds(expected / opt.body_min_rate);
  if (c.head.body == BodyKind::kChunked) c.chunked.emplace(opt.max_body_bytes, opt.max_header_bytes);
  if (c.head.expect_continue) Flush(c);
  return !c.dead;
}

void HttpServer::Impl::ProcessBody(Conn& c) {
  if (c.head.body == BodyKind::kLength) {
    const size_t take = std::min<size_t>(c.head.content_length - c.req.body.size(), c.in.size());
    c.req.body.append(c.in, 0, take);  // grows with what arrives, never reserved from the header
    c.in.erase(0, take);
    if (c.req.body.size() == c.head.content_length) Dispatch(c);
    return;
  }
  switch (c.chunked->Feed(c.in, c.req.body)) {
    case ChunkedDecoder::State::kNeedMore:
      return;
    case ChunkedDecoder::State::kDone:
      c.chunked.reset();
      return Dispatch(c);
    case ChunkedDecoder::State::kError:
      const int status = c.chunked->status();
      return Reject(c, status, status == 413 ? internal::kBodyTooLarge : internal::kBadRequest, c.chunked->error());
  }
}

void HttpServer::Impl::Dispatch(Conn& c) {
  c.phase = Phase::kBusy;
  const bool keep = c.head.keep_alive && !stop;
  const uint64_t id = c.id;
  auto job = [this, id, keep, req = std::move(c.req)]() mutable { Serve(id, std::move(req), keep); };
  c.req = httplib::Request();
  if (!pool.Push(std::move(job), true, opt.max_queued))
    return Reject(c, 503, internal::kQueueFull, "the server is busy: retry in a few seconds");
  if (requests) requests->Inc();
  UpdateEvents(c);
}

void HttpServer::Impl::Reject(Conn& c, int status, int reason, const std::string& why) {
  Count(reason);
  spdlog::debug("http: {}:{}: {} {} ({})", c.remote_addr, c.remote_port, status, why, internal::RejectName(reason));
  httplib::Response res;
  res.status = status;
  res.reason = why;  // the error handler may put it in its document
  if (status == 503) res.set_header("Retry-After", std::to_string(opt.retry_after_s));
  if (error_handler) {
    try {
      error_handler(c.req, res);
    } catch (const std::exception& e) {
      spdlog::warn("http: the error handler failed: {}", e.what());
    }
  }
  if (res.body.empty()) res.set_content(why + "\n", "text/plain; charset=utf-8");
  Append(c, internal::ResponseHead(res, false, false, res.body.size()) + res.body);
  c.phase = Phase::kClosing;
  c.stream.reset();
  Flush(c);
}

void HttpServer::Impl::Append(Conn& c, const std::string& data) {
  if (data.empty()) return;
  if (!c.pending_out()) c.write_deadline = Clock::now() + opt.write_timeout;
  c.out += data;
}

void HttpServer::Impl::Flush(Conn& c) {
  if (c.dead) return;
  while (c.pending_out()) {
    const long n = c.t->Write(c.out.data() + c.out_off, c.out.size() - c.out_off);
    if (n > 0) {
      c.out_off += static_cast<size_t>(n);
      c.write_deadline = Clock::now() + opt.write_timeout;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      break;
    } else {
      return Close(c);
    }
  }
  if (!c.pending_out()) {
    c.out.clear();
    c.out_off = 0;
    if (c.phase == Phase::kClosing) {
      c.t->ShutdownWrite();
      c.phase = Phase::kLinger;
      c.deadline = Clock::now() + kLinger;
    } else if (c.phase == Phase::kStreaming && c.stream && !c.stream->busy && c.stream->next_pump <= Clock::now()) {
      StartPump(c);
    }
  }
  UpdateEvents(c);
}

void HttpServer::Impl::StartPump(Conn& c) {
  internal::StreamState& s = *c.stream;
  s.busy = true;
  pool.Push([this, id = c.id, res = s.res, off = s.offset, ch = s.chunked] { Pump(id, res, off, ch); }, false, 0);
}

void HttpServer::Impl::ResumeReading(Conn& c) {
  c.phase = Phase::kHead;
  c.head_started = false;
  c.head = HeadResult();
  c.deadline = Clock::now() + opt.idle_timeout;
  if (!c.in.empty()) Process(c);  // a pipelined request already read
  if (!c.dead && c.t->buffered()) ReadInput(c);  // TLS: decrypted bytes the socket no longer signals
}

void HttpServer::Impl::Complete(Completion& done) {
  auto it = conns.find(done.conn);
  if (it == conns.end() || it->second->dead) return;  // closed meanwhile; a stream's releaser runs as it is dropped
  Conn& c = *it->second;
  Append(c, done.out);
  if (done.pump) {
    if (!c.stream) return Flush(c);
    c.stream->busy = false;
    c.stream->offset += done.bytes;
    const bool idle = done.bytes == 0 && !done.stream_end && !c.stream->notified;
    c.stream->notified = false;
    c.stream->next_pump = Clock::now() + (idle ? opt.stream_poll : Clock::duration(0));
    if (done.stream_end) {
      const bool keep = c.stream->keep_alive && !done.stream_failed && !stop;
      c.stream.reset();
      if (keep) ResumeReading(c);
      else c.phase = Phase::kClosing;
    }
    return Flush(c);
  }
  if (done.stream) {
    c.phase = Phase::kStreaming;
    c.stream.emplace();
    c.stream->res = std::move(done.stream);
    c.stream->chunked = done.chunked;
    c.stream->keep_alive = done.keep_alive;
    c.stream->next_pump = Clock::now();
  } else if (!done.keep_alive || stop) {
    c.phase = Phase::kClosing;
  } else {
    ResumeReading(c);
  }
  Flush(c);
}

void HttpServer::Impl::Tick() {
  const auto now = Clock::now();
  for (auto& [id, p] : conns) {
    Conn& c = *p;
    if (c.dead) continue;
    if (c.pending_out() && now > c.write_deadline) {
      Count(internal::kWriteTimeout);
      Close(c);
      continue;
    }
    switch (c.phase) {
      case Phase::kHead:
        if (now <= c.deadline) break;
        if (c.tls_pending) {  // the TLS handshake took longer than header_timeout: dropped like a slow head
          Count(internal::kHeaderTimeout);
          Close(c);
        } else if (c.head_started) {
          Reject(c, 408, internal::kHeaderTimeout,
                 fmt::format("the request head took longer than {} ms", opt.header_timeout.count()));
        } else {
          Close(c);  // an idle keep-alive connection
        }
        break;
      case Phase::kBody:
        if (now > c.deadline) Reject(c, 408, internal::kBodyTimeout, "the request body came too slowly");
        break;
      case Phase::kLinger:
        if (now > c.deadline) Close(c);
        break;
      case Phase::kStreaming:
        if (c.stream && !c.stream->busy && !c.pending_out() && now >= c.stream->next_pump) StartPump(c);
        break;
      default:
        break;
    }
  }
}

}  // namespace orderlake::http
