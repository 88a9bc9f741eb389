#include "endpoint/edge.h"

#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>

#include "aws/json_service.h"
#include "catalog/catalog.h"
#include "core/fs.h"
#include "core/listen.h"
#include "crawl/glue_api.h"
#include "firehose/service.h"
#include "query/athena_api.h"
#include "store/buckets.h"
#include "store/s3_api.h"

namespace orderlake::endpoint {
namespace stdfs = std::filesystem;

Status EdgeOptions::SetListen(std::string_view listen) { return ParseListen(listen, host, port); }

Status EdgeOptions::Validate() const {
  if (data_dir.empty()) return Status::Error("--data-dir must name a directory");
  if (host.empty()) return Status::Error("--listen needs a host (HOST:PORT), got an empty one");
  if (port < 0 || port > 65535) return Status::Errorf("--listen port must be between 0 and 65535, got {}", port);
  for (const auto& [id, secret] : keys)
    if (id.empty() || secret.empty()) return Status::Error("--access-key/--secret-key: both must be non-empty");
  ORDERLAKE_RETURN_IF_ERROR(aws::check_unsigned_listener(host, keys));
  ORDERLAKE_RETURN_IF_ERROR(http.Validate());
  for (const std::string& b : read_only_buckets)
    if (!store::ValidBucketName(b)) return Status::Errorf("'{}' is not a valid bucket name", b);
  return Status::OK();
}

struct Edge::Impl {
  EdgeOptions opt;
  store::Buckets buckets;
  metrics::Registry http_metrics;  // declared before `http`, which counts on it until it stops
  http::HttpServer http;
  aws::RequestIds ids;
  aws::JsonRouter router;
  std::unique_ptr<query::AthenaApi> athena;
  std::unique_ptr<crawl::GlueApi> glue;
  std::unique_ptr<store::S3Api> s3;

  Impl(EdgeOptions o, store::Buckets b)
      : opt(std::move(o)), buckets(std::move(b)), http(HttpOptions(opt.http)), router(opt.keys) {}
  // Bodies up to an 8 MiB S3 part with its aws-chunked framing (JSON calls are far smaller).
  static http::ServerOptions HttpOptions(http::ServerOptions h) {
    h.max_body_bytes = std::max(h.max_body_bytes, store::kS3MaxRequestBody);
    return h;
  }

  void Handle(const httplib::Request& req, httplib::Response& res) {
    if (req.has_header("X-Amz-Target")) {
      if (req.method != "POST") {
        res.set_header("x-amzn-RequestId", ids.Next());
        auto e = aws::json_error(404, "UnknownOperationException", "JSON 1.1 calls are POST requests");
        res.status = e.status;
        res.set_content(e.body, "application/x-amz-json-1.1");
        return;
      }
      aws::answer_json(router, ids, req, res);
      return;
    }
    s3->Handle(req, res);
  }
};

Result<std::unique_ptr<Edge>> Edge::Create(const EdgeOptions& options) {
  ORDERLAKE_RETURN_IF_ERROR(options.Validate());
  ORDERLAKE_RETURN_IF_ERROR(fs::create_directories(options.data_dir));
  store::BucketsOptions bo;
  bo.data_dir = options.data_dir;
  auto buckets = store::Buckets::Open(bo);
  if (!buckets.ok()) return buckets.status();
  if (auto made = buckets->Create(store::kResultsBucket); !made.ok()) return made.status();
  auto impl = std::make_unique<Impl>(options, std::move(buckets).value());
  Impl* m = impl.get();
  const stdfs::path data = m->buckets.data_dir();
  const stdfs::path catalog = catalog::Catalog::DefaultPath(data);

  query::AthenaApiOptions ao;
  ao.data_dir = data;
  ao.lake = data / "lake";
  ao.catalog = catalog;
  ao.buckets = &m->buckets;
  ao.limits = options.sql;
  ao.limits.lake = ao.lake;
  ao.region = options.region;
  ao.account_id = options.account_id;
  auto athena = query::AthenaApi::Create(ao);
  if (!athena.ok()) return athena.status();
  m->athena = std::move(athena).value();

  crawl::GlueApiOptions go;
  go.data_dir = data;
  go.catalog = catalog;
  go.lake = data / "lake";
  go.buckets = &m->buckets;
  go.region = options.region;
  go.account_id = options.account_id;
  auto glue = crawl::GlueApi::Create(go);
  if (!glue.ok()) return glue.status();
  m->glue = std::move(glue).value();

  store::S3ApiOptions so;
  so.keys = options.keys;
  so.region = options.region;
  so.read_only = [ro = options.read_only_buckets](std::string_view bucket) {
    return bucket == store::kLakeBucket || std::find(ro.begin(), ro.end(), bucket) != ro.end();
  };
  ORDERLAKE_RETURN_IF_ERROR(so.Validate());
  m->s3 = std::make_unique<store::S3Api>(m->buckets, std::move(so));

  if (options.firehose) m->router.Mount(options.firehose->api());
  m->router.Mount(m->athena->service());
  m->router.Mount(m->glue->service());

  auto& h = m->http;
  h.RegisterMetrics(m->http_metrics, "orderlake_aws_http");
  auto route = [m](const httplib::Request& req, httplib::Response& res) { m->Handle(req, res); };
  h.Get(".*", route).Put(".*", route).Post(".*", route).Delete(".*", route);
  h.set_error_handler([m](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    res.set_header("x-amzn-RequestId", m->ids.Next());
    const std::string why = res.reason.empty() ? "refused" : res.reason;
    if (req.has_header("X-Amz-Target")) {
      const char* type = res.status == 503 ? "ServiceUnavailableException"
                         : res.status == 408 ? "RequestTimeoutException"
                         : res.status == 413 ? "InvalidRequestException"
                                             : "SerializationException";
      auto e = aws::json_error(res.status, type, fmt::format("HTTP {}: {}", res.status, why));
      res.set_content(e.body, "application/x-amz-json-1.1");
      return;
    }
    const char* code = res.status == 503 ? "SlowDown"
                       : res.status == 408 ? "RequestTimeout"
                       : res.status == 413 ? "EntityTooLarge"
                                           : "InvalidRequest";
    res.set_content(fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>HTTP {}: "
                                "{}</Message></Error>",
                                code, res.status, why),
                    "application/xml");
  });
  return std::unique_ptr<Edge>(new Edge(std::move(impl)));
}

Edge::Edge(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Edge::~Edge() { Stop(); }

Result<int> Edge::Bind() { return impl_->http.Bind(impl_->opt.host, impl_->opt.port); }
void Edge::Start() { impl_->http.Start(); }
void Edge::Run() { impl_->http.Run(); }
void Edge::Stop() { impl_->http.Stop(); }
int Edge::port() const { return impl_->http.port(); }
const char* Edge::scheme() const { return impl_->http.scheme(); }
const metrics::Registry& Edge::metrics() const { return impl_->http_metrics; }

}  // namespace orderlake::endpoint
