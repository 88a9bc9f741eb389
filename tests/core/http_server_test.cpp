// HttpServer over loopback with raw sockets: routing, keep-alive, chunked bodies, 100-continue,
// and every limit (slow and idle clients hold no worker, head/body deadlines, sizes,
// connection cap, queue cap), streaming responses without a thread each, metrics.
#include "core/http_server.h"

#include "core/metrics_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace orderlake::http {
namespace {
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class Conn {
 public:
  explicit Conn(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Conn() { ::close(fd_); }
  bool connected() const { return connected_; }
  void Send(const std::string& s) { [[maybe_unused]] auto n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL); }
  // Reads until `pred(buffer)` or the peer closes or the timeout; returns what came.
  std::string ReadUntil(const std::function<bool(const std::string&)>& pred, std::chrono::milliseconds timeout = 3s) {
    const auto end = Clock::now() + timeout;
    while (!pred(buf_) && Clock::now() < end) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      char tmp[4096];
      const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      buf_.append(tmp, static_cast<size_t>(n));
    }
    return buf_;
  }
  // One whole response (Content-Length framed); removed from the buffer.
  std::string Response(std::chrono::milliseconds timeout = 3s) {
    auto complete = [](const std::string& b) {
      const size_t h = b.find("\r\n\r\n");
      if (h == std::string::npos) return false;
      const size_t cl = b.find("Content-Length: ");
      const size_t len = cl == std::string::npos || cl > h ? 0 : std::stoul(b.substr(cl + 16));
      return b.size() >= h + 4 + len;
    };
    ReadUntil(complete, timeout);
    if (!complete(buf_)) return std::exchange(buf_, "");
    const size_t h = buf_.find("\r\n\r\n");
    const size_t cl = buf_.find("Content-Length: ");
    const size_t len = cl == std::string::npos || cl > h ? 0 : std::stoul(buf_.substr(cl + 16));
    std::string r = buf_.substr(0, h + 4 + len);
    buf_.erase(0, h + 4 + len);
    return r;
  }
  bool WaitClosed(std::chrono::milliseconds timeout) {
    ReadUntil([](const std::string&) { return false; }, timeout);
    return closed_;
  }

 private:
  int fd_ = -1;
  bool connected_ = false, closed_ = false;
  std::string buf_;
};

int Status(const std::string& response) { return response.size() > 12 ? std::stoi(response.substr(9, 3)) : 0; }
std::string Body(const std::string& response) {
  const size_t h = response.find("\r\n\r\n");
  return h == std::string::npos ? "" : response.substr(h + 4);
}

class HttpServerTest : public ::testing::Test {
 protected:
  void Serve(ServerOptions o = {}) {
    server_ = std::make_unique<HttpServer>(o);
    server_->Get("/hello", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content("hi " + req.get_param_value("name"), "text/plain");
    });
    server_->Get(R"(/items/(\d+))", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content("item " + req.matches[1].str(), "text/plain");
    });
    server_->Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.body, "application/octet-stream");
    });
    server_->Get("/slow", [this](const httplib::Request&, httplib::Response& res) {
      while (!release_) std::this_thread::sleep_for(5ms);
      res.set_content("done", "text/plain");
    });
    server_->RegisterMetrics(registry_);
    auto p = server_->Bind("127.0.0.1", 0);
    ASSERT_TRUE(p.ok()) << p.status().message();
    port_ = *p;
    server_->Start();
  }
  void TearDown() override {
    release_ = true;
    if (server_) server_->Stop();
  }
  double Rejected(const std::string& reason) {
    const std::string text = registry_.Text();
    const std::string key = "orderlake_http_connections_rejected_total{reason=\"" + reason + "\"} ";
    const size_t at = text.find(key);
    return at == std::string::npos ? -1 : std::stod(text.substr(at + key.size()));
  }
  // GET /hello on a fresh connection answers within `within`.
  void ExpectHealthy(std::chrono::milliseconds within = 1000ms) {
    Conn c(port_);
    ASSERT_TRUE(c.connected());
    const auto t0 = Clock::now();
    c.Send("GET /hello?name=x HTTP/1.1\r\nHost: h\r\n\r\n");
    const std::string r = c.Response(within);
    EXPECT_EQ(Status(r), 200) << r;
    EXPECT_LT(Clock::now() - t0, within);
  }
  metrics::Registry registry_;
  std::unique_ptr<HttpServer> server_;
  std::atomic<bool> release_{false};
  int port_ = 0;
};

