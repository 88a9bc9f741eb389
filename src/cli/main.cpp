// orderlake: the AWS real-time order-history pipeline as one program.
#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "core/log.h"
#include "core/version.h"

namespace orderlake::cli {
int& exit_code() {
  static int code = 0;
  return code;
}
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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "orderlake: %s\n", e.what());
    return 1;
  }
  return orderlake::cli::exit_code();
}
