#include "pacer.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <thread>

#include <time.h>

namespace graft {
namespace {

// Weight of the newest batch in the average: the rate follows a change
// (other work on the machine, bigger documents) within a few batches, and
// one slow commit does not halve the next batch.
constexpr double kNewestWeight = 0.3;

// The sleeps of SQLite's default busy handler (sqliteDefaultBusyCallback),
// in ms; it repeats the last one.
constexpr double kBusySleepsMs[] = {1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100};

// A hold that spent this long off the CPU was preempted (or waited on the
// disk): less is the noise of a timer tick.
constexpr double kPreemptedMs = 0.2;

std::chrono::nanoseconds fromMs(double ms) {
  return std::chrono::nanoseconds(static_cast<int64_t>(ms * 1e6));
}

double toMs(Pacer::Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// CPU time this thread has used.
Pacer::Clock::duration threadCpuTime() {
  timespec t{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) != 0) return {};
  return std::chrono::duration_cast<Pacer::Clock::duration>(std::chrono::seconds(t.tv_sec) +
                                                            std::chrono::nanoseconds(t.tv_nsec));
}

}  // namespace

Pacer::Pacer(const PacerOptions& options)
    : options_(options), batch_size_(options.pinned_batch ? options.pinned_batch : kFirstAdaptiveBatch) {}

void Pacer::waitForTurn() {
  if (Clock::now() < free_until_) std::this_thread::sleep_until(free_until_);
}

void Pacer::locked() {
  locked_at_ = Clock::now();
  locked_cpu_ = threadCpuTime();
}

void Pacer::released(uint64_t docs) {
  const auto now = Clock::now();
  const auto held = now - locked_at_;
  const auto off_cpu = std::max(held - (threadCpuTime() - locked_cpu_), Clock::duration::zero());
  record(docs, held, off_cpu);
  free_until_ = now + gap(held);
}

Pacer::Clock::duration Pacer::gap(Clock::duration held) const {
  return gapAfter(held) + fromMs(options_.pause_ms + (saturated() ? preempted_ms_ : 0));
}

bool Pacer::saturated() const { return off_cpu_share_ > kSaturatedShare; }

// A writer that began to wait at u ms into a hold of h ms retries at u + 1,
// u + 3, u + 8 ...: the first of those at or after h comes at most one sleep
// after h, and the longest such sleep is the longest that begins before h.
Pacer::Clock::duration Pacer::gapAfter(Clock::duration held) {
  const double h = std::chrono::duration<double, std::milli>(held).count();
  // Past the end of the table the handler repeats its last, longest sleep.
  double begins = 0, longest = 0;
  for (size_t i = 0; i < std::size(kBusySleepsMs) && begins < h; ++i) {
    longest = std::max(longest, kBusySleepsMs[i]);
    begins += kBusySleepsMs[i];
  }
  return fromMs(std::max(longest, kBusySleepsMs[0]) + kGapMarginMs);
}

void Pacer::record(uint64_t docs, Clock::duration held, Clock::duration off_cpu) {
  const double held_ms = std::max(toMs(held), 1e-6);
  const double off_ms = std::clamp(toMs(off_cpu), 0.0, held_ms);
  off_cpu_share_ = kNewestWeight * (off_ms / held_ms) + (1 - kNewestWeight) * off_cpu_share_;
  if (off_ms >= kPreemptedMs)
    preempted_ms_ = kNewestWeight * off_ms + (1 - kNewestWeight) * preempted_ms_;
  if (options_.pinned_batch || docs == 0) return;
  const double seconds = std::max(std::chrono::duration<double>(held).count(), 1e-6);
  const double rate = static_cast<double>(docs) / seconds;
  docs_per_s_ = docs_per_s_ == 0 ? rate : kNewestWeight * rate + (1 - kNewestWeight) * docs_per_s_;
  const double lock_ms =
      saturated() ? std::min(options_.lock_ms, kSaturatedLockMs) : options_.lock_ms;
  const double wanted = std::floor(docs_per_s_ * lock_ms / 1000.0);
  const double most = std::min<double>(kMaxAdaptiveBatch, 2.0 * batch_size_);
  batch_size_ = static_cast<uint32_t>(std::clamp<double>(wanted, kMinAdaptiveBatch, most));
}

}  // namespace graft
