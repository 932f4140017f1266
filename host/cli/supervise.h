// supervise.h -- run `graft up`/`down` in a child process and watch it.
//
// Plugin code runs in the child, the worker. If the worker dies of a
// signal, exits in the middle of a run (a plugin calling exit()), or
// commits no batch for `batch_timeout_s` seconds (a migrateOne that never
// returns: the worker is killed), this process records the run as failed
// (abandoned.h) and says so in one line, naming the document migrateOne
// was on; nothing is left `running` and no lease is left behind. If that
// happens while a plugin's code is being loaded (a constructor that
// crashes, exits or never returns; loading is watched with the same
// timeout), the line names the plugin and the `load` stage, the exit code is
// the plugin one, and a `failed` run row with the reason is written.
// SIGINT/SIGTERM reach the worker, which stops after its batch as usual; if
// this process is killed, the worker is killed with it. Whatever way the
// worker ends, this process removes the private copies of the plugins it
// loaded (removePluginCopies in plugin.h).
#ifndef GRAFT_CLI_SUPERVISE_H_
#define GRAFT_CLI_SUPERVISE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

namespace graft::cli {

// `command` is what the run history shows for a run that failed before it
// began ("up", "down").
int supervise(const std::function<int()>& child_main, const std::string& db_url,
              int batch_timeout_s, const std::string& command);

// What the worker tells its supervisor, through memory they share. Each
// does nothing in a process that is not a supervised worker.
namespace worker {
// The code of the plugin at `path` is about to be loaded (its constructors
// run then): HostOptions::before_plugin_load.
void loading(const std::string& path);
// Every plugin is loaded; what follows is the run.
void loaded();
// Where the runner keeps the document migrateOne is on
// (RunOptions::current_document); nullptr when not supervised.
std::atomic<int64_t>* documentSlot();
}  // namespace worker

}  // namespace graft::cli

#endif  // GRAFT_CLI_SUPERVISE_H_
