#include "run/abandoned.h"

#include "base/clock.h"
#include "run/lease.h"
#include "run/runner.h"

namespace graft {

Status closeAbandonedRun(Store& store, const Lease& lease, RunStatus run_status,
                         const std::string& run_error, const std::string& migration_error,
                         int64_t document, Abandoned* found) {
  found->run_id = lease.run_id;
  const std::string now = utcNow();
  auto states = store.loadStates();
  if (!states.ok()) return states.status();
  for (MigrationState state : *states) {
    if (state.run_id != lease.run_id || state.status != StepStatus::kRunning) continue;
    found->migration_id = state.id;
    found->cursor = state.cursor;
    state.status = StepStatus::kFailed;
    state.error =
        migration_error + (document > 0
                               ? " _id " + std::to_string(document) + " (the cursor stays at _id " +
                                     std::to_string(state.cursor) + ")"
                               : "; it resumes after _id " + std::to_string(state.cursor));
    if (document > 0) state.error_doc_id = document;
    state.updated_at = now;
    GRAFT_RETURN_IF_ERROR(store.saveState(state));
  }
  auto runs = store.loadRuns(50);
  if (!runs.ok()) return runs.status();
  for (RunRecord run : *runs) {
    if (run.run_id != lease.run_id) continue;
    run.status = run_status;
    run.error = run_error;
    run.ended_at = now;
    GRAFT_RETURN_IF_ERROR(store.saveRun(run));
  }
  return store.deleteLease(lease.run_id);
}

Result<Abandoned> recordAbandonedRun(Store& store, int64_t pid, const std::string& reason,
                                     int64_t document) {
  Abandoned found;
  GRAFT_RETURN_IF_ERROR(store.begin());
  auto body = [&]() -> Status {
    auto lease = store.loadLease();
    if (!lease.ok()) return lease.status();
    if (!*lease || (*lease)->pid != pid) return Status::Ok();  // it finished, or never began
    const std::string what = "the run's process " + reason;
    return closeAbandonedRun(store, **lease, RunStatus::kFailed, what, what + " while migrating",
                             document, &found);
  };
  Status s = body();
  if (!s.ok()) {
    (void)store.rollback();
    return s;
  }
  GRAFT_RETURN_IF_ERROR(store.commit());
  return found;
}

Status recordFailedStart(Store& store, const std::string& command, const std::string& error) {
  RunRecord run;
  run.run_id = newRunId();
  run.status = RunStatus::kFailed;
  run.command = command;
  run.started_at = run.ended_at = utcNow();
  run.error = error;
  run.host = hostName();
  run.pid = leaseHolderPid();
  run.user = userName();
  return inTransaction(store, [&] { return store.saveRun(run); });
}

}  // namespace graft
