// The HTTP face of the Firehose service on one listener: POST / is the Firehose API (JSON
// 1.1, X-Amz-Target, SigV4-verified when keys are configured), GET /metrics the Prometheus
// counters, GET /health a liveness answer. Every response carries x-amzn-RequestId.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "core/status.h"
#include "firehose/service.h"

namespace orderlake::firehose {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 4573;  // 0 = any free port
  std::map<std::string, std::string> keys;  // access key id -> secret; empty = unsigned accepted
  int threads = 64;  // workers; each open connection holds one
};

class FirehoseServer {
 public:
  FirehoseServer(FirehoseService& service, ServerOptions options);
  ~FirehoseServer();
  // Binds; returns the bound port.
  Result<int> Bind();
  // Serves until Stop() (blocking).
  void Run();
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace orderlake::firehose
