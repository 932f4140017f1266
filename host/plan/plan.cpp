#include "plan/plan.h"

#include <map>
#include <optional>
#include <set>

namespace graft {
namespace {

using States = std::map<std::string, const MigrationState*>;

States byId(const std::vector<MigrationState>& states) {
  States found;
  for (const auto& s : states) found.emplace(s.id, &s);
  return found;
}

const MigrationState* find(const States& states, const std::string& id) {
  auto it = states.find(id);
  return it == states.end() ? nullptr : it->second;
}

bool isCompletedUp(const MigrationState* s) {
  return s && s->direction == Direction::kUp && s->status == StepStatus::kCompleted;
}

bool isPartlyRolledBack(const MigrationState* s) {
  return s && s->direction == Direction::kDown && s->status != StepStatus::kRolledBack;
}

// Up, from the cursor a run of it left.
bool resumes(const MigrationState* s) {
  return s && s->direction == Direction::kUp &&
         (s->status == StepStatus::kFailed || s->status == StepStatus::kCanceled ||
          s->status == StepStatus::kRunning);
}

Status missingMigration(const std::string& what, const Catalog& catalog) {
  return Status(Code::kUsage, what + ": no such migration in " + catalog.manifest.path);
}

// restart must name a migration that has documents done and is not done.
Status checkRestart(const std::string& id, const MigrationState* s) {
  if (s && isPartlyRun(*s) && s->direction == Direction::kUp) return Status::Ok();
  return Status(
      Code::kUsage,
      "graft up --restart " + id + ": migration " + id +
          " can not be restarted (state: " + (s ? describeState(*s) : std::string("pending")) +
          "); --restart runs a failed or canceled migration again from "
          "its first document (drop the flag" +
          (isCompletedUp(s) ? "; graft up --only " + id + " --rerun runs a completed one again)"
                            : std::string(")")));
}

// The migrations that have an applied one after them in the manifest.
std::set<std::string> beforeApplied(const Catalog& catalog, const States& states) {
  std::set<std::string> before;
  bool later_applied = false;
  for (auto it = catalog.plugins.rbegin(); it != catalog.plugins.rend(); ++it) {
    if (later_applied) before.insert((*it)->id());
    const MigrationState* s = find(states, (*it)->id());
    if (s && isApplied(*s)) later_applied = true;
  }
  return before;
}

PlannedStep upStep(const Plugin* plugin, const MigrationState* s, const UpRequest& request,
                   bool out_of_order) {
  const std::string& id = plugin->id();
  const bool rerun = request.rerun && id == request.only;
  PlannedStep step{plugin, StepAction::kRun, out_of_order, "pending"};
  if (isCompletedUp(s)) {
    // A rerun begins after the migrations applied since: it was let run out
    // of order, and the store says so (drift.h: no reorder).
    step = rerun ? PlannedStep{plugin, StepAction::kRerun, out_of_order, "completed"}
                 : PlannedStep{plugin, StepAction::kSkip, false, "completed"};
  } else if (resumes(s)) {
    step.action = rerun || id == request.drift.restart ? StepAction::kRestart : StepAction::kResume;
    step.why = describeState(*s);
  }
  return step;
}

// `only` alone, while migrations before it in the manifest are pending,
// would leave them out of order (drift.h): every later plain run would stop
// at them. Refused unless out of order is allowed.
Status checkOnlyInOrder(const Catalog& catalog, const States& states, const UpRequest& request) {
  if (request.only.empty() || request.drift.allow_out_of_order) return Status::Ok();
  const MigrationState* own = find(states, request.only);
  if (own && isApplied(*own)) return Status::Ok();  // drift checking speaks of the others
  std::vector<std::string> pending;
  for (const auto& plugin : catalog.plugins) {
    if (plugin->id() == request.only) break;
    const MigrationState* s = find(states, plugin->id());
    if (!s || !isApplied(*s)) pending.push_back(plugin->id());
  }
  if (pending.empty()) return Status::Ok();
  std::string list;
  for (const auto& id : pending) list += (list.empty() ? "" : ", ") + id;
  const bool one = pending.size() == 1;
  return Status(Code::kUsage,
                "graft up --only " + request.only + ": " + (one ? "migration " : "migrations ") +
                    list + (one ? " comes" : " come") + " before it in " + catalog.manifest.path +
                    (one ? " and is" : " and are") + " pending; run " + (one ? "it" : "them") +
                    " first (graft up --to " + pending.back() +
                    "), or add --allow-out-of-order to run " + request.only + " alone");
}

void splitFindings(const DriftReport& drift, Plan* plan) {
  for (const auto& f : drift.findings) {
    if (f.blocks)
      plan->blocking.push_back(f);
    else
      plan->notes.push_back(f.message);
  }
}

}  // namespace

const char* stepActionName(StepAction action) {
  switch (action) {
    case StepAction::kRun:
      return "run";
    case StepAction::kResume:
      return "resume";
    case StepAction::kRestart:
      return "restart";
    case StepAction::kRerun:
      return "rerun";
    case StepAction::kSkip:
      return "skip";
    case StepAction::kRollBack:
      return "roll back";
  }
  return "?";
}

Status Plan::blockedStatus() const {
  std::string message;
  auto add = [&](const std::string& line) { message += (message.empty() ? "" : "\n") + line; };
  for (const auto& f : blocking) add(f.message);
  for (const auto& note : notes) add("note: " + note);
  return Status(Code::kDrift, message);
}

size_t Plan::runnable() const {
  size_t n = 0;
  for (const auto& step : steps) n += step.runs() ? 1 : 0;
  return n;
}

Status checkUpRequest(const Catalog& catalog, const UpRequest& request) {
  if (!request.drift.restart.empty() && !catalog.find(request.drift.restart))
    return missingMigration("graft up --restart " + request.drift.restart, catalog);
  if (!request.only.empty() && !catalog.find(request.only))
    return missingMigration("graft up --only " + request.only, catalog);
  if (request.rerun && request.only.empty())
    return Status(Code::kUsage,
                  "graft up --rerun: name the one migration to run again with --only ID");
  if (!request.to.empty() && !catalog.find(request.to))
    return missingMigration("graft up --to " + request.to, catalog);
  return Status::Ok();
}

Status checkDownRequest(const Catalog& catalog, const DownRequest& request) {
  if ((request.steps > 0) == !request.to.empty())
    return Status(Code::kUsage, "down needs exactly one of --steps N or --to ID");
  if (!request.to.empty() && !catalog.find(request.to))
    return missingMigration("graft down --to " + request.to, catalog);
  return Status::Ok();
}

Result<Plan> planUp(const Catalog& catalog, const std::vector<MigrationState>& states,
                    const UpRequest& request) {
  GRAFT_RETURN_IF_ERROR(checkUpRequest(catalog, request));
  const States recorded = byId(states);
  const std::string& restart = request.drift.restart;
  if (!restart.empty()) GRAFT_RETURN_IF_ERROR(checkRestart(restart, find(recorded, restart)));
  GRAFT_RETURN_IF_ERROR(checkOnlyInOrder(catalog, recorded, request));

  Plan plan;
  splitFindings(checkDrift(catalog.manifest.path, fingerprints(catalog), states, request.drift),
                &plan);
  const std::set<std::string> out_of_order = beforeApplied(catalog, recorded);
  for (const auto& plugin : catalog.plugins) {
    const std::string& id = plugin->id();
    if (request.only.empty() || id == request.only) {
      const MigrationState* s = find(recorded, id);
      if (isPartlyRolledBack(s)) {
        return Status(Code::kUsage, "migration " + id + " is partly rolled back (down " +
                                        stepStatusName(s->status) + " at _id " +
                                        std::to_string(s->cursor) +
                                        "); run graft down again to finish it, then graft up");
      }
      plan.steps.push_back(upStep(plugin.get(), s, request, out_of_order.count(id) > 0));
      if (plan.steps.back().action == StepAction::kRerun)
        plan.notes.push_back("migration " + id +
                             ": completed, and run again from its first document (rerun)");
    }
    if (id == request.to) break;
  }
  return plan;
}

Result<Plan> planDown(const Catalog& catalog, const std::vector<MigrationState>& states,
                      const DownRequest& request) {
  GRAFT_RETURN_IF_ERROR(checkDownRequest(catalog, request));
  const States recorded = byId(states);
  Plan plan;
  for (auto it = catalog.plugins.rbegin(); it != catalog.plugins.rend(); ++it) {
    const Plugin* plugin = it->get();
    if (plugin->id() == request.to) break;
    const MigrationState* s = find(recorded, plugin->id());
    if (isCompletedUp(s) || isPartlyRolledBack(s))
      plan.steps.push_back({plugin, StepAction::kRollBack, false, describeState(*s)});
    if (request.steps > 0 && static_cast<int>(plan.steps.size()) == request.steps) break;
  }
  // All or nothing: a migration without a down step stops the command
  // before any document is touched.
  for (const PlannedStep& step : plan.steps) {
    if (!step.plugin->down())
      return Status(Code::kUsage, "migration " + step.id() +
                                      " has no down step and can not be rolled back; nothing "
                                      "was changed (undo it with a new migration instead)");
  }
  return plan;
}

}  // namespace graft
