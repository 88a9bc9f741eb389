// The sender side of a flow: one PutRecordBatch at a time and in order, the failed records
// of a partial failure resent, exponential backoff with full jitter, and the checkpoint
// advanced once a batch is acknowledged.
#include <algorithm>
#include <cmath>

#include "agent/flow.h"
#include "core/log.h"

namespace orderlake::agent::internal {

void Flow::send_loop() {
  Batch b;
  std::mt19937_64 rng(std::random_device{}());
  while (queue_.pop(b)) {
    if (c_.queued_batches > 0) --c_.queued_batches;
    if (past_deadline()) {
      spdlog::warn("agent: flow {}: shutdown timeout reached; {} [{}, {}) and the batches after it are sent "
                   "at the next start", index_, b.path, b.start, b.end);
      queue_.abort();
      break;
    }
    if (!send(b, rng)) {
      queue_.abort();
      break;
    }
  }
  sender_done_ = true;
}

bool Flow::past_deadline() const {
  if (!stop_) return false;
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
  return now >= deadline_ms_;
}

bool Flow::send(const Batch& b, std::mt19937_64& rng) {
  std::vector<size_t> pending(b.ends.size());
  for (size_t i = 0; i < pending.size(); ++i) pending[i] = i;
  const std::string token = b.token();
  cp_.begin_send(id_, b.id, b.start, b.end);
  std::vector<std::string_view> views;
  for (int attempt = 1;; ++attempt) {
    views.clear();
    for (size_t i : pending) {
      size_t s = i == 0 ? 0 : b.ends[i - 1];
      views.emplace_back(b.data.data() + s, b.ends[i] - s);
    }
    ++c_.send_attempts;
    PutBatchResult r = client_.put_record_batch(cfg_.delivery_stream, views, token);
    if (r.ok()) break;
    ++c_.send_failures;
    if (r.transport_ok && r.http_status == 200) {
      // Resend only the failed records, in their order.
      std::vector<size_t> next;
      for (size_t k = 0; k < pending.size(); ++k)
        if (r.failed[k]) next.push_back(pending[k]);
      c_.records_retried += next.size();
      c_.records_sent += pending.size() - next.size();
      pending.swap(next);
    }
    bool last = opt_.max_attempts > 0 && attempt >= opt_.max_attempts;
    auto level = attempt <= 3 ? spdlog::level::warn : spdlog::level::err;
    spdlog::log(level, "agent: flow {} ({}): PutRecordBatch of {} records from {} [{}, {}) failed (attempt {}): {} {}",
                index_, cfg_.delivery_stream, pending.size(), b.path, b.start, b.end, attempt, r.error_code,
                r.error_message);
    if (last) {
      error_ = Status::Errorf("delivery to {} at {} failed after {} attempts: {} {}", cfg_.delivery_stream,
                              agent_cfg_.endpoint, attempt, r.error_code, r.error_message);
      return false;
    }
    // Exponential backoff with full jitter.
    double cap = std::min<double>(static_cast<double>(cfg_.retry_max_backoff_ms),
                                  static_cast<double>(cfg_.retry_initial_backoff_ms) * std::pow(2.0, std::min(attempt - 1, 30)));
    auto wait = std::chrono::milliseconds(static_cast<int64_t>(std::uniform_real_distribution<double>(0, cap)(rng)));
    auto until = Clock::now() + wait;
    while (!past_deadline() && Clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(20, wait.count() + 1)));
    if (past_deadline()) {
      spdlog::warn("agent: flow {}: shutdown timeout reached; {} [{}, {}) stays unacknowledged and is sent "
                   "again at the next start", index_, b.path, b.start, b.end);
      return false;
    }
  }
  c_.records_sent += pending.size();
  c_.bytes_sent += b.data.size();
  ++c_.batches_sent;
  cp_.ack(id_, b.id, b.path, b.end);
  return true;
}

}  // namespace orderlake::agent::internal
