// plan.h -- what a run will do, migration by migration, and why.
//
// A Plan is computed from the catalog (the manifest's plugins), the states
// recorded in the store and the drift findings (drift.h). It is a pure
// function of those: the runner computes it after it has taken the store's
// lease, when no other run can change the states it reads, and carries it
// out; status and a dry run show the same Plan. Nothing is written to the
// store while planning.
//
// up:   each selected migration of the manifest, in order: completed ones
//       are skipped, pending ones run from their first document, partly-run
//       ones (failed, canceled, or running when their process died) resume
//       from their cursor, or run again from the first document when
//       `restart` names them. Drift that blocks stops the whole plan.
//       With `only`, just that migration; with `rerun` too, from its first
//       document even when it is completed.
// down: the applied (or partly rolled back) migrations, newest first, all
//       with a down step or none.
#ifndef GRAFT_HOST_PLAN_PLAN_H_
#define GRAFT_HOST_PLAN_PLAN_H_

#include <string>
#include <vector>

#include "base/status.h"
#include "plan/catalog.h"
#include "plan/drift.h"
#include "store/store.h"

namespace graft {

enum class StepAction {
  kRun,       // up from the first document: never run, or rolled back
  kResume,    // up from the recorded cursor: it was partly run
  kRestart,   // up from the first document again, its progress reset (restart)
  kRerun,     // up from the first document again, though it is completed (rerun)
  kSkip,      // nothing: completed already
  kRollBack,  // down, from the recorded cursor when a rollback was partly done
};

// "run", "resume", "restart", "rerun", "skip", "roll back".
const char* stepActionName(StepAction action);

struct PlannedStep {
  const Plugin* plugin = nullptr;
  StepAction action = StepAction::kRun;
  // An up step of a migration placed before one that is applied already
  // (let through by allow_out_of_order); the store records it, so that
  // drift checking does not take it for a reordered manifest.
  bool out_of_order = false;
  // One line for a person: "pending", "failed at _id 35 after 30 documents,
  // cursor at _id 30", "completed".
  std::string why;

  const std::string& id() const { return plugin->id(); }
  bool down() const { return action == StepAction::kRollBack; }
  bool runs() const { return action != StepAction::kSkip; }
};

struct Plan {
  std::vector<PlannedStep> steps;  // in the order they run; skipped ones in their place
  // Drift findings that stop the run (nothing runs), and the messages of
  // those that let it through.
  std::vector<DriftFinding> blocking;
  std::vector<std::string> notes;

  bool blocked() const { return !blocking.empty(); }
  // kDrift, with one line per blocking finding, then one "note: <message>"
  // line per other finding. REQUIRES: blocked().
  Status blockedStatus() const;
  // The steps that run.
  size_t runnable() const;
};

struct UpRequest {
  std::string only;  // non-empty: just this migration
  std::string to;    // non-empty: stop after this migration
  DriftOptions drift;
  // With `only`: run it from its first document whatever its state, a
  // completed one included (its migrateOne must then be idempotent).
  bool rerun = false;
};

struct DownRequest {
  int steps = 0;   // the last N applied migrations...
  std::string to;  // ...or every applied migration after this one
};

// kUsage when `only`, `to` or `drift.restart` names no migration of the
// manifest, or `rerun` comes without `only`. Needs no state: a runner
// checks it before it waits for a lease.
Status checkUpRequest(const Catalog& catalog, const UpRequest& request);
// kUsage unless exactly one of steps and to is given, and `to` (if given)
// is a migration of the manifest.
Status checkDownRequest(const Catalog& catalog, const DownRequest& request);

// Errors (kUsage), before any step: what checkUpRequest refuses; `restart`
// names a migration that is not partly run; a selected migration is partly
// rolled back (down must finish first); `only` names a migration that has
// a pending one before it in the manifest, unless drift.allow_out_of_order
// (running it would leave that one out of order).
Result<Plan> planUp(const Catalog& catalog, const std::vector<MigrationState>& states,
                    const UpRequest& request);

// Errors (kUsage): what checkDownRequest refuses; a migration to roll back
// has no down step.
Result<Plan> planDown(const Catalog& catalog, const std::vector<MigrationState>& states,
                      const DownRequest& request);

}  // namespace graft

#endif  // GRAFT_HOST_PLAN_PLAN_H_
