#include "run/pacer.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <thread>

#include <sys/resource.h>
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

// A preempted hold that spent less than this off the CPU was only
// interrupted; the most any hold counts for is the busy handler's longest
// sleep.
constexpr double kPreemptedMs = 0.2;
constexpr double kMaxPreemptedMs = 100;

std::chrono::nanoseconds fromMs(double ms) {
  return std::chrono::nanoseconds(static_cast<int64_t>(ms * 1e6));
}

double toMs(Pacer::Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// CPU time this thread has used, and how often it has been preempted
// (involuntary context switches); nothing where the system can not say.
std::optional<Pacer::CpuMark> cpuMark() {
#ifdef RUSAGE_THREAD
  timespec t{};
  rusage usage{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) != 0 || getrusage(RUSAGE_THREAD, &usage) != 0)
    return std::nullopt;
  return Pacer::CpuMark{std::chrono::duration_cast<Pacer::Clock::duration>(
                            std::chrono::seconds(t.tv_sec) + std::chrono::nanoseconds(t.tv_nsec)),
                        static_cast<int64_t>(usage.ru_nivcsw)};
#else
  return std::nullopt;
#endif
}

}  // namespace

Pacer::Pacer(const PacerOptions& options)
    : options_(options), batch_size_(options.pinned_batch ? options.pinned_batch : kFirstAdaptiveBatch) {}

void Pacer::waitForTurn() {
  if (Clock::now() < free_until_) std::this_thread::sleep_until(free_until_);
}

void Pacer::locked() {
  locked_at_ = Clock::now();
  locked_cpu_ = cpuMark();
}

void Pacer::released(uint64_t docs) {
  const auto now = Clock::now();
  const auto held = now - locked_at_;
  // Time off the CPU counts only in a hold that was preempted: waiting for
  // the disk (a commit that syncs the WAL's header, say) is a voluntary
  // switch, and does not keep the application's retries from waking.
  Clock::duration preempted{};
  const std::optional<CpuMark> now_cpu = cpuMark();
  if (locked_cpu_ && now_cpu && now_cpu->preemptions > locked_cpu_->preemptions)
    preempted = std::max(held - (now_cpu->cpu - locked_cpu_->cpu), Clock::duration::zero());
  record(docs, held, preempted);
  free_until_ = now + gap(held);
}

Pacer::Clock::duration Pacer::gap(Clock::duration held) const {
  if (options_.rows_only) return fromMs(options_.pause_ms);
  return gapAfter(held) + fromMs(options_.pause_ms + (saturated() ? preempted_ms_ : 0));
}

bool Pacer::saturated() const { return preempted_share_ > kSaturatedShare; }

// A writer that began to wait at u ms into a hold of h ms retries at u + 1,
// u + 3, u + 8 ...: the first of those at or after h comes at most one sleep
// after h, and the longest such sleep is the longest that begins before h.
Pacer::Clock::duration Pacer::gapAfter(Clock::duration held) {
  const double h = toMs(held);
  // Past the end of the table the handler repeats its last, longest sleep.
  double begins = 0, longest = 0;
  for (size_t i = 0; i < std::size(kBusySleepsMs) && begins < h; ++i) {
    longest = std::max(longest, kBusySleepsMs[i]);
    begins += kBusySleepsMs[i];
  }
  return fromMs(std::max(longest, kBusySleepsMs[0]) + kGapMarginMs);
}

void Pacer::record(uint64_t docs, Clock::duration held, Clock::duration preempted) {
  const double held_ms = std::max(toMs(held), 1e-6);
  const double off_ms = std::clamp(toMs(preempted), 0.0, held_ms);
  preempted_share_ =
      kNewestWeight * (off_ms / held_ms) + (1 - kNewestWeight) * preempted_share_;
  // A hold stopped for long (SIGSTOP, a paused VM) adds at most the busy
  // handler's longest sleep to the gaps; on a machine that is no longer
  // saturated the time fades with every hold.
  if (off_ms >= kPreemptedMs)
    preempted_ms_ = kNewestWeight * std::min(off_ms, kMaxPreemptedMs) +
                    (1 - kNewestWeight) * preempted_ms_;
  else if (!saturated())
    preempted_ms_ *= 1 - kNewestWeight;
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
