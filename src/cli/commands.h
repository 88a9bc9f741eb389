// Each subcommand registers itself on the CLI11 app; the callback runs the stage and
// sets the process exit code (0 ok, non-zero with a one-line reason on stderr).
#pragma once
#include <CLI/CLI.hpp>

#include "core/tls.h"

namespace orderlake::cli {
// Exit code of the subcommand that ran; set by the subcommand's callback.
int& exit_code();

void add_generate_command(CLI::App& app);
void add_etl_command(CLI::App& app);
void add_query_command(CLI::App& app);
void add_firehose_command(CLI::App& app);
void add_serve_command(CLI::App& app);
void add_agent_command(CLI::App& app);
void add_up_command(CLI::App& app);
void add_crawl_command(CLI::App& app);
void add_compact_command(CLI::App& app);
void add_aws_command(CLI::App& app);

// --tls-cert/--tls-key of a command whose only listener is --metrics-listen.
inline void add_metrics_tls_options(CLI::App* cmd, http::TlsOptions& tls) {
  cmd->add_option("--tls-cert", tls.cert_file, "PEM certificate chain: --metrics-listen speaks HTTPS only");
  cmd->add_option("--tls-key", tls.key_file, "PEM private key of --tls-cert");
}
}  // namespace orderlake::cli
