// `orderlake up`: the whole pipeline in one process on embedded defaults:
//
//   generate ──files──▶ agent ──Firehose API (HTTP, SigV4)──▶ firehose ──objects──▶ raw store
//        dashboard ◀── query ◀── lake ◀── etl (a batch every 250 ms) ◀─────────────┘
//
// Each stage is the same code as its standalone subcommand and talks to the next through
// the same interface: the generator writes log files, the agent tails them and calls the
// Firehose API over loopback HTTP with a key pair generated for this data directory, the
// firehose delivers objects to <data-dir>/s3/<bucket>/, the etl reads them with its
// bookmark and publishes to <data-dir>/lake, and the dashboard serves that lake.
// Everything lives under the data directory, so running again continues where it stopped.
#pragma once
#include <atomic>
#include <filesystem>
#include <string>

#include "core/status.h"

namespace orderlake::up {

struct UpOptions {
  std::filesystem::path data_dir = "./orderlake-data";
  double rate = 100;          // generated order lines per second
  double duration_s = 0;      // stop after this long; 0 = until Ctrl-C
  std::string logs;           // tail this directory's *.log instead of generating
  std::string host = "127.0.0.1";
  int dashboard_port = 8080;  // 0 = any free port
  int firehose_port = 0;      // 0 = any free port
  int etl_interval_ms = 250;
  double status_interval_s = 2;  // the live status line on stderr; 0 = none
  std::string stream = "tbsm-red-fire";
  std::string bucket = "orderlake-raw";
};

// Runs until options.duration_s passed or *stop became true; prints the dashboard URL on
// stdout once everything is up. Returns the first error that stopped the pipeline.
Status run_up(const UpOptions& options, const std::atomic<bool>& stop);

}  // namespace orderlake::up
