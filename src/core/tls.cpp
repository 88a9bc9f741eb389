// TLS for HttpServer (see core/tls.h): the OpenSSL server context and the TLS Transport of
// the event loop (see core/http_internal.h). The transport runs only on the loop thread; it
// talks to the socket through a small BIO of its own (send with MSG_NOSIGNAL, so a peer
// that is gone cannot raise SIGPIPE), never blocks, and reports which socket event a
// stalled handshake, read or write waits for.
#include "core/tls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>

#include "core/http_internal.h"

namespace orderlake::http {
namespace {

// OpenSSL's queued reasons, oldest first, joined; the queue is left empty.
std::string OpenSslReasons() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    const char* r = ERR_reason_error_string(e);
    char buf[256];
    if (!r) {
      ERR_error_string_n(e, buf, sizeof buf);
      r = buf;
    }
    if (out.find(r) != std::string::npos) continue;
    if (!out.empty()) out += ": ";
    out += r;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

Status CheckReadable(const std::string& path, const char* flag) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return Status::Errorf("{} {}: {}", flag, path, std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return Status::Errorf("{} {}: not a regular file", flag, path);
  if (::access(path.c_str(), R_OK) != 0) return Status::Errorf("{} {}: {}", flag, path, std::strerror(errno));
  return Status::OK();
}

// ALPN: HTTP/1.1 when the client offers it; otherwise no ALPN (the client decides).
int SelectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
               void*) {
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* sel = nullptr;
  unsigned char len = 0;
  if (SSL_select_next_proto(&sel, &len, kHttp11, sizeof kHttp11, in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = sel;
  *outlen = len;
  return SSL_TLSEXT_ERR_OK;
}

// An encrypted key fails to load instead of prompting on the terminal.
int NoPassphrase(char*, int, int, void*) { return 0; }

// ---- the socket BIO: recv/send on a non-blocking fd, retry flags on EAGAIN ----

int SocketOf(BIO* b) { return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(b))); }

int BioWrite(BIO* b, const char* data, int size) {
  BIO_clear_retry_flags(b);
  const ssize_t n = ::send(SocketOf(b), data, static_cast<size_t>(size), MSG_NOSIGNAL);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_write(b);
  return static_cast<int>(n);
}

int BioRead(BIO* b, char* data, int size) {
  BIO_clear_retry_flags(b);
  const ssize_t n = ::recv(SocketOf(b), data, static_cast<size_t>(size), 0);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_read(b);
  return static_cast<int>(n);
}

long BioCtrl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }

int BioCreate(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

BIO_METHOD* SocketBioMethod() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "orderlake socket");
    BIO_meth_set_write(m, BioWrite);
    BIO_meth_set_read(m, BioRead);
    BIO_meth_set_ctrl(m, BioCtrl);
    BIO_meth_set_create(m, BioCreate);
    return m;
  }();
  return method;
}

// ---- the transport ----

class Tls final : public internal::Transport {
 public:
  Tls(int fd, const TlsContext& ctx) : fd_(fd), ssl_(SSL_new(ctx.native())) {
    BIO* bio = ssl_ ? BIO_new(SocketBioMethod()) : nullptr;
    if (!bio) {
      failed_ = true;
      failure_ = OpenSslReasons();
      return;
    }
    BIO_set_data(bio, reinterpret_cast<void*>(static_cast<intptr_t>(fd)));
    SSL_set_bio(ssl_, bio, bio);
    SSL_set_accept_state(ssl_);
  }
  ~Tls() override {
    if (ssl_) {
      if (!handshaking_ && !failed_ && !shut_) SSL_shutdown(ssl_);  // close_notify, best effort
      SSL_free(ssl_);
    }
    ERR_clear_error();
    ::close(fd_);
  }

  long Read(char* data, size_t size) override {
    read_wants_write_ = false;
    if (plain_) return ::recv(fd_, data, size, 0);
    if (failed_) return Fail(EPROTO);
    if (handshaking_) {
      if (long r = Handshake(true); r <= 0) return r;
    }
    ERR_clear_error();
    const int n = SSL_read(ssl_, data, static_cast<int>(std::min<size_t>(size, INT_MAX)));
    return n > 0 ? n : Error(n, true);
  }

  long Write(const char* data, size_t size) override {
    write_wants_read_ = false;
    if (plain_) return ::send(fd_, data, size, MSG_NOSIGNAL);
    if (failed_) return Fail(EPROTO);
    if (handshaking_) {
      if (long r = Handshake(false); r <= 0) return r < 0 ? r : Fail(ECONNRESET);
    }
    ERR_clear_error();
    const int n = SSL_write(ssl_, data, static_cast<int>(std::min<size_t>(size, INT_MAX)));
    return n > 0 ? n : Error(n, false);
  }

  void ShutdownWrite() override {
    if (!plain_ && !handshaking_ && !failed_ && !shut_) {
      ERR_clear_error();
      SSL_shutdown(ssl_);  // sends close_notify (a full socket buffer just loses it)
      ERR_clear_error();
      shut_ = true;
    }
    ::shutdown(fd_, SHUT_WR);
  }

