// `orderlake aws`: every AWS API of a data directory on one endpoint (see endpoint/edge.h).
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <thread>

#include "cli/commands.h"
#include "cli/credentials_file.h"
#include "core/log.h"
#include "endpoint/edge.h"
#include "firehose/service.h"

namespace orderlake::cli {
namespace {

struct AwsArgs {
  std::string listen = "127.0.0.1:4566";
  std::vector<std::string> access_keys, secret_keys;
  std::string credentials_file;
  bool no_firehose = false;
  int sql_timeout = 30;
  size_t sql_result_mb = 2048;
  endpoint::EdgeOptions edge;
};

Status to_options(AwsArgs& a) {
  ORDERLAKE_RETURN_IF_ERROR(a.edge.SetListen(a.listen));
  if (a.access_keys.size() != a.secret_keys.size())
    return Status::Error("give as many --secret-key as --access-key options");
  for (size_t i = 0; i < a.access_keys.size(); ++i) a.edge.keys[a.access_keys[i]] = a.secret_keys[i];
  if (!a.credentials_file.empty()) ORDERLAKE_RETURN_IF_ERROR(read_credentials(a.credentials_file, a.edge.keys));
  a.edge.sql.timeout = std::chrono::seconds(a.sql_timeout);
  a.edge.sql.max_result_bytes = a.sql_result_mb << 20;
  a.edge.sql.lake = a.edge.data_dir / "lake";
  ORDERLAKE_RETURN_IF_ERROR(a.edge.sql.Validate());
  return a.edge.Validate();
}

int run_aws(AwsArgs& a) {
  auto fail = [](const std::string& why, int code) {
    std::fprintf(stderr, "orderlake aws: %s\n", why.c_str());
    return code;
  };
  if (Status st = to_options(a); !st.ok()) return fail(st.message(), 2);
  if (a.edge.keys.empty())
    spdlog::warn("aws: no access keys configured: accepting unsigned requests and any signature (loopback only)");
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::unique_ptr<firehose::FirehoseService> fh;
  if (!a.no_firehose) {
    firehose::FirehoseOptions fo;
    fo.data_dir = a.edge.data_dir;
    fo.region = a.edge.region;
    auto svc = firehose::FirehoseService::Open(fo);
    if (!svc.ok()) return fail(svc.status().message() + " (--no-firehose serves the other APIs beside it)", 1);
    fh = std::move(svc).value();
    a.edge.firehose = fh.get();
  }
  auto edge = endpoint::Edge::Create(a.edge);
  if (!edge.ok()) return fail(edge.status().message(), 1);
  auto port = (*edge)->Bind();
  if (!port.ok()) return fail(port.status().message(), 1);
  std::printf("AWS endpoint at %s://%s:%d\n", (*edge)->scheme(), a.edge.host.c_str(), *port);
  std::fflush(stdout);
  spdlog::info("aws: serving {} on {}:{}", a.edge.data_dir.string(), a.edge.host, *port);
  std::thread sig([&edge, set] {
    int s = 0;
    sigwait(&set, &s);
    if (s != 0) (*edge)->Stop();
  });
  (*edge)->Run();
  pthread_kill(sig.native_handle(), SIGTERM);
  sig.join();
  (*edge)->Stop();
  if (fh) fh->Stop();
  return 0;
}

}  // namespace

void add_aws_command(CLI::App& app) {
  auto a = std::make_shared<AwsArgs>();
  auto* cmd = app.add_subcommand("aws", "Serve every AWS API of a data directory on one endpoint (Athena, Glue, S3, Firehose)");
  cmd->footer(R"(
One endpoint, LocalStack's convention: point any AWS client at it with
  export AWS_ENDPOINT_URL=http://127.0.0.1:4566
A request with X-Amz-Target is routed by its prefix: AmazonAthena.* (Athena), AWSGlue.* (Glue),
Firehose_20150804.* (Firehose); every other request is S3 REST over the data directory's
buckets: <data-dir>/s3/<bucket>/ and the lake as the read-only bucket orderlake-lake.
Athena results go to s3://orderlake-athena-results/ unless the query names another
OutputLocation. Every location a request names must lie in these buckets.

HTTPS with --tls-cert/--tls-key (clients trust a self-signed certificate with
AWS_CA_BUNDLE=cert.pem or the AWS CLI's --ca-bundle).

Credentials: with --access-key/--secret-key or --credentials-file every request must be
signed (SigV4) with one of those keys; without keys, unsigned requests and any well-formed
signature are accepted, and only on a loopback listener.

Examples:
  orderlake aws --data-dir ./orderlake-data
  aws --endpoint-url http://127.0.0.1:4566 athena start-query-execution \
      --query-string 'SELECT count(*) FROM orders'
  aws --endpoint-url http://127.0.0.1:4566 s3 ls s3://orderlake-raw/)");
  cmd->add_option("--data-dir", a->edge.data_dir, "The data directory to serve")->capture_default_str();
  cmd->add_option("--listen", a->listen, "HOST:PORT to listen on (port 0 = any free port, printed on stdout)")
      ->capture_default_str();
  cmd->add_option("--access-key", a->access_keys, "Access key id accepted in SigV4 signatures (repeatable)");
  cmd->add_option("--secret-key", a->secret_keys, "Secret key of the --access-key at the same position");
  cmd->add_option("--credentials-file", a->credentials_file,
                  "File of keys: AWS credentials format or 'ACCESS_KEY_ID SECRET' lines")
      ->check(CLI::ExistingFile);
  cmd->add_option("--region", a->edge.region, "Region shown in ARNs")->capture_default_str();
  cmd->add_option("--tls-cert", a->edge.http.tls.cert_file, "PEM certificate chain: the endpoint speaks HTTPS only");
  cmd->add_option("--tls-key", a->edge.http.tls.key_file, "PEM private key of --tls-cert");
  cmd->add_flag("--no-firehose", a->no_firehose,
                "Do not serve the Firehose API (e.g. an `orderlake firehose` already runs on this data directory)");
  cmd->add_option("--read-only-bucket", a->edge.read_only_buckets,
                  "A bucket S3 requests may not write to (repeatable; the lake always is)");
  cmd->add_option("--sql-timeout", a->sql_timeout, "Seconds an Athena statement may run (then it is killed)")
      ->capture_default_str()->check(CLI::Range(1, 3600));
  cmd->add_option("--sql-memory-mb", a->edge.sql.memory_mb, "Memory one Athena statement may use (MB)")->capture_default_str();
  cmd->add_option("--sql-workers", a->edge.sql.workers, "Athena statements run at the same time")->capture_default_str();
  cmd->add_option("--sql-threads", a->edge.sql.threads, "DuckDB threads of one Athena statement")->capture_default_str();
  cmd->add_option("--sql-result-mb", a->sql_result_mb, "Bytes of one Athena result file (MB; more is cut off, and said)")
      ->capture_default_str()->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--max-connections", a->edge.http.max_connections,
                  "Connections open at once; beyond it a new one gets 503 with Retry-After")
      ->capture_default_str()->check(CLI::Range(size_t{1}, size_t{100000}));
  cmd->callback([a] { exit_code() = run_aws(*a); });
}

}  // namespace orderlake::cli
