#include "run/runner.h"

#include <unistd.h>

#include <cstdio>
#include <mutex>
#include <string>
#include <utility>

#include "base/clock.h"
#include "plan/drift.h"
#include "plan/plan.h"
#include "run/lease.h"
#include "run/step_run.h"

namespace graft {

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

Status saveRunNow(Store& store, const RunRecord& run) {
  return inTransaction(store, [&] { return store.saveRun(run); });
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
  std::string id = compact + "-" + std::to_string(getpid());
  // Two ids made in one millisecond (two failed starts recorded in a row)
  // would name one run row, and the second save would replace the first.
  static std::mutex mutex;
  static std::string last;
  static int repeats = 0;
  std::lock_guard<std::mutex> lock(mutex);
  if (id == last) {
    char suffix[16];
    std::snprintf(suffix, sizeof suffix, "-%06d", ++repeats);  // sorts as it counts
    return id + suffix;
  }
  last = id;
  repeats = 0;
  return id;
}

const char* stepOutcomeName(StepOutcome outcome) {
  switch (outcome) {
    case StepOutcome::kNone:
      return "";
    case StepOutcome::kCompleted:
      return "completed";
    case StepOutcome::kRolledBack:
      return "rolled_back";
    case StepOutcome::kSkipped:
      return "skipped";
    case StepOutcome::kFailed:
      return "failed";
    case StepOutcome::kCanceled:
      return "canceled";
    case StepOutcome::kDryRun:
      return "dry_run";
  }
  return "?";
}

DriftOptions driftOptionsOf(const RunOptions& options) {
  return {options.strict, options.allow_drift, options.allow_out_of_order, options.restart};
}

Status Runner::up(const RunOptions& options, RunReport* report) {
  *report = RunReport{newRunId(), RunStatus::kRunning, "", {}, {}};
  const UpRequest request{options.only, options.to, driftOptionsOf(options), options.rerun};
  GRAFT_RETURN_IF_ERROR(checkUpRequest(catalog_, request));
  return planAndExecute(
      [&](const std::vector<MigrationState>& states) { return planUp(catalog_, states, request); },
      {options.batch_size, options.dry_run, options.on_progress, options.stop_requested,
       options.command, options.lock_ms, options.pause_ms, options.threads,
       options.current_document, options.on_note},
      report);
}

Status Runner::down(const DownOptions& options, RunReport* report) {
  *report = RunReport{newRunId(), RunStatus::kRunning, "", {}, {}};
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
  // The store's own threads (its checkpointer) serve every step of the run
  // and end with it, not with each step: a run through many small
  // migrations would start a thread and a connection for each.
  store_.stopBackgroundWork();
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
  std::vector<PlannedStep> steps;  // the ones that run
  for (const PlannedStep& step : plan->steps) {
    if (step.runs()) {
      steps.push_back(step);
    } else {
      report->migrations.push_back({step.id(), StepOutcome::kSkipped, 0, 0, {}, {}, {}, {}, {}});
    }
    if (step.action == StepAction::kRestart && !settings.dry_run)
      GRAFT_RETURN_IF_ERROR(resetProgress(step.id(), *states));
  }
  Status result = execute(steps, settings, report);
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
  run.status = RunStatus::kDriftBlocked;
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
    fresh.status = StepStatus::kPending;
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

Status Runner::execute(const std::vector<PlannedStep>& steps, const Settings& settings,
                       RunReport* report) {
  RunRecord run;
  run.run_id = report->run_id;
  run.command = settings.command;
  run.started_at = utcNow();
  run.host = hostName();
  run.pid = leaseHolderPid();
  run.user = userName();
  if (steps.empty()) {
    report->status = RunStatus::kNoop;
    run.status = report->status;
    run.ended_at = utcNow();
    return saveRunNow(store_, run);
  }
  run.status = RunStatus::kRunning;
  Status result = saveRunNow(store_, run);

  const StepSettings step_settings{.batch_size = settings.batch_size,
                                   .lock_ms = settings.lock_ms,
                                   .pause_ms = settings.pause_ms,
                                   .threads = settings.threads,
                                   .dry_run = settings.dry_run,
                                   .on_progress = settings.on_progress,
                                   .stop_requested = settings.stop_requested,
                                   .current_document = settings.current_document};
  Stop stop = Stop::kNone;
  for (size_t i = 0; result.ok() && stop == Stop::kNone && i < steps.size(); ++i) {
    MigrationReport m{steps[i].id(), StepOutcome::kNone, 0, 0, {}, {}, {}, {}, {}};
    result = StepRun(store_, steps[i], step_settings, run.run_id, &m).run(&stop);
    report->migrations.push_back(std::move(m));
    run.processed += report->migrations.back().processed;
    run.changed += report->migrations.back().changed;
    if (result.ok() && stop == Stop::kNone) ++run.migrations;
  }
  report->status = !result.ok()          ? RunStatus::kFailed
                   : stop != Stop::kNone ? RunStatus::kCanceled
                   : settings.dry_run    ? RunStatus::kDryRun
                                         : RunStatus::kCompleted;
  if (stop != Stop::kNone) report->stop_reason = stop == Stop::kSignal ? "signal" : "graft cancel";
  run.error = result.message();
  run.ended_at = utcNow();
  run.status = report->status;
  Status saved = saveRunNow(store_, run);
  return result.ok() ? saved : result;
}

}  // namespace graft