  int fd() const override { return fd_; }
  bool read_wants_write() const override { return read_wants_write_; }
  bool write_wants_read() const override { return write_wants_read_; }
  bool buffered() const override { return !plain_ && !failed_ && !handshaking_ && SSL_pending(ssl_) > 0; }
  bool handshaking() const override { return handshaking_ && !plain_; }
  bool plaintext_on_tls() const override { return plain_; }
  std::string failure() const override { return failure_; }

 private:
  // One step of the handshake: 1 done, -1 (errno) not yet or failed, 0 the peer left.
  long Handshake(bool reading) {
    if (!peeked_) {
      // A TLS connection starts with a handshake record (0x16); anything else is plain HTTP.
      unsigned char first = 0;
      const ssize_t n = ::recv(fd_, &first, 1, MSG_PEEK);
      if (n <= 0) return n;
      peeked_ = true;
      if (first != 0x16) {
        plain_ = true;
        errno = EAGAIN;
        return -1;
      }
    }
    ERR_clear_error();
    const int r = SSL_do_handshake(ssl_);
    if (r == 1) {
      handshaking_ = false;
      return 1;
    }
    return Error(r, reading);
  }

  long Error(int r, bool reading) {
    switch (SSL_get_error(ssl_, r)) {
      case SSL_ERROR_WANT_READ:
        if (!reading) write_wants_read_ = true;
        errno = EAGAIN;
        return -1;
      case SSL_ERROR_WANT_WRITE:
        if (reading) read_wants_write_ = true;
        errno = EAGAIN;
        return -1;
      case SSL_ERROR_ZERO_RETURN:  // close_notify (or, with IGNORE_UNEXPECTED_EOF, a plain end)
        shut_ = true;
        return 0;
      case SSL_ERROR_SYSCALL: {
        const int e = errno;
        failure_ = ERR_peek_error() ? OpenSslReasons() : std::strerror(e ? e : ECONNRESET);
        return Fail(e ? e : ECONNRESET);
      }
      default:
        failure_ = OpenSslReasons();
        return Fail(EPROTO);
    }
  }

  long Fail(int e) {
    failed_ = true;
    errno = e;
    return -1;
  }

  int fd_;
  SSL* ssl_;
  bool handshaking_ = true, peeked_ = false, plain_ = false, failed_ = false, shut_ = false;
  bool read_wants_write_ = false, write_wants_read_ = false;
  std::string failure_;
};

}  // namespace

Status TlsOptions::Validate() const {
  if (cert_file.empty() != key_file.empty())
    return Status::Errorf("--tls-cert and --tls-key go together: give both (only {} was given)",
                          cert_file.empty() ? "--tls-key" : "--tls-cert");
  if (cert_file.empty()) return Status::OK();
  ORDERLAKE_RETURN_IF_ERROR(CheckReadable(cert_file, "--tls-cert"));
  return CheckReadable(key_file, "--tls-key");
}

Result<std::shared_ptr<TlsContext>> TlsContext::Create(const TlsOptions& o) {
  ORDERLAKE_RETURN_IF_ERROR(o.Validate());
  if (!o.enabled()) return Status::Error("TLS: no --tls-cert/--tls-key given");
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) return Status::Errorf("TLS: cannot make a server context: {}", OpenSslReasons());
  std::shared_ptr<TlsContext> out(new TlsContext(ctx));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // TLS 1.2: forward-secret AEAD only (TLS 1.3's own suites are all AEAD).
  if (SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL:!MD5:!DSS") != 1)
    return Status::Errorf("TLS: cannot set the cipher list: {}", OpenSslReasons());
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION |
                               SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_alpn_select_cb(ctx, SelectAlpn, nullptr);
  SSL_CTX_set_default_passwd_cb(ctx, NoPassphrase);
  static const unsigned char kSessionId[] = "orderlake";
  SSL_CTX_set_session_id_context(ctx, kSessionId, sizeof kSessionId - 1);
  if (SSL_CTX_use_certificate_chain_file(ctx, o.cert_file.c_str()) != 1)
    return Status::Errorf("TLS: cannot load the certificate chain from --tls-cert {} (PEM expected): {}", o.cert_file,
                          OpenSslReasons());
  if (SSL_CTX_use_PrivateKey_file(ctx, o.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH)
      return Status::Errorf("TLS: the private key in {} does not belong to the certificate in {}: {}", o.key_file,
                            o.cert_file, OpenSslReasons());
    return Status::Errorf("TLS: cannot load the private key from --tls-key {} (unencrypted PEM expected): {}",
                          o.key_file, OpenSslReasons());
  }
  if (SSL_CTX_check_private_key(ctx) != 1)
    return Status::Errorf("TLS: the private key in {} does not belong to the certificate in {}: {}", o.key_file,
                          o.cert_file, OpenSslReasons());
  return out;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

namespace internal {
std::unique_ptr<Transport> TlsTransport(int fd, const TlsContext& ctx) { return std::make_unique<Tls>(fd, ctx); }
}  // namespace internal

}  // namespace orderlake::http
