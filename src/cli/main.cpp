// orderlake: the AWS real-time order-history pipeline as one program.
// Exit codes: 0 success, 1 the work failed, 2 a usage or configuration error.
#include <cstdio>
#include <exception>
#include <string>

#include "cli/commands.h"
#include "core/log.h"
#include "core/version.h"

namespace orderlake::cli {
int& exit_code() {
  static int code = 0;
  return code;
}

namespace {
// CLI11 reports a missing subcommand or argument before an unknown one, which hides the
// user's real mistake ("orderlake frobnicate", "orderlake crawl --no-such-flag"). The first
// word that is neither a subcommand nor an option of the subcommand it follows, or "".
std::string first_unknown_word(CLI::App& app, int argc, char** argv) {
  CLI::App* cur = &app;
  for (int i = 1; i < argc; ++i) {
    std::string w = argv[i];
    if (w == "--") break;
    if (w.rfind("-", 0) == 0) {
      const std::string name = w.substr(0, w.find('='));
      CLI::Option* opt = cur->get_option_no_throw(name);
      if (!opt && cur != &app) opt = app.get_option_no_throw(name);
      if (!opt) return name;
      if (opt->get_type_size() != 0 && w.find('=') == std::string::npos) ++i;  // its value
      continue;
    }
    if (cur == &app) {
      const auto subs = app.get_subcommands([&w](CLI::App* s) { return s->check_name(w); });
      if (subs.empty()) return "'" + w + "'";
      cur = subs.front();
    }
  }
  return {};
}
}  // namespace
}  // namespace orderlake::cli

int main(int argc, char** argv) {
  CLI::App app{"orderlake: real-time order history, from log line to dashboard", "orderlake"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(orderlake::kVersion));
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  app.parse_complete_callback([&] { orderlake::init_logging(log_level); });

  orderlake::cli::add_generate_command(app);
  orderlake::cli::add_etl_command(app);
  orderlake::cli::add_query_command(app);
  orderlake::cli::add_firehose_command(app);
  orderlake::cli::add_serve_command(app);
  orderlake::cli::add_agent_command(app);
  orderlake::cli::add_up_command(app);
  orderlake::cli::add_crawl_command(app);
  orderlake::cli::add_compact_command(app);
  orderlake::cli::add_aws_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::RequiredError& e) {
    const std::string unknown = orderlake::cli::first_unknown_word(app, argc, argv);
    if (unknown.empty()) return app.exit(e) == 0 ? 0 : 2;
    std::fprintf(stderr, "orderlake: unknown %s %s\nRun with --help for more information.\n",
                 unknown[0] == '\'' ? "subcommand" : "option", unknown.c_str());
    return 2;
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error (unknown flag, missing or invalid
    // value) exits 2, as a configuration error does, so scripts tell it from a failed run (1).
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "orderlake: %s\n", e.what());
    return 1;
  }
  return orderlake::cli::exit_code();
}