TEST_F(HttpServerTest, RoutesQueryMatchesKeepAliveAndPipelining) {
  Serve();
  Conn c(port_);
  c.Send("GET /hello?name=ann HTTP/1.1\r\nHost: h\r\n\r\n");
  std::string r = c.Response();
  EXPECT_EQ(Status(r), 200);
  EXPECT_EQ(Body(r), "hi ann");
  EXPECT_NE(r.find("Connection: keep-alive"), std::string::npos);
  // Two pipelined requests on the same connection, answered in order.
  c.Send("GET /items/42 HTTP/1.1\r\n\r\nGET /nothing HTTP/1.1\r\n\r\n");
  EXPECT_EQ(Body(c.Response()), "item 42");
  EXPECT_EQ(Status(c.Response()), 404);
  c.Send("HEAD /hello HTTP/1.1\r\n\r\n");
  r = c.ReadUntil([](const std::string& b) { return b.find("\r\n\r\n") != std::string::npos; });
  EXPECT_EQ(Status(r), 200);
  EXPECT_NE(r.find("Content-Length: 3"), std::string::npos);
  EXPECT_EQ(Body(r), "");
}

TEST_F(HttpServerTest, BodiesByLengthChunkedAndExpectContinue) {
  Serve();
  Conn c(port_);
  c.Send("POST /echo HTTP/1.1\r\nContent-Length: 5\r\n\r\nab");
  std::this_thread::sleep_for(50ms);
  c.Send("cde");
  EXPECT_EQ(Body(c.Response()), "abcde");
  c.Send("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n2\r\n12\r\n0\r\n\r\n");
  EXPECT_EQ(Body(c.Response()), "xyz12");
  c.Send("POST /echo HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(c.ReadUntil([](const std::string& b) { return b.size() >= 25; }), "HTTP/1.1 100 Continue\r\n\r\n");
  c.Response();  // the 100 Continue
  c.Send("body");
  EXPECT_EQ(Body(c.Response()), "body");
}

TEST_F(HttpServerTest, TwoContentLengthsAre400AndClose) {
  Serve();
  Conn c(port_);
  c.Send("POST /echo HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc");
  const std::string r = c.Response();
  EXPECT_EQ(Status(r), 400) << r;
  EXPECT_NE(r.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(c.WaitClosed(3s));
  EXPECT_EQ(Rejected("bad_request"), 1);
}

TEST_F(HttpServerTest, SizeLimits) {
  ServerOptions o;
  o.max_header_bytes = 2048;
  o.max_body_bytes = 100;
  Serve(o);
  Conn big_head(port_);
  big_head.Send("GET /hello HTTP/1.1\r\nX: " + std::string(4000, 'a') + "\r\n\r\n");
  EXPECT_EQ(Status(big_head.Response()), 431);
  Conn big_body(port_);
  big_body.Send("POST /echo HTTP/1.1\r\nContent-Length: 1000000000\r\n\r\n");  // refused before the body
  EXPECT_EQ(Status(big_body.Response()), 413);
  Conn big_chunks(port_);
  big_chunks.Send("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n50\r\n" + std::string(80, 'a') +
                  "\r\n50\r\n");
  EXPECT_EQ(Status(big_chunks.Response()), 413);
  EXPECT_EQ(Rejected("header_too_large"), 1);
  EXPECT_EQ(Rejected("body_too_large"), 2);
}

TEST_F(HttpServerTest, HeadDeadlineIsTotalNotPerRead) {
  ServerOptions o;
  o.header_timeout = 400ms;
  Serve(o);
  Conn c(port_);
  const auto t0 = Clock::now();
  c.Send("GET /hello HTTP/1.1\r\n");
  // A byte every 100 ms would keep a per-read timeout happy forever.
  std::string r;
  for (int i = 0; i < 20 && Status(r) == 0; ++i) {
    c.Send("X");
    r = c.ReadUntil([](const std::string& b) { return b.find("\r\n\r\n") != std::string::npos; }, 100ms);
  }
  EXPECT_EQ(Status(r), 408) << r;
  EXPECT_LT(Clock::now() - t0, 1500ms);
  EXPECT_EQ(Rejected("header_timeout"), 1);
}

TEST_F(HttpServerTest, BodyDeadline) {
  ServerOptions o;
  o.body_timeout = 300ms;
  Serve(o);
  Conn c(port_);
  c.Send("POST /echo HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
  EXPECT_EQ(Status(c.Response(2s)), 408);
  EXPECT_EQ(Rejected("body_timeout"), 1);
}

TEST_F(HttpServerTest, SlowAndIdleClientsHoldNoWorker) {
  ServerOptions o;
  o.workers = 2;
  Serve(o);
  std::vector<std::unique_ptr<Conn>> slow;
  for (int i = 0; i < 30; ++i) {
    slow.push_back(std::make_unique<Conn>(port_));
    if (i % 3 == 0) slow.back()->Send("POST /echo HTTP/1.1\r\nContent-Length: 1000000\r\n\r\n0123456789");
    else if (i % 3 == 1) slow.back()->Send("GET /hello HTTP/1.1\r\n");
    else slow.back()->Send("GET /hello HTTP/1.1\r\n\r\n");  // then idles on keep-alive
  }
  for (int i = 0; i < 5; ++i) ExpectHealthy(1000ms);
}

TEST_F(HttpServerTest, IdleKeepAliveIsClosedSilently) {
  ServerOptions o;
  o.idle_timeout = 200ms;
  Serve(o);
  Conn c(port_);
  c.Send("GET /hello HTTP/1.1\r\n\r\n");
  EXPECT_EQ(Status(c.Response()), 200);
  EXPECT_TRUE(c.WaitClosed(2s));
}

TEST_F(HttpServerTest, ConnectionCapAnswers503WithRetryAfter) {
  ServerOptions o;
  o.max_connections = 4;
  Serve(o);
  std::vector<std::unique_ptr<Conn>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<Conn>(port_));
    held.back()->Send("GET /hello HTTP/1.1\r\n\r\n");
    EXPECT_EQ(Status(held.back()->Response()), 200);
  }
  Conn extra(port_);
  const std::string r = extra.ReadUntil([](const std::string& b) { return b.find("\n\n") != std::string::npos; });
  EXPECT_EQ(Status(r), 503) << r;
  EXPECT_NE(r.find("Retry-After: 1"), std::string::npos);
  EXPECT_EQ(Rejected("max_connections"), 1);
  held.clear();
  std::this_thread::sleep_for(100ms);
  ExpectHealthy();
}

TEST_F(HttpServerTest, QueueCapAnswers503) {
  ServerOptions o;
  o.workers = 1;
  o.max_queued = 1;
  Serve(o);
  Conn busy(port_), queued(port_), refused(port_);
  busy.Send("GET /slow HTTP/1.1\r\n\r\n");
  std::this_thread::sleep_for(100ms);
  queued.Send("GET /slow HTTP/1.1\r\n\r\n");
  std::this_thread::sleep_for(100ms);
  refused.Send("GET /hello HTTP/1.1\r\n\r\n");
  const std::string r = refused.Response();
  EXPECT_EQ(Status(r), 503) << r;
  EXPECT_NE(r.find("Retry-After"), std::string::npos);
  release_ = true;
  EXPECT_EQ(Status(busy.Response()), 200);
  EXPECT_EQ(Status(queued.Response()), 200);
  EXPECT_EQ(Rejected("queue_full"), 1);
}

TEST_F(HttpServerTest, ErrorHandlerAndPreRouting) {
  server_ = std::make_unique<HttpServer>();
  server_->set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("X-Block").empty()) return false;
    res.status = 401;
    return true;
  });
  server_->set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) res.set_content("error " + std::to_string(res.status) + ": " + res.reason, "text/plain");
  });
  server_->Get("/x", [](const httplib::Request&, httplib::Response& res) { res.set_content("x", "text/plain"); });
  auto p = server_->Bind("127.0.0.1", 0);
  ASSERT_TRUE(p.ok());
  server_->Start();
  Conn c(*p);
  c.Send("GET /x HTTP/1.1\r\nX-Block: 1\r\n\r\nGET /y HTTP/1.1\r\n\r\n");
  EXPECT_EQ(Body(c.Response()), "error 401: ");
  EXPECT_EQ(Body(c.Response()), "error 404: ");
  Conn d(*p);
  d.Send("GET /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n");
  EXPECT_EQ(Body(d.Response()), "error 400: two Content-Length headers: send one");
}

