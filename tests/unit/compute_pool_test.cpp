// Tests for host/run/compute_pool.cpp: every index computed exactly once,
// each thread number used by one thread at a time, the stop at a failure,
// a caller that never waits for what a helper has not started, threads
// that start only when a run gives them work, and pools destroyed while
// their threads wake up.
#include "run/compute_pool.h"

#include <dirent.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace graft {
namespace {

using namespace std::chrono_literals;

// Busy for about `us` microseconds, so that the pool's threads get to take
// indices on a machine with a core to spare.
void spin(int us) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::microseconds(us);
  while (std::chrono::steady_clock::now() < end) {
  }
}

// The indices computed other than once, for a message.
std::vector<size_t> notOnce(const std::vector<std::atomic<int>>& calls) {
  std::vector<size_t> out;
  for (size_t i = 0; i < calls.size(); ++i)
    if (calls[i].load() != 1) out.push_back(i);
  return out;
}

// The threads of this process, from /proc/self/task.
int threadsOfThisProcess() {
  DIR* dir = opendir("/proc/self/task");
  if (!dir) return -1;
  int count = 0;
  while (dirent* entry = readdir(dir))
    if (entry->d_name[0] != '.') ++count;
  closedir(dir);
  return count;
}

// The threads of this process once it has `expected` of them, or after
// about 5 s whatever it has then: a thread that was joined can stay listed
// in /proc for a moment after pthread_join returns, as the kernel reaps it.
int threadsOnceSettledAt(int expected) {
  int count = threadsOfThisProcess();
  for (int i = 0; i < 500 && count != expected; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    count = threadsOfThisProcess();
  }
  return count;
}

// What a run computed, index by index, and whether a thread number was ever
// used by two threads at once (the caller keeps scratch space per number).
struct Recorder {
  explicit Recorder(size_t n, unsigned threads) : calls(n), values(n, 0), in_use(threads) {}

  bool compute(unsigned thread, size_t i, int cost_us) {
    if (thread >= in_use.size()) {
      bad_thread = true;
      return true;
    }
    if (in_use[thread].exchange(true)) shared_thread = true;
    calls[i].fetch_add(1);
    if (cost_us) spin(cost_us);
    values[i] = i * 2654435761u;  // the result one thread would write
    in_use[thread].store(false);
    return true;
  }

  std::vector<std::atomic<int>> calls;
  std::vector<size_t> values;
  std::vector<std::atomic<bool>> in_use;
  std::atomic<bool> bad_thread{false}, shared_thread{false};
};

BOOST_AUTO_TEST_SUITE(compute_pool)

// Run after run on one pool, with indices that cost nothing (the caller
// takes most) and indices that cost a few microseconds (the pool's threads
// take their share), each index is computed once and the results are those
// of one thread: with the pool's threads given work in every run, and as
// the pool decides.
BOOST_AUTO_TEST_CASE(computes_every_index_exactly_once) {
  for (auto helpers : {ComputePool::Helpers::kAlways, ComputePool::Helpers::kWhenWorthIt})
    for (unsigned threads : {1u, 2u, 3u, 8u}) {
      ComputePool pool(threads, helpers);
      BOOST_TEST(pool.threads() == threads);
      for (int cost_us : {0, 5}) {
        for (size_t n : {0, 1, 2, 3, 31, 32, 33, 100, 1000, 5000}) {
          BOOST_TEST_CONTEXT("threads=" << threads << " n=" << n << " cost=" << cost_us
                                        << " always="
                                        << (helpers == ComputePool::Helpers::kAlways)) {
            Recorder r(n, threads);
            pool.run(n, [&](unsigned thread, size_t i) { return r.compute(thread, i, cost_us); });
            BOOST_TEST(notOnce(r.calls).empty());
            BOOST_TEST(!r.bad_thread);
            BOOST_TEST(!r.shared_thread);
            for (size_t i = 0; i < n; ++i)
              if (r.values[i] != i * 2654435761u) BOOST_FAIL("index " << i);
          }
        }
      }
      // Many short runs back to back: a thread that wakes up late for one
      // run may find the next one published.
      for (size_t run = 0; run < 3000; ++run) {
        const size_t n = 2 + run % 9;
        std::vector<std::atomic<int>> calls(n);
        pool.run(n, [&](unsigned, size_t i) {
          calls[i].fetch_add(1);
          return true;
        });
        if (!notOnce(calls).empty()) {
          BOOST_TEST(notOnce(calls).empty(), "threads=" << threads << " run " << run);
          break;
        }
      }
    }
}

