// `orderlake up` discovers raw objects by notification: its firehose records each object in
// the bucket's event log and its etl reads only those events (etl/notifications.h), so the
// runs after the first list no data, and the consumed events are deleted.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "test_util.h"
#include "up_banner.h"

namespace orderlake {
namespace {
using nlohmann::json;
using testing::BackgroundProcess;
using testing::run_orderlake;
using testing::run_process;
using testing::TempDir;
using testing::wait_for;

double metric(const std::string& text, const std::string& name) {
  const size_t at = text.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + name.size() + 2));
}

TEST(UpNotify, TheEtlReadsTheFirehoseEventLog) {
  TempDir d;
  const std::string data = (d.path() / "data").string();
  BackgroundProcess up({ORDERLAKE_BINARY, "up", "--data-dir", data, "--rate", "300", "--port", "0",
                        "--status-interval", "0"});
  std::string url = orderlake::testing::WaitForDashboardUrl(up);
  ASSERT_FALSE(url.empty()) << up.err();
  while (url.back() == '/') url.pop_back();
  std::string text;
  ASSERT_TRUE(wait_for(
      [&] {
        auto r = run_process({"curl", "-sf", url + "/metrics"});
        text = r.out;
        return r.exit_code == 0 && metric(text, "orderlake_etl_events_read_total") >= 20;
      },
      90))
      << text.substr(0, 2000) << up.err();
  EXPECT_NE(text.find("orderlake_etl_objects_listed_total{discovery=\"notification\"}"), std::string::npos);
  EXPECT_EQ(up.Stop(SIGINT, 60), 0) << up.err();
  // The events the etl committed are gone: at most the last few are left.
  size_t events = 0;
  const auto dir = std::filesystem::path(data) / "s3" / "orderlake-raw" / "_orderlake" / "events";
  if (std::filesystem::exists(dir))
    for (auto& e : std::filesystem::recursive_directory_iterator(dir)) events += e.is_regular_file();
  EXPECT_LE(events, 10u);
}

}  // namespace
}  // namespace orderlake
