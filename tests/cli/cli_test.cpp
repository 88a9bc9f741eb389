// The command line as a user meets it: every subcommand documents itself, usage errors exit 2
// with a message naming the flag, failures of the work exit 1 with a one-line reason.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/version.h"
#include "test_util.h"

namespace orderlake::testing {
namespace {

const std::vector<std::string> kSubcommands = {"generate", "etl",   "query", "firehose", "serve",
                                               "agent",    "up",    "crawl", "compact"};

// The lines of stderr that are not log lines (spdlog's start with "[").
std::vector<std::string> message_lines(const std::string& err) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < err.size()) {
    size_t nl = err.find('\n', pos);
    if (nl == std::string::npos) nl = err.size();
    std::string line = err.substr(pos, nl - pos);
    if (!line.empty() && line[0] != '[') out.push_back(line);
    pos = nl + 1;
  }
  return out;
}

TEST(Cli, NoSubcommandIsAUsageError) {
  auto r = run_orderlake({}, 30);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("subcommand"), std::string::npos) << r.err;
}

TEST(Cli, UnknownSubcommandIsAUsageError) {
  auto r = run_orderlake({"frobnicate"}, 30);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("frobnicate"), std::string::npos) << r.err;
}

TEST(Cli, VersionPrintsTheVersion) {
  auto r = run_orderlake({"--version"}, 30);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(std::string(kVersion)), std::string::npos) << r.out;
}

TEST(Cli, TopLevelHelpListsEverySubcommand) {
  auto r = run_orderlake({"--help"}, 30);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const auto& s : kSubcommands) EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
}

TEST(Cli, EverySubcommandHasHelpWithUsageOptionsAndExamples) {
  for (const auto& s : kSubcommands) {
    SCOPED_TRACE(s);
    auto r = run_orderlake({s, "--help"}, 30);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("orderlake " + s), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("OPTIONS"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Examples:"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("-h,--help"), std::string::npos) << r.out;
    EXPECT_TRUE(r.err.empty()) << r.err;
  }
}

TEST(Cli, AnUnknownFlagIsAUsageErrorNamingIt) {
  for (const auto& s : kSubcommands) {
    SCOPED_TRACE(s);
    auto r = run_orderlake({s, "--no-such-flag"}, 30);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("--no-such-flag"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

TEST(Cli, OutOfRangeAndMalformedValuesAreUsageErrorsNamingTheFlag) {
  struct Case {
    std::vector<std::string> args;
    std::string flag;
  };
  const std::vector<Case> cases = {
      {{"etl", "--interval-ms", "5"}, "--interval-ms"},
      {{"etl", "--threads", "many"}, "--threads"},
      {{"etl", "--usd-rate", "-1"}, "--usd-rate"},
      {{"generate", "--out", "x", "--count", "ten"}, "--count"},
      {{"query", "--format", "xml", "SELECT 1"}, "--format"},
      {{"up", "--rate", "abc"}, "--rate"},
      {{"compact", "--every", "-5"}, "--every"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.args[0] + " " + c.flag);
    auto r = run_orderlake(c.args, 30);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(c.flag), std::string::npos) << r.err;
  }
}

TEST(Cli, AMissingRequiredArgumentIsAUsageError) {
  auto r = run_orderlake({"crawl"}, 30);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("location"), std::string::npos) << r.err;
}

TEST(Cli, AMissingAgentConfigIsAConfigurationErrorNamingTheFile) {
  TempDir dir;
  const std::string missing = dir.str() + "/no-agent.json";
  auto r = run_orderlake({"agent", "--config", missing}, 30);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("no-agent.json"), std::string::npos) << r.err;
}

TEST(Cli, AFailedRunExitsOneWithAOneLineReason) {
  TempDir dir;
  auto r = run_orderlake({"query", "--lake", dir.str() + "/no-such-lake", "SELECT 1 FROM orders"}, 60);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const auto lines = message_lines(r.err);
  ASSERT_EQ(lines.size(), 1u) << r.err;
  EXPECT_NE(lines[0].find("no-such-lake"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace orderlake::testing
