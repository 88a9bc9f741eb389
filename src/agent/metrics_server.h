// A tiny HTTP/1.0 endpoint for Prometheus: GET /metrics answers the text a callback renders;
// anything else is 404. One thread, one request per connection, loopback by default.
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "core/status.h"

namespace orderlake::agent {

class MetricsServer {
 public:
  // `listen` is HOST:PORT (port 0 picks a free one; see port()).
  static Result<std::unique_ptr<MetricsServer>> Start(const std::string& listen, std::function<std::string()> render);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;
  int port() const { return port_; }

 private:
  MetricsServer() = default;
  void loop();
  int fd_ = -1;
  int port_ = 0;
  std::function<std::string()> render_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace orderlake::agent
