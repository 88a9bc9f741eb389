// HttpServer over TLS (core/tls.h) on loopback, with a self-signed certificate made at test
// time and a raw OpenSSL client that verifies it: GET/POST, keep-alive, ALPN, big bodies
// both ways, 413, a stalled handshake dropped at the header timeout while another client is
// served, a failed handshake counted, plain HTTP on the TLS port answered 400, and the
// certificate/key errors at start.
#include "core/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "core/metrics.h"

namespace orderlake::http {
namespace {
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

// A self-signed P-256 certificate for 127.0.0.1/localhost: writes cert.pem and key.pem in `dir`.
void MakeCertificate(const fs::path& dir, const std::string& cn = "localhost") {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  ASSERT_NE(key, nullptr);
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
  X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
  X509_add_ext(x, san, -1);
  X509_EXTENSION_free(san);
  ASSERT_GT(X509_sign(x, key, EVP_sha256()), 0);
  FILE* f = std::fopen((dir / "cert.pem").c_str(), "w");
  PEM_write_X509(f, x);
  std::fclose(f);
  f = std::fopen((dir / "key.pem").c_str(), "w");
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  X509_free(x);
  EVP_PKEY_free(key);
}

int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

// A blocking TLS client that verifies the server against `ca` (the self-signed certificate).
class TlsClient {
 public:
  TlsClient(int port, const fs::path& ca) : ctx_(SSL_CTX_new(TLS_client_method())) {
    SSL_CTX_load_verify_locations(ctx_, ca.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    fd_ = Connect(port);
    if (fd_ < 0) return;
    ssl_ = SSL_new(ctx_);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), "127.0.0.1");
    static const unsigned char kAlpn[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    SSL_set_alpn_protos(ssl_, kAlpn, sizeof kAlpn);
    SSL_set_fd(ssl_, fd_);
    ok_ = SSL_connect(ssl_) == 1;
  }
  ~TlsClient() {
    if (ssl_) SSL_free(ssl_);
    if (fd_ >= 0) ::close(fd_);
    SSL_CTX_free(ctx_);
  }
  bool ok() const { return ok_; }
  std::string alpn() const {
    const unsigned char* p = nullptr;
    unsigned int n = 0;
    SSL_get0_alpn_selected(ssl_, &p, &n);
    return std::string(reinterpret_cast<const char*>(p), n);
  }
  bool Send(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      const int n = SSL_write(ssl_, s.data() + off, static_cast<int>(s.size() - off));
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  // One whole Content-Length-framed response, or what came before the peer closed.
  std::string Response() {
    for (;;) {
      const size_t h = buf_.find("\r\n\r\n");
      if (h != std::string::npos) {
        const size_t cl = buf_.find("Content-Length: ");
        const size_t len = cl == std::string::npos || cl > h ? 0 : std::stoul(buf_.substr(cl + 16));
        if (buf_.size() >= h + 4 + len) {
          std::string r = buf_.substr(0, h + 4 + len);
          buf_.erase(0, h + 4 + len);
          return r;
        }
      }
      char tmp[16384];
      const int n = SSL_read(ssl_, tmp, sizeof tmp);
      if (n <= 0) {
        closed_ = true;
        return std::exchange(buf_, "");
      }
      buf_.append(tmp, static_cast<size_t>(n));
    }
  }
  // Reads until `needle` has arrived; returns (and drops) everything up to and including it.
  std::string ReadUntil(const std::string& needle) {
    size_t at;
    while ((at = buf_.find(needle)) == std::string::npos) {
      char tmp[16384];
      const int n = SSL_read(ssl_, tmp, sizeof tmp);
      if (n <= 0) return std::exchange(buf_, "");
      buf_.append(tmp, static_cast<size_t>(n));
    }
    std::string r = buf_.substr(0, at + needle.size());
    buf_.erase(0, at + needle.size());
    return r;
  }
  // True when the server ended the connection with close_notify (a clean TLS close).
  bool ClosedCleanly() {
    char tmp[256];
    const int n = SSL_read(ssl_, tmp, sizeof tmp);
    return n == 0 && SSL_get_error(ssl_, n) == SSL_ERROR_ZERO_RETURN;
  }

 private:
  SSL_CTX* ctx_;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  bool ok_ = false, closed_ = false;
  std::string buf_;
};

int StatusOf(const std::string& r) { return r.size() > 12 ? std::stoi(r.substr(9, 3)) : 0; }
std::string BodyOf(const std::string& r) {
  const size_t h = r.find("\r\n\r\n");
  return h == std::string::npos ? "" : r.substr(h + 4);
}

// Waits until the server closes a raw (non-TLS-speaking) socket; false at the timeout.
bool WaitClosed(int fd, std::chrono::milliseconds timeout, std::string* got = nullptr) {
  const auto end = Clock::now() + timeout;
  while (Clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    char tmp[4096];
    const ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) return true;
    if (got) got->append(tmp, static_cast<size_t>(n));
  }
  return false;
}

class HttpTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("orderlake_tls_" + std::to_string(::getpid()) + "_" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    MakeCertificate(dir_);
  }
  void TearDown() override {
    if (server_) server_->Stop();
    fs::remove_all(dir_);
  }
  ServerOptions Tls(ServerOptions o = {}) {
    o.tls.cert_file = (dir_ / "cert.pem").string();
    o.tls.key_file = (dir_ / "key.pem").string();
    return o;
  }
  void Serve(ServerOptions o) {
    server_ = std::make_unique<HttpServer>(o);
    server_->Get("/hello", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content("hi " + req.get_param_value("name"), "text/plain");
    });
    server_->Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(3 << 20, 'z'), "application/octet-stream");
    });
    server_->Post("/size", [](const httplib::Request& req, httplib::Response& res) {
      size_t sum = 0;
      for (unsigned char ch : req.body) sum += ch;
      res.set_content(std::to_string(req.body.size()) + " " + std::to_string(sum), "text/plain");
    });
    server_->Get("/events", [this](const httplib::Request&, httplib::Response& res) {
      auto seen = std::make_shared<int>(-1);
      res.set_chunked_content_provider("text/event-stream", [this, seen](size_t, httplib::DataSink& sink) {
        const int v = version_.load();
        if (v == *seen) return true;  // nothing new: asked again later
        *seen = v;
        if (v == 3) {
          sink.done();
          return true;
        }
        const std::string msg = "data: " + std::to_string(v) + "\n\n";
        return sink.write(msg.data(), msg.size());
      });
    });
    server_->RegisterMetrics(registry_);
    auto p = server_->Bind("127.0.0.1", 0);
    ASSERT_TRUE(p.ok()) << p.status().message();
    port_ = *p;
    server_->Start();
  }
  double Metric(const std::string& key) {
    const std::string text = registry_.Text();
    const size_t at = text.find("\n" + key + " ");
    return at == std::string::npos ? -1 : std::stod(text.substr(at + key.size() + 2));
  }
  double Rejected(const std::string& reason) {
    return Metric("orderlake_http_connections_rejected_total{reason=\"" + reason + "\"}");
  }
  fs::path ca() const { return dir_ / "cert.pem"; }

  fs::path dir_;
  std::atomic<int> version_{0};
  metrics::Registry registry_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
};

