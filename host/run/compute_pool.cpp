#include "run/compute_pool.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <system_error>

namespace graft {
namespace {

constexpr int kHeldShift = 48;
constexpr uint64_t kHeldOne = uint64_t{1} << kHeldShift;
constexpr uint64_t kLeftMask = kHeldOne - 1;

uint64_t held(uint64_t state) { return state >> kHeldShift; }
uint64_t left(uint64_t state) { return state & kLeftMask; }

// How much of the caller's computing weighs the machine at a time: many of
// the scheduler's time slices, so that one slice's luck is not taken for a
// core to spare.
constexpr std::chrono::milliseconds kStretch{100};

// Above this share of time in which some task waited for a CPU, no core is
// idle often enough for a helper. With helpers on every idle core, the
// wake-ups of others' threads (the application's writers) make a few
// percent; a machine with no idle core, most of the time.
constexpr double kMaxCpuPressurePercent = 20;

// The cores this process may run on (taskset, cgroup cpusets), not every
// core of the machine; at least 1.
unsigned usableCores() {
  cpu_set_t set;
  unsigned cores = 0;
  if (sched_getaffinity(0, sizeof set, &set) == 0) cores = static_cast<unsigned>(CPU_COUNT(&set));
  if (cores == 0) cores = std::thread::hardware_concurrency();
  return std::max(cores, 1u);
}

}  // namespace

ComputePool::ComputePool(unsigned threads, Helpers helpers)
    : helpers_wanted_(threads > 1 ? threads - 1 : 0), cores_(usableCores()), helpers_(helpers) {}

ComputePool::~ComputePool() {
  stopping_.store(true, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  for (std::thread& t : workers_) t.join();
  if (schedstat_fd_ >= 0) ::close(schedstat_fd_);
  if (pressure_fd_ >= 0) ::close(pressure_fd_);
}

unsigned ComputePool::defaultThreads() { return std::min(usableCores(), kMaxThreads); }

int64_t ComputePool::waitedForCpuNs() {
  // The file names the thread that opens it: opened again when run() is
  // called on another thread.
  const pid_t tid = gettid();
  if (schedstat_tid_ != tid) {
    if (schedstat_fd_ >= 0) ::close(schedstat_fd_);
    schedstat_fd_ = ::open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
    schedstat_tid_ = tid;
  }
  if (schedstat_fd_ < 0) return -1;
  char text[128];
  const ssize_t got = ::pread(schedstat_fd_, text, sizeof text - 1, 0);
  if (got <= 0) return -1;
  text[got] = '\0';
  unsigned long long on_cpu = 0, waiting = 0;
  if (std::sscanf(text, "%llu %llu", &on_cpu, &waiting) != 2) return -1;
  return static_cast<int64_t>(waiting);
}

double ComputePool::cpuPressurePercent() {
  if (pressure_fd_ == -2) pressure_fd_ = ::open("/proc/pressure/cpu", O_RDONLY | O_CLOEXEC);
  if (pressure_fd_ < 0) return -1;
  char text[256];
  const ssize_t got = ::pread(pressure_fd_, text, sizeof text - 1, 0);
  if (got <= 0) return -1;
  text[got] = '\0';
  double some_avg10 = 0;
  if (std::sscanf(text, "some avg10=%lf", &some_avg10) != 1) return -1;
  return some_avg10;
}

bool ComputePool::withHelpers(Clock::time_point now) {
  if (helpers_wanted_ == 0) return false;
  if (helpers_ == Helpers::kWhenWorthIt && (!has_core_ || now < alone_until_)) return false;
  if (!helpers_started_) startHelpers();
  return !workers_.empty();
}

void ComputePool::startHelpers() {
  helpers_started_ = true;
  // They start before the run that starts them is published, and take part
  // in it: as if they had seen the generation before it.
  const uint32_t seen = generation_.load(std::memory_order_relaxed);
  for (unsigned thread = 1; thread <= helpers_wanted_; ++thread) {
    try {
      workers_.emplace_back([this, thread, seen] { work(thread, seen); });
    } catch (const std::system_error&) {
      break;  // fewer threads, the same results
    }
  }
}

bool ComputePool::take(bool helper, size_t* index) {
  uint64_t state = state_.load(std::memory_order_acquire);
  for (;;) {
    if (left(state) == 0) return false;
    const uint64_t next = state - 1 + (helper ? kHeldOne : 0);
    // Acquire: a helper that takes an index of a run then sees job_ and n_
    // as the caller wrote them before publishing it.
    if (state_.compare_exchange_weak(state, next, std::memory_order_acq_rel,
                                     std::memory_order_acquire)) {
      *index = n_.load(std::memory_order_relaxed) - static_cast<size_t>(left(state));
      return true;
    }
  }
}

void ComputePool::run(size_t n, const Compute& compute) {
  if (n == 0) return;
  const Clock::time_point started = Clock::now();
  const int64_t waited_before = waitedForCpuNs();
  if (n < 2 || !withHelpers(started)) {
    for (size_t i = 0; i < n; ++i)
      if (!compute(0, i)) break;
    weighMachine(started, waited_before);
    return;
  }
  bool stopped = false;
  const size_t by_caller = computeWithHelpers(n, compute, &stopped);
  const Clock::time_point caller_done = weighMachine(started, waited_before);
  awaitHelpers();
  // A stopped run fails its batch: its share says little about the next.
  if (!stopped) weighHelpers(n, by_caller, caller_done - started, Clock::now() - caller_done);
}

size_t ComputePool::computeWithHelpers(size_t n, const Compute& compute, bool* stopped) {
  // No helper holds an index now (the last run waited for them), so none
  // reads job_ or n_ while they change; one that wakes up late for the
  // last run finds nothing left to take until state_ publishes this one.
  job_.store(&compute, std::memory_order_relaxed);
  n_.store(n, std::memory_order_relaxed);
  caller_taken_.store(0, std::memory_order_relaxed);
  state_.store(n, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  size_t by_caller = 0;
  size_t index = 0;
  while (take(false, &index)) {
    caller_taken_.store(++by_caller, std::memory_order_relaxed);
    if (!compute(0, index)) {
      state_.fetch_and(~kLeftMask, std::memory_order_acq_rel);  // stop the taking
      *stopped = true;
      break;
    }
  }
  return by_caller;
}

void ComputePool::awaitHelpers() {
  // Nothing is left to take: what remains is what helpers are computing,
  // one index each.
  for (uint64_t state = state_.load(std::memory_order_acquire); held(state) != 0;
       state = state_.load(std::memory_order_acquire)) {
    state_.wait(state, std::memory_order_acquire);
  }
}

ComputePool::Clock::time_point ComputePool::weighMachine(Clock::time_point started,
                                                         int64_t waited_before) {
  const Clock::time_point now = Clock::now();
  const int64_t waited_now = waited_before < 0 ? -1 : waitedForCpuNs();
  if (waited_now < 0) {
    has_core_ = true;  // no way to tell: the back-off alone guards the runs
    return now;
  }
  stretch_ += now - started;
  stretch_waited_ns_ += waited_now - waited_before;
  if (stretch_ < kStretch) return now;
  const int64_t stretch_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(stretch_).count();
  // Beside one busy thread per core the caller waits 1/(N+1) of the time on
  // N cores; half of that keeps a margin on every size of machine. The
  // machine's own account, where it keeps one, must agree over its last ten
  // seconds: a lull of a tenth of a second between others' work is no core
  // to spare, and a helper given work in one is then kept off the CPU with
  // a document in hand, for seconds; nor does a caller that has a core to
  // itself show that one is left for a helper.
  has_core_ = stretch_waited_ns_ * 2 * (cores_ + 1) < stretch_ns &&
              cpuPressurePercent() < kMaxCpuPressurePercent;
  stretch_ = Clock::duration::zero();
  stretch_waited_ns_ = 0;
  return now;
}

void ComputePool::weighHelpers(size_t n, size_t by_caller, Clock::duration own,
                               Clock::duration tail) {
  if (by_caller == 0 || helpers_ == Helpers::kAlways) return;
  // What the helpers' indices would have cost the caller, at its own pace.
  const Clock::duration saved = own / by_caller * (n - by_caller);
  if (tail > saved) alone_until_ = Clock::now() + (tail - saved) * kBackOff;
}

void ComputePool::work(unsigned thread, uint32_t seen) {
  // Idle priority, for this thread only (see compute_pool.h). Lowering it
  // needs no privilege; should it fail, the thread works at the normal one.
  sched_param param{};
  (void)pthread_setschedparam(pthread_self(), SCHED_IDLE, &param);
  for (;;) {
    generation_.wait(seen, std::memory_order_acquire);
    // The destructor sets stopping before it moves the generation on, so a
    // generation read here that includes its move comes with stopping set,
    // and one that does not ends the next wait. (Read the other way round,
    // a helper could take the destructor's move for a run it slept through
    // and wait for one that never comes.)
    const uint32_t now = generation_.load(std::memory_order_acquire);
    if (stopping_.load(std::memory_order_acquire)) return;
    const bool slept_through_a_run = now != seen + 1;
    seen = now;
    const size_t n = n_.load(std::memory_order_relaxed);
    if (slept_through_a_run || caller_taken_.load(std::memory_order_relaxed) > 1 + n / kLateShare)
      continue;
    size_t index = 0;
    while (take(true, &index)) {
      const bool go_on = (*job_.load(std::memory_order_relaxed))(thread, index);
      if (!go_on) state_.fetch_and(~kLeftMask, std::memory_order_acq_rel);
      // The release lets the caller, once it sees no helper holding an
      // index, see this one's result.
      const uint64_t after = state_.fetch_sub(kHeldOne, std::memory_order_acq_rel) - kHeldOne;
      if (held(after) == 0 && left(after) == 0) state_.notify_one();
      if (!go_on) break;
    }
  }
}

}  // namespace graft
