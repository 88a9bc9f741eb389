// The agent: for each flow of agent.json, a reader thread tails the files matching the
// flow's pattern and cuts their records into batches (never mixing two files), and a sender
// thread delivers the batches in order with PutRecordBatch. A bounded queue between them
// holds at most publishQueueCapacity batches, so memory stays bounded whatever the backlog:
// when the sender falls behind, the reader waits.
//
// Files are known by (device, inode, hash of their first bytes), so a renamed file is
// finished under its new name and a new file under the old name is read from its start;
// a file that shrinks below the read position (copy-truncate) is read again from 0, and a
// copy carrying the old first bytes resumes where the original stopped. A partial last line
// waits for its newline (a file that went away is flushed with one added).
//
// The checkpoint of a file advances only when the batch ending there was acknowledged, so
// a crash loses nothing; batches are sent with an X-Orderlake-Batch token so that
// orderlake's Firehose drops a batch it already accepted (exactly-once), while a foreign
// Firehose sees at-least-once delivery, as with the Kinesis Agent. The byte range of each
// batch is noted before it is sent (CheckpointStore::begin_send), and after a restart the
// first batches of a file are cut at the same ends, so a replay carries the same token.
// Each flow has one sender: a file's batches go out one at a time and in order, as the
// token protocol needs, and an older file is finished before a newer one.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent/checkpoint.h"
#include "agent/config.h"
#include "core/metrics.h"
#include "core/status.h"

namespace orderlake::agent {

struct FlowCounters {
  std::atomic<uint64_t> records_read{0}, bytes_read{0};
  std::atomic<uint64_t> records_sent{0}, bytes_sent{0}, batches_sent{0};
  std::atomic<uint64_t> records_rejected{0};   // dropped by LOGTOJSON / ADDMETADATA JSON
  std::atomic<uint64_t> records_truncated{0};  // over maxRecordSize
  std::atomic<uint64_t> lines_skipped{0};      // over maxLineBytes
  std::atomic<uint64_t> directory_missing{0};  // 1 while the pattern's directory does not exist
  std::atomic<uint64_t> header_lines_skipped{0};
  std::atomic<uint64_t> send_attempts{0}, send_failures{0}, records_retried{0};
  std::atomic<uint64_t> files_tracked{0}, files_unreadable{0}, rotations{0}, truncations{0};
  std::atomic<uint64_t> lag_bytes{0};  // bytes in tracked files not yet acknowledged
  std::atomic<uint64_t> queued_batches{0};
};

// How the agent runs (agent.json says what it reads and where it sends). `orderlake agent`
// maps its flags here; Agent::Create checks Validate() for every caller.
struct AgentOptions {
  std::string config_file = "/etc/aws-kinesis/agent.json";  // --config (read by the CLI)
  std::string metrics_listen;  // --metrics-listen HOST:PORT; empty = no /metrics endpoint
  bool once = false;           // --once: send what the files hold now, then stop
  int max_attempts = 0;        // --max-attempts per batch; 0 = retry until stopped
  static constexpr int kOnceMaxAttempts = 8;  // --once without --max-attempts

  // Errors name the flag: "--max-attempts must be between 0 and 1000000, got -1".
  Status Validate() const;
};

class Agent {
 public:
  static Result<std::unique_ptr<Agent>> Create(AgentConfig cfg, AgentOptions opt);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Starts the threads of every flow.
  Status Start();
  // Asks for a clean stop: reading stops, what was read is delivered within
  // shutdownTimeoutMillis, checkpoints are written.
  void RequestStop();
  // Waits until every flow ended (in --once mode when everything is delivered), writes the
  // checkpoints one last time and returns the first delivery error, if any.
  Status Wait();
  // True once every flow's threads have ended.
  bool Done() const;
  // Writes the checkpoint file if it changed; the caller runs this periodically.
  Status FlushCheckpoints();
  // Every flow's checkpoint entries (checkpoint.h): per file read, the offset below which
  // every byte was acknowledged by the delivery stream. A file whose offset reached its size
  // and that is written no more has been delivered whole.
  std::vector<CheckpointEntry> Acknowledged() const;

  // The flows' counters (orderlake_agent_*, labelled flow, stream and pattern).
  const metrics::Registry& metrics() const;
  std::string MetricsText() const;  // metrics().Text()
  std::string ProgressLine();
  const AgentConfig& config() const { return cfg_; }

 private:
  struct Impl;
  Agent(AgentConfig cfg, AgentOptions opt);
  void RegisterMetrics();
  AgentConfig cfg_;
  AgentOptions opt_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace orderlake::agent
