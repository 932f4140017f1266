// compute_pool.h -- threads that share out the lock-free work of a batch.
//
// For a step that declares `parallelize`: migrateOne (and the host's work on
// each document around it) runs on several threads at once, each taking the
// next few documents of the batch in turn; the results are used in _id
// order, as if one thread had computed them.
//
// The pool's own threads run at idle priority (SCHED_IDLE): they take only
// CPU time that nothing else on the machine wants, so that the
// application's writers, who wake up to take the write lock while a batch
// computes, never wait for a core behind them. The calling thread keeps its
// priority and takes its share too, so a batch finishes even when the
// machine has no idle time to give.
//
// Thread-safety: run() is called by one thread at a time, the owner's.
#ifndef GRAFT_HOST_RUN_COMPUTE_POOL_H_
#define GRAFT_HOST_RUN_COMPUTE_POOL_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace graft {

class ComputePool {
 public:
  // Up to `threads` threads in all, the caller's included. A thread that can
  // not start (EAGAIN) is done without: the pool may have fewer, down to
  // the caller's alone.
  explicit ComputePool(unsigned threads);
  ~ComputePool();  // waits for the threads to finish and joins them
  ComputePool(const ComputePool&) = delete;
  ComputePool& operator=(const ComputePool&) = delete;

  unsigned threads() const { return static_cast<unsigned>(workers_.size()) + 1; }

  // Calls chunk(begin, end) over [0, n) in pieces of kChunk, in increasing
  // order of `begin` as the threads take them, on the calling thread and the
  // pool's; returns when every piece taken has returned. A piece that
  // returns false stops the taking of pieces after it: those before it are
  // all taken already, and all finish. `chunk` must not throw.
  void run(size_t n, const std::function<bool(size_t begin, size_t end)>& chunk);

  // The threads a step that parallelizes gets when the operator leaves it to
  // graft: one per core the process may use, at most kMaxThreads.
  static unsigned defaultThreads();
  static constexpr unsigned kMaxThreads = 8;
  // Documents a thread takes at a time: enough that taking them costs
  // nothing beside migrateOne, few enough that the threads end together.
  static constexpr size_t kChunk = 32;

 private:
  void work();
  // Takes and runs pieces of the current job until none is left.
  void drain(const std::function<bool(size_t, size_t)>& chunk, size_t n);

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_, done_;
  // Guarded by mu_: the job in progress (its generation counts up), how many
  // of the pool's threads are still on it, and whether to stop.
  const std::function<bool(size_t, size_t)>* job_ = nullptr;
  size_t n_ = 0;
  unsigned generation_ = 0;
  unsigned busy_ = 0;
  bool stopping_ = false;
  // The next piece to take; past n_ once one returned false.
  std::atomic<size_t> next_{0};
};

}  // namespace graft

#endif  // GRAFT_HOST_RUN_COMPUTE_POOL_H_
