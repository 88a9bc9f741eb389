// Firehose request handling. The input is "<mode>\n<rest>":
//   - mode "Prefix" / "ErrorOutputPrefix": <rest> is a prefix expression; when it parses,
//     it evaluates at several times and seeds, and if the evaluation at one time passes the
//     store's key rule (what CreateDeliveryStream checks) every evaluation does: a prefix
//     accepted at creation never leads outside the bucket later.
//   - mode "Base64": <rest> goes through the API's fast decoder and the core decoder, which
//     must agree (accept the same texts, give the same bytes), and a round trip.
//   - any other mode is an operation ("PutRecordBatch", "CreateDeliveryStream", ...): the
//     next line is the X-Orderlake-Batch header, the rest the JSON body, handled by a
//     FirehoseService (stream "t" exists, delivering at once) through its JSON dispatch.
//     Every answer is a JSON document with an HTTP status of 200, 4xx or 503.
// The service's data directory is on /dev/shm; it is started afresh every 2,000 calls so the
// delivered objects of a long run stay small.
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/base64.h"
#include "firehose/base64_fast.h"
#include "firehose/prefix.h"
#include "firehose/service.h"
#include "fuzz_util.h"
#include "store/keys.h"

using namespace orderlake;

namespace {

void FuzzPrefix(std::string_view text, bool error_prefix) {
  auto t = firehose::PrefixTemplate::Parse(text, error_prefix);
  if (!t.ok()) return;
  const int64_t now = 1764770400000;  // 2025-12-03 14:00 UTC
  const bool accepted = store::CheckPrefix(t->Evaluate(now, 1, "delivery-failed")).ok();
  // Arrival times from 1970 to 9999, and seeds, as the delivery thread may use them.
  for (int64_t ms : {int64_t{0}, int64_t{951782400000}, now, int64_t{253402300799999}}) {
    for (uint64_t seed : {uint64_t{0}, uint64_t{7}, ~uint64_t{0}}) {
      std::string key = t->Evaluate(ms, seed, error_prefix ? "processing-failed" : "");
      if (accepted && !store::CheckPrefix(key).ok())
        fuzz::Fail("prefix '" + std::string(text) + "' accepted at creation evaluates to '" + key + "'");
    }
  }
}

void FuzzBase64(std::string_view text) {
  std::string fast = "x";
  bool ok_fast = firehose::base64_decode_append(text, fast);
  auto core = base64_decode(text);
  if (ok_fast != core.has_value()) fuzz::Fail("the two base64 decoders disagree on acceptance");
  if (ok_fast && fast.substr(1) != *core) fuzz::Fail("the two base64 decoders disagree on the bytes");
  if (!ok_fast && fast != "x") fuzz::Fail("base64_decode_append changed its output on an error");
  auto back = base64_decode(base64_encode(text));
  if (!back || *back != text) fuzz::Fail("base64 round trip");
}

std::unique_ptr<firehose::FirehoseService> OpenService() {
  auto dir = fuzz::ScratchDir() / "firehose";
  std::filesystem::remove_all(dir);
  firehose::FirehoseOptions o;
  o.data_dir = dir;
  o.max_buffer_bytes = 4 << 20;
  auto svc = firehose::FirehoseService::Open(o);
  if (!svc.ok()) fuzz::Fail("cannot open the service: " + svc.status().message());
  auto created = (*svc)->Handle("Firehose_20150804.CreateDeliveryStream",
                                R"({"DeliveryStreamName":"t","ExtendedS3DestinationConfiguration":{)"
                                R"("RoleARN":"arn:aws:iam::123456789012:role/f","BucketARN":"arn:aws:s3:::raw",)"
                                R"("Prefix":"p/!{timestamp:yyyy/MM}/!{firehose:random-string}/",)"
                                R"("ErrorOutputPrefix":"e/!{firehose:error-output-type}/",)"
                                R"("BufferingHints":{"SizeInMBs":1,"IntervalInSeconds":0}}})");
  if (created.status != 200) fuzz::Fail("cannot create the stream: " + created.body);
  return std::move(*svc);
}

void FuzzApi(std::string_view operation, std::string_view rest) {
  static std::unique_ptr<firehose::FirehoseService> svc;
  static int calls = 0;
  if (!svc || ++calls % 2000 == 0) {
    svc.reset();
    svc = OpenService();
  }
  size_t nl = rest.find('\n');
  std::string_view batch = nl == std::string_view::npos ? std::string_view() : rest.substr(0, nl);
  std::string_view body = nl == std::string_view::npos ? rest : rest.substr(nl + 1);
  auto r = svc->Handle("Firehose_20150804." + std::string(operation), body, batch);
  if (r.status != 200 && (r.status < 400 || r.status > 503))
    fuzz::Fail("unexpected HTTP status " + std::to_string(r.status));
  auto doc = nlohmann::json::parse(r.body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) fuzz::Fail("the answer is not a JSON object: " + r.body);
  if (r.status != 200 && !doc.contains("__type")) fuzz::Fail("an error answer without __type: " + r.body);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  if (nl == std::string_view::npos || nl > 64) return 0;
  std::string_view mode = in.substr(0, nl), rest = in.substr(nl + 1);
  if (mode == "Prefix" || mode == "ErrorOutputPrefix")
    FuzzPrefix(rest, mode == "ErrorOutputPrefix");
  else if (mode == "Base64")
    FuzzBase64(rest);
  else
    FuzzApi(mode, rest);
  return 0;
}