// A call that returns false stops the run: every index before it is
// computed, none twice, and the rest is not handed out. The calls past
// it wait until it has failed, so that they can not all finish first.
BOOST_AUTO_TEST_CASE(stops_at_the_first_failure) {
  constexpr size_t n = 100000;
  constexpr size_t failing = 500;
  for (unsigned threads : {1u, 2u, 3u}) {
    BOOST_TEST_CONTEXT("threads=" << threads) {
      ComputePool pool(threads, ComputePool::Helpers::kAlways);
      std::vector<std::atomic<int>> calls(n);
      std::atomic<bool> failed{false};
      pool.run(n, [&](unsigned, size_t i) {
        calls[i].fetch_add(1);
        if (i == failing) {
          failed.store(true);
          return false;
        }
        if (i > failing) {
          const auto give_up = std::chrono::steady_clock::now() + 10s;
          while (!failed.load() && std::chrono::steady_clock::now() < give_up)
            std::this_thread::sleep_for(100us);
          std::this_thread::sleep_for(1ms);
        }
        return true;
      });
      std::vector<size_t> wrong;  // before the failure and not once, or twice
      size_t past = 0;            // computed after it
      for (size_t i = 0; i < n; ++i) {
        const int count = calls[i].load();
        if (count > 1 || (i <= failing && count != 1)) wrong.push_back(i);
        if (i > failing && count == 1) ++past;
      }
      BOOST_TEST(wrong.empty());
      if (threads == 1) BOOST_TEST(past == 0u);
      BOOST_TEST(past < 1000u);
    }
  }
}

// The pool's threads run at idle priority, and a machine with no idle core
// can keep one off the CPU in the middle of a document for a long while.
// Here each call on a thread other than the caller's blocks until the
// caller has computed every index that no such call holds: a helper that
// gets no CPU. The run ends only if the caller takes everything a helper
// has not started, leaving at most the one index each helper is computing:
// had a helper taken several indices at a time (as pieces of 32 did), the
// caller would wait for the rest of them, and the helper, blocked, for the
// caller, until the timeout below.
BOOST_AUTO_TEST_CASE(the_caller_takes_all_that_a_blocked_helper_has_not_started) {
  constexpr size_t n = 1000;
  for (unsigned threads : {2u, 3u}) {
    BOOST_TEST_CONTEXT("threads=" << threads) {
      ComputePool pool(threads, ComputePool::Helpers::kAlways);
      std::mutex mu;
      std::condition_variable cv;
      size_t by_caller = 0;
      size_t by_helpers = 0;
      bool timed_out = false;
      std::vector<std::atomic<int>> calls(n);
      pool.run(n, [&](unsigned thread, size_t i) {
        calls[i].fetch_add(1);
        std::unique_lock<std::mutex> lock(mu);
        if (thread == 0) {
          // The caller's first call waits until a helper holds an index,
          // so that one does.
          if (by_caller == 0 && !cv.wait_for(lock, 10s, [&] { return by_helpers > 0; }))
            timed_out = true;
          ++by_caller;
          cv.notify_all();
          return true;
        }
        ++by_helpers;
        cv.notify_all();
        if (!timed_out && !cv.wait_for(lock, 5s, [&] { return by_caller + by_helpers == n; }))
          timed_out = true;
        return true;
      });
      BOOST_TEST(!timed_out);
      BOOST_TEST(by_helpers >= 1u);
      BOOST_TEST(by_helpers <= threads - 1);
      BOOST_TEST(by_caller + by_helpers == n);
      BOOST_TEST(notOnce(calls).empty());
    }
  }
}

