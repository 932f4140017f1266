// Tests for host/run/pacer.cpp: batch sizes by time under the write lock, within
// the documented bounds, and pinned sizes that never move.
#include "run/pacer.h"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cmath>
#include <thread>
#include <utility>
#include <vector>

namespace graft {
namespace {

using std::chrono::microseconds;

BOOST_AUTO_TEST_SUITE(pacer)

// The lock stays free until a writer that began to wait at any moment of
// the hold has retried once more (SQLite's busy handler sleeps 1, 2, 5, 10
// ... ms), plus a millisecond for a retry that wakes late.
BOOST_AUTO_TEST_CASE(the_gap_outlasts_the_next_retry_of_every_waiting_writer) {
  const std::vector<std::pair<double, double>> cases = {
      {0, 2},  {0.5, 2}, {1, 2},   {1.01, 3}, {2.5, 3},  {3, 3},
      {3.1, 6}, {8, 6},  {8.1, 11}, {18, 11}, {18.1, 16}, {1000, 101},
  };
  for (const auto& [held_ms, gap_ms] : cases) {
    BOOST_TEST_CONTEXT("held " << held_ms << " ms") {
      const auto held = std::chrono::duration_cast<Pacer::Clock::duration>(
          std::chrono::duration<double, std::milli>(held_ms));
      const double gap = std::chrono::duration<double, std::milli>(Pacer::gapAfter(held)).count();
      BOOST_TEST(gap == gap_ms);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_pinned_size_never_moves) {
  Pacer pacer({.pinned_batch = 37});
  BOOST_TEST(pacer.batchSize() == 37u);
  for (int i = 0; i < 20; ++i) pacer.record(37, microseconds(i % 2 ? 10 : 100000));
  BOOST_TEST(pacer.batchSize() == 37u);
}

BOOST_AUTO_TEST_CASE(starts_small_and_at_most_doubles) {
  Pacer pacer({});
  BOOST_TEST(pacer.batchSize() == kFirstAdaptiveBatch);
  // 128 documents in 10 us: a rate that would ask for 25,600 documents in
  // 2 ms, but the size only doubles per batch, up to the maximum.
  std::vector<uint32_t> sizes;
  for (int i = 0; i < 10; ++i) {
    const uint32_t size = pacer.batchSize();
    pacer.record(size, microseconds(10) * size / kFirstAdaptiveBatch);
    sizes.push_back(pacer.batchSize());
  }
  BOOST_TEST(sizes == (std::vector<uint32_t>{256, 512, 1024, 2048, 4096, 8192, 10000, 10000,
                                             10000, 10000}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(aims_at_the_lock_time) {
  // 1 document per 10 us under the lock: 200 fit in 2 ms, 50 in 0.5 ms.
  for (const auto& [lock_ms, expected] : std::vector<std::pair<double, uint32_t>>{
           {2.0, 200}, {0.5, 50}}) {
    BOOST_TEST_CONTEXT("lock_ms " << lock_ms) {
      Pacer pacer({.lock_ms = lock_ms});
      for (int i = 0; i < 40; ++i) pacer.record(pacer.batchSize(), microseconds(10) * pacer.batchSize());
      BOOST_TEST(pacer.batchSize() >= expected - 1);
      BOOST_TEST(pacer.batchSize() <= expected);
    }
  }
}

BOOST_AUTO_TEST_CASE(stays_within_bounds_whatever_it_measures) {
  Pacer pacer({});
  // From very slow (1 document held the lock 1 s) to instant, and back.
  const std::vector<microseconds> held = {microseconds(1000000), microseconds(0),
                                          microseconds(1),       microseconds(50000),
                                          microseconds(0),       microseconds(1000000)};
  for (int round = 0; round < 5; ++round) {
    for (auto h : held) {
      pacer.record(pacer.batchSize(), h);
      BOOST_TEST(pacer.batchSize() >= kMinAdaptiveBatch);
      BOOST_TEST(pacer.batchSize() <= kMaxAdaptiveBatch);
    }
  }
  // A document that holds the lock longer than the target: one at a time.
  Pacer slow({});
  for (int i = 0; i < 3; ++i) slow.record(slow.batchSize(), microseconds(5000) * slow.batchSize());
  BOOST_TEST(slow.batchSize() == kMinAdaptiveBatch);
}

// Holds that spend a share of their time preempted tell of a machine with
// no core to spare: batches then aim at kSaturatedLockMs, and each gap also
// lasts as long as a preempted hold lately spent off the CPU.
BOOST_AUTO_TEST_CASE(holds_spent_off_the_cpu_shrink_the_batches_and_widen_the_gaps) {
  Pacer pacer({.lock_ms = 2.5, .pause_ms = 0.5});
  const auto gap_ms = [&](microseconds held) {
    return std::chrono::duration<double, std::milli>(pacer.gap(held)).count();
  };
  // 1 document per 10 us, all of the hold on the CPU: 250 fit in 2.5 ms.
  for (int i = 0; i < 40; ++i)
    pacer.record(pacer.batchSize(), microseconds(10) * pacer.batchSize());
  BOOST_TEST(!pacer.saturated());
  BOOST_TEST(pacer.batchSize() >= 249u);
  BOOST_TEST(pacer.batchSize() <= 250u);
  BOOST_TEST(gap_ms(microseconds(2500)) == 3.5);  // gapAfter's 3 ms and the pause
  // The same rate, but 40% of every hold preempted: 100 documents fit in
  // 1 ms, and a hold of 100 spends 0.4 ms off the CPU.
  for (int i = 0; i < 40; ++i) {
    const uint32_t size = pacer.batchSize();
    pacer.record(size, microseconds(10) * size, microseconds(4) * size);
  }
  BOOST_TEST(pacer.saturated());
  BOOST_TEST(pacer.batchSize() >= 99u);
  BOOST_TEST(pacer.batchSize() <= 100u);
  BOOST_TEST(std::abs(gap_ms(microseconds(1000)) - (2 + 0.5 + 0.4)) < 0.01);
  // Back on a quiet machine: the share decays, and all is as before.
  for (int i = 0; i < 40; ++i)
    pacer.record(pacer.batchSize(), microseconds(10) * pacer.batchSize());
  BOOST_TEST(!pacer.saturated());
  BOOST_TEST(pacer.batchSize() >= 249u);
  BOOST_TEST(pacer.batchSize() <= 250u);
  BOOST_TEST(gap_ms(microseconds(2500)) == 3.5);
}

// A hold stopped for a minute (SIGSTOP, a paused VM) adds at most the busy
// handler's longest sleep, 100 ms, to a gap; and once the machine is quiet
// again, what preempted holds spent fades: a later saturated spell starts
// from its own holds.
BOOST_AUTO_TEST_CASE(time_off_the_cpu_is_capped_and_fades) {
  Pacer pacer({});
  const auto extra_ms = [&](microseconds held) {
    return std::chrono::duration<double, std::milli>(pacer.gap(held) - Pacer::gapAfter(held))
        .count();
  };
  for (int i = 0; i < 40; ++i) pacer.record(10, std::chrono::seconds(60), std::chrono::seconds(60));
  BOOST_TEST(pacer.saturated());
  BOOST_TEST(extra_ms(microseconds(1000)) <= 100);
  BOOST_TEST(extra_ms(microseconds(1000)) > 99);
  for (int i = 0; i < 40; ++i) pacer.record(10, microseconds(1000));
  BOOST_TEST(!pacer.saturated());
  BOOST_TEST(extra_ms(microseconds(1000)) == 0);
  pacer.record(10, microseconds(1000), microseconds(400));
  BOOST_TEST(pacer.saturated());
  BOOST_TEST(extra_ms(microseconds(1000)) < 0.2);  // 0.3 of 0.4 ms, not 70 ms of the past
}

// released() measures the holds itself, and a hold spent asleep (as one
// waiting for the disk is) was not preempted: it does not count.
BOOST_AUTO_TEST_CASE(a_hold_spent_asleep_is_not_preemption) {
  Pacer pacer({});
  for (int i = 0; i < 5; ++i) {
    pacer.locked();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    pacer.released(10);
  }
  BOOST_TEST(!pacer.saturated());
}

BOOST_AUTO_TEST_CASE(an_empty_batch_leaves_the_size) {
  Pacer pacer({});
  pacer.record(0, microseconds(1));
  BOOST_TEST(pacer.batchSize() == kFirstAdaptiveBatch);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
