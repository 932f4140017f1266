// step_run.h -- one migration's up or down step, run over its table.
//
// A StepRun prepares the step (its customRange, its state, the documents
// left), runs it batch by batch with one of the batch strategies
// (batch_strategy.h), commits each batch in ONE store transaction with the
// step's new cursor, counts and the lease's heartbeat, and at the end
// verifies the step and records it done. A failure is recorded in the
// step's state (except in a dry run, which keeps nothing) and returned.
//
// Thread-safety: a StepRun is used by one thread, the run's.
#ifndef GRAFT_HOST_RUN_STEP_RUN_H_
#define GRAFT_HOST_RUN_STEP_RUN_H_

#include <graft/graft.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "base/status.h"
#include "plan/plan.h"
#include "plugins/plugin.h"
#include "run/batch_strategy.h"
#include "run/compute_pool.h"
#include "run/db_api.h"
#include "run/document_migrator.h"
#include "run/pacer.h"
#include "run/runner.h"
#include "store/store.h"

namespace graft {

// How a step runs: RunOptions' and DownOptions' settings for one step.
struct StepSettings {
  uint32_t batch_size = 0;  // > 0: pins every batch; else the step's own, else adaptive
  double lock_ms = kDefaultLockMs;
  double pause_ms = 0;
  unsigned threads = 0;  // as RunOptions::threads
  bool dry_run = false;
  std::function<void(const Progress&)> on_progress;
  const std::atomic<bool>* stop_requested = nullptr;
  std::atomic<int64_t>* current_document = nullptr;
};

// Saves `state` in a transaction of its own, committed durably.
Status saveStateNow(Store& store, const MigrationState& state);

// Why a run stopped between two batches, if it did.
enum class Stop { kNone, kSignal, kCancel };

// One of the store's switches (Store::setSchemaChecks, setBodyChecks),
// turned off for a step and on again at its end, or before if asked.
class SwitchedOff {
 public:
  using Switch = Status (Store::*)(bool);
  explicit SwitchedOff(Switch toggle) : toggle_(toggle) {}
  ~SwitchedOff() { (void)restore(); }
  SwitchedOff(const SwitchedOff&) = delete;
  SwitchedOff& operator=(const SwitchedOff&) = delete;

  Status turnOff(Store& store) {
    GRAFT_RETURN_IF_ERROR((store.*toggle_)(false));
    store_ = &store;
    return Status::Ok();
  }
  Status restore() {
    Store* store = std::exchange(store_, nullptr);
    return store ? (store->*toggle_)(true) : Status::Ok();
  }

 private:
  Switch toggle_;
  Store* store_ = nullptr;  // set while the switch is off
};

class StepRun {
 public:
  // Runs `step`, one that runs (PlannedStep::runs()). `report` is filled
  // in as the step runs; it and the step's plugin must outlive the StepRun.
  StepRun(Store& store, const PlannedStep& step, const StepSettings& settings,
          const std::string& run_id, MigrationReport* report);
  StepRun(const StepRun&) = delete;
  StepRun& operator=(const StepRun&) = delete;

  // Runs the step to its end, or until a stop is asked for: then it stops
  // after the batch in flight commits, sets `*stop` and records the step
  // `canceled` (resumable). A plugin's failure is kMigrationFailed, with the
  // step's state recorded `failed`. REQUIRES: *stop == Stop::kNone, the
  // lease held by `run_id`. Call once.
  Status run(Stop* stop);

 private:
  // Before the first batch.
  Status prepare(bool* has_table);
  Status resolveCustomRange();
  Status loadState();
  Status failIfAbsent();
  Status countLeft(int64_t* left);
  Status start();
  // One batch; `*more`: whether another one follows.
  Status runBatch(Stop* stop, bool* more);
  Status takeLock();
  Status commit(Store::Heartbeat* beat, bool* lease_lost);
  MigrationState stateAfterBatch() const;
  Status refreshLease(Store::Heartbeat* beat);
  Status leaseLost();
  void countCommitted(const MigrationState& next);
  Status batchFailed(const Status& failure);
  void reportProgress();
  // After the last batch.
  Status finish(Stop stop);
  bool wroteNothing() const;
  Status verify();
  void tallyDryRun();
  // The one place a failure is written to the step's state.
  Status recordFailure(Code code, const std::string& error, std::string message, int64_t failed_at);

  Store& store_;
  const Plugin& plugin_;
  const graft_step& step_;
  const bool down_;
  const bool out_of_order_;
  const StepSettings settings_;
  const std::string run_id_;
  MigrationReport* const report_;
  const std::string id_;
  const std::string table_;
  const Direction direction_;
  Pacer pacer_;
  std::optional<KeyRange> range_;  // the customRange, if any
  MigrationState state_;           // as of the last commit
  Progress progress_;
  WriteCounts committed_writes_;  // api_.counts() as of the last commit
  SwitchedOff schema_checks_off_{&Store::setSchemaChecks};
  SwitchedOff body_checks_off_{&Store::setBodyChecks};
  DocApi api_;
  const graft_context ctx_;
  std::optional<DocumentMigrator> migrator_;
  std::unique_ptr<ComputePool> pool_;
  std::unique_ptr<BatchStrategy> strategy_;
  BatchOutcome batch_;  // the batch in flight
};

}  // namespace graft

#endif  // GRAFT_HOST_RUN_STEP_RUN_H_
