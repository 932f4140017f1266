// compute_pool.h -- threads that share out the lock-free work of a batch.
//
// For a step that declares `parallelize`: migrateOne (and the host's work on
// each document around it) runs on several threads at once, each over a
// contiguous slice of the batch; the results are used in _id order, as if
// one thread had computed them.
//
// Thread-safety: run() is called by one thread at a time, the owner's.
#ifndef GRAFT_HOST_COMPUTE_POOL_H_
#define GRAFT_HOST_COMPUTE_POOL_H_

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

  // Cuts [0, n) into threads() contiguous slices, as equal as can be, and
  // calls slice(begin, end) for each, the first on the calling thread, the
  // others on the pool's; returns when all have returned. `slice` must not
  // throw.
  void run(size_t n, const std::function<void(size_t begin, size_t end)>& slice);

  // The threads a step that parallelizes gets when the operator leaves it to
  // graft: one per core the process may use, at most kMaxThreads.
  static unsigned defaultThreads();
  static constexpr unsigned kMaxThreads = 8;

 private:
  void work(unsigned index);
  std::pair<size_t, size_t> sliceOf(unsigned index) const;

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_, done_;
  // Guarded by mu_: the job in progress (its generation counts up), how many
  // of the pool's threads are still on it, and whether to stop.
  const std::function<void(size_t, size_t)>* job_ = nullptr;
  size_t n_ = 0;
  unsigned generation_ = 0;
  unsigned busy_ = 0;
  bool stopping_ = false;
};

}  // namespace graft

#endif  // GRAFT_HOST_COMPUTE_POOL_H_
