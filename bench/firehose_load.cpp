// Load client for bench/firehose_ingest.sh: several threads, each with one keep-alive HTTP/1.1
// connection, sending PutRecordBatch requests (RECORDS records of RECORD_BYTES bytes, each
// ending in '\n', distinct per request) for SECONDS seconds. An answer counts as acknowledged
// when it is HTTP 200 with "FailedPutCount":0. Prints one JSON line of totals and latencies.
//
//   firehose_load HOST PORT STREAM CLIENTS SECONDS [RECORDS=500] [RECORD_BYTES=100]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string b64(const std::string& in) {
  std::string out;
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<unsigned>(static_cast<unsigned char>(in[k])); };
  for (; i + 3 <= in.size(); i += 3) {
    unsigned v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i + 1 == in.size()) {
    unsigned v = byte(i) << 16;
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    unsigned v = byte(i) << 16 | byte(i + 1) << 8;
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

struct Stats {
  uint64_t requests = 0, acked_records = 0, acked_bytes = 0, failures = 0;
  std::vector<double> latencies_ms;
};

int connect_to(const char* host, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, host, &a.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// Sends one request and reads one response; returns the HTTP status (or -1) and the body.
int roundtrip(int fd, const std::string& req, std::string& body) {
  size_t off = 0;
  while (off < req.size()) {
    ssize_t n = ::send(fd, req.data() + off, req.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return -1;
    off += static_cast<size_t>(n);
  }
  std::string buf;
  char tmp[65536];
  size_t header_end = std::string::npos, content_length = 0;
  for (;;) {
    ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) return -1;
    buf.append(tmp, static_cast<size_t>(n));
    if (header_end == std::string::npos) {
      header_end = buf.find("\r\n\r\n");
      if (header_end == std::string::npos) continue;
      std::string head = buf.substr(0, header_end);
      for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      auto p = head.find("content-length:");
      content_length = p == std::string::npos ? 0 : std::strtoull(head.c_str() + p + 15, nullptr, 10);
    }
    if (buf.size() >= header_end + 4 + content_length) break;
  }
  body = buf.substr(header_end + 4, content_length);
  return std::atoi(buf.c_str() + 9);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: firehose_load HOST PORT STREAM CLIENTS SECONDS [RECORDS] [RECORD_BYTES]\n");
    return 2;
  }
  const char* host = argv[1];
  int port = std::atoi(argv[2]);
  std::string stream = argv[3];
  int clients = std::atoi(argv[4]);
  double seconds = std::atof(argv[5]);
  int records = argc > 6 ? std::atoi(argv[6]) : 500;
  int record_bytes = argc > 7 ? std::atoi(argv[7]) : 100;

  std::vector<Stats> stats(static_cast<size_t>(clients));
  std::vector<std::thread> threads;
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + std::chrono::duration<double>(seconds);
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      Stats& st = stats[static_cast<size_t>(c)];
      int fd = connect_to(host, port);
      std::string body;
      for (uint64_t r = 0; std::chrono::steady_clock::now() < deadline; ++r) {
        // Distinct records: client, request and record numbers, padded to record_bytes.
        std::string json = "{\"DeliveryStreamName\":\"" + stream + "\",\"Records\":[";
        for (int i = 0; i < records; ++i) {
          char head[64];
          int n = std::snprintf(head, sizeof head, "%d,%llu,%d,", c, static_cast<unsigned long long>(r), i);
          std::string rec(head, static_cast<size_t>(n));
          rec.resize(static_cast<size_t>(std::max(record_bytes - 1, n)), 'x');
          rec += '\n';
          json += i ? ",{\"Data\":\"" : "{\"Data\":\"";
          json += b64(rec);
          json += "\"}";
        }
        json += "]}";
        std::string req = "POST / HTTP/1.1\r\nHost: " + std::string(host) + ":" + std::to_string(port) +
                          "\r\nContent-Type: application/x-amz-json-1.1\r\n"
                          "X-Amz-Target: Firehose_20150804.PutRecordBatch\r\nContent-Length: " +
                          std::to_string(json.size()) + "\r\n\r\n" + json;
        if (fd < 0) fd = connect_to(host, port);
        auto t0 = std::chrono::steady_clock::now();
        int status = fd < 0 ? -1 : roundtrip(fd, req, body);
        auto t1 = std::chrono::steady_clock::now();
        ++st.requests;
        if (status == 200 && body.find("\"FailedPutCount\":0") != std::string::npos) {
          st.acked_records += static_cast<uint64_t>(records);
          st.acked_bytes += static_cast<uint64_t>(records) * static_cast<uint64_t>(record_bytes);
          st.latencies_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        } else {
          ++st.failures;
          if (status < 0) {
            if (fd >= 0) ::close(fd);
            fd = -1;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
          }
        }
      }
      if (fd >= 0) ::close(fd);
    });
  }
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  Stats total;
  for (auto& s : stats) {
    total.requests += s.requests;
    total.acked_records += s.acked_records;
    total.acked_bytes += s.acked_bytes;
    total.failures += s.failures;
    total.latencies_ms.insert(total.latencies_ms.end(), s.latencies_ms.begin(), s.latencies_ms.end());
  }
  std::sort(total.latencies_ms.begin(), total.latencies_ms.end());
  auto pct = [&](double p) {
    if (total.latencies_ms.empty()) return 0.0;
    return total.latencies_ms[std::min(total.latencies_ms.size() - 1,
                                       static_cast<size_t>(p * static_cast<double>(total.latencies_ms.size())))];
  };
  std::printf(
      "{\"seconds\":%.2f,\"clients\":%d,\"requests\":%llu,\"failed_requests\":%llu,\"acked_records\":%llu,"
      "\"records_per_s\":%.0f,\"mb_per_s\":%.2f,\"p50_ms\":%.2f,\"p99_ms\":%.2f}\n",
      elapsed, clients, static_cast<unsigned long long>(total.requests),
      static_cast<unsigned long long>(total.failures), static_cast<unsigned long long>(total.acked_records),
      static_cast<double>(total.acked_records) / elapsed, static_cast<double>(total.acked_bytes) / elapsed / 1e6,
      pct(0.50), pct(0.99));
  return 0;
}
