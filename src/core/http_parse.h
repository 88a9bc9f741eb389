// The strict HTTP/1.1 request parsing of core/http_server.h, apart from any socket so it can
// be tested alone:
//   - ParseHead() reads a request line and its header fields into an httplib::Request and
//     decides how the body is framed. It refuses what a proxy and this server could read
//     differently (request smuggling): two Content-Length fields, Content-Length together
//     with Transfer-Encoding, a Content-Length that is not plain digits, a transfer coding
//     other than "chunked", folded lines, a space before the colon.
//   - ChunkedDecoder decodes a "Transfer-Encoding: chunked" body as its bytes arrive, bounded
//     by the same body limit, the chunk-size lines and the trailers by their own limits.
// Errors carry the HTTP status to answer (400, 413, 431, 501, 505) and a message for a person.
#pragma once
#include <httplib.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace orderlake::http {

enum class BodyKind { kNone, kLength, kChunked };

struct HeadResult {
  int status = 0;       // 0 = parsed; otherwise the status to answer (and close)
  std::string error;    // why, when status != 0
  BodyKind body = BodyKind::kNone;
  uint64_t content_length = 0;  // for kLength
  bool keep_alive = true;       // HTTP/1.1 unless "Connection: close"; 1.0 only with "keep-alive"
  bool expect_continue = false; // "Expect: 100-continue"
  bool ok() const { return status == 0; }
};

// `head` is the request line and the header lines, each ended by CRLF, without the blank
// line that ends the head. Fills method, target, path (URL-decoded), params (the query),
// version and headers of `req`.
HeadResult ParseHead(std::string_view head, httplib::Request& req);

class ChunkedDecoder {
 public:
  enum class State { kNeedMore, kDone, kError };
  ChunkedDecoder(size_t max_body_bytes, size_t max_trailer_bytes)
      : max_body_(max_body_bytes), max_trailer_(max_trailer_bytes) {}
  // Consumes what it can from the front of `in`, appending the decoded data to `body`.
  // kDone: the body ended (bytes after it stay in `in`); kError: see status()/error().
  State Feed(std::string& in, std::string& body);
  int status() const { return status_; }
  const std::string& error() const { return error_; }

 private:
  State Fail(int status, std::string why);
  enum class Step { kSize, kData, kDataEnd, kTrailer };
  Step step_ = Step::kSize;
  uint64_t left_ = 0;  // bytes of the current chunk still to come
  size_t trailer_bytes_ = 0;
  size_t max_body_, max_trailer_;
  int status_ = 0;
  std::string error_;
};

// The reason phrase of a status code ("Not Found"); "Unknown" for codes it does not know.
const char* ReasonPhrase(int status);

}  // namespace orderlake::http
