// SigV4 verification of a received request. The input is an HTTP-like text:
//   <method> <path>[?<query>]\n<name>: <value>\n...\n\n<body>
// verify() must answer with ok or one of the four AWS error types, never anything else.
// When the request carries no Authorization header of its own and its header names are
// plain tokens, it is also signed with authorization() (every header signed) and must then
// verify; with one byte of the body changed it must not.
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "aws/sigv4.h"
#include "fuzz_util.h"

using namespace orderlake;

namespace {

bool PlainToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

bool KnownError(const aws::VerifyResult& r) {
  return r.error_type == "MissingAuthenticationTokenException" || r.error_type == "IncompleteSignatureException" ||
         r.error_type == "UnrecognizedClientException" || r.error_type == "InvalidSignatureException";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t head_end = in.find("\n\n");
  std::string_view head = in.substr(0, head_end);
  std::string_view body = head_end == std::string_view::npos ? std::string_view() : in.substr(head_end + 2);
  aws::ReceivedRequest req;
  size_t nl = head.find('\n');
  std::string_view first = head.substr(0, nl);
  size_t sp = first.find(' ');
  req.method = first.substr(0, sp);
  std::string_view target = sp == std::string_view::npos ? std::string_view("/") : first.substr(sp + 1);
  size_t q = target.find('?');
  req.path = target.substr(0, q);
  if (q != std::string_view::npos) req.query = target.substr(q + 1);
  bool plain = true, has_auth = false;
  while (nl != std::string_view::npos) {
    size_t start = nl + 1;
    nl = head.find('\n', start);
    std::string_view line = head.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = line.substr(0, colon), value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    req.headers.emplace_back(name, value);
    plain = plain && PlainToken(name) && name != "x-amz-date" && name != "x-amz-content-sha256";
    has_auth = has_auth || name == "authorization" || name == "Authorization";
  }
  req.body = body;

  const std::map<std::string, std::string> keys{{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}};
  const auto now = std::chrono::sys_days(std::chrono::year(2025) / 12 / 3) + std::chrono::hours(14);
  aws::VerifyResult r = aws::verify(req, keys, "firehose", now);
  if (!r.ok && !KnownError(r)) fuzz::Fail("verify gave the error type '" + r.error_type + "'");
  if (r.ok && r.access_key != "AKIDEXAMPLE") fuzz::Fail("verified an unknown key");

  if (has_auth || !plain) return 0;
  const std::string stamp = aws::amz_date(now);
  aws::ReceivedRequest s = req;
  s.headers.emplace_back("x-amz-date", stamp);
  aws::Credentials creds{"AKIDEXAMPLE", keys.begin()->second, "", ""};
  const std::string auth = aws::authorization(s, creds, "us-east-1", "firehose", stamp);
  s.headers.emplace_back("authorization", auth);
  aws::VerifyResult good = aws::verify(s, keys, "firehose", now);
  if (!good.ok) fuzz::Fail("a request signed by authorization() does not verify: " + good.message);
  std::string changed(body);
  changed.push_back('x');
  s.body = changed;
  if (aws::verify(s, keys, "firehose", now).ok) fuzz::Fail("a changed body still verifies");
  return 0;
}
