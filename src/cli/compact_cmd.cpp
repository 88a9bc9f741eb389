// `orderlake compact`: Delta Lake's OPTIMIZE and VACUUM for the curated table.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "core/log.h"
#include "table/compact.h"

namespace orderlake::cli {

void add_compact_command(CLI::App& app) {
  struct Args {
    std::string data_dir = "./orderlake-data";
    std::string lake;
    table::CompactOptions opt;
    uint64_t small_mb = 32, target_mb = 128;
    double retention_minutes = 10;
    bool no_vacuum = false, json = false;
    double every = 0;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("compact", "Merge the table's small files and delete files past retention (OPTIMIZE, VACUUM)");
  cmd->footer(R"(
In each partition of the Delta table with at least --min-files files smaller than
--small-mb, merges those files into files of up to --target-mb, in one commit that removes
the old files and adds the new ones: readers of any version see the same rows. Then deletes
files removed more than --retention-minutes ago (a reader of an older snapshot finds its
files until then), and every --checkpoint-interval commits writes a checkpoint of the log
(<version>.checkpoint.parquet and _last_checkpoint), from which readers start. The etl can
run meanwhile; a second compactor of the same table is
refused. Engines reading the plain Hive layout (not the Delta log) see both the old and the
merged files until they are deleted: give them --retention-minutes 0, or read the log.

Examples:
  orderlake compact --lake ./orderlake-data/lake
  orderlake compact --lake s3://my-lake/curated --every 30 --retention-minutes 60)");
  cmd->add_option("--data-dir", a->data_dir, "Root of the defaults: lake <data-dir>/lake")->capture_default_str();
  cmd->add_option("--lake", a->lake, "Lake root (path, file:// or s3://)");
  cmd->add_option("--table", a->opt.table, "Table name")->capture_default_str();
  cmd->add_option("--min-files", a->opt.min_files, "Merge a partition's small files when it has this many")
      ->capture_default_str()->check(CLI::Range(size_t{2}, size_t{1} << 20));
  cmd->add_option("--small-mb", a->small_mb, "Files smaller than this (MiB) are small")->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 20));
  cmd->add_option("--target-mb", a->target_mb, "Size of the merged files (MiB)")->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 20));
  cmd->add_option("--retention-minutes", a->retention_minutes, "Removed files are deleted after this long")
      ->capture_default_str()->check(CLI::Range(0.0, 1e7));
  cmd->add_flag("--no-vacuum", a->no_vacuum, "Do not delete removed files");
  cmd->add_option("--checkpoint-interval", a->opt.checkpoint_interval,
                  "Write a checkpoint of the log every this many commits (0 = never)")
      ->capture_default_str()->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  cmd->add_option("--every", a->every, "Keep running: compact every SECS seconds until Ctrl-C")
      ->check(CLI::Range(0.1, 86400.0));
  cmd->add_flag("--json", a->json, "Print each summary as one JSON line on stdout");

  cmd->callback([a] {
    table::CompactOptions opt = a->opt;
    opt.lake = a->lake.empty() ? a->data_dir + "/lake" : a->lake;
    opt.small_file_bytes = a->small_mb << 20;
    opt.target_file_bytes = a->target_mb << 20;
    opt.retention_ms = static_cast<int64_t>(a->retention_minutes * 60000);
    opt.vacuum = !a->no_vacuum;
    auto print = [a](const table::CompactSummary& s) {
      if (a->every <= 0 || s.files_removed || s.files_vacuumed || s.checkpoint >= 0) std::fputs(s.to_text().c_str(), stderr);
      if (a->json) {
        std::printf("%s\n", s.to_json().dump().c_str());
        std::fflush(stdout);
      }
    };
    if (a->every > 0) {
      static std::atomic<bool> stop{false};
      std::signal(SIGINT, [](int) { stop.store(true); });
      std::signal(SIGTERM, [](int) { stop.store(true); });
      Status st = table::compact_loop(opt, a->every, stop, print, [](const Status& e) {
        std::fprintf(stderr, "orderlake compact: %s (retrying)\n", e.message().c_str());
      });
      if (!st.ok()) {
        std::fprintf(stderr, "orderlake compact: %s\n", st.message().c_str());
        exit_code() = 1;
      }
      return;
    }
    auto c = table::Compactor::Open(opt);
    if (!c.ok()) {
      std::fprintf(stderr, "orderlake compact: %s\n", c.status().message().c_str());
      exit_code() = 1;
      return;
    }
    auto s = c.value()->RunOnce();
    if (!s.ok()) {
      std::fprintf(stderr, "orderlake compact: %s\n", s.status().message().c_str());
      exit_code() = 1;
      return;
    }
    print(s.value());
  });
}

}  // namespace orderlake::cli
