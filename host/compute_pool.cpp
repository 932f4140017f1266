#include "compute_pool.h"

#include <sched.h>

#include <algorithm>
#include <system_error>

namespace graft {

ComputePool::ComputePool(unsigned threads) {
  for (unsigned i = 1; i < threads; ++i) {
    try {
      workers_.emplace_back([this, i] { work(i); });
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

std::pair<size_t, size_t> ComputePool::sliceOf(unsigned index) const {
  const size_t parts = threads();
  return {n_ * index / parts, n_ * (index + 1) / parts};
}

void ComputePool::run(size_t n, const std::function<void(size_t, size_t)>& slice) {
  if (workers_.empty() || n < 2) {
    slice(0, n);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = &slice;
    n_ = n;
    busy_ = static_cast<unsigned>(workers_.size());
    ++generation_;
  }
  wake_.notify_all();
  const auto [begin, end] = sliceOf(0);
  slice(begin, end);
  std::unique_lock<std::mutex> lock(mu_);
  done_.wait(lock, [this] { return busy_ == 0; });
  job_ = nullptr;
}

void ComputePool::work(unsigned index) {
  unsigned seen = 0;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
    if (stopping_) return;
    seen = generation_;
    const auto [begin, end] = sliceOf(index);
    const std::function<void(size_t, size_t)>* job = job_;
    lock.unlock();
    (*job)(begin, end);
    lock.lock();
    if (--busy_ == 0) done_.notify_one();
  }
}

}  // namespace graft
