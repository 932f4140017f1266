// lease.h -- one run at a time per store.
//
// A run holds the lease row (graft_lease) from start to end and refreshes
// its heartbeat with every batch, in the batch's own transaction. A second
// run is refused with kBusy: "already running (pid P on host H since T)".
// A lease whose holder is gone is taken over with a note, so no one ever
// has to unlock by hand: on the same host, the holder's pid no longer
// exists; on another host, its heartbeat is older than the expiry.
#ifndef GRAFT_HOST_RUN_LEASE_H_
#define GRAFT_HOST_RUN_LEASE_H_

#include <cstdint>
#include <string>

#include "base/status.h"
#include "store/store.h"

namespace graft {

constexpr int64_t kLeaseExpiryMs = 60'000;

int64_t nowMs();

// The pid that leases and run history name: this process's own, unless a
// supervising parent runs the migrations in this child (supervise.h). Then
// it is the parent's, the process operators see, and killing it frees the
// lease at once: should this child still be alive for a moment, its next
// heartbeat finds the lease gone and it commits nothing more.
int64_t leaseHolderPid();
void setLeaseHolderPid(int64_t pid);
std::string hostName();
// The name of the user this process runs as ("uid N" if it has none).
std::string userName();

// Takes the lease for `run_id` in a transaction of its own. `*note` says
// whose stale lease was taken over, if any ("" otherwise). A lease taken
// over closes the run that held it in the same transaction (see
// closeAbandonedRun in abandoned.h): `abandoned`, found by `run_id`.
Status acquireLease(Store& store, const std::string& run_id, std::string* note);

// Gives the lease back if `run_id` still holds it.
Status releaseLease(Store& store, const std::string& run_id);

// True when the holder of `lease` is known to be gone.
bool leaseIsStale(const Lease& lease, int64_t now_ms);

}  // namespace graft

#endif  // GRAFT_HOST_RUN_LEASE_H_
