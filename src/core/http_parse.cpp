#include "core/http_parse.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace orderlake::http {
namespace {

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 9110 token characters (method and field names).
bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) continue;
    if (std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) return false;
  }
  return true;
}

HeadResult Bad(int status, std::string why) {
  HeadResult r;
  r.status = status;
  r.error = std::move(why);
  r.keep_alive = false;
  return r;
}

// The request line: METHOD SP target SP HTTP/1.x
HeadResult ParseRequestLine(std::string_view line, httplib::Request& req) {
  const size_t a = line.find(' ');
  const size_t b = a == std::string_view::npos ? a : line.find(' ', a + 1);
  if (b == std::string_view::npos || line.find(' ', b + 1) != std::string_view::npos)
    return Bad(400, "the request line must be 'METHOD TARGET HTTP/1.1'");
  const std::string_view method = line.substr(0, a), target = line.substr(a + 1, b - a - 1), version = line.substr(b + 1);
  if (!IsToken(method)) return Bad(400, "the request method is not a token");
  if (target.empty() || (target.front() != '/' && target != "*")) return Bad(400, "the request target must start with '/'");
  for (char c : target)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return Bad(400, "the request target has a control character");
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    if (version.rfind("HTTP/", 0) == 0) return Bad(505, fmt::format("HTTP version {} is not supported", version));
    return Bad(400, "the request line must end with HTTP/1.1");
  }
  req.method = std::string(method);
  req.target = std::string(target);
  req.version = std::string(version);
  const size_t q = target.find('?');
  req.path = httplib::detail::decode_url(std::string(target.substr(0, q)), false);
  if (q != std::string_view::npos) httplib::detail::parse_query_text(std::string(target.substr(q + 1)), req.params);
  return {};
}

}  // namespace

// size: one pass over the header lines, with each framing rule next to the field it reads
HeadResult ParseHead(std::string_view head, httplib::Request& req) {
  size_t eol = head.find("\r\n");
  if (eol == std::string_view::npos) return Bad(400, "the request head must end its lines with CRLF");
  HeadResult r = ParseRequestLine(head.substr(0, eol), req);
  if (!r.ok()) return r;
  r.keep_alive = req.version == "HTTP/1.1";
  int lengths = 0;
  bool chunked = false, has_te = false;
  for (size_t pos = eol + 2; pos < head.size(); pos = eol + 2) {
    eol = head.find("\r\n", pos);
    if (eol == std::string_view::npos) return Bad(400, "the request head must end its lines with CRLF");
    const std::string_view line = head.substr(pos, eol - pos);
    if (line.empty()) return Bad(400, "an empty line inside the request head");
    if (line.front() == ' ' || line.front() == '\t') return Bad(400, "folded header lines are not accepted");
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return Bad(400, "a header line without a colon");
    const std::string_view name = line.substr(0, colon), value = Trim(line.substr(colon + 1));
    if (!IsToken(name)) return Bad(400, "a header name that is not a token (or a space before its colon)");
    for (char c : value)
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
        return Bad(400, fmt::format("header {} has a control character", name));
    if (IEquals(name, "Content-Length")) {
      if (++lengths > 1) return Bad(400, "two Content-Length headers: send one");
      if (value.empty() || value.size() > 18 || value.find_first_not_of("0123456789") != std::string_view::npos)
        return Bad(400, fmt::format("Content-Length must be a decimal number, got '{}'", value.substr(0, 40)));
      r.content_length = 0;
      for (char c : value) r.content_length = r.content_length * 10 + static_cast<uint64_t>(c - '0');
    } else if (IEquals(name, "Transfer-Encoding")) {
      if (has_te) return Bad(400, "two Transfer-Encoding headers: send one");
      has_te = true;
      if (!IEquals(value, "chunked"))
        return Bad(501, fmt::format("Transfer-Encoding '{}' is not supported (only chunked)", value.substr(0, 40)));
      chunked = true;
    } else if (IEquals(name, "Connection")) {
      if (IEquals(value, "close")) r.keep_alive = false;
      else if (IEquals(value, "keep-alive")) r.keep_alive = true;
    } else if (IEquals(name, "Expect")) {
      if (!IEquals(value, "100-continue")) return Bad(417, fmt::format("Expect '{}' is not supported", value.substr(0, 40)));
      r.expect_continue = true;
    }
    req.headers.emplace(std::string(name), std::string(value));
  }
  if (lengths > 0 && chunked) return Bad(400, "Content-Length and Transfer-Encoding together: send one");
  r.body = chunked ? BodyKind::kChunked : lengths > 0 && r.content_length > 0 ? BodyKind::kLength : BodyKind::kNone;
  if (r.body == BodyKind::kNone) r.expect_continue = false;
  return r;
}

ChunkedDecoder::State ChunkedDecoder::Fail(int status, std::string why) {
  status_ = status;
  error_ = std::move(why);
  return State::kError;
}

// size: the four steps of the chunked grammar in one loop
ChunkedDecoder::State ChunkedDecoder::Feed(std::string& in, std::string& body) {
  constexpr size_t kMaxSizeLine = 1024;
  size_t pos = 0;
  State result = State::kNeedMore;
  while (status_ == 0 && result == State::kNeedMore) {
    if (step_ == Step::kData) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(left_, in.size() - pos));
      if (n == 0) break;
      body.append(in, pos, n);
      pos += n;
      left_ -= n;
      if (left_ == 0) step_ = Step::kDataEnd;
      continue;
    }
    const size_t eol = in.find("\r\n", pos);
    if (eol == std::string::npos) {
      const size_t pending = in.size() - pos;
      if (step_ != Step::kTrailer && pending > kMaxSizeLine) Fail(400, "a chunk-size line is too long");
      if (step_ == Step::kTrailer && trailer_bytes_ + pending > max_trailer_) Fail(431, "the chunked trailers are too large");
      break;
    }
    const std::string_view line(in.data() + pos, eol - pos);
    pos = eol + 2;
    if (step_ == Step::kDataEnd) {
      if (!line.empty()) Fail(400, "a chunk's data is longer than its size");
      step_ = Step::kSize;
    } else if (step_ == Step::kSize) {
      const std::string_view hex = line.substr(0, line.find(';'));  // chunk extensions are ignored
      if (hex.empty() || hex.size() > 15 || hex.find_first_not_of("0123456789abcdefABCDEF") != std::string_view::npos) {
        Fail(400, "a chunk size must be a hexadecimal number");
        break;
      }
      left_ = std::stoull(std::string(hex), nullptr, 16);
      if (left_ > max_body_ || body.size() + left_ > max_body_) {
        Fail(413, fmt::format("the body is larger than {} bytes", max_body_));
        break;
      }
      step_ = left_ == 0 ? Step::kTrailer : Step::kData;
    } else {  // trailers, ended by an empty line
      trailer_bytes_ += line.size() + 2;
      if (trailer_bytes_ > max_trailer_) Fail(431, "the chunked trailers are too large");
      else if (line.empty()) result = State::kDone;
    }
  }
  in.erase(0, pos);
  return status_ != 0 ? State::kError : result;
}

const char* ReasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

}  // namespace orderlake::http