TEST_F(HttpTlsTest, GetPostAndKeepAliveOnOneVerifiedConnection) {
  Serve(Tls());
  EXPECT_STREQ(server_->scheme(), "https");
  TlsClient c(port_, ca());
  ASSERT_TRUE(c.ok()) << "handshake failed";
  EXPECT_EQ(c.alpn(), "http/1.1");  // offered h2 and http/1.1: the server picks HTTP/1.1
  ASSERT_TRUE(c.Send("GET /hello?name=ann HTTP/1.1\r\nHost: h\r\n\r\n"));
  std::string r = c.Response();
  EXPECT_EQ(StatusOf(r), 200) << r;
  EXPECT_EQ(BodyOf(r), "hi ann");
  EXPECT_NE(r.find("Connection: keep-alive"), std::string::npos);
  ASSERT_TRUE(c.Send("POST /size HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"));
  EXPECT_EQ(BodyOf(c.Response()), "3 294");
  // Two pipelined requests in one TLS record, answered in order, still one connection.
  ASSERT_TRUE(c.Send("GET /hello?name=a HTTP/1.1\r\n\r\nGET /nothing HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(BodyOf(c.Response()), "hi a");
  EXPECT_EQ(StatusOf(c.Response()), 404);
  ASSERT_TRUE(c.Send("GET /hello?name=b HTTP/1.1\r\nConnection: close\r\n\r\n"));
  r = c.Response();
  EXPECT_EQ(BodyOf(r), "hi b");
  EXPECT_NE(r.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(c.ClosedCleanly());  // close_notify
  EXPECT_EQ(Metric("orderlake_http_connections_accepted_total"), 1);
  EXPECT_EQ(Metric("orderlake_http_requests_total"), 5);
}

TEST_F(HttpTlsTest, BigBodiesBothWaysAnd413) {
  ServerOptions o;
  o.max_body_bytes = 6 << 20;
  Serve(Tls(o));
  TlsClient c(port_, ca());
  ASSERT_TRUE(c.ok());
  std::string body(5 << 20, '\0');
  size_t sum = 0;
  for (size_t i = 0; i < body.size(); ++i) {
    body[i] = static_cast<char>('a' + i % 26);
    sum += static_cast<unsigned char>(body[i]);
  }
  ASSERT_TRUE(c.Send("POST /size HTTP/1.1\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body));
  EXPECT_EQ(BodyOf(c.Response()), std::to_string(body.size()) + " " + std::to_string(sum));
  ASSERT_TRUE(c.Send("GET /big HTTP/1.1\r\n\r\n"));
  const std::string big = c.Response();
  EXPECT_EQ(StatusOf(big), 200);
  EXPECT_EQ(BodyOf(big), std::string(3 << 20, 'z'));
  // Beyond max_body_bytes: 413 before the body is read, then a clean close.
  ASSERT_TRUE(c.Send("POST /size HTTP/1.1\r\nContent-Length: 100000000\r\n\r\n"));
  const std::string r = c.Response();
  EXPECT_EQ(StatusOf(r), 413) << r;
  EXPECT_NE(r.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(c.ClosedCleanly());
  EXPECT_EQ(Rejected("body_too_large"), 1);
}

TEST_F(HttpTlsTest, StreamingResponseThenKeepAlive) {
  ServerOptions o;
  o.stream_poll = 10s;  // only NotifyStreams moves the stream on
  Serve(Tls(o));
  TlsClient c(port_, ca());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c.Send("GET /events HTTP/1.1\r\n\r\n"));
  const std::string head = c.ReadUntil("data: 0\n\n");
  EXPECT_NE(head.find("Transfer-Encoding: chunked"), std::string::npos) << head;
  for (int v = 1; v <= 3; ++v) {
    version_ = v;
    server_->NotifyStreams();
    if (v < 3) {
      EXPECT_NE(c.ReadUntil("data: " + std::to_string(v) + "\n\n").find("data: "), std::string::npos);
    }
  }
  EXPECT_NE(c.ReadUntil("0\r\n\r\n").find("0\r\n\r\n"), std::string::npos);  // the last chunk
  ASSERT_TRUE(c.Send("GET /hello?name=after HTTP/1.1\r\n\r\n"));  // the connection is kept
  EXPECT_EQ(BodyOf(c.Response()), "hi after");
}

TEST_F(HttpTlsTest, StalledHandshakeIsDroppedAtTheHeaderTimeoutWhileOthersAreServed) {
  ServerOptions o;
  o.header_timeout = 400ms;
  o.idle_timeout = 5s;
  o.workers = 1;
  Serve(Tls(o));
  // One client sends half a ClientHello and stalls; another never sends a byte.
  const int half = Connect(port_), silent = Connect(port_);
  ASSERT_GE(half, 0);
  ASSERT_GE(silent, 0);
  const char partial[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01};
  ASSERT_EQ(::send(half, partial, sizeof partial, MSG_NOSIGNAL), static_cast<ssize_t>(sizeof partial));
  const auto t0 = Clock::now();
  {
    TlsClient c(port_, ca());  // served meanwhile by the only worker
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c.Send("GET /hello?name=x HTTP/1.1\r\n\r\n"));
    EXPECT_EQ(BodyOf(c.Response()), "hi x");
    EXPECT_LT(Clock::now() - t0, 300ms);
  }
  EXPECT_TRUE(WaitClosed(half, 3s));
  EXPECT_TRUE(WaitClosed(silent, 3s));
  const auto took = Clock::now() - t0;
  EXPECT_GE(took, 350ms);
  EXPECT_LT(took, 2s);
  EXPECT_EQ(Rejected("header_timeout"), 2);
  ::close(half);
  ::close(silent);
}

TEST_F(HttpTlsTest, SlowHeadIs408AndConnectionCapHoldsOverTls) {
  ServerOptions o;
  o.header_timeout = 300ms;
  o.max_connections = 1;
  Serve(Tls(o));
  {
    TlsClient slow(port_, ca());
    ASSERT_TRUE(slow.ok());
    // Over the cap: a second connection is closed without an answer (it could not read a plain 503).
    const int over = Connect(port_);
    ASSERT_GE(over, 0);
    std::string got;
    EXPECT_TRUE(WaitClosed(over, 3s, &got));
    EXPECT_EQ(got, "");
    ::close(over);
    EXPECT_EQ(Rejected("max_connections"), 1);
    // A head that stops half-way gets 408 at the header timeout, over TLS.
    const auto t0 = Clock::now();
    ASSERT_TRUE(slow.Send("GET /hello HTTP/1.1\r\nHost: h"));
    const std::string r = slow.Response();
    EXPECT_EQ(StatusOf(r), 408) << r;
    EXPECT_GE(Clock::now() - t0, 250ms);
    EXPECT_LT(Clock::now() - t0, 2s);
    EXPECT_TRUE(slow.ClosedCleanly());
  }
  EXPECT_EQ(Rejected("header_timeout"), 1);
}

TEST_F(HttpTlsTest, BadHandshakeIsCountedAndPlainHttpGets400) {
  Serve(Tls());
  // A TLS record of garbage: the handshake fails, the connection is closed and counted.
  const int bad = Connect(port_);
  const std::string junk = std::string("\x16\x03\x01\x00\x10", 5) + std::string(16, 'x');
  ASSERT_EQ(::send(bad, junk.data(), junk.size(), MSG_NOSIGNAL), static_cast<ssize_t>(junk.size()));
  EXPECT_TRUE(WaitClosed(bad, 3s));
  ::close(bad);
  // Plain HTTP on the TLS port: a 400 the client can read, then the connection closes.
  const int plain = Connect(port_);
  const std::string req = "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n";
  ASSERT_EQ(::send(plain, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  std::string got;
  EXPECT_TRUE(WaitClosed(plain, 3s, &got));
  ::close(plain);
  EXPECT_EQ(StatusOf(got), 400) << got;
  EXPECT_NE(got.find("speaks HTTPS"), std::string::npos) << got;
  EXPECT_EQ(Rejected("tls_handshake"), 1);
  EXPECT_EQ(Rejected("bad_request"), 1);
  // The server keeps serving TLS.
  TlsClient c(port_, ca());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c.Send("GET /hello?name=y HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(BodyOf(c.Response()), "hi y");
}

TEST_F(HttpTlsTest, CertificateAndKeyErrorsAtStart) {
  ServerOptions o = Tls();
  o.tls.key_file.clear();
  EXPECT_NE(o.Validate().message().find("--tls-cert and --tls-key go together"), std::string::npos);
  o = Tls();
  o.tls.cert_file = (dir_ / "missing.pem").string();
  EXPECT_NE(o.Validate().message().find("missing.pem"), std::string::npos);
  // Not PEM: the file and OpenSSL's reason are named.
  {
    std::FILE* f = std::fopen((dir_ / "junk.pem").c_str(), "w");
    std::fputs("not a certificate\n", f);
    std::fclose(f);
  }
  o = Tls();
  o.tls.cert_file = (dir_ / "junk.pem").string();
  HttpServer junk(o);
  auto r = junk.Bind("127.0.0.1", 0);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("junk.pem"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("no start line"), std::string::npos) << r.status().message();
  // A key of another certificate: refused at start, not at the first handshake.
  fs::create_directories(dir_ / "other");
  MakeCertificate(dir_ / "other", "other");
  o = Tls();
  o.tls.key_file = (dir_ / "other" / "key.pem").string();
  HttpServer mismatch(o);
  r = mismatch.Bind("127.0.0.1", 0);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("does not belong to the certificate"), std::string::npos) << r.status().message();
  // Without TLS options the server is plain HTTP.
  HttpServer plain;
  EXPECT_STREQ(plain.scheme(), "http");
}

}  // namespace
}  // namespace orderlake::http
