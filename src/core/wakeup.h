// A wake-up call between threads: producers say "there is something new" (Notify), one
// consumer waits for that or a timeout (WaitFor). Notifications are not counted: any number
// of them before a wait make that wait return, and only once. With a minimum gap, a
// notified wait returns no sooner than that long after the previous wait returned, so a
// stream of notifications wakes the consumer at most once per gap and what arrives in
// between is taken together.
#pragma once
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace orderlake {

class Wakeup {
 public:
  explicit Wakeup(std::chrono::milliseconds min_gap = std::chrono::milliseconds(0)) : min_gap_(min_gap) {}

  void Notify() {
    {
      std::lock_guard lock(mu_);
      pending_ = true;
    }
    ++notifications_;
    cv_.notify_all();
  }

  // Returns true when notified (now or since the last wait returned), false after `timeout`
  // or once *stop became true (looked at every `stop_check`).
  bool WaitFor(std::chrono::milliseconds timeout, const std::atomic<bool>& stop,
               std::chrono::milliseconds stop_check = std::chrono::milliseconds(20)) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    const auto not_before = last_return_ + min_gap_;
    std::unique_lock lock(mu_);
    for (;;) {
      const auto now = std::chrono::steady_clock::now();
      if (stop.load() || now >= until || (pending_ && now >= not_before)) break;
      auto next = std::min(until, now + stop_check);
      if (pending_) next = std::min(next, not_before);
      cv_.wait_until(lock, next);
    }
    const bool woken = pending_;
    pending_ = false;
    last_return_ = std::chrono::steady_clock::now();
    return woken;
  }

  // How many times Notify was called (for metrics).
  uint64_t notifications() const { return notifications_.load(); }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;
  const std::chrono::milliseconds min_gap_;
  std::chrono::steady_clock::time_point last_return_{};  // the consumer's alone
  std::atomic<uint64_t> notifications_{0};
};

}  // namespace orderlake
