// batch_strategy.h -- the three ways a step runs one batch.
//
//  - Lock-free span (a step in _id order): the batch is read and migrateOne
//    runs outside any transaction, on a pool's threads for a step that
//    parallelizes; then, under the write lock, the batch's span of the table
//    is written in one pass that compares each document with what
//    migrateOne saw, and only documents changed in between are migrated
//    again. The application's writers wait for the write, never for
//    migrateOne.
//  - Lock-free index range (a step with a customRange): computed the same
//    way; under the lock, the span of the range is read again unless no
//    other connection wrote since the batch was read.
//  - Locked (a step that uses ctx.db, whose writes belong in the batch's
//    transaction): read, migrateOne and write, all in the transaction.
// A step starts with one of the lock-free strategies and switches to the
// locked one for good when migrateOne first calls ctx.db
// (BatchOutcome::needs_ctx_db).
//
// A strategy never commits: the step run (step_run.h) commits or rolls back
// the transaction it opened, together with the cursor and the heartbeat.
#ifndef GRAFT_HOST_RUN_BATCH_STRATEGY_H_
#define GRAFT_HOST_RUN_BATCH_STRATEGY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "base/status.h"
#include "run/compute_pool.h"
#include "run/document_migrator.h"
#include "store/store.h"

namespace graft {

// What one batch did, for the step run to commit.
struct BatchOutcome {
  std::vector<Document> docs;   // the documents it visited, in walk order
  int64_t changed = 0;          // of those, how many it patched
  bool in_transaction = false;  // the batch's transaction is open
  // migrateOne called ctx.db outside the transaction: nothing was done,
  // and the batch is to be run again by the locked strategy.
  bool needs_ctx_db = false;

  // Ready for the next batch; `docs` keeps its capacity.
  void clear();
};

// Takes the store's write lock for a batch (Store::beginBatch) when the
// pacer gives it the turn.
using TakeLock = std::function<Status()>;

class BatchStrategy {
 public:
  virtual ~BatchStrategy() = default;

  // Runs the batch of up to `size` documents after `after`, taking the lock
  // with `lock` once it has something to write (a dry run's lock-free batch
  // never does). On error the batch's transaction, if open, is left for the
  // caller to roll back, and the migrator's failedAt() names the document
  // when one is to blame.
  virtual Status run(const Cursor& after, uint32_t size, const TakeLock& lock,
                     BatchOutcome* out) = 0;
};

// The strategies. `migrator` and `pool` (nullptr: the caller's thread only)
// must outlive them.
std::unique_ptr<BatchStrategy> lockFreeSpanBatches(DocumentMigrator& migrator, ComputePool* pool);
std::unique_ptr<BatchStrategy> lockFreeRangeBatches(DocumentMigrator& migrator, ComputePool* pool);
std::unique_ptr<BatchStrategy> lockedBatches(DocumentMigrator& migrator);

}  // namespace graft

#endif  // GRAFT_HOST_RUN_BATCH_STRATEGY_H_
