// compute_pool.h -- threads that share out the lock-free work of a batch.
//
// For a step that declares `parallelize`: migrateOne (and the host's work on
// each document around it) runs on several threads at once, each taking the
// next document of the batch in turn; the results are used in _id order, as
// if one thread had computed them.
//
// The pool's own threads (helpers) run at idle priority (SCHED_IDLE): they
// take only CPU time that nothing else on the machine wants, so that the
// application's writers, who wake up to take the write lock while a batch
// computes, never wait for a core behind them. On a machine with no idle
// core such a thread gets almost no CPU, and can be kept off it for a long
// while, in the middle of a document too. The calling thread, which keeps
// its priority, depends on them as little as it can:
//  - documents are taken one at a time, by whichever thread asks first:
//    whatever a helper has not started, the caller takes itself;
//  - it waits only for the documents helpers are computing, at most one
//    each, never for a helper that holds none (they share no lock);
//  - it gives helpers work only while it has a core to itself: while, over
//    its last stretch of computing (a tenth of a second of it), it spent
//    less than half of 1/(N+1) of the time waiting for a CPU (the kernel's
//    schedstat), N being the cores the process may use. Beside one busy
//    thread per core it would wait 1/(N+1) of the time: a caller that waits
//    for a CPU shows that no core is idle, which is when helpers get none.
//    Where the kernel keeps pressure stall information, the machine must
//    also have had some task waiting for a CPU for less than a fifth of its
//    last ten seconds: a lull between others' work is no core to spare, and
//    a caller with a core to itself does not show that another is idle. A
//    machine that was busy thus gets helpers again some seconds after it
//    quietens. The helpers start with the first run that gives them work;
//  - a helper that wakes up for a run late, after the caller has taken more
//    than 1/kLateShare of it or after a whole run given to helpers went by,
//    sits it out: it was kept off the CPU that long, and could be again
//    while it holds a document;
//  - when the caller still had to wait at the end of a run for longer than
//    the helpers' work was worth (the time it would have taken to compute
//    their documents itself), it computes the next runs alone, for
//    kBackOff times what that run lost.
// On a busy machine, then, the caller computes the batch as one thread would.
//
// Thread-safety: run() is called by one thread at a time, the owner's, and
// not while the pool is being destroyed.
#ifndef GRAFT_HOST_RUN_COMPUTE_POOL_H_
#define GRAFT_HOST_RUN_COMPUTE_POOL_H_

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace graft {

class ComputePool {
 public:
  // kWhenWorthIt: runs give the pool's threads work as described above.
  // kAlways, for tests: every run does, from the first, whatever the
  // machine (a helper still sits out a run it wakes up late for).
  enum class Helpers { kWhenWorthIt, kAlways };

  // What a run computes: compute(thread, index), `thread` being which of
  // the pool's threads calls it (0: the caller's; below threads()), so that
  // the caller can keep scratch space per thread.
  using Compute = std::function<bool(unsigned thread, size_t index)>;

  // Up to `threads` threads in all, the caller's included. A thread that can
  // not start (EAGAIN) is done without: the pool may have fewer, down to
  // the caller's alone. None starts before a run gives them work.
  explicit ComputePool(unsigned threads, Helpers helpers = Helpers::kWhenWorthIt);
  ~ComputePool();  // wakes the threads that started and joins them
  ComputePool(const ComputePool&) = delete;
  ComputePool& operator=(const ComputePool&) = delete;

  // The most threads a run computes on, the caller's included.
  unsigned threads() const { return helpers_wanted_ + 1; }

  // Calls compute(thread, i) once for each i in [0, n), on the calling
  // thread and the pool's; each thread takes the lowest index not taken
  // yet, so indices are taken in increasing order. Returns when every call
  // has returned; no call is made after that. A call that returns false
  // stops the taking: the indices before it were all taken already, and are
  // all computed; of those after it, only the ones other threads had taken
  // are. `compute` stays the caller's: the pool uses it only during run().
  // REQUIRES: compute does not throw and may run on several threads at
  // once (on different indices); n < 2^48.
  void run(size_t n, const Compute& compute);

  // The threads a step that parallelizes gets when the operator leaves it to
  // graft: one per core the process may use, at most kMaxThreads.
  static unsigned defaultThreads();
  static constexpr unsigned kMaxThreads = 8;
  // A helper that wakes up for a run after the caller has taken more than
  // one index and 1/kLateShare of it sits it out (see above).
  static constexpr size_t kLateShare = 4;
  // A run that lost time to helpers is followed by runs without them for
  // this many times what it lost, so that finding out whether they help
  // again costs about 1/kBackOff of the time at most.
  static constexpr int kBackOff = 32;

 private:
  using Clock = std::chrono::steady_clock;

  // Whether this run gives helpers work, starting them the first time.
  bool withHelpers(Clock::time_point now);
  void startHelpers();
  // Helper number `thread`'s loop; `seen` is the generation before the
  // first run it may take part in.
  void work(unsigned thread, uint32_t seen);
  // Takes the next index of the run in progress: false when none is left.
  // A helper's take counts it among the helpers holding an index.
  bool take(bool helper, size_t* index);
  // The time the calling thread has spent runnable but waiting for a CPU,
  // in nanoseconds (its schedstat); -1 where the kernel does not say.
  int64_t waitedForCpuNs();
  // The share of the last ten seconds in which some task on the machine
  // waited for a CPU, in percent (the kernel's pressure stall information,
  // "some avg10"); -1 where the kernel does not say.
  double cpuPressurePercent();
  // Publishes a run of n indices to the helpers and takes indices until
  // none is left or one fails (then sets *stopped); returns how many the
  // caller took.
  size_t computeWithHelpers(size_t n, const Compute& compute, bool* stopped);
  // Returns once no helper holds an index of the run in progress.
  void awaitHelpers();
  // Adds the caller's computing since `started`, and its wait for a CPU
  // since waitedForCpuNs() said `waited_before`, to the stretch; at the end
  // of a stretch, sets has_core_. Returns the time now.
  Clock::time_point weighMachine(Clock::time_point started, int64_t waited_before);
  // A run of n indices in which the caller computed `by_caller` of them in
  // `own` and then waited `tail` for the helpers: what they cost beyond what
  // they saved sets alone_until_.
  void weighHelpers(size_t n, size_t by_caller, Clock::duration own, Clock::duration tail);

  const unsigned helpers_wanted_;
  const int64_t cores_;  // the cores the process may use
  const Helpers helpers_;
  bool helpers_started_ = false;
  std::vector<std::thread> workers_;

  // The caller's own (see waitedForCpuNs, weighMachine and weighHelpers).
  int schedstat_fd_ = -1;
  pid_t schedstat_tid_ = 0;
  int pressure_fd_ = -2;  // -2: not opened yet
  bool has_core_ = false;
  Clock::duration stretch_{};
  int64_t stretch_waited_ns_ = 0;
  Clock::time_point alone_until_{};

  // The run in progress, in one word so that taking an index and counting
  // its helper as holding one are one step: the helpers holding an index
  // (the top 16 bits) and the indices left to take (the rest). An index is
  // n_ minus the indices left before it was taken.
  alignas(64) std::atomic<uint64_t> state_{0};
  // Written by the caller before it publishes a run; read by a helper once it
  // holds an index of that run (so the caller does not change them then).
  alignas(64) std::atomic<const Compute*> job_{nullptr};
  std::atomic<size_t> n_{0};
  // Counts the runs given to helpers; they sleep on it in between.
  std::atomic<uint32_t> generation_{0};
  std::atomic<bool> stopping_{false};
  // How many indices of the run in progress the caller has taken.
  alignas(64) std::atomic<size_t> caller_taken_{0};
};

}  // namespace graft

#endif  // GRAFT_HOST_RUN_COMPUTE_POOL_H_
