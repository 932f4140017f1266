// drift.h -- do the migrations on disk still match what was applied?
//
// Each applied migration has two fingerprints in migration_state: the logic
// digest its plugin carried (graft_add_migration hashes the migration's
// sources, id and ABI major into it) and the SHA-256 of the plugin file.
// Hashing only the file would call every rebuild a change; hashing nothing
// would miss real edits. So the logic digest decides, and the file hash only
// tells a rebuild apart:
//
//   drifted       an applied migration's logic digest changed       blocks
//   rebuilt       only its file hash changed                        warns (blocks under strict)
//   missing       an applied migration is gone from the manifest   blocks
//   unverifiable  a plugin without a logic digest, or an applied   warns (blocks under strict)
//                 one recorded without one whose file changed
//   out of order  a pending migration placed before an applied one blocks
//   reordered     an applied migration placed before one applied    blocks
//                 earlier than it (the manifest's order changed:
//                 a new store would run them in another order)
//
// "Applied" means completed, or partly run: failed, canceled or running with
// documents processed, or in the middle of a rollback. A completed
// migration whose logic changed blocks; allow_drift lets drifted and
// missing migrations through. A partly-run one whose logic changed is the
// main way on after a failure: fix the plugin and resume it from its cursor
// with the new code. That is a finding that does not block (the run's
// history keeps it, with both digests), unless under strict without
// allow_drift; restart runs it again from its first document instead.
// allow_out_of_order lets out-of-order ones through; a migration applied
// out of order so (MigrationState::out_of_order) is not a reorder.
// allow_drift lets reordered ones through.
#ifndef GRAFT_HOST_PLAN_DRIFT_H_
#define GRAFT_HOST_PLAN_DRIFT_H_

#include <string>
#include <vector>

#include "base/status.h"
#include "plan/catalog.h"
#include "store/store.h"

namespace graft {

// What drift checking knows of one plugin of the catalog.
struct Fingerprint {
  std::string id;
  std::string path;
  std::string logic_digest;  // "" when the plugin carries none
  std::string file_sha256;   // of the plugin file
  // The plugin was only inspected (readCatalog) and has no embedded
  // metadata: it may carry a logic digest that graft did not run it to read.
  bool digest_unread = false;
  // The manifest names it but its plugin failed its checks (a catalog
  // assembled with keep_going): nothing to compare, but it holds its place.
  bool broken = false;
};

// The migrations of `catalog`'s manifest, in order: its plugins, and a
// broken entry for each one whose plugin failed.
std::vector<Fingerprint> fingerprints(const Catalog& catalog);

struct DriftOptions {
  bool strict = false;
  bool allow_drift = false;
  bool allow_out_of_order = false;
  std::string restart;  // the id of a partly-run migration to run again from the start
};

enum class DriftKind { kDrifted, kRebuilt, kMissing, kUnverifiable, kOutOfOrder, kReordered };

// "drifted", "rebuilt", "missing", "unverifiable", "out of order", "reordered".
const char* driftKindName(DriftKind kind);

struct DriftFinding {
  std::string id;
  DriftKind kind;
  bool blocks;
  std::string message;  // one line: what, which migration, recorded vs now, how to fix
};

struct DriftReport {
  std::vector<DriftFinding> findings;  // manifest order, then missing ones by id

  bool blocked() const;
  // The finding a one-line summary of `id` shows: its first blocking one,
  // else its first one; nullptr when there is none.
  const DriftFinding* forMigration(const std::string& id) const;
};

// True when `state` changed documents that are still changed: completed, or
// partly run, or partly rolled back.
bool isApplied(const MigrationState& state);
// Applied, and not completed: failed, canceled, running or rolling back.
bool isPartlyRun(const MigrationState& state);
// "completed", "failed at _id 35 after 30 documents, cursor at _id 30",
// "rolling back: down canceled after 12 documents, cursor at _id 40": the
// document it failed at is not the cursor, which is the last one done.
std::string describeState(const MigrationState& state);

// Compares `catalog` (in manifest order; `manifest_path` is for messages)
// with the recorded `states`. A pure function: every finding, at once.
DriftReport checkDrift(const std::string& manifest_path, const std::vector<Fingerprint>& catalog,
                       const std::vector<MigrationState>& states, const DriftOptions& options);

// The drift flags of `options` as the command line spells them, each with a
// leading space (" --allow-drift --restart ID"), for migration_run.command.
std::string driftFlags(const DriftOptions& options);

}  // namespace graft

#endif  // GRAFT_HOST_PLAN_DRIFT_H_
