#include "firehose/server.h"

#include <httplib.h>

#include "aws/json_service.h"
#include "core/log.h"

namespace orderlake::firehose {

Status ServerOptions::SetListen(std::string_view listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos) return Status::Errorf("--listen must be HOST:PORT, got {}", listen);
  std::string h(listen.substr(0, colon));
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  const std::string_view p = listen.substr(colon + 1);
  int value = 0;
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string_view::npos)
    return Status::Errorf("--listen must be HOST:PORT, got {}", listen);
  for (char c : p) value = value * 10 + (c - '0');
  host = std::move(h);
  port = value;
  return Status::OK();
}

Status ServerOptions::Validate() const {
  if (host.empty()) return Status::Error("--listen needs a host (HOST:PORT), got an empty one");
  if (port < 0 || port > 65535) return Status::Errorf("--listen port must be between 0 and 65535, got {}", port);
  if (threads < 2 || threads > 1024) return Status::Errorf("--threads must be between 2 and 1024, got {}", threads);
  for (const auto& [id, secret] : keys)
    if (id.empty() || secret.empty())
      return Status::Errorf("--access-key/--secret-key: an access key id and its secret must both be non-empty{}",
                            id.empty() ? "" : " (key " + id + ")");
  if (Status st = aws::check_unsigned_listener(host, keys); !st.ok())
    return Status::Error(st.message() + ": give --access-key/--secret-key or --credentials-file");
  return Status::OK();
}

struct FirehoseServer::Impl {
  FirehoseService& service;
  ServerOptions opt;
  httplib::Server http;
  aws::RequestIds ids;
  aws::JsonRouter router;
  Impl(FirehoseService& s, ServerOptions o) : service(s), opt(std::move(o)), router(opt.keys) {
    router.Mount(service.api());
  }
};

FirehoseServer::FirehoseServer(FirehoseService& service, ServerOptions options)
    : impl_(std::make_unique<Impl>(service, std::move(options))) {
  auto& h = impl_->http;
  Impl* m = impl_.get();
  int threads = impl_->opt.threads;
  h.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  h.set_keep_alive_max_count(1000000);
  // An open connection holds a worker thread, so idle keep-alive connections are closed soon.
  h.set_keep_alive_timeout(5);
  h.set_read_timeout(30);
  h.set_tcp_nodelay(true);
  aws::JsonHttpOptions api;
  api.max_body_bytes = 8u << 20;  // 4 MiB of records, base64, plus JSON
  api.routes_help = "only POST / (the Firehose API), GET /metrics and GET /health exist";
  aws::install_json_api(h, m->router, m->ids, api);
  h.Get("/metrics", [m](const httplib::Request&, httplib::Response& res) {
    res.set_header("x-amzn-RequestId", m->ids.Next());
    res.set_content(m->service.metrics().Text(), "text/plain; version=0.0.4");
  });
  h.Get("/health", [m](const httplib::Request&, httplib::Response& res) {
    res.set_header("x-amzn-RequestId", m->ids.Next());
    res.set_content("{\"status\":\"ok\"}", "application/json");
  });
}

FirehoseServer::~FirehoseServer() { Stop(); }

Result<int> FirehoseServer::Bind() {
  ORDERLAKE_RETURN_IF_ERROR(impl_->opt.Validate());
  auto& h = impl_->http;
  if (impl_->opt.port == 0) {
    int p = h.bind_to_any_port(impl_->opt.host);
    if (p <= 0) return Status::Errorf("cannot listen on {}:0", impl_->opt.host);
    return p;
  }
  if (!h.bind_to_port(impl_->opt.host, impl_->opt.port))
    return Status::Errorf("cannot listen on {}:{} (in use or not a local address)", impl_->opt.host, impl_->opt.port);
  return impl_->opt.port;
}

void FirehoseServer::Run() { impl_->http.listen_after_bind(); }
void FirehoseServer::Stop() { impl_->http.stop(); }

}  // namespace orderlake::firehose
