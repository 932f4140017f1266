// abandoned.h -- recording a run whose process died in the middle.
//
// A plugin can crash the process that runs it (SIGSEGV, abort(), exit(),
// or a migrateOne that never returns and must be killed), and an operator
// can kill graft itself. The store then holds that run's lease, a `running`
// run row and a `running` migration. Whoever finds out records it here:
//   - the supervising `graft` process, which saw its worker die
//     (recordAbandonedRun): the run becomes `failed`;
//   - the next run, which finds the lease of a process that is gone and
//     takes it over (closeAbandonedRun, from acquireLease): the run becomes
//     `abandoned`, with when and by whom it was found.
// Either way its running migrations become `failed` with the reason and
// keep their last committed cursor, and the lease is released, so the next
// `graft up` resumes from there.
#ifndef GRAFT_HOST_RUN_ABANDONED_H_
#define GRAFT_HOST_RUN_ABANDONED_H_

#include <cstdint>
#include <string>

#include "base/status.h"
#include "store/store.h"

namespace graft {

struct Abandoned {
  std::string run_id;        // "" when there was no such run: nothing to record
  std::string migration_id;  // the migration it was running, "" if none
  int64_t cursor = 0;        // where that migration resumes
};

// Records, in one transaction, that the run held by `pid` ended abnormally
// for `reason` ("was killed by signal SIGSEGV (Segmentation fault)"), with
// migrateOne on `document` (its _id; 0 when unknown) at the time.
Result<Abandoned> recordAbandonedRun(Store& store, int64_t pid, const std::string& reason,
                                     int64_t document = 0);

// Closes the run of `lease`, whose holder is gone: its run row becomes
// `run_status` with `run_error`, each migration it was running `failed`
// with `migration_error` followed by the document it was on (" _id 25 (the
// cursor stays at _id 20)"; `document` 0: unknown) or else by where it
// resumes ("; it resumes after _id 20"), and the lease row is deleted.
// Fills *found.
// REQUIRES: inside a transaction of `store`.
Status closeAbandonedRun(Store& store, const Lease& lease, RunStatus run_status,
                         const std::string& run_error, const std::string& migration_error,
                         int64_t document, Abandoned* found);

// Records a run that ended before it took the lease, because its process
// died while loading a plugin (so nothing ran): a run row `failed` with
// `error`, for the history.
Status recordFailedStart(Store& store, const std::string& command, const std::string& error);

}  // namespace graft

#endif  // GRAFT_HOST_RUN_ABANDONED_H_
