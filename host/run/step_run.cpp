#include "run/step_run.h"

#include <vector>

#include "base/clock.h"
#include "base/json_text.h"
#include "plugins/step_spec.h"
#include "run/lease.h"
#include "schema/schema_check.h"

namespace graft {

Status saveStateNow(Store& store, const MigrationState& state) {
  return inTransaction(store, [&] { return store.saveState(state); });
}

namespace {

// A state commit that need not be durable by itself (Store::beginBatch): a
// later durable commit -- the end of a migration that wrote documents, a
// recorded failure, the run's record, which every run ends with -- makes
// it durable with every commit before it, and a power loss that loses it
// loses every commit after it too (doc/how-a-run-works.md, "Durability of
// batches"), so the state on disk is never ahead of the documents.
Status saveStateLazily(Store& store, const MigrationState& state) {
  GRAFT_RETURN_IF_ERROR(store.beginBatch());
  Status saved = store.saveState(state);
  if (!saved.ok()) {
    (void)store.rollback();
    return saved;
  }
  return store.commit();
}

// The code a failed batch ends the run with: a store that failed (5) or a
// stored document graft can not read (3) are not the plugin's fault (1).
Code exitCodeOfFailure(Code batch_failure) {
  return batch_failure == Code::kStore || batch_failure == Code::kBadInput ? batch_failure
                                                                           : Code::kMigrationFailed;
}

// Whether a step may walk `step.table`, which the store does not have. A
// table that does not exist is most often a misspelt one, and a migration
// that visited nothing would be recorded as done for good; so it fails,
// unless the step says its table may be absent, the schema in force
// declares the table (so it is empty), or the store has no document table
// at all (a new store, which has nothing to migrate).
Status checkAbsentTable(Store& store, const graft_step& step, const std::string& id) {
  if (step.table_may_be_absent) return Status::Ok();
  auto schema = loadSchemaInForce(store);
  if (!schema.ok()) return schema.status();
  if (*schema && (*schema)->schema.find(step.table)) return Status::Ok();
  auto tables = store.tables();
  if (!tables.ok()) return tables.status();
  if (tables->empty()) return Status::Ok();
  std::string listed;
  constexpr size_t kNamed = 8;
  for (size_t i = 0; i < tables->size() && i < kNamed; ++i)
    listed += (i == 0 ? "" : ", ") + (*tables)[i];
  if (tables->size() > kNamed) listed += ", ...";
  return Status(Code::kMigrationFailed,
                "migration " + id + ": table " + jsonQuoted(step.table) +
                    " does not exist in the store (its document tables: " + listed + ")" +
                    "; nothing was written (correct the step's table; a step whose table may not "
                    "exist yet declares tableMayBeAbsent)");
}

}  // namespace

StepRun::StepRun(Store& store, const PlannedStep& step, const StepSettings& settings,
                 const std::string& run_id, MigrationReport* report)
    : store_(store),
      plugin_(*step.plugin),
      step_(step.down() ? *plugin_.down() : plugin_.up()),
      down_(step.down()),
      out_of_order_(step.out_of_order),
      settings_(settings),
      run_id_(run_id),
      report_(report),
      id_(plugin_.id()),
      table_(step_.table),
      direction_(down_ ? Direction::kDown : Direction::kUp),
      pacer_({settings.batch_size ? settings.batch_size : step_.batch_size, settings.lock_ms,
              settings.pause_ms, store.writeLocking() == Store::WriteLocking::kRows}),
      api_(store),
      ctx_{.struct_size = sizeof(graft_context),
           .migration_id = id_.c_str(),
           .run_id = run_id_.c_str(),
           .direction = down_ ? GRAFT_DOWN : GRAFT_UP,
           .dry_run = settings.dry_run ? 1 : 0,
           .db = api_.handle(),
           .db_api = DocApi::table()} {
  if (settings_.dry_run) {
    api_.log().examples = &report_->examples;
    api_.log().limit = kDryRunExamples;
  }
}

Status StepRun::run(Stop* stop) {
  bool more = false;
  GRAFT_RETURN_IF_ERROR(prepare(&more));
  GRAFT_RETURN_IF_ERROR(start());
  while (more) GRAFT_RETURN_IF_ERROR(runBatch(stop, &more));
  return finish(*stop);
}

// Reads what the step starts from and records it `running`, with the
// documents it has left; nothing else is written.
Status StepRun::prepare(bool* has_table) {
  GRAFT_RETURN_IF_ERROR(resolveCustomRange());
  GRAFT_RETURN_IF_ERROR(loadState());
  auto exists = store_.hasTable(table_);
  if (!exists.ok()) return exists.status();
  *has_table = *exists;
  int64_t left = 0;
  if (*exists) {
    GRAFT_RETURN_IF_ERROR(countLeft(&left));
  } else {
    GRAFT_RETURN_IF_ERROR(failIfAbsent());
  }
  // Recorded, so that graft status --watch can show progress and an ETA.
  state_.total = state_.processed + left;
  if (!settings_.dry_run) GRAFT_RETURN_IF_ERROR(saveStateLazily(store_, state_));
  progress_ = Progress{id_, state_.processed, state_.processed + left, state_.changed, 0, 0};
  return Status::Ok();
}

// A customRange is checked against the schema in force before anything
// is written: a run must not start walking an index that is not there.
Status StepRun::resolveCustomRange() {
  if (!step_.range_json) return Status::Ok();
  const std::string what = "migration " + id_ + " customRange";
  auto spec = parseRangeSpec(step_.range_json, what);
  if (!spec.ok()) return spec.status();
  auto schema = loadSchemaInForce(store_);
  if (!schema.ok()) return schema.status();
  auto resolved = resolveRange(*spec, *schema ? &(*schema)->schema : nullptr, table_, what);
  if (!resolved.ok()) return resolved.status();
  range_ = std::move(*resolved);
  return Status::Ok();
}

Status StepRun::loadState() {
  auto loaded = store_.loadState(id_);
  if (!loaded.ok()) return loaded.status();
  if (*loaded) state_ = **loaded;
  // A step resumes from the cursor of an unfinished run of it in the same
  // direction; otherwise (first up, up after a rollback, first down) it
  // walks the table from the start.
  const bool resumes = *loaded && state_.direction == direction_ &&
                       state_.status != StepStatus::kCompleted &&
                       state_.status != StepStatus::kRolledBack;
  if (!resumes) {
    state_.cursor = state_.processed = state_.changed = 0;
    state_.cursor_key.clear();
    state_.started_at.clear();
    state_.completed_at.clear();
    if (!down_) state_.out_of_order = out_of_order_;
  }
  state_.id = id_;
  state_.file_sha256 = plugin_.fileSha256();
  state_.logic_digest = plugin_.logicDigest();
  state_.status = StepStatus::kRunning;
  state_.direction = direction_;
  state_.run_id = run_id_;
  state_.error.clear();
  state_.error_doc_id.reset();
  if (state_.started_at.empty()) state_.started_at = utcNow();
  state_.updated_at = utcNow();
  return Status::Ok();
}

// The step's table does not exist: fails unless checkAbsentTable lets it
// walk nothing.
Status StepRun::failIfAbsent() {
  Status absent = checkAbsentTable(store_, step_, id_);
  if (absent.ok()) return absent;
  if (settings_.dry_run) {
    report_->outcome = StepOutcome::kFailed;
    return absent;
  }
  return recordFailure(absent.code(), absent.message(), absent.message(), 0);
}

Status StepRun::countLeft(int64_t* left) {
  auto n = range_ ? store_.countRange(table_, *range_, {state_.cursor, state_.cursor_key})
                  : store_.count(table_, state_.cursor);
  if (!n.ok()) return n.status();
  *left = *n;
  if (range_ && settings_.dry_run) {
    auto plan = store_.describeRangePlan(table_, *range_);
    if (!plan.ok()) return plan.status();
    report_->plan = "index " + range_->index + ": " + *plan;
  }
  return Status::Ok();
}

// Sets the store's switches for the step, and the strategy of its first
// batch: lock-free, in the order the step walks its table.
Status StepRun::start() {
  // safe_bypass: this store's writes skip the schema's checks for
  // the whole step, and only for it.
  if (step_.write_mode == GRAFT_WRITE_SAFE_BYPASS)
    GRAFT_RETURN_IF_ERROR(schema_checks_off_.turnOff(store_));
  // A lock-free step writes bodies applyPatch made, checked stored bodies
  // with checked values spliced in (see DocumentMigrator::compute), so the
  // table's CHECK does not parse each one again under the lock. It is on
  // again from the first batch that runs inside a transaction.
  if (!settings_.dry_run) GRAFT_RETURN_IF_ERROR(body_checks_off_.turnOff(store_));
  migrator_.emplace(store_, step_, range_ ? &*range_ : nullptr, ctx_, api_, settings_.dry_run,
                    settings_.current_document, report_);
  if (step_.parallelize) {
    const unsigned threads = settings_.threads ? settings_.threads : ComputePool::defaultThreads();
    if (threads > 1) pool_ = std::make_unique<ComputePool>(threads);
  }
  strategy_ = range_ ? lockFreeRangeBatches(*migrator_, pool_.get())
                     : lockFreeSpanBatches(*migrator_, pool_.get());
  return Status::Ok();
}

// One batch: run by the strategy in force, committed (a dry run's rolled
// back), and reported to on_progress. A stop asked for before it starts
// stops the step instead.
Status StepRun::runBatch(Stop* stop, bool* more) {
  const uint32_t size = pacer_.batchSize();
  if (settings_.stop_requested && settings_.stop_requested->load()) {
    *stop = Stop::kSignal;
    *more = false;
    return Status::Ok();
  }
  batch_.clear();
  Status failure = strategy_->run(
      {state_.cursor, state_.cursor_key}, size, [this] { return takeLock(); }, &batch_);
  if (failure.ok() && batch_.needs_ctx_db) {
    // The step moves into the transaction for good, where the table's
    // CHECK is on again, and the batch runs again there.
    failure = body_checks_off_.restore();
    if (failure.ok()) {
      strategy_ = lockedBatches(*migrator_);
      return Status::Ok();
    }
  }
  Store::Heartbeat beat;
  bool lease_lost = false;
  if (failure.ok()) failure = commit(&beat, &lease_lost);
  if (lease_lost) return failure;
  if (!failure.ok()) return batchFailed(failure);
  if (settings_.dry_run && !batch_.docs.empty()) {
    // No batch transaction carried the heartbeat: give it one of its own,
    // and learn whether someone asked this run to stop.
    GRAFT_RETURN_IF_ERROR(inTransaction(store_, [&] { return refreshLease(&beat); }));
  }
  if (beat.cancel_requested) *stop = Stop::kCancel;
  *more = batch_.docs.size() == size && *stop == Stop::kNone;
  reportProgress();
  return Status::Ok();
}

Status StepRun::takeLock() {
  store_.betweenBatches();  // the lock is free until the gap ends anyway
  pacer_.waitForTurn();
  Status s = store_.beginBatch();
  pacer_.locked();
  return s;
}

// The batch's cursor, counts and the lease's heartbeat commit with the
// batch, in its transaction; a dry run keeps nothing: the cursor moves on
// in memory only. `*lease_lost`: the run lost its lease, and the batch was
// rolled back.
Status StepRun::commit(Store::Heartbeat* beat, bool* lease_lost) {
  const MigrationState next = stateAfterBatch();
  Status failure;
  if (settings_.dry_run) {
    if (batch_.in_transaction) failure = store_.rollback();
  } else {
    if (!batch_.docs.empty()) failure = store_.saveState(next);
    if (failure.ok()) failure = refreshLease(beat);
    if (failure.ok() && !beat->held) {
      *lease_lost = true;
      return leaseLost();
    }
    if (failure.ok()) failure = store_.commit();
  }
  if (!failure.ok()) return failure;
  if (batch_.in_transaction) pacer_.released(batch_.docs.size());
  countCommitted(next);
  return Status::Ok();
}

// The state once the batch in flight commits.
MigrationState StepRun::stateAfterBatch() const {
  MigrationState next = state_;
  if (batch_.docs.empty()) return next;
  next.cursor = batch_.docs.back().id;
  next.cursor_key = batch_.docs.back().key;
  next.processed += static_cast<int64_t>(batch_.docs.size());
  next.changed += batch_.changed;
  next.updated_at = utcNow();
  return next;
}

Status StepRun::refreshLease(Store::Heartbeat* beat) {
  auto refreshed = store_.heartbeat(run_id_, nowMs());
  if (!refreshed.ok()) return refreshed.status();
  *beat = *refreshed;
  return Status::Ok();
}

// Another process decided this one was dead and took over: its state is
// now the truth, so write nothing, not even a failure.
Status StepRun::leaseLost() {
  (void)store_.rollback();
  report_->outcome = StepOutcome::kFailed;
  return Status(Code::kBusy, "migration " + id_ +
                                 ": another process took over the run lease; stopped without "
                                 "committing this batch (see graft status)");
}

void StepRun::countCommitted(const MigrationState& next) {
  state_ = next;
  report_->processed += static_cast<int64_t>(batch_.docs.size());
  report_->changed += batch_.changed;
  committed_writes_ = api_.counts();
  if (!batch_.docs.empty()) {
    ++progress_.batches;
    progress_.last_batch = static_cast<uint32_t>(batch_.docs.size());
  }
}

// The batch in flight failed: it is rolled back, and the step fails at the
// cursor of the last batch that committed.
Status StepRun::batchFailed(const Status& failure) {
  if (batch_.in_transaction) (void)store_.rollback();
  report_->db_writes = committed_writes_;
  const Code code = exitCodeOfFailure(failure.code());
  if (settings_.dry_run) {
    report_->outcome = StepOutcome::kFailed;
    return Status(code, "dry run of migration " + id_ + " failed: " + failure.message() +
                            " (nothing was written)");
  }
  return recordFailure(
      code, failure.message(),
      "migration " + id_ + (down_ ? " (down)" : "") + " failed: " + failure.message() +
          "; the batch was rolled back, the cursor stays at _id " + std::to_string(state_.cursor) +
          " (fix the cause, then run graft " + directionName(direction_) + " again to resume)",
      migrator_->failedAt());
}

void StepRun::reportProgress() {
  progress_.processed = state_.processed;
  progress_.changed = state_.changed;
  progress_.run_processed = report_->processed;
  if (progress_.total < progress_.processed) progress_.total = progress_.processed;
  if (settings_.on_progress) settings_.on_progress(progress_);
}

// After the last batch, or a stop: verifies a step that walked its whole
// table and records how it ended.
Status StepRun::finish(Stop stop) {
  report_->db_writes = committed_writes_;
  if (settings_.dry_run) {
    tallyDryRun();
    report_->outcome = stop != Stop::kNone ? StepOutcome::kCanceled : StepOutcome::kDryRun;
    return Status::Ok();
  }
  if (stop == Stop::kNone && (step_.verify_json || step_.verify_one))
    GRAFT_RETURN_IF_ERROR(verify());
  state_.updated_at = utcNow();
  if (stop != Stop::kNone) {
    state_.status = StepStatus::kCanceled;
    report_->outcome = StepOutcome::kCanceled;
  } else {
    state_.status = down_ ? StepStatus::kRolledBack : StepStatus::kCompleted;
    state_.completed_at = state_.updated_at;
    report_->outcome = down_ ? StepOutcome::kRolledBack : StepOutcome::kCompleted;
  }
  GRAFT_RETURN_IF_ERROR(wroteNothing() ? saveStateLazily(store_, state_)
                                       : saveStateNow(store_, state_));
  progress_.done = stop == Stop::kNone;
  if (settings_.on_progress && progress_.done) settings_.on_progress(progress_);
  return Status::Ok();
}

// The end state of a step that wrote nothing in this run (no document, no
// ctx.db write) is not made durable by itself but grouped with the next
// durable commit, at the latest the run's record: a run through many
// migrations that change nothing syncs once, not once each. Exactly-once
// holds whatever happens before that commit:
//  - a crash of the process (SIGKILL) loses no commit: the WAL is in the
//    operating system's cache, and the record is there as with FULL;
//  - a power loss keeps a prefix of the commits. If the end state is kept,
//    so is every commit before it, and this run of the step wrote no
//    document that could be missing. If it is lost, so is every commit
//    after it (no later migration's batch or state, and no other client's
//    write, survives it), and what is kept ends at an earlier commit, in
//    which the step's cursor and the documents agree, as after any batch.
//    The next graft up resumes the step from that cursor, and since this
//    run wrote nothing, nothing is redone but the reading.
// A step that wrote documents keeps its own durable end: whoever reads it
// `completed` may rely on its documents, which are on disk by then.
bool StepRun::wroteNothing() const {
  return report_->changed == 0 && committed_writes_.total() == 0;
}

Status StepRun::verify() {
  auto verified = verifyStep(store_, step_);
  if (!verified.ok()) return verified.status();
  report_->verified = *verified;
  if (verified->failed == 0) return Status::Ok();
  const std::string error = "verification failed: " + describeVerifyFailure(*verified);
  return recordFailure(Code::kMigrationFailed, error,
                       "migration " + id_ + (down_ ? " (down)" : "") + " walked its table but " +
                           error + " (fix the plugin and run graft up --restart " + id_ +
                           ", or fix the data and run graft up again)",
                       0);
}

// A dry run's writes by table: migrateOne's patches, counted as they were
// previewed, and ctx.db's, from the DocApi's log.
void StepRun::tallyDryRun() {
  for (const auto& [t, counts] : api_.log().by_table) {
    WriteCounts& total = report_->writes_by_table[t];
    total.inserts += counts.inserts;
    total.patches += counts.patches;
    total.replaces += counts.replaces;
    total.deletes += counts.deletes;
  }
}

// Records the step `failed` with `error` and the document to blame
// (`failed_at`, 0: none) in a commit of its own, and returns `message`
// with `code`, with a note if the record failed too.
Status StepRun::recordFailure(Code code, const std::string& error, std::string message,
                              int64_t failed_at) {
  report_->outcome = StepOutcome::kFailed;
  state_.status = StepStatus::kFailed;
  state_.error = error;
  if (failed_at) state_.error_doc_id = failed_at;
  state_.updated_at = utcNow();
  Status saved = saveStateNow(store_, state_);
  if (!saved.ok()) message += "; also could not record the failure: " + saved.message();
  return Status(code, message);
}

}  // namespace graft
