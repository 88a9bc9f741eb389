// The strict request parsing of core/http_parse.h: framing rules (request smuggling) and the
// chunked decoder fed byte by byte.
#include "core/http_parse.h"

#include <gtest/gtest.h>

namespace orderlake::http {
namespace {

HeadResult Parse(const std::string& head, httplib::Request* out = nullptr) {
  httplib::Request req;
  HeadResult r = ParseHead(head, req);
  if (out) *out = req;
  return r;
}

TEST(HttpParse, RequestLineHeadersPathAndQuery) {
  httplib::Request req;
  HeadResult r = Parse("GET /a%20b/c?x=1&y=two%21 HTTP/1.1\r\nHost: h\r\nX-Thing:  v v \r\n", &req);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.path, "/a b/c");
  EXPECT_EQ(req.target, "/a%20b/c?x=1&y=two%21");
  EXPECT_EQ(req.get_param_value("x"), "1");
  EXPECT_EQ(req.get_param_value("y"), "two!");
  EXPECT_EQ(req.get_header_value("x-thing"), "v v");
  EXPECT_EQ(r.body, BodyKind::kNone);
  EXPECT_TRUE(r.keep_alive);
}

TEST(HttpParse, KeepAliveFollowsVersionAndConnection) {
  EXPECT_FALSE(Parse("GET / HTTP/1.1\r\nConnection: close\r\n").keep_alive);
  EXPECT_FALSE(Parse("GET / HTTP/1.0\r\n").keep_alive);
  EXPECT_TRUE(Parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n").keep_alive);
}

TEST(HttpParse, BodyFraming) {
  HeadResult r = Parse("POST / HTTP/1.1\r\nContent-Length: 12\r\nExpect: 100-continue\r\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.body, BodyKind::kLength);
  EXPECT_EQ(r.content_length, 12u);
  EXPECT_TRUE(r.expect_continue);
  r = Parse("POST / HTTP/1.1\r\ntransfer-encoding: Chunked\r\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.body, BodyKind::kChunked);
}

TEST(HttpParse, RefusesAmbiguousFraming) {
  // Two Content-Length headers (issue 16): equal or not, refused.
  HeadResult r = Parse("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.error.find("two Content-Length"), std::string::npos);
  EXPECT_FALSE(r.keep_alive);
  EXPECT_EQ(Parse("POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 6\r\n").status, 400);
  EXPECT_EQ(Parse("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n").status, 400);
  EXPECT_EQ(Parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n").status, 400);
  EXPECT_EQ(Parse("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n").status, 501);
  for (const char* bad : {"-1", "+5", "5 5", "0x10", "", "99999999999999999999", "5,5"})
    EXPECT_EQ(Parse(std::string("POST / HTTP/1.1\r\nContent-Length: ") + bad + "\r\n").status, 400) << bad;
}

TEST(HttpParse, RefusesMalformedHeads) {
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\n folded\r\n").status, 400);
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nName : v\r\n").status, 400);
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nNoColon\r\n").status, 400);
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nX: a\x01b\r\n").status, 400);
  EXPECT_EQ(Parse("GET  / HTTP/1.1\r\n").status, 400);
  EXPECT_EQ(Parse("GET relative HTTP/1.1\r\n").status, 400);
  EXPECT_EQ(Parse("GET / HTTP/2.0\r\n").status, 505);
  EXPECT_EQ(Parse("GET / FTP/1.0\r\n").status, 400);
  EXPECT_EQ(Parse("GET / HTTP/1.1\nHost: x\n").status, 400);
  EXPECT_EQ(Parse("POST / HTTP/1.1\r\nContent-Length: 1\r\nExpect: 200-ok\r\n").status, 417);
}

TEST(HttpChunked, DecodesWhateverTheSplit) {
  const std::string wire = "5;ext=1\r\nhello\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer: x\r\n\r\nNEXT";
  for (size_t step : {size_t{1}, size_t{2}, size_t{7}, wire.size()}) {
    ChunkedDecoder d(1000, 1000);
    std::string in, body;
    ChunkedDecoder::State st = ChunkedDecoder::State::kNeedMore;
    size_t pos = 0;
    while (st == ChunkedDecoder::State::kNeedMore && pos < wire.size()) {
      in += wire.substr(pos, step);
      pos += step;
      st = d.Feed(in, body);
    }
    ASSERT_EQ(st, ChunkedDecoder::State::kDone) << "step " << step << ": " << d.error();
    EXPECT_EQ(body, "helloabcdefghijklmnopqrstuvwxyz");
    EXPECT_EQ(in + wire.substr(std::min(pos, wire.size())), "NEXT");
  }
}

TEST(HttpChunked, BoundsAndErrors) {
  auto run = [](const std::string& wire, size_t max_body, int* status) {
    ChunkedDecoder d(max_body, 64);
    std::string in = wire, body;
    auto st = d.Feed(in, body);
    *status = d.status();
    return st;
  };
  int status = 0;
  // A declared chunk larger than the limit is refused before its data arrives.
  EXPECT_EQ(run("ffffff\r\n", 1000, &status), ChunkedDecoder::State::kError);
  EXPECT_EQ(status, 413);
  EXPECT_EQ(run("200\r\n" + std::string(512, 'a') + "\r\n200\r\n", 1000, &status), ChunkedDecoder::State::kError);
  EXPECT_EQ(status, 413);
  EXPECT_EQ(run("zz\r\n", 1000, &status), ChunkedDecoder::State::kError);
  EXPECT_EQ(status, 400);
  EXPECT_EQ(run("3\r\nabcd\r\n", 1000, &status), ChunkedDecoder::State::kError);
  EXPECT_EQ(status, 400);
  EXPECT_EQ(run(std::string(2000, '1'), 1000, &status), ChunkedDecoder::State::kError);
  EXPECT_EQ(status, 400);
  EXPECT_EQ(run("0\r\n" + std::string(100, 'x'), 1000, &status), ChunkedDecoder::State::kError);
  EXPECT_EQ(status, 431);
}

}  // namespace
}  // namespace orderlake::http
