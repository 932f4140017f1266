// graft cancel: ask the active run, in another process, to stop.
#include <cstdio>

#include "cli/cli.h"
#include "store/open_store.h"

namespace graft::cli {

Command addCancelCommand(CLI::App& app, const Globals& globals) {
  CLI::App* sub = app.add_subcommand(
      "cancel", "stop the active run after its current batch (it can be resumed)");
  return {sub, [&globals] {
            auto store = openStore(globals.host.db_url, StoreOptions{});
            if (!store.ok()) return fail(store.status());
            auto lease = (*store)->loadLease();
            if (!lease.ok()) return fail(lease.status());
            auto requested = (*store)->requestCancel();
            if (!requested.ok()) return fail(requested.status());
            if (!*requested || !*lease) {
              std::printf("no run is active\n");
              return 0;
            }
            const Lease& l = **lease;
            std::printf("cancel requested: run %s (pid %lld on host %s) stops after its current batch\n",
                        l.run_id.c_str(), static_cast<long long>(l.pid), l.host.c_str());
            return 0;
          }};
}

}  // namespace graft::cli