// Run after run, each helper blocks in its first call of the run until the
// caller has computed the rest: every run ends with the caller having
// computed all but one index per helper, and the results are those of one
// thread, however little the helpers do.
BOOST_AUTO_TEST_CASE(helpers_that_get_no_cpu_never_hold_up_a_run) {
  constexpr size_t n = 200;
  constexpr unsigned threads = 3;
  ComputePool pool(threads, ComputePool::Helpers::kAlways);
  for (int run = 0; run < 20; ++run) {
    BOOST_TEST_CONTEXT("run " << run) {
      std::atomic<size_t> done{0};
      std::atomic<bool> timed_out{false};
      Recorder r(n, threads);
      pool.run(n, [&](unsigned thread, size_t i) {
        if (thread != 0) {
          // Kept off the CPU until only the indices helpers hold are left.
          const auto give_up = std::chrono::steady_clock::now() + 5s;
          while (done.load() + threads - 1 < n) {
            if (std::chrono::steady_clock::now() > give_up) {
              timed_out = true;
              break;
            }
            std::this_thread::sleep_for(50us);
          }
        }
        r.compute(thread, i, 0);
        done.fetch_add(1);
        return true;
      });
      BOOST_TEST(!timed_out);
      BOOST_TEST(notOnce(r.calls).empty());
      for (size_t i = 0; i < n; ++i)
        if (r.values[i] != i * 2654435761u) BOOST_FAIL("index " << i);
    }
  }
}

// A pool whose runs give its threads no work never starts them: neither a
// run of one index nor the runs of its first tenth of a second, in which
// the caller weighs whether the machine has a core to spare. One told to
// give them work starts them with its first run.
BOOST_AUTO_TEST_CASE(starts_its_threads_with_the_first_run_that_gives_them_work) {
  const int before = threadsOfThisProcess();
  BOOST_REQUIRE(before > 0);
  // Where the kernel does not say how long a thread waited for a CPU, the
  // pool can not weigh the machine and gives its threads work from the
  // second run on.
  if (access("/proc/thread-self/schedstat", R_OK) == 0) {
    ComputePool pool(4);
    BOOST_TEST(threadsOfThisProcess() == before);
    pool.run(1, [](unsigned, size_t) { return true; });
    pool.run(100, [](unsigned, size_t) { return true; });
    BOOST_TEST(threadsOfThisProcess() == before);
  }
  {
    ComputePool pool(4, ComputePool::Helpers::kAlways);
    pool.run(1, [](unsigned, size_t) { return true; });
    BOOST_TEST(threadsOfThisProcess() == before);
    pool.run(100, [](unsigned, size_t) { return true; });
    BOOST_TEST(threadsOfThisProcess() == before + 3);
  }
  BOOST_TEST(threadsOnceSettledAt(before) == before);
}

// A pool destroyed while its threads are still waking up for its last
// runs ends them all: none takes the destructor's wake-up call for a run
// and then waits for the next one. (A race of a few instructions, which
// this meets in a build with ThreadSanitizer; the timeout turns a hang
// into a failure.)
BOOST_AUTO_TEST_CASE(is_destroyed_while_its_threads_wake_up, *boost::unit_test::timeout(120)) {
  for (int pools = 0; pools < 300; ++pools) {
    ComputePool pool(3, ComputePool::Helpers::kAlways);
    for (int runs = 0; runs < 20; ++runs) pool.run(2, [](unsigned, size_t) { return true; });
  }
  // And destroyed right after the run that started them, before any could
  // have been given a time slice.
  for (int pools = 0; pools < 300; ++pools) {
    auto pool = std::make_unique<ComputePool>(3, ComputePool::Helpers::kAlways);
    pool->run(2, [](unsigned, size_t) { return true; });
    pool.reset();
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
