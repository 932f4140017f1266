// report.h -- what `graft up` and `graft down` print, and how they stop.
#ifndef GRAFT_CLI_REPORT_H_
#define GRAFT_CLI_REPORT_H_

#include <atomic>

#include "run/runner.h"
#include "base/status.h"

namespace graft::cli {

// SIGINT/SIGTERM set the returned flag: the run finishes the batch in
// flight, commits, records, and stops. The handlers reset on first use, so
// a second Ctrl-C stops at once (still safe: the open batch rolls back).
const std::atomic<bool>* installStopHandlers();

// Prints the report (and, for a dry run, what would have been written) and
// turns the outcome into the exit code.
int finishRun(const Status& status, const RunReport& report, const char* command);

}  // namespace graft::cli

#endif  // GRAFT_CLI_REPORT_H_
