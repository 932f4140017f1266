#include "run/lease.h"

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>

#include "run/abandoned.h"
#include "base/clock.h"

namespace graft {

int64_t nowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string hostName() {
  char name[HOST_NAME_MAX + 1] = {0};
  if (gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

std::string userName() {
  if (const struct passwd* pw = getpwuid(geteuid())) return pw->pw_name;
  return "uid " + std::to_string(geteuid());
}

namespace {
int64_t g_holder_pid = 0;
}  // namespace

int64_t leaseHolderPid() { return g_holder_pid ? g_holder_pid : static_cast<int64_t>(getpid()); }
void setLeaseHolderPid(int64_t pid) { g_holder_pid = pid; }

bool leaseIsStale(const Lease& lease, int64_t now_ms) {
  if (lease.host == hostName()) {
    // kill(pid, 0) fails with ESRCH only when no such process exists.
    return lease.pid <= 0 || (kill(static_cast<pid_t>(lease.pid), 0) != 0 && errno == ESRCH);
  }
  return now_ms - lease.heartbeat_ms > kLeaseExpiryMs;
}

Status acquireLease(Store& store, const std::string& run_id, std::string* note) {
  note->clear();
  GRAFT_RETURN_IF_ERROR(store.begin());
  auto fail = [&](Status s) {
    (void)store.rollback();
    return s;
  };
  auto current = store.loadLease();
  if (!current.ok()) return fail(current.status());
  const int64_t now = nowMs();
  if (*current) {
    const Lease& held = **current;
    if (!leaseIsStale(held, now)) {
      return fail(Status(Code::kBusy, "already running (pid " + std::to_string(held.pid) +
                                          " on host " + held.host + " since " + held.started_at +
                                          ", run " + held.run_id +
                                          "); wait for it, or stop it with graft cancel"));
    }
    const std::string gone =
        held.host == hostName()
            ? "that process is gone"
            : "no heartbeat for " + std::to_string((now - held.heartbeat_ms) / 1000) + " s";
    *note = "took over the lease of run " + held.run_id + " (pid " + std::to_string(held.pid) +
            " on host " + held.host + " since " + held.started_at + "): " + gone;
    // Its run and migrations would say `running` for good: the process that
    // could have said otherwise is gone (killed with SIGKILL, say).
    const std::string found = "found by run " + run_id + " (pid " +
                              std::to_string(leaseHolderPid()) + " on host " + hostName() +
                              ") at " + utcNow();
    Abandoned closed;
    Status recorded =
        closeAbandonedRun(store, held, RunStatus::kAbandoned, "abandoned: " + gone + "; " + found,
                          "the run's process was gone (" + gone + "; " + found + ")", 0, &closed);
    if (!recorded.ok()) return fail(recorded);
    if (!closed.migration_id.empty())
      *note += "; its run is recorded abandoned, and migration " + closed.migration_id +
               " failed at its cursor, _id " + std::to_string(closed.cursor);
    else
      *note += "; its run is recorded abandoned";
  }
  Lease lease{run_id, hostName(), leaseHolderPid(), utcNow(), now, false};
  Status saved = store.saveLease(lease);
  if (!saved.ok()) return fail(saved);
  return store.commit();
}

Status releaseLease(Store& store, const std::string& run_id) {
  return inTransaction(store, [&] { return store.deleteLease(run_id); });
}

}  // namespace graft
