// runner.h -- applies pending migrations, batch by batch, exactly once.
//
// The promise: each batch is ONE store transaction holding the batch's
// document writes (and every ctx.db write migrateOne made) together with the
// migration's new cursor and counts. A crash at any instant therefore leaves
// either the whole batch and its cursor, or neither: no document is skipped
// and none is migrated twice. Migrations run serially in manifest order; a
// completed one is never run again by up(); a failed one resumes from its
// last committed cursor on the next up().
#ifndef GRAFT_HOST_RUN_RUNNER_H_
#define GRAFT_HOST_RUN_RUNNER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "plan/catalog.h"
#include "run/db_api.h"
#include "schema/schema_check.h"
#include "run/pacer.h"
#include "plan/plan.h"
#include "base/status.h"
#include "store/store.h"

namespace graft {

struct Progress {
  std::string id;
  int64_t processed = 0;  // documents visited so far, this migration, all runs
  int64_t total = 0;      // processed + documents left when this run started
  int64_t changed = 0;
  int64_t run_processed = 0;  // documents visited by this run
  int64_t batches = 0;        // batches committed by this run, this migration (empty ones not counted)
  uint32_t last_batch = 0;    // documents in the last of them
  bool done = false;
};

// Batch size and pacing (see pacer.h). A size of 0 means: the step's own
// batchSize if it has one, else sized by time under the write lock.
struct RunOptions {
  uint32_t batch_size = 0;   // > 0: pins every batch to this many documents
  double lock_ms = kDefaultLockMs;  // adaptive sizing: target time under the write lock
  double pause_ms = 0;       // added to the gap after every batch
  // Threads for a step that declares parallelize, the runner's own
  // included; 0: ComputePool::defaultThreads(). Other steps use one.
  unsigned threads = 0;
  std::string only;          // non-empty: run just this migration id
  // With `only`: from its first document whatever its state, a completed
  // one included (UpRequest::rerun in plan.h).
  bool rerun = false;
  std::string to;            // up: stop after this migration id
  bool dry_run = false;      // run everything, keep nothing (see Runner::up)
  // The drift check Host::up makes before anything runs (see drift.h).
  bool strict = false;              // rebuilt and digest-less plugins block too
  bool allow_drift = false;         // drifted and missing migrations do not block
  bool allow_out_of_order = false;  // pending migrations before applied ones do not block
  std::string restart;  // a partly-run migration to run again from its first document
  std::string command = "up";
  std::function<void(const Progress&)> on_progress;  // after every batch
  // Checked between batches; when set, the run stops after the current
  // batch commits and the migration is recorded `canceled` (resumable).
  const std::atomic<bool>* stop_requested = nullptr;
  // When set, the _id of each document is stored here while migrateOne
  // runs on it (0 between calls), for a supervisor that must name the
  // document a crash happened on. Under parallelize, one of those in flight.
  std::atomic<int64_t>* current_document = nullptr;
  // Called with each note (a stale lease taken over) when it happens; the
  // notes are in RunReport::notes as well.
  std::function<void(const std::string&)> on_note;
};

// What a run did with one migration.
enum class StepOutcome { kNone, kCompleted, kRolledBack, kSkipped, kFailed, kCanceled, kDryRun };

// "completed", "rolled_back", "skipped", "failed", "canceled", "dry_run";
// "" for kNone (not run yet).
const char* stepOutcomeName(StepOutcome outcome);

struct MigrationReport {
  std::string id;
  StepOutcome outcome = StepOutcome::kNone;  // kSkipped: completed already
  int64_t processed = 0;  // in this run
  int64_t changed = 0;    // patched by migrateOne's return value, in this run
  WriteCounts db_writes;  // made through ctx.db and committed, in this run
  // Dry runs only: every write by table (migrateOne's patches included),
  // and up to kDryRunExamples of them.
  std::map<std::string, WriteCounts> writes_by_table;
  std::vector<Change> examples;
  // Dry runs of a customRange step: how the store walks the index.
  std::string plan;
  // Steps that declare verify: what the check at the end found.
  std::optional<TableCheck> verified;
};

constexpr size_t kDryRunExamples = 10;

struct RunReport {
  std::string run_id;
  // As migration_run.status records it (store.h): never kDriftBlocked or
  // kAbandoned here.
  RunStatus status = RunStatus::kRunning;
  std::string stop_reason;  // when canceled: "signal" or "graft cancel"
  std::vector<std::string> notes;  // e.g. a stale lease taken over
  std::vector<MigrationReport> migrations;
};

struct DownOptions {
  int steps = 0;     // roll back the last N applied migrations...
  std::string to;    // ...or every applied migration after this one
  uint32_t batch_size = 0;
  double lock_ms = kDefaultLockMs;
  double pause_ms = 0;
  unsigned threads = 0;  // as RunOptions::threads
  bool dry_run = false;
  std::string command = "down";
  std::function<void(const Progress&)> on_progress;
  const std::atomic<bool>* stop_requested = nullptr;
  std::atomic<int64_t>* current_document = nullptr;  // as RunOptions::current_document
  std::function<void(const std::string&)> on_note;   // as RunOptions::on_note
};

class Runner {
 public:
  Runner(Store& store, const Catalog& catalog) : store_(store), catalog_(catalog) {}

  // Runs the pending migrations (or options.only). `report` is filled in
  // every case. Errors: kMigrationFailed when migrateOne or one of its writes
  // failed ("migration <id> failed at <table>/<_id>: <reason> ..."), kStore
  // when the store itself failed, kCanceled-like stops return ok with
  // report->status == RunStatus::kCanceled.
  //
  // One run at a time: the run takes the store's lease (lease.h) before it
  // reads any state and gives it back at the end; kBusy when another live
  // run holds it (even when there would be nothing to do).
  //
  // Dry run: every migrateOne runs on every document, each batch in a
  // transaction that is always rolled back; the report counts what would be
  // written, by table, with examples. Only a `dry_run` row in migration_run
  // is kept. Each migration sees the data as it is now, not as the
  // migrations before it would have left it.
  Status up(const RunOptions& options, RunReport* report);

  // Rolls back applied migrations, newest first, with their down steps,
  // batch by batch with the same exactly-once cursor. A rolled-back
  // migration is pending again. Fails before anything runs (kUsage) if one
  // of them has no down step.
  Status down(const DownOptions& options, RunReport* report);

 private:
  struct Settings;
  using Planner = std::function<Result<Plan>(const std::vector<MigrationState>&)>;
  // Takes the lease, plans from the states then recorded, and carries the
  // plan out; gives the lease back in every case.
  Status planAndExecute(const Planner& planner, const Settings& settings, RunReport* report);
  // REQUIRES (these three): the lease is held by report->run_id / run_id.
  Status executePlanned(const Planner& planner, const Settings& settings, RunReport* report);
  Status recordBlocked(const Plan& plan, const Settings& settings, const std::string& run_id);
  Status resetProgress(const std::string& id, const std::vector<MigrationState>& states);
  // Records the run and runs `steps`, each with a StepRun (step_run.h); a
  // run with nothing to do is recorded as `noop`. REQUIRES: the lease is
  // held by report->run_id.
  Status execute(const std::vector<PlannedStep>& steps, const Settings& settings,
                 RunReport* report);

  Store& store_;
  const Catalog& catalog_;
};

// The drift options of `options`.
DriftOptions driftOptionsOf(const RunOptions& options);

// A new run id: "<UTC time>-<pid>", sortable by start time; "-000001" and on
// follow when this process made another in the same millisecond.
std::string newRunId();

}  // namespace graft

#endif  // GRAFT_HOST_RUN_RUNNER_H_
