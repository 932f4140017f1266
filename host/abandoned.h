// abandoned.h -- recording a run whose process died in the middle.
//
// A plugin can crash the process that runs it (SIGSEGV, abort(), exit(),
// or a migrateOne that never returns and must be killed). The store then
// holds that run's lease, a `running` run row and a `running` migration.
// Whoever saw it die (the supervising `graft` process) records it here:
// the migration becomes `failed` with the reason and keeps its last
// committed cursor, the run becomes `failed`, and the lease is released,
// so the next `graft up` resumes as soon as the plugin is fixed.
#ifndef GRAFT_HOST_ABANDONED_H_
#define GRAFT_HOST_ABANDONED_H_

#include <cstdint>
#include <string>

#include "status.h"
#include "store.h"

namespace graft {

struct Abandoned {
  std::string run_id;        // "" when `pid` held no lease: nothing to record
  std::string migration_id;  // the migration it was running, "" if none
  int64_t cursor = 0;        // where that migration resumes
};

// Records, in one transaction, that the run held by `pid` ended abnormally
// for `reason` ("killed by signal SIGSEGV (Segmentation fault)").
Result<Abandoned> recordAbandonedRun(Store& store, int64_t pid, const std::string& reason);

}  // namespace graft

#endif  // GRAFT_HOST_ABANDONED_H_
