// agent.json: parse_config() on any text, with an environment of its own (no process
// variables, no ~/.aws files), must give a configuration or an error that names the file;
// an accepted configuration has flows whose limits are inside their documented ranges.
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/config.h"
#include "fuzz_util.h"

using namespace orderlake;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const agent::Environment env = [] {
    agent::Environment e;
    e.use_process_env = false;
    e.home = (fuzz::ScratchDir() / "home").string();  // no credentials files there
    return e;
  }();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = agent::parse_config(text, env, "agent.json");
  if (!config.ok()) {
    if (config.status().message().find("agent.json") == std::string::npos)
      fuzz::Fail("an error that does not name the file: " + config.status().message());
    return 0;
  }
  for (const auto& f : config->flows) {
    if (f.max_buffer_size_records < 1 || f.max_buffer_size_records > 500) fuzz::Fail("maxBufferSizeRecords out of range");
    if (f.max_buffer_size_bytes < 1 || f.max_buffer_size_bytes > 4 * 1024 * 1024) fuzz::Fail("maxBufferSizeBytes out of range");
    if (f.max_buffer_age_ms < 1000 || f.max_buffer_age_ms > 900000) fuzz::Fail("maxBufferAgeMillis out of range");
    if (f.delivery_stream.empty() || f.file_pattern.empty()) fuzz::Fail("a flow without a stream or a file pattern");
    (void)f.id();
  }
  (void)agent::region_from_endpoint(config->endpoint);
  return 0;
}
