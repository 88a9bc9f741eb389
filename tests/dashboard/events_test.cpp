// GET /api/events (server-sent events) holds no worker between events (issue 16, item 8):
// more open pages than the server has workers still get their events, and the rest of the
// API keeps answering at once.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <thread>
#include <vector>

#include "dashboard/server.h"
#include "test_util.h"

namespace orderlake::dashboard {
namespace {
using orderlake::testing::TempDir;
using orderlake::testing::write_file;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// One browser's event stream, read with a raw socket.
class EventStream {
 public:
  explicit EventStream(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
      const std::string req = "GET /api/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n";
      [[maybe_unused]] auto n = ::send(fd_, req.data(), req.size(), MSG_NOSIGNAL);
    }
  }
  ~EventStream() { ::close(fd_); }
  // True once `what` has arrived (within the timeout).
  bool Saw(const std::string& what, std::chrono::milliseconds timeout) {
    const auto end = Clock::now() + timeout;
    while (got_.find(what) == std::string::npos && Clock::now() < end) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      got_.append(buf, static_cast<size_t>(n));
    }
    return got_.find(what) != std::string::npos;
  }

 private:
  int fd_ = -1;
  std::string got_;
};

TEST(DashboardEvents, MoreOpenPagesThanWorkersStillGetEventsAndTheApiAnswers) {
  TempDir lake;
  ServeOptions o;
  o.lake = lake.path();
  o.port = 0;
  o.poll = 600s;
  auto s = DashboardServer::Start(o);
  ASSERT_TRUE(s.ok()) << s.status().message();
  DashboardServer& server = **s;
  std::thread run([&] { (void)server.Run(); });
  constexpr int kPages = 80;  // the server has 64 workers
  std::vector<std::unique_ptr<EventStream>> pages;
  for (int i = 0; i < kPages; ++i) pages.push_back(std::make_unique<EventStream>(server.port()));
  int first = 0;
  for (auto& p : pages) first += p->Saw("retry: 1000", 3s);
  EXPECT_EQ(first, kPages);
  httplib::Client c("127.0.0.1", server.port());
  c.set_read_timeout(5, 0);
  const auto t0 = Clock::now();
  auto r = c.Get("/api/version");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_LT(Clock::now() - t0, 1s);
  // A new run: every open page hears of it.
  write_file(lake.path() / "_orderlake" / "orders" / "runs" / "20260101T000000Z-a.json", "{}");
  server.TableChanged();
  int told = 0;
  for (auto& p : pages) told += p->Saw("20260101T000000Z-a", 5s);
  EXPECT_EQ(told, kPages);
  server.Stop();
  run.join();
}

}  // namespace
}  // namespace orderlake::dashboard
