// supervise.h -- run `graft up`/`down` in a child process and watch it.
//
// Plugin code runs in the child. If the child dies of a signal, exits in
// the middle of a run (a plugin calling exit()), or commits no batch for
// `batch_timeout_s` seconds (a migrateOne that never returns: the child is
// killed), this process records the run as failed (abandoned.h) and says
// so in one line; nothing is left `running` and no lease is left behind.
// SIGINT/SIGTERM reach the child, which stops after its batch as usual;
// if this process is killed, the child is killed with it.
#ifndef GRAFT_CLI_SUPERVISE_H_
#define GRAFT_CLI_SUPERVISE_H_

#include <functional>
#include <string>

namespace graft::cli {

int supervise(const std::function<int()>& child_main, const std::string& db_path,
              int batch_timeout_s);

}  // namespace graft::cli

#endif  // GRAFT_CLI_SUPERVISE_H_
