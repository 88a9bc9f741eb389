// `orderlake up`: the whole pipeline in one process on embedded defaults:
//
//   generate ──files──▶ agent ──Firehose API (HTTP, SigV4)──▶ firehose ──objects──▶ raw store
//        dashboard ◀── query ◀── lake ◀── etl (woken by each delivery) ◀────────────┘
//
// Each stage is the same code as its standalone subcommand and talks to the next through
// the same interface: the generator writes log files, the agent tails them and calls the
// Firehose API over loopback HTTP with a key pair generated for this data directory, the
// firehose delivers objects to <data-dir>/s3/<bucket>/, the etl reads them with its
// bookmark and publishes to <data-dir>/lake, and the dashboard serves that lake.
// Everything lives under the data directory, so running again continues where it stopped.
//
// Tuned for freshness, in process only: the agent polls its files every agent_poll_ms and
// sends a batch once it is agent_buffer_ms old (below the Kinesis Agent's documented
// minimum maxBufferAgeMillis of 1000 ms, which agent.json files keep); the firehose
// delivers at once (IntervalInSeconds 0) and wakes the etl on every delivery, which starts
// a batch at once unless the previous one started less than etl_min_gap_ms ago (the
// deliveries in between go into one batch: fewer, larger commits and table files); the etl
// still lists every etl_interval_ms, as `etl --follow` does. Each commit makes the
// dashboard look at the table at once.
//
// The AWS endpoint (--aws-port, default 4566, loopback only, no keys: unsigned requests
// and any well-formed signature are accepted) serves Athena, Glue and S3 over the data
// directory and the same Firehose service the agent writes to; the raw bucket and the lake
// are read-only there.
//
// The dashboard's port also serves GET /metrics (every stage's counters, Prometheus text)
// and GET /health (each stage up or down, last activity, lag; HTTP 503 when one is down);
// see up/monitor.h.
#pragma once
#include <atomic>
#include <filesystem>
#include <string>

#include "core/status.h"
#include "core/tls.h"

namespace orderlake::up {

// What `orderlake up` maps its flags to; run_up checks Validate() (errors name the flags)
// and then the options it builds for each stage through that stage's own Validate().
struct UpOptions {
  std::filesystem::path data_dir = "./orderlake-data";
  double rate = 100;          // generated order lines per second
  double duration_s = 0;      // stop after this long; 0 = until Ctrl-C
  std::string logs;           // tail this directory's *.log instead of generating
  std::string host = "127.0.0.1";
  int dashboard_port = 8080;  // 0 = any free port
  int firehose_port = 0;      // 0 = any free port
  // Every AWS API (Athena, Glue, S3, Firehose) on one loopback port (endpoint/edge.h);
  // 0 = any free port. When the default port is taken (e.g. by LocalStack) a free one is
  // used instead, with a warning; a port given explicitly must be free.
  int aws_port = 4566;
  bool aws = true;            // false: no AWS endpoint
  // --tls-cert/--tls-key: every listener (dashboard, firehose, AWS endpoint) speaks HTTPS
  // only. up's agent verifies the firehose's certificate against AWS_CA_BUNDLE when set,
  // else against the certificate itself (a self-signed one, with IP:127.0.0.1 among its
  // subject alternative names).
  http::TlsOptions tls;
  int etl_interval_ms = 1000;    // the etl lists the raw store this often even without a wake-up
  int etl_min_gap_ms = 500;      // and starts batches at least this far apart (deliveries in between wait)
  int agent_poll_ms = 50;        // the agent looks at its files this often (minTimeBetweenFilePollsMillis)
  int agent_buffer_ms = 50;      // and sends a batch once it is this old (maxBufferAgeMillis)
  double status_interval_s = 2;  // the live status line on stderr; 0 = none
  double compact_every_s = 5;    // table compaction (and vacuum, checkpoints) this often; 0 = never
  double retention_minutes = 10;  // files compaction removed are deleted after this long
  // --log-retention: the table's Delta log (delta.logRetentionDuration, set on the table
  // when it differs) and the etl's run records before they are rolled up. Disk: at the
  // default rate ~2 commits/s of ~2 KB plus a checkpoint every 10: ~15 MB per hour kept.
  int64_t log_retention_ms = 3'600'000;
  // --raw-retention: raw objects older than this and already committed by the etl are
  // deleted (0 = never). Disk: at 100 orders/s about 25 MB of raw objects per hour kept.
  int64_t raw_retention_ms = 24 * 3'600'000LL;
  // --etl-lookback: the etl's look-back window (etl --lookback). up's firehose delivers at
  // once (IntervalInSeconds 0), so an object lands within seconds of the time in its key;
  // 2 minutes covers delivery retries. A raw object is deleted only once the window passed it.
  int64_t etl_lookback_ms = 2 * 60'000;
  std::string stream = "tbsm-red-fire";
  std::string bucket = "orderlake-raw";

  Status Validate() const;
};

// Runs until options.duration_s passed or *stop became true; prints the dashboard URL on
// stdout once everything is up. Returns the first error that stopped the pipeline (or the
// first option that failed validation, before anything started).
Status run_up(const UpOptions& options, const std::atomic<bool>& stop);

}  // namespace orderlake::up
