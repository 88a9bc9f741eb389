// TLS for every orderlake listener (core/http_server.h): the options (--tls-cert/--tls-key)
// and the server context made from them.
//
// TlsContext promises: the certificate chain and key are loaded once, at start, and a key
// that does not belong to the certificate is an error then (not at the first handshake);
// an encrypted key is refused (no passphrase prompt); connections speak TLS 1.2 or 1.3
// only, with forward-secret AEAD ciphers, ALPN "http/1.1", no renegotiation. Errors name
// the file and OpenSSL's reason. The context is immutable once made and shared by all the
// connections of a server (certificate reload is not supported: restart to change it).
#pragma once
#include <memory>
#include <string>

#include "core/status.h"

struct ssl_ctx_st;

namespace orderlake::http {

// The same two flags on every command that listens (firehose, serve, up, aws).
struct TlsOptions {
  std::string cert_file;  // --tls-cert: PEM, the server certificate first, then its chain; "" = plain HTTP
  std::string key_file;   // --tls-key: PEM, the unencrypted private key of that certificate

  bool enabled() const { return !cert_file.empty() || !key_file.empty(); }
  // Both or neither; each a readable regular file. (Their contents are checked by TlsContext.)
  Status Validate() const;
};

class TlsContext {
 public:
  // Loads and checks the certificate chain and key of `options` (which must be enabled).
  static Result<std::shared_ptr<TlsContext>> Create(const TlsOptions& options);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  ssl_ctx_st* native() const { return ctx_; }

 private:
  explicit TlsContext(ssl_ctx_st* ctx) : ctx_(ctx) {}
  ssl_ctx_st* ctx_;
};

}  // namespace orderlake::http
