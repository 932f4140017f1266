// watch.h -- `graft up --watch`: apply migrations as they are dropped in.
#ifndef GRAFT_CLI_WATCH_H_
#define GRAFT_CLI_WATCH_H_

#include <atomic>
#include <functional>
#include <string>

namespace graft::cli {

// Calls `run_once` (one `graft up`, returning its exit code), then watches
// the plugin directory and the manifest and calls it again after every
// change, once the files have been still for `settle_ms` (a plugin being
// copied is not loaded half-written; one that is still incomplete, or not
// yet in the manifest, fails the plugin checks and is retried at the next
// change). Returns 0 when `stop` is set while idle, or the first exit code
// of a run that failed for another reason than plugin or input checks.
int watchAndRun(const std::function<int()>& run_once, const std::string& plugin_dir,
                const std::string& manifest, const std::atomic<bool>* stop, int settle_ms = 1000);

}  // namespace graft::cli

#endif  // GRAFT_CLI_WATCH_H_
