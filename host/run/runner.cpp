#include "run/runner.h"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include "base/clock.h"
#include "base/json_text.h"
#include "plan/drift.h"
#include "plan/plan.h"
#include "plugins/step_spec.h"
#include "run/batch_strategy.h"
#include "run/compute_pool.h"
#include "run/db_api.h"
#include "run/document_migrator.h"
#include "run/lease.h"
#include "schema/schema_check.h"

namespace graft {

// One migration run in one direction.
struct Runner::Pass {
  const Plugin* plugin;
  bool down;
  // An up pass of a migration placed before one that is applied already.
  bool out_of_order = false;
};

// What up() and down() have in common.
struct Runner::Settings {
  uint32_t batch_size;
  bool dry_run;
  std::function<void(const Progress&)> on_progress;
  const std::atomic<bool>* stop_requested;
  std::string command;  // as the run history shows it
  double lock_ms;
  double pause_ms;
  unsigned threads;
  std::atomic<int64_t>* current_document;
  std::function<void(const std::string&)> on_note;
};

namespace {

Status saveStateNow(Store& store, const MigrationState& state) {
  return inTransaction(store, [&] { return store.saveState(state); });
}

// A state commit that need not be durable by itself: the migration's end
// or the run's record, committed FULL after it, syncs the WAL and so it;
// and a power loss that loses it loses every commit after it too (README:
// Durability of batches), so the state on disk is never ahead of the
// documents. One durable commit per migration is then enough.
Status saveStateLazily(Store& store, const MigrationState& state) {
  GRAFT_RETURN_IF_ERROR(store.beginBatch());
  Status saved = store.saveState(state);
  if (!saved.ok()) {
    (void)store.rollback();
    return saved;
  }
  return store.commit();
}

Status saveRunNow(Store& store, const RunRecord& run) {
  return inTransaction(store, [&] { return store.saveRun(run); });
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

// Appends `notes` as "note: <message>" lines to the error column of run
// `run_id`, so that the history says what the run went ahead despite. Does
// nothing when the run left no row.
Status recordNotes(Store& store, const std::string& run_id, const std::vector<std::string>& notes) {
  if (notes.empty() || run_id.empty()) return Status::Ok();
  auto runs = store.loadRuns(10);
  if (!runs.ok()) return runs.status();
  for (RunRecord run : *runs) {
    if (run.run_id != run_id) continue;
    for (const auto& note : notes) run.error += (run.error.empty() ? "note: " : "\nnote: ") + note;
    return inTransaction(store, [&] { return store.saveRun(run); });
  }
  return Status::Ok();
}

}  // namespace

std::string newRunId() {
  std::string t = utcNow();  // 2026-11-22T20:52:17.123Z
  std::string compact;
  for (char c : t)
    if (c != '-' && c != ':' && c != '.') compact += c;
  return compact + "-" + std::to_string(getpid());
}

DriftOptions driftOptionsOf(const RunOptions& options) {
  return {options.strict, options.allow_drift, options.allow_out_of_order, options.restart};
}

Status Runner::up(const RunOptions& options, RunReport* report) {
  *report = RunReport{newRunId(), "running", "", {}, {}};
  const UpRequest request{options.only, options.to, driftOptionsOf(options)};
  GRAFT_RETURN_IF_ERROR(checkUpRequest(catalog_, request));
  return planAndExecute(
      [&](const std::vector<MigrationState>& states) { return planUp(catalog_, states, request); },
      {options.batch_size, options.dry_run, options.on_progress, options.stop_requested,
       options.command, options.lock_ms, options.pause_ms, options.threads,
       options.current_document, options.on_note},
      report);
}

Status Runner::down(const DownOptions& options, RunReport* report) {
  *report = RunReport{newRunId(), "running", "", {}, {}};
  const DownRequest request{options.steps, options.to};
  GRAFT_RETURN_IF_ERROR(checkDownRequest(catalog_, request));
  return planAndExecute(
      [&](const std::vector<MigrationState>& states) {
        return planDown(catalog_, states, request);
      },
      {options.batch_size, options.dry_run, options.on_progress, options.stop_requested,
       options.command, options.lock_ms, options.pause_ms, options.threads,
       options.current_document, options.on_note},
      report);
}

// The lease comes first: planning reads the migrations' states, and only
// the lease holder writes them, so the plan can not go stale before it runs.
// (Planned before the lease, a run could see `running`, wait out the end of
// the run holding the lease, and then walk a completed migration again.)
Status Runner::planAndExecute(const Planner& planner, const Settings& settings,
                              RunReport* report) {
  std::string note;
  GRAFT_RETURN_IF_ERROR(acquireLease(store_, report->run_id, &note));
  if (!note.empty()) {
    report->notes.push_back(note);
    if (settings.on_note) settings.on_note(note);
  }
  Status result = executePlanned(planner, settings, report);
  Status released = releaseLease(store_, report->run_id);
  return result.ok() ? released : result;
}

Status Runner::executePlanned(const Planner& planner, const Settings& settings,
                              RunReport* report) {
  auto states = store_.loadStates();
  if (!states.ok()) return states.status();
  auto plan = planner(*states);
  if (!plan.ok()) return plan.status();
  if (plan->blocked()) return recordBlocked(*plan, settings, report->run_id);
  std::vector<Pass> passes;
  for (const PlannedStep& step : plan->steps) {
    if (step.runs()) {
      passes.push_back({step.plugin, step.down(), step.out_of_order});
    } else {
      report->migrations.push_back({step.id(), "skipped", 0, 0, {}, {}, {}, {}, {}});
    }
    if (step.action == StepAction::kRestart && !settings.dry_run)
      GRAFT_RETURN_IF_ERROR(resetProgress(step.id(), *states));
  }
  Status result = execute(passes, settings, report);
  // The run's history says what it went ahead despite.
  report->notes.insert(report->notes.end(), plan->notes.begin(), plan->notes.end());
  Status recorded = recordNotes(store_, report->run_id, plan->notes);
  return result.ok() ? recorded : result;
}

// A run that drift stops leaves a `drift_blocked` row with its findings; a
// dry run keeps nothing but its own dry_run row, so not this one either.
Status Runner::recordBlocked(const Plan& plan, const Settings& settings,
                             const std::string& run_id) {
  Status blocked = plan.blockedStatus();
  if (settings.dry_run) return blocked;
  RunRecord run;
  run.run_id = run_id;
  run.status = "drift_blocked";
  run.command = settings.command;
  run.started_at = run.ended_at = utcNow();
  run.error = blocked.message();
  run.host = hostName();
  run.pid = leaseHolderPid();
  run.user = userName();
  Status saved = saveRunNow(store_, run);
  if (saved.ok()) return blocked;
  return Status(Code::kDrift,
                blocked.message() + "\nalso could not record the blocked run: " + saved.message());
}

// restart: the migration runs again from its first document, so its cursor,
// counts and error go.
Status Runner::resetProgress(const std::string& id, const std::vector<MigrationState>& states) {
  for (const MigrationState& s : states) {
    if (s.id != id) continue;
    MigrationState fresh = s;
    fresh.status = "pending";
    fresh.cursor = fresh.processed = fresh.changed = 0;
    fresh.cursor_key.clear();
    fresh.started_at.clear();
    fresh.completed_at.clear();
    fresh.error.clear();
    fresh.error_doc_id.reset();
    fresh.updated_at = utcNow();
    return saveStateNow(store_, fresh);
  }
  return Status::Ok();
}

Status Runner::execute(const std::vector<Pass>& passes, const Settings& settings,
                       RunReport* report) {
  RunRecord run;
  run.run_id = report->run_id;
  run.command = settings.command;
  run.started_at = utcNow();
  run.host = hostName();
  run.pid = leaseHolderPid();
  run.user = userName();
  if (passes.empty()) {
    report->status = run.status = "noop";
    run.ended_at = utcNow();
    return saveRunNow(store_, run);
  }
  run.status = "running";
  Status result = saveRunNow(store_, run);

  Stop stop = Stop::kNone;
  for (size_t i = 0; result.ok() && stop == Stop::kNone && i < passes.size(); ++i) {
    MigrationReport m{passes[i].plugin->id(), "", 0, 0, {}, {}, {}, {}, {}};
    result = runPass(passes[i], settings, run.run_id, &m, &stop);
    report->migrations.push_back(std::move(m));
    run.processed += report->migrations.back().processed;
    run.changed += report->migrations.back().changed;
    if (result.ok() && stop == Stop::kNone) ++run.migrations;
  }
  run.status = !result.ok()           ? "failed"
               : stop != Stop::kNone  ? "canceled"
               : settings.dry_run     ? "dry_run"
                                      : "completed";
  if (stop != Stop::kNone) report->stop_reason = stop == Stop::kSignal ? "signal" : "graft cancel";
  run.error = result.message();
  run.ended_at = utcNow();
  report->status = run.status;
  Status saved = saveRunNow(store_, run);
  return result.ok() ? saved : result;
}

namespace {

// One of the store's switches (Store::setSchemaChecks, setBodyChecks),
// turned off for a pass and on again at its end, or before if asked.
class SwitchedOff {
 public:
  using Switch = Status (Store::*)(bool);
  explicit SwitchedOff(Switch toggle) : toggle_(toggle) {}
  ~SwitchedOff() { (void)restore(); }
  SwitchedOff(const SwitchedOff&) = delete;
  SwitchedOff& operator=(const SwitchedOff&) = delete;

