#include "abandoned.h"

#include "clock.h"

namespace graft {

Result<Abandoned> recordAbandonedRun(Store& store, int64_t pid, const std::string& reason) {
  Abandoned found;
  GRAFT_RETURN_IF_ERROR(store.begin());
  auto body = [&]() -> Status {
    auto lease = store.loadLease();
    if (!lease.ok()) return lease.status();
    if (!*lease || (*lease)->pid != pid) return Status::Ok();  // it finished, or never began
    found.run_id = (*lease)->run_id;
    const std::string now = utcNow();
    auto states = store.loadStates();
    if (!states.ok()) return states.status();
    for (MigrationState state : *states) {
      if (state.run_id != found.run_id || state.status != "running") continue;
      found.migration_id = state.id;
      found.cursor = state.cursor;
      state.status = "failed";
      state.error = "the run's process " + reason + " while migrating after _id " +
                    std::to_string(state.cursor);
      state.updated_at = now;
      GRAFT_RETURN_IF_ERROR(store.saveState(state));
    }
    auto runs = store.loadRuns(50);
    if (!runs.ok()) return runs.status();
    for (RunRecord run : *runs) {
      if (run.run_id != found.run_id) continue;
      run.status = "failed";
      run.error = "the run's process " + reason;
      run.ended_at = now;
      GRAFT_RETURN_IF_ERROR(store.saveRun(run));
    }
    return store.deleteLease(found.run_id);
  };
  Status s = body();
  if (!s.ok()) {
    (void)store.rollback();
    return s;
  }
  GRAFT_RETURN_IF_ERROR(store.commit());
  return found;
}

}  // namespace graft
