// One AWS endpoint for a data directory, LocalStack's "edge" convention, so that
// AWS_ENDPOINT_URL=http://127.0.0.1:4566 works for every client: every AWS API orderlake
// has, on one listener (`orderlake aws`, and `orderlake up --aws-port`).
//
// A request that carries X-Amz-Target is a JSON 1.1 call, routed by the target's prefix:
// Firehose_20150804 (the firehose service, when one is given), AmazonAthena
// (query/athena_api.h) and AWSGlue (crawl/glue_api.h). Any other request is S3 REST
// (store/s3_api.h) over the data directory's buckets (store/buckets.h), which also confine
// every location the APIs receive.
//
// Credentials: with keys, every request must carry a valid SigV4 signature for its service;
// without keys, requests are accepted unsigned or with any well-formed signature, which is
// allowed on loopback listeners only (aws/json_service.h check_unsigned_listener).
#pragma once
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/http_server.h"
#include "core/metrics.h"
#include "core/status.h"
#include "query/isolated.h"

namespace orderlake::firehose {
class FirehoseService;
}

namespace orderlake::endpoint {

struct EdgeOptions {
  std::filesystem::path data_dir = "./orderlake-data";  // --data-dir
  std::string host = "127.0.0.1";                       // --listen HOST
  int port = 4566;                                      // --listen PORT; 0 = any free port
  std::map<std::string, std::string> keys;              // access key id -> secret; empty: see above
  // Mounted on the endpoint when set (must outlive it); `orderlake up` gives its own.
  firehose::FirehoseService* firehose = nullptr;
  // Buckets no S3 request may write to, besides the lake (orderlake-lake), which is
  // always read-only: e.g. the firehose's raw bucket.
  std::vector<std::string> read_only_buckets;
  // The bounds of every Athena statement (the SQL console's: --sql-timeout, ...); its lake
  // is set to <data-dir>/lake. A result goes to a file, not to memory: up to 2 GiB of it
  // by default (more is cut off, and the execution says so).
  query::IsolatedOptions sql = [] {
    query::IsolatedOptions o;
    o.max_result_bytes = size_t{2} << 30;
    return o;
  }();
  http::ServerOptions http;                             // connection limits (and TLS)
  std::string region = "us-east-1";
  std::string account_id = "123456789012";
  // Sets host and port from "HOST:PORT" ("[::1]:PORT" for IPv6).
  Status SetListen(std::string_view listen);
  Status Validate() const;
};

class Edge {
 public:
  // Opens the data directory's buckets (making the Athena results bucket), the catalog and
  // the APIs.
  static Result<std::unique_ptr<Edge>> Create(const EdgeOptions& options);
  ~Edge();  // Stop()s
  Edge(const Edge&) = delete;
  Edge& operator=(const Edge&) = delete;

  // Binds; returns the bound port.
  Result<int> Bind();
  void Start();  // serves on its own thread
  void Run();    // serves until Stop() (blocking)
  void Stop();
  int port() const;
  const char* scheme() const;  // "https" with options.http.tls, else "http"
  // The connection counters (orderlake_aws_http_*).
  const metrics::Registry& metrics() const;

  struct Impl;

 private:
  explicit Edge(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace orderlake::endpoint