  Status turnOff(Store& store) {
    GRAFT_RETURN_IF_ERROR((store.*toggle_)(false));
    store_ = &store;
    return Status::Ok();
  }
  Status restore() {
    Store* store = std::exchange(store_, nullptr);
    return store ? (store->*toggle_)(true) : Status::Ok();
  }

 private:
  Switch toggle_;
  Store* store_ = nullptr;  // set while the switch is off
};

}  // namespace

Status Runner::runPass(const Pass& pass, const Settings& settings, const std::string& run_id,
                       MigrationReport* report, Stop* stop) {
  const Plugin& plugin = *pass.plugin;
  const graft_step& step = pass.down ? *plugin.down() : plugin.up();
  const std::string id = plugin.id();
  const std::string table = step.table;
  const std::string direction = pass.down ? "down" : "up";
  Pacer pacer({settings.batch_size ? settings.batch_size : step.batch_size, settings.lock_ms,
               settings.pause_ms});
  // No thread of the store's outlives the pass (see Store::stopCheckpoints).
  struct StopCheckpoints {
    Store& store;
    ~StopCheckpoints() { store.stopCheckpoints(); }
  } stop_checkpoints{store_};
  auto lock = [&] {
    store_.checkpointIfDue();  // the lock is free until the gap ends anyway
    pacer.waitForTurn();
    Status s = store_.beginBatch();
    pacer.locked();
    return s;
  };

  // A customRange is checked against the schema in force before anything
  // is written: a run must not start walking an index that is not there.
  std::optional<KeyRange> range;
  if (step.range_json) {
    const std::string what = "migration " + id + " customRange";
    auto spec = parseRangeSpec(step.range_json, what);
    if (!spec.ok()) return spec.status();
    auto schema = loadSchemaInForce(store_);
    if (!schema.ok()) return schema.status();
    auto resolved = resolveRange(*spec, *schema ? &(*schema)->schema : nullptr, table, what);
    if (!resolved.ok()) return resolved.status();
    range = std::move(*resolved);
  }

  auto loaded = store_.loadState(id);
  if (!loaded.ok()) return loaded.status();
  MigrationState state;
  if (*loaded) state = **loaded;
  // A pass resumes from the cursor of an unfinished pass in the same
  // direction; otherwise (first up, up after a rollback, first down) it
  // walks the table from the start.
  const bool resumes = *loaded && state.direction == direction &&
                       state.status != "completed" && state.status != "rolled_back";
  if (!resumes) {
    state.cursor = state.processed = state.changed = 0;
    state.cursor_key.clear();
    state.started_at.clear();
    state.completed_at.clear();
    if (!pass.down) state.out_of_order = pass.out_of_order;
  }
  state.id = id;
  state.checksum = plugin.sha256();
  state.logic_digest = plugin.logicDigest();
  state.status = "running";
  state.direction = direction;
  state.run_id = run_id;
  state.error.clear();
  state.error_doc_id.reset();
  if (state.started_at.empty()) state.started_at = utcNow();
  state.updated_at = utcNow();

  auto exists = store_.hasTable(table);
  if (!exists.ok()) return exists.status();
  if (!*exists) {
    Status absent = checkAbsentTable(store_, step, id);
    if (!absent.ok()) {
      report->outcome = "failed";
      if (settings.dry_run) return absent;
      state.status = "failed";
      state.error = absent.message();
      std::string message = absent.message();
      Status saved = saveStateNow(store_, state);
      if (!saved.ok()) message += "; also could not record the failure: " + saved.message();
      return Status(absent.code(), message);
    }
  }
  int64_t left = 0;
  if (*exists) {
    auto n = range ? store_.countRange(table, *range, {state.cursor, state.cursor_key})
                   : store_.count(table, state.cursor);
    if (!n.ok()) return n.status();
    left = *n;
    if (range && settings.dry_run) {
      auto plan = store_.explainRange(table, *range);
      if (!plan.ok()) return plan.status();
      report->plan = "index " + range->index + ": " + *plan;
    }
  }
  // Recorded, so that graft status --watch can show progress and an ETA.
  state.total = state.processed + left;
  if (!settings.dry_run) GRAFT_RETURN_IF_ERROR(saveStateLazily(store_, state));

  // safe_bypass: this connection's writes skip the schema's triggers for
  // the whole pass, and only for it.
  SwitchedOff schema_checks_off(&Store::setSchemaChecks);
  if (step.write_mode == GRAFT_WRITE_SAFE_BYPASS)
    GRAFT_RETURN_IF_ERROR(schema_checks_off.turnOff(store_));
  // A lock-free pass writes bodies applyPatch made, checked stored bodies
  // with checked values spliced in (see checkBuilt), so the table's CHECK
  // does not parse each one again under the lock. It is on again from the
  // first batch that runs inside a transaction.
  SwitchedOff body_checks_off(&Store::setBodyChecks);
  if (!settings.dry_run) GRAFT_RETURN_IF_ERROR(body_checks_off.turnOff(store_));
  Progress progress{id, state.processed, state.processed + left, state.changed, 0, false};

  DocApi api(store_);
  if (settings.dry_run) {
    api.log().examples = &report->examples;
    api.log().limit = kDryRunExamples;
  }
  const graft_context ctx{sizeof(graft_context), id.c_str(), run_id.c_str(),
                          pass.down ? GRAFT_DOWN : GRAFT_UP, settings.dry_run ? 1 : 0,
                          api.handle(), DocApi::table()};
  DocumentMigrator migrator(store_, step, range ? &*range : nullptr, ctx, api, settings.dry_run,
                            settings.current_document, report);
  std::unique_ptr<ComputePool> pool;
  if (step.parallelize) {
    const unsigned threads = settings.threads ? settings.threads : ComputePool::defaultThreads();
    if (threads > 1) pool = std::make_unique<ComputePool>(threads);
  }
  std::unique_ptr<BatchStrategy> strategy = range ? lockFreeRangeBatches(migrator, pool.get())
                                                  : lockFreeSpanBatches(migrator, pool.get());

  BatchOutcome batch;
  const std::vector<Document>& docs = batch.docs;
  WriteCounts committed_writes;  // api.counts() as of the last commit
  bool more = *exists;
  while (more) {
    const uint32_t batch_size = pacer.batchSize();
    if (settings.stop_requested && settings.stop_requested->load()) {
      *stop = Stop::kSignal;
      break;
    }
    batch.clear();
    Status failure = strategy->run({state.cursor, state.cursor_key}, batch_size, lock, &batch);
    if (failure.ok() && batch.needs_ctx_db) {
      failure = body_checks_off.restore();
      if (failure.ok()) {
        strategy = lockedBatches(migrator);
        continue;  // redo it inside a transaction
      }
    }
    const int64_t changed = batch.changed;
    const bool in_transaction = batch.in_transaction;

    Store::Heartbeat beat;
    if (failure.ok()) {
      MigrationState next = state;
      if (!docs.empty()) {
        next.cursor = docs.back().id;
        next.cursor_key = docs.back().key;
        next.processed += static_cast<int64_t>(docs.size());
        next.changed += changed;
        next.updated_at = utcNow();
      }
      if (settings.dry_run) {
        // Keep nothing: the cursor moves on in memory only.
        if (in_transaction) failure = store_.rollback();
      } else {
        // The cursor, the counts and the heartbeat commit with the batch.
        if (!docs.empty()) failure = store_.saveState(next);
        if (failure.ok()) {
          auto b = store_.heartbeat(run_id, nowMs());
          if (b.ok()) beat = *b;
          else failure = b.status();
        }
        if (failure.ok() && !beat.held) {
          // Another process decided this one was dead and took over: its
          // state is now the truth, so write nothing, not even a failure.
          (void)store_.rollback();
          report->outcome = "failed";
          return Status(Code::kBusy, "migration " + id + ": another process took over the run "
                                     "lease; stopped without committing this batch (see graft "
                                     "status)");
        }
        if (failure.ok()) failure = store_.commit();
      }
      if (in_transaction && failure.ok()) pacer.released(docs.size());
      if (failure.ok()) {
        state = next;
        report->processed += static_cast<int64_t>(docs.size());
        report->changed += changed;
        committed_writes = api.counts();
        if (!docs.empty()) {
          ++progress.batches;
          progress.last_batch = static_cast<uint32_t>(docs.size());
        }
      }
    }
    if (!failure.ok()) {
      if (in_transaction) (void)store_.rollback();
      report->outcome = "failed";
      report->db_writes = committed_writes;
      if (settings.dry_run) {
        return Status(exitCodeOfFailure(failure.code()),
                      "dry run of migration " + id + " failed: " + failure.message() +
                          " (nothing was written)");
      }
      state.status = "failed";
      state.error = failure.message();
      if (migrator.failedAt()) state.error_doc_id = migrator.failedAt();
      state.updated_at = utcNow();
      std::string message = "migration " + id + (pass.down ? " (down)" : "") + " failed: " +
                            failure.message() +
                            "; the batch was rolled back, the cursor stays at _id " +
                            std::to_string(state.cursor) + " (fix the cause, then run graft " +
                            (pass.down ? "down" : "up") + " again to resume)";
      Status saved = saveStateNow(store_, state);
      if (!saved.ok()) message += "; also could not record the failure: " + saved.message();
      return Status(exitCodeOfFailure(failure.code()), message);
    }
    if (settings.dry_run && !docs.empty()) {
      // No batch transaction carried the heartbeat: give it one of its own,
      // and learn whether someone asked this run to stop.
      Status s = inTransaction(store_, [&] {
        auto b = store_.heartbeat(run_id, nowMs());
        if (!b.ok()) return b.status();
        beat = *b;
        return Status::Ok();
      });
      if (!s.ok()) return s;
    }
    if (beat.cancel_requested) *stop = Stop::kCancel;
    more = docs.size() == batch_size && *stop == Stop::kNone;
    progress.processed = state.processed;
    progress.changed = state.changed;
    progress.run_processed = report->processed;
    if (progress.total < progress.processed) progress.total = progress.processed;
    if (settings.on_progress) settings.on_progress(progress);
  }

  report->db_writes = committed_writes;
  if (settings.dry_run) {
    for (const auto& [t, counts] : api.log().by_table) {
      WriteCounts& total = report->writes_by_table[t];
      total.inserts += counts.inserts;
      total.patches += counts.patches;
      total.replaces += counts.replaces;
      total.deletes += counts.deletes;
    }
    report->outcome = *stop != Stop::kNone ? "canceled" : "dry_run";
    return Status::Ok();
  }
  if (*stop == Stop::kNone && (step.verify_json || step.verify_one)) {
    auto verified = verifyStep(store_, step);
    if (!verified.ok()) return verified.status();
    report->verified = *verified;
    if (verified->failed > 0) {
      state.status = "failed";
      state.error = "verification failed: " + describeVerifyFailure(*verified);
      state.updated_at = utcNow();
      report->outcome = "failed";
      std::string message = "migration " + id + (pass.down ? " (down)" : "") +
                            " walked its table but " + state.error +
                            " (fix the plugin and run graft up --restart " + id +
                            ", or fix the data and run graft up again)";
      Status saved = saveStateNow(store_, state);
      if (!saved.ok()) message += "; also could not record the failure: " + saved.message();
      return Status(Code::kMigrationFailed, message);
    }
  }
  state.updated_at = utcNow();
  if (*stop != Stop::kNone) {
    state.status = "canceled";
    report->outcome = "canceled";
  } else {
    state.status = pass.down ? "rolled_back" : "completed";
    state.completed_at = state.updated_at;
    report->outcome = state.status;
  }
  // A pass that visited nothing is grouped with the next durable commit
  // (the next migration's end, or the run's record): a run over many empty
  // migrations syncs once, not once each.
  GRAFT_RETURN_IF_ERROR(report->processed == 0 ? saveStateLazily(store_, state)
                                               : saveStateNow(store_, state));
  progress.done = *stop == Stop::kNone;
  if (settings.on_progress && progress.done) settings.on_progress(progress);
  return Status::Ok();
}

}  // namespace graft
