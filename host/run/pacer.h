// pacer.h -- how many documents a batch takes, and when the next batch may
// take the write lock.
//
// Why: an application waiting for SQLite's write lock with
// sqlite3_busy_timeout() does not queue; it sleeps and retries after 1, 3,
// 8, 18, 33, 53 ... ms (the default busy handler's sleeps of 1, 2, 5, 10,
// 15, 20, 25 ... ms). A migration that takes the lock again a moment after
// each commit wins nearly every race, and the application's p99 grows to
// hundreds of milliseconds. So the pacer
//  - sizes batches by TIME under the lock, not by count: it keeps a decaying
//    average of the documents per second applied under the lock and asks
//    for as many documents as fit in `lock_ms` (like pt-online-schema-
//    change's --chunk-time), within [kMinAdaptiveBatch, kMaxAdaptiveBatch]
//    and at most doubling from one batch to the next;
//  - leaves the lock free after each commit until every writer that began
//    to wait during the hold has retried once more: for a hold of h ms, the
//    longest busy-handler sleep that can begin before h (1 ms when h <= 1,
//    2 ms when h <= 3, 5 ms when h <= 8, ...; see gapAfter), plus
//    kGapMarginMs for a retry that wakes late, plus `pause_ms`. With the
//    default lock_ms of 2.5, a writer that found the lock taken gets it at
//    its first or second retry (+1 or +3 ms), and the lock is held about
//    2.5 ms of every 5.5. The next batch is computed meanwhile, so the gap
//    costs nothing when the compute is longer;
//  - notices a machine with no core to spare: when the holds lately spent
//    more than kSaturatedShare of their time preempted (wall time minus the
//    thread's CPU time, in holds with an involuntary context switch), it
//    aims at kSaturatedLockMs under the lock, and each gap also lasts as
//    long as a preempted hold lately spent off the CPU, since the
//    application's retries wake that late too. "Under heavy load" in
//    doc/performance.md has what that did with four busy loops on two cores.
// A pinned size (--batch-size, or the step's own batchSize) turns the sizing
// off, not the gap.
//
// Thread-safety: one Pacer per pass, used by one thread.
#ifndef GRAFT_HOST_RUN_PACER_H_
#define GRAFT_HOST_RUN_PACER_H_

#include <chrono>
#include <cstdint>
#include <optional>

namespace graft {

constexpr uint32_t kMinAdaptiveBatch = 1;
constexpr uint32_t kMaxAdaptiveBatch = 10000;
constexpr uint32_t kFirstAdaptiveBatch = 128;
constexpr double kDefaultLockMs = 2.5;
constexpr double kGapMarginMs = 1.0;
// A machine whose holds spend more than this share of their time
// preempted has no core to spare; the pacer then aims at kSaturatedLockMs.
constexpr double kSaturatedShare = 0.1;
constexpr double kSaturatedLockMs = 1.0;

struct PacerOptions {
  uint32_t pinned_batch = 0;  // > 0: every batch asks for exactly this many documents
  double lock_ms = kDefaultLockMs;  // target time under the write lock per batch
  double pause_ms = 0;        // added to every gap (--pause-ms)
  // The store's writes lock only the rows they write, and a writer waiting
  // for one is woken when it is released (Store::WriteLocking::kRows): no
  // retry to leave room for, so the gap is pause_ms alone.
  bool rows_only = false;
};

class Pacer {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Pacer(const PacerOptions& options);

  // How many documents the next batch asks for. Always in
  // [kMinAdaptiveBatch, kMaxAdaptiveBatch] unless pinned.
  uint32_t batchSize() const { return batch_size_; }

  // Call right before asking for the write lock: sleeps until the gap after
  // the last release has passed.
  void waitForTurn();
  // Call once the write lock is held.
  void locked();
  // Call once it is released (committed or rolled back), with the number of
  // documents the batch visited. Updates the rate, how saturated the
  // machine is, the next size and the gap.
  void released(uint64_t docs);

  // How long the lock stays free after a hold of `held`: gapAfter, plus
  // pause_ms, plus, when saturated(), as long as a preempted hold lately
  // spent off the CPU (the application's retries wake that late too).
  Clock::duration gap(Clock::duration held) const;
  // How long the lock stays free after a hold of `held` for the retry of
  // every writer that began to wait during it, one that wakes on time.
  static Clock::duration gapAfter(Clock::duration held);
  // Whether the holds lately spent more than kSaturatedShare of their time
  // preempted: then batches aim at kSaturatedLockMs (if lock_ms is more).
  bool saturated() const;

  // Exposed for tests: feeds one measured batch as if it held the lock for
  // `held`, `preempted` of that off the CPU, without sleeping.
  void record(uint64_t docs, Clock::duration held, Clock::duration preempted = {});

  // The thread's CPU time and involuntary context switches at one moment.
  struct CpuMark {
    Clock::duration cpu;
    int64_t preemptions;
  };

 private:
  PacerOptions options_;
  uint32_t batch_size_;
  double docs_per_s_ = 0;  // decaying average; 0 before the first batch
  double preempted_share_ = 0;  // decaying average share of a hold spent preempted
  double preempted_ms_ = 0;   // ... time off the CPU of a hold that was preempted
  Clock::time_point locked_at_{};
  std::optional<CpuMark> locked_cpu_;  // when it took the lock
  Clock::time_point free_until_{};
};

}  // namespace graft

#endif  // GRAFT_HOST_RUN_PACER_H_
