#include "run/compute_pool.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <system_error>

namespace graft {

ComputePool::ComputePool(unsigned threads) {
  for (unsigned i = 1; i < threads; ++i) {
    try {
      workers_.emplace_back([this] { work(); });
    } catch (const std::system_error&) {
      break;  // fewer threads, the same results
    }
  }
}

ComputePool::~ComputePool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

unsigned ComputePool::defaultThreads() {
  // The cores this process may run on (taskset, cgroup cpusets), not every
  // core of the machine.
  cpu_set_t set;
  unsigned cores = 0;
  if (sched_getaffinity(0, sizeof set, &set) == 0) cores = static_cast<unsigned>(CPU_COUNT(&set));
  if (cores == 0) cores = std::thread::hardware_concurrency();
  return std::clamp(cores, 1u, kMaxThreads);
}

void ComputePool::drain(const std::function<bool(size_t, size_t)>& chunk, size_t n) {
  for (;;) {
    const size_t begin = next_.fetch_add(kChunk, std::memory_order_relaxed);
    if (begin >= n) return;
    if (!chunk(begin, std::min(n, begin + kChunk))) {
      // Pieces are taken in order: every one before this is taken already.
      next_.store(n, std::memory_order_relaxed);
      return;
    }
  }
}

void ComputePool::run(size_t n, const std::function<bool(size_t, size_t)>& chunk) {
  next_.store(0, std::memory_order_relaxed);
  if (workers_.empty() || n <= kChunk) {
    drain(chunk, n);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = &chunk;
    n_ = n;
    busy_ = static_cast<unsigned>(workers_.size());
    ++generation_;
  }
  wake_.notify_all();
  drain(chunk, n);
  std::unique_lock<std::mutex> lock(mu_);
  done_.wait(lock, [this] { return busy_ == 0; });
  job_ = nullptr;
}

void ComputePool::work() {
  // Idle priority, for this thread only (see compute_pool.h). Lowering it
  // needs no privilege; should it fail, the thread works at the normal one.
  sched_param param{};
  (void)pthread_setschedparam(pthread_self(), SCHED_IDLE, &param);
  unsigned seen = 0;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
    if (stopping_) return;
    seen = generation_;
    const std::function<bool(size_t, size_t)>* job = job_;
    const size_t n = n_;
    lock.unlock();
    drain(*job, n);
    lock.lock();
    if (--busy_ == 0) done_.notify_one();
  }
}

}  // namespace graft
