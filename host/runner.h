// runner.h -- applies pending migrations, batch by batch, exactly once.
//
// The promise: each batch is ONE store transaction holding the batch's
// document writes (and every ctx.db write migrateOne made) together with the
// migration's new cursor and counts. A crash at any instant therefore leaves
// either the whole batch and its cursor, or neither: no document is skipped
// and none is migrated twice. Migrations run serially in manifest order; a
// completed one is never run again by up(); a failed one resumes from its
// last committed cursor on the next up().
#ifndef GRAFT_HOST_RUNNER_H_
#define GRAFT_HOST_RUNNER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "catalog.h"
#include "db_api.h"
#include "status.h"
#include "store.h"

namespace graft {

constexpr uint32_t kDefaultBatchSize = 256;

struct Progress {
  std::string id;
  int64_t processed = 0;  // documents visited so far, this migration, all runs
  int64_t total = 0;      // processed + documents left when this run started
  int64_t changed = 0;
  int64_t run_processed = 0;  // documents visited by this run
  bool done = false;
};

struct RunOptions {
  uint32_t batch_size = 0;   // 0: the step's own, else kDefaultBatchSize
  std::string only;          // non-empty: run just this migration id
  std::string command = "up";
  std::function<void(const Progress&)> on_progress;  // after every batch
  // Checked between batches; when set, the run stops after the current
  // batch commits and the migration is recorded `canceled` (resumable).
  const std::atomic<bool>* stop_requested = nullptr;
};

struct MigrationReport {
  std::string id;
  std::string outcome;  // completed, skipped (already completed), failed, canceled
  int64_t processed = 0;  // in this run
  int64_t changed = 0;    // patched by migrateOne's return value, in this run
  WriteCounts db_writes;  // made through ctx.db and committed, in this run
};

struct RunReport {
  std::string run_id;
  std::string status;  // completed, noop, failed, canceled
  std::vector<MigrationReport> migrations;
};

class Runner {
 public:
  Runner(Store& store, const Catalog& catalog) : store_(store), catalog_(catalog) {}

  // Runs the pending migrations (or options.only). `report` is filled in
  // every case. Errors: kMigrationFailed when migrateOne or one of its writes
  // failed ("migration <id> failed at <table>/<_id>: <reason> ..."), kStore
  // when the store itself failed, kCanceled-like stops return ok with
  // report->status == "canceled".
  Status up(const RunOptions& options, RunReport* report);

 private:
  Status runMigration(const Plugin& plugin, const RunOptions& options, const std::string& run_id,
                      MigrationReport* report, bool* canceled);

  Store& store_;
  const Catalog& catalog_;
};

// A new run id: "<UTC time>-<pid>", sortable by start time.
std::string newRunId();

}  // namespace graft

#endif  // GRAFT_HOST_RUNNER_H_
