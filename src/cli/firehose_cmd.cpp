// `orderlake firehose`: the Kinesis Data Firehose service (see firehose/service.h).
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <thread>

#include "cli/commands.h"
#include "cli/credentials_file.h"
#include "core/duration.h"
#include "core/log.h"
#include "firehose/server.h"
#include "firehose/service.h"

namespace orderlake::cli {
namespace {

struct FirehoseArgs {
    std::string listen = "127.0.0.1:4573";
    std::string data_dir = "./orderlake-data";
    std::vector<std::string> access_keys, secret_keys;
    std::string credentials_file;
    firehose::FirehoseOptions opt;
    uint64_t max_buffer_mb = 256;
    uint64_t segment_mb = 64;
    int threads = 64;
    size_t max_connections = 512;
    std::string tls_cert, tls_key;
    std::string event_retention = "24h";
};

// Flags into the options; the options' Validate() is the one rule (as for `up` and tests).
Status to_options(FirehoseArgs& a, firehose::ServerOptions& so) {
  so.threads = a.threads;
  so.max_connections = a.max_connections;
  so.tls.cert_file = a.tls_cert;
  so.tls.key_file = a.tls_key;
  ORDERLAKE_RETURN_IF_ERROR(so.SetListen(a.listen));
  if (a.access_keys.size() != a.secret_keys.size())
    return Status::Error("give as many --secret-key as --access-key options");
  for (size_t i = 0; i < a.access_keys.size(); ++i) so.keys[a.access_keys[i]] = a.secret_keys[i];
  if (!a.credentials_file.empty()) ORDERLAKE_RETURN_IF_ERROR(read_credentials(a.credentials_file, so.keys));
  ORDERLAKE_RETURN_IF_ERROR(so.Validate());
  a.opt.data_dir = a.data_dir;
  ORDERLAKE_RETURN_IF_ERROR(ParseDurationFlags({{a.event_retention, "--event-retention", &a.opt.event_retention_ms}}));
  a.opt.max_buffer_bytes = a.max_buffer_mb << 20;
  a.opt.wal_segment_bytes = std::min<uint64_t>(a.segment_mb << 20, std::max<uint64_t>(a.opt.max_buffer_bytes / 4, 1 << 20));
  return a.opt.Validate();
}

// Serves until SIGINT or SIGTERM; the exit code (2: bad options, 1: the service failed).
int run_firehose(const std::shared_ptr<FirehoseArgs>& a) {
  auto fail = [](const std::string& why, int code) {
    std::fprintf(stderr, "orderlake firehose: %s\n", why.c_str());
    return code;
  };
  firehose::ServerOptions so;
  if (Status st = to_options(*a, so); !st.ok()) return fail(st.message(), 2);
  if (so.keys.empty()) spdlog::warn("firehose: no access keys configured: accepting unsigned requests (loopback only)");
  // SIGINT/SIGTERM stop the server from a dedicated thread (signals blocked elsewhere).
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  auto svc = firehose::FirehoseService::Open(a->opt);
  if (!svc.ok()) return fail(svc.status().message(), 1);
  firehose::FirehoseServer server(**svc, so);
  auto port = server.Bind();
  if (!port.ok()) return fail(port.status().message(), 1);
  // Plain HTTP keeps the banner scripts parse ("listening on HOST:PORT"); HTTPS says so.
  const std::string host = so.host.find(':') != std::string::npos ? "[" + so.host + "]" : so.host;
  if (so.tls.enabled()) std::printf("listening on https://%s:%d\n", host.c_str(), *port);
  else std::printf("listening on %s:%d\n", so.host.c_str(), *port);
  std::fflush(stdout);
  spdlog::info("firehose: listening on {}://{}:{}, data in {}", server.scheme(), host, *port, a->data_dir);
  std::atomic<bool> signalled{false};
  std::thread sig([&server, &signalled, set] {
    int s = 0;
    sigwait(&set, &s);
    signalled = true;
    spdlog::info("firehose: signal {}, stopping", s);
    server.Stop();
  });
  server.Run();
  (*svc)->Stop();
  if (!signalled) pthread_kill(sig.native_handle(), SIGTERM);
  sig.join();
  return 0;
}

}  // namespace

void add_firehose_command(CLI::App& app) {
  auto a = std::make_shared<FirehoseArgs>();
  auto* cmd = app.add_subcommand("firehose", "Run the Kinesis Data Firehose-compatible delivery-stream service");
  cmd->footer(R"(
Speaks the Firehose API (JSON 1.1 over HTTP, X-Amz-Target Firehose_20150804.<Action>):
CreateDeliveryStream (DirectPut source, ExtendedS3DestinationConfiguration: BucketARN,
Prefix / ErrorOutputPrefix with !{timestamp:...} and !{firehose:...} expressions,
BufferingHints, CompressionFormat UNCOMPRESSED or GZIP), DescribeDeliveryStream,
ListDeliveryStreams, DeleteDeliveryStream, PutRecord and PutRecordBatch. Unsupported options
are refused by name. GET /metrics (Prometheus) and GET /health are on the same listener.

Storage under --data-dir: the bucket of arn:aws:s3:::B is the directory <data-dir>/s3/B/
(with --buckets s3: the real bucket B on S3, at AWS_ENDPOINT_URL_S3 or AWS, credentials from
the usual AWS sources); objects are <prefix><stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid>[.gz], written
atomically. The write-ahead log, stream definitions and the delivery checkpoint live in
<data-dir>/firehose/. A put is acknowledged only once its records are in the WAL on disk;
after a crash every acknowledged record is delivered exactly once.

Event log: each object delivered is also recorded, before its records leave the WAL, as an
S3 Event Notification document under <bucket>/_orderlake/events/<stream>/ (hidden from
Athena, crawlers and the etl's data listing). `orderlake etl` on the bucket reads only the
new events (notification discovery) and deletes those it committed; events nobody consumed
are dropped after --event-retention (0 = no event log).

Security: requests are verified with SigV4 (service "firehose", any region) against the
keys of --access-key/--secret-key (repeatable, paired in order) or --credentials-file.
With no keys, unsigned requests are accepted, and only on a loopback listener.

Idempotent batches (orderlake's agent): a PutRecordBatch with the header
  X-Orderlake-Batch: <source-id>;<start>;<end>
(source id up to 256 characters of UTF-8 without control characters; start/end byte
offsets in the source, end exclusive) is all-or-nothing; the highest end accepted per
(stream, source id) is kept durably, and a batch whose end is at or below it is answered
with success without storing its records again.
On a signed request the header must be one of the SignedHeaders.

TLS: with --tls-cert and --tls-key the listener speaks HTTPS only (TLS 1.2/1.3, ALPN
http/1.1; a plain http:// request gets a 400 saying so). Clients trust a self-signed
certificate with AWS_CA_BUNDLE=cert.pem (SDKs), --ca-bundle cert.pem (AWS CLI),
`curl --cacert cert.pem`, or Fluent Bit's tls.ca_file.

Back-pressure: when undelivered data passes --max-buffer-mb, puts fail with
ServiceUnavailableException (HTTP 503), which the AWS SDKs retry.

Examples:
  orderlake firehose --data-dir ./orderlake-data
  orderlake firehose --listen 0.0.0.0:4573 --credentials-file ~/.aws/credentials
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -subj /CN=localhost \
      -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout key.pem -out cert.pem
  orderlake firehose --data-dir ./orderlake-data --tls-cert cert.pem --tls-key key.pem
  aws firehose create-delivery-stream --endpoint-url http://127.0.0.1:4573 \
      --delivery-stream-name orders --extended-s3-destination-configuration \
      'RoleARN=arn:aws:iam::123456789012:role/firehose,BucketARN=arn:aws:s3:::raw,BufferingHints={SizeInMBs=5,IntervalInSeconds=60}')");
  cmd->add_option("--listen", a->listen, "HOST:PORT to listen on (port 0 = any free port, printed on stdout)")
      ->capture_default_str();
  cmd->add_option("--data-dir", a->data_dir, "Root of raw objects (<data-dir>/s3/<bucket>) and the WAL")
      ->capture_default_str();
  cmd->add_option("--buckets", a->opt.bucket_store,
                  "Where BucketARNs point: 'local' (<data-dir>/s3/<bucket>, default) or 's3' (real S3 buckets)")
      ->check(CLI::IsMember({"local", "s3"}));
  cmd->add_option("--access-key", a->access_keys, "Access key id accepted in SigV4 signatures (repeatable)");
  cmd->add_option("--secret-key", a->secret_keys, "Secret key of the --access-key at the same position");
  cmd->add_option("--credentials-file", a->credentials_file,
                  "File of keys: AWS credentials format or 'ACCESS_KEY_ID SECRET' lines")
      ->check(CLI::ExistingFile);
  cmd->add_option("--region", a->opt.region, "Region shown in ARNs")->capture_default_str();
  cmd->add_option("--max-buffer-mb", a->max_buffer_mb, "Undelivered MiB before puts get ServiceUnavailableException")
      ->capture_default_str()->check(CLI::Range(uint64_t{1}, uint64_t{1} << 20));
  cmd->add_option("--wal-segment-mb", a->segment_mb, "WAL segment size in MiB")
      ->capture_default_str()->check(CLI::Range(uint64_t{1}, uint64_t{4096}));
  cmd->add_option("--delivery-retry-seconds", a->opt.delivery_retry_seconds,
                  "How long failed deliveries are retried before records go to the error output prefix")
      ->capture_default_str()->check(CLI::Range(0.0, 86400.0));
  cmd->add_option("--event-retention", a->event_retention,
                  "Events of delivered objects nobody consumed are dropped after this (90s, 10m, 24h, 30d; 0 = no event log)")
      ->capture_default_str();
  cmd->add_option("--threads", a->threads,
                  "HTTP worker threads (a connection holds one only while its complete request is handled)")
      ->capture_default_str()->check(CLI::Range(2, 1024));
  cmd->add_option("--max-connections", a->max_connections,
                  "Connections open at once; beyond it a new one gets 503 with Retry-After")
      ->capture_default_str()->check(CLI::Range(size_t{1}, size_t{100000}));
  cmd->add_option("--tls-cert", a->tls_cert,
                  "PEM certificate (then its chain): serve HTTPS only; needs --tls-key");
  cmd->add_option("--tls-key", a->tls_key, "PEM private key (unencrypted) of --tls-cert");

  cmd->callback([a] { exit_code() = run_firehose(a); });
}

}  // namespace orderlake::cli