TEST(HttpServerStreaming, ManyIdleStreamsShareTwoWorkers) {
  ServerOptions o;
  o.workers = 2;
  o.stream_poll = 50ms;
  HttpServer server(o);
  std::atomic<int> version{0}, released{0};
  server.Get("/events", [&](const httplib::Request&, httplib::Response& res) {
    auto seen = std::make_shared<int>(-1);
    res.set_chunked_content_provider(
        "text/event-stream",
        [&, seen](size_t, httplib::DataSink& sink) {
          const int v = version.load();
          if (v == *seen) return true;  // nothing new: asked again later
          *seen = v;
          const std::string msg = "data: " + std::to_string(v) + "\n\n";
          return sink.write(msg.data(), msg.size());
        },
        [&](bool) { released++; });
  });
  server.Get("/hello", [](const httplib::Request&, httplib::Response& res) { res.set_content("hi", "text/plain"); });
  auto p = server.Bind("127.0.0.1", 0);
  ASSERT_TRUE(p.ok());
  server.Start();
  std::vector<std::unique_ptr<Conn>> streams;
  for (int i = 0; i < 20; ++i) {
    streams.push_back(std::make_unique<Conn>(*p));
    streams.back()->Send("GET /events HTTP/1.1\r\n\r\n");
  }
  for (auto& s : streams)
    EXPECT_NE(s->ReadUntil([](const std::string& b) { return b.find("data: 0") != std::string::npos; }).find("data: 0"),
              std::string::npos);
  Conn c(*p);
  c.Send("GET /hello HTTP/1.1\r\n\r\n");
  EXPECT_EQ(Status(c.Response(1s)), 200);
  version = 7;
  server.NotifyStreams();
  for (auto& s : streams) {
    const std::string got = s->ReadUntil([](const std::string& b) { return b.find("data: 7") != std::string::npos; });
    EXPECT_NE(got.find("Transfer-Encoding: chunked"), std::string::npos);
    EXPECT_NE(got.find("9\r\ndata: 7\n\n\r\n"), std::string::npos) << got;
  }
  streams.resize(5);  // 15 browsers go away: their streams are released
  for (int i = 0; i < 100 && released < 15; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_GE(released.load(), 15);
  server.Stop();
  EXPECT_EQ(released.load(), 20);
}

// A sized provider (set_content_provider(length, ...)): pumped in pieces with its
// Content-Length and no chunk framing, the connection kept alive after it; a HEAD gets the
// length and the provider is never asked (the S3 API's GetObject and HeadObject).
TEST(HttpServerStreaming, SizedProviderSendsContentLengthAndHeadNeverAsks) {
  HttpServer server;
  std::atomic<int> asked{0};
  const size_t total = 3 * 100000 + 7;
  server.Get("/file", [&asked, total](const httplib::Request&, httplib::Response& res) {
    res.set_content_provider(total, "application/octet-stream",
                             [&asked, total](size_t offset, size_t length, httplib::DataSink& sink) {
                               ++asked;
                               EXPECT_EQ(length, total - offset);
                               const std::string piece(std::min<size_t>(100000, total - offset), 'z');
                               sink.write(piece.data(), piece.size());
                               return true;  // never calls done(): the length ends it
                             });
  });
  server.Get("/hello", [](const httplib::Request&, httplib::Response& res) { res.set_content("hi", "text/plain"); });
  auto p = server.Bind("127.0.0.1", 0);
  ASSERT_TRUE(p.ok()) << p.status().message();
  server.Start();
  Conn c(*p);
  ASSERT_TRUE(c.connected());
  c.Send("HEAD /file HTTP/1.1\r\nHost: h\r\n\r\n");
  const std::string head = c.ReadUntil([](const std::string& b) { return b.find("\r\n\r\n") != std::string::npos; });
  EXPECT_NE(head.find("Content-Length: " + std::to_string(total) + "\r\n"), std::string::npos) << head;
  EXPECT_EQ(asked.load(), 0);
  Conn g(*p);
  g.Send("GET /file HTTP/1.1\r\nHost: h\r\n\r\nGET /hello HTTP/1.1\r\nHost: h\r\n\r\n");
  const std::string r = g.Response(5s);
  EXPECT_EQ(Status(r), 200);
  EXPECT_EQ(r.find("Transfer-Encoding"), std::string::npos);
  EXPECT_EQ(Body(r), std::string(total, 'z'));
  EXPECT_EQ(asked.load(), 4);
  EXPECT_EQ(Body(g.Response()), "hi");  // kept alive after the sized stream
  server.Stop();
}

TEST(MetricsServerOnHttpServer, SlowClientsDoNotDelayAScrape) {
  metrics::Registry r;
  r.counter("orderlake_x_total", "x").Inc(3);
  auto m = MetricsServer::Start("127.0.0.1:0", r, [] { return HealthReport::Failing("the last run failed"); });
  ASSERT_TRUE(m.ok()) << m.status().message();
  // Before, one thread read each connection in turn with a 2 s timeout: 5 silent clients
  // delayed a scrape by 10 s.
  std::vector<std::unique_ptr<Conn>> silent;
  for (int i = 0; i < 5; ++i) silent.push_back(std::make_unique<Conn>((*m)->port()));
  Conn c((*m)->port());
  const auto t0 = Clock::now();
  c.Send("GET /metrics HTTP/1.1\r\n\r\n");
  std::string resp = c.Response(1s);
  EXPECT_EQ(Status(resp), 200);
  EXPECT_NE(Body(resp).find("orderlake_x_total 3"), std::string::npos);
  EXPECT_LT(Clock::now() - t0, 1s);
  c.Send("GET /health HTTP/1.1\r\n\r\n");
  resp = c.Response(1s);
  EXPECT_EQ(Status(resp), 503);
  EXPECT_EQ(Body(resp), "the last run failed\n");
  c.Send("GET /other HTTP/1.1\r\n\r\n");
  resp = c.Response(1s);
  EXPECT_EQ(Status(resp), 404);
  EXPECT_EQ(Body(resp), "not found: try /metrics or /health\n");
}

}  // namespace
}  // namespace orderlake::http
