// Wakeup: a notification wakes one wait, at once or after the minimum gap; without one a
// wait ends at its timeout or when told to stop.
#include "core/wakeup.h"

#include <gtest/gtest.h>

#include <thread>

namespace orderlake {
namespace {
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(Wakeup, NotificationBeforeTheWaitIsKeptAndWakesItOnce) {
  Wakeup w;
  std::atomic<bool> stop{false};
  w.Notify();
  w.Notify();
  EXPECT_TRUE(w.WaitFor(60s, stop));
  const auto t0 = Clock::now();
  EXPECT_FALSE(w.WaitFor(50ms, stop));  // both notifications were one wake-up
  EXPECT_GE(Clock::now() - t0, 50ms);
  EXPECT_EQ(w.notifications(), 2u);
}

TEST(Wakeup, NotificationFromAnotherThreadEndsAWaitLongBeforeItsTimeout) {
  Wakeup w;
  std::atomic<bool> stop{false};
  std::thread t([&] {
    std::this_thread::sleep_for(20ms);
    w.Notify();
  });
  EXPECT_TRUE(w.WaitFor(60s, stop));  // the test would take a minute otherwise
  t.join();
}

TEST(Wakeup, StopEndsAWait) {
  Wakeup w;
  std::atomic<bool> stop{false};
  std::thread t([&] {
    std::this_thread::sleep_for(20ms);
    stop = true;
  });
  EXPECT_FALSE(w.WaitFor(60s, stop));
  t.join();
}

TEST(Wakeup, MinimumGapHoldsANotifiedWaitAndTakesNotificationsTogether) {
  Wakeup w(200ms);
  std::atomic<bool> stop{false};
  w.Notify();
  EXPECT_TRUE(w.WaitFor(60s, stop));  // the first wait has no previous one to keep a gap to
  const auto returned = Clock::now();
  w.Notify();
  w.Notify();
  EXPECT_TRUE(w.WaitFor(60s, stop));
  EXPECT_GE(Clock::now() - returned, 200ms);
  EXPECT_FALSE(w.WaitFor(10ms, stop));
}

}  // namespace
}  // namespace orderlake
