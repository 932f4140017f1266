#include "plan/drift.h"

#include <unistd.h>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>

namespace graft {
namespace {

// "v1:sha256:" and 12 hex digits are enough to tell two digests apart in a
// message; graft verify prints them whole.
std::string shortDigest(const std::string& digest) {
  if (digest.empty()) return "none";
  const std::string prefix = "v1:sha256:";
  if (digest.rfind(prefix, 0) == 0) return digest.substr(0, prefix.size() + 12);
  return digest;
}

std::string shortSum(const std::string& sum) { return sum.empty() ? "none" : sum.substr(0, 12); }

// The finding for a migration that is recorded as applied and whose plugin
// carries a logic digest, if any.
std::optional<DriftFinding> compareApplied(const Fingerprint& now, const MigrationState& was,
                                           const DriftOptions& options) {
  const std::string& id = now.id;
  if (was.logic_digest.empty()) {
    if (was.file_sha256 == now.file_sha256) return std::nullopt;
    return DriftFinding{
        id, DriftKind::kUnverifiable, options.strict,
        "migration " + id + ": applied (" + describeState(was) +
            ") by a plugin without a logic digest, and its file changed since: sha256 recorded " +
            shortSum(was.file_sha256) + ", now " + shortSum(now.file_sha256) + " in " + now.path +
            ", so graft can not tell whether its logic changed (" +
            (options.strict ? "restore the plugin file it was applied with, or run without --strict"
                            : "compare the source with the one it was applied with; --strict "
                              "refuses this") +
            ")"};
  }
  if (was.logic_digest != now.logic_digest) {
    const std::string change = "recorded " + shortDigest(was.logic_digest) + ", now " +
                               shortDigest(now.logic_digest) + " in " + now.path;
    if (isPartlyRun(was) && was.direction == Direction::kUp) {
      // Fixing a failing migration and running it again is the way on
      // (Convex, better-convex): the documents before the cursor keep what
      // the old code did, the rest get the new code. A completed migration
      // stays immutable (below).
      const bool restarting = options.restart == id;
      const bool refused = !restarting && options.strict && !options.allow_drift;
      const std::string head = "migration " + id + ": logic changed since it partly ran (" +
                               describeState(was) + "): " + change;
      if (restarting)
        return DriftFinding{
            id, DriftKind::kDrifted, false,
            head + " (restarting it from the first document, as --restart " + id + " asks)"};
      return DriftFinding{
          id, DriftKind::kDrifted, refused,
          head + (refused ? "; --strict refuses to resume it with changed code (run without "
                            "--strict, or with --allow-drift, to resume it from its cursor; "
                            "graft up --restart " +
                                id + " runs it again from the first document)"
                          : "; resuming it from its cursor with the new code (the documents "
                            "before the cursor keep what the old code did; graft up --restart " +
                                id + " runs it again from the first document)")};
    }
    return DriftFinding{
        id, DriftKind::kDrifted, !options.allow_drift,
        "migration " + id + ": logic changed since it was applied (" + describeState(was) +
            "): " + change +
            (options.allow_drift ? " (let through by --allow-drift)"
                                 : " (restore the source it was applied with and put the change "
                                   "in a new migration; --allow-drift runs anyway)")};
  }
  if (was.file_sha256 != now.file_sha256) {
    return DriftFinding{
        id, DriftKind::kRebuilt, options.strict,
        "migration " + id + ": plugin rebuilt since it was applied: file sha256 recorded " +
            shortSum(was.file_sha256) + ", now " + shortSum(now.file_sha256) + " in " + now.path +
            ", same logic " + shortDigest(now.logic_digest) +
            (options.strict ? " (restore the plugin file it was applied with, or run without "
                              "--strict)"
                            : " (nothing to do; --strict refuses this)")};
  }
  return std::nullopt;
}

// A plugin that carries no logic digest at all.
DriftFinding unverifiable(const Fingerprint& now, const MigrationState* was,
                          const DriftOptions& options) {
  std::string recorded;
  if (was && isApplied(*was)) {
    if (!was->logic_digest.empty())
      recorded += "; logic recorded " + shortDigest(was->logic_digest) + ", now " +
                  (now.digest_unread ? "unknown" : "none");
    if (was->file_sha256 != now.file_sha256)
      recorded += "; file sha256 recorded " + shortSum(was->file_sha256) + ", now " +
                  shortSum(now.file_sha256);
  }
  if (now.digest_unread) {
    return DriftFinding{
        now.id, DriftKind::kUnverifiable, options.strict,
        "migration " + now.id + ": plugin " + now.path +
            ": metadata not embedded (built without graft_add_migration, or with an older SDK), "
            "and graft runs no plugin code to read its logic digest" +
            recorded + ", so graft can not tell a change to its logic from a rebuild (" +
            (options.strict
                 ? "build it with graft_add_migration, pass --load-plugins, or run without --strict"
                 : "build it with graft_add_migration, or pass --load-plugins; --strict refuses "
                   "this") +
            ")"};
  }
  return DriftFinding{
      now.id, DriftKind::kUnverifiable, options.strict,
      "migration " + now.id + ": plugin " + now.path +
          " has no logic digest (built without graft_add_migration, or with an SDK older than ABI "
          "1.1)" +
          recorded + ", so graft can not tell a change to its logic from a rebuild (" +
          (options.strict ? "build it with graft_add_migration, or run without --strict"
                          : "build it with graft_add_migration; --strict refuses this") +
          ")"};
}

}  // namespace

std::vector<Fingerprint> fingerprints(const Catalog& catalog) {
  std::vector<Fingerprint> prints;
  for (const auto& id : catalog.manifest.ids) {
    if (const Plugin* plugin = catalog.find(id)) {
      prints.push_back({plugin->id(), plugin->path(), plugin->logicDigest(), plugin->fileSha256(),
                        !plugin->loaded() && !plugin->metadataEmbedded(), false});
    } else {
      prints.push_back({id, "", "", "", false, true});
    }
  }
  return prints;
}

const char* driftKindName(DriftKind kind) {
  switch (kind) {
    case DriftKind::kDrifted:
      return "drifted";
    case DriftKind::kRebuilt:
      return "rebuilt";
    case DriftKind::kMissing:
      return "missing";
    case DriftKind::kUnverifiable:
      return "unverifiable";
    case DriftKind::kOutOfOrder:
      return "out of order";
    case DriftKind::kReordered:
      return "reordered";
  }
  return "?";
}

bool DriftReport::blocked() const {
  return std::any_of(findings.begin(), findings.end(), [](const auto& f) { return f.blocks; });
}

const DriftFinding* DriftReport::forMigration(const std::string& id) const {
  const DriftFinding* first = nullptr;
  for (const auto& f : findings) {
    if (f.id != id) continue;
    if (f.blocks) return &f;
    if (!first) first = &f;
  }
  return first;
}

bool isApplied(const MigrationState& s) {
  if (s.direction == Direction::kDown) return s.status != StepStatus::kRolledBack;
  if (s.status == StepStatus::kCompleted) return true;
  return s.processed > 0 && (s.status == StepStatus::kFailed || s.status == StepStatus::kCanceled ||
                             s.status == StepStatus::kRunning);
}

bool isPartlyRun(const MigrationState& s) {
  return isApplied(s) && s.status != StepStatus::kCompleted;
}

// "completed", "failed at _id 35 after 30 documents, cursor at _id 30",
// "rolling back: down canceled after 12 documents, cursor at _id 40": the
// document it failed at is not the cursor, which is the last one done.
std::string describeState(const MigrationState& s) {
  if (!isPartlyRun(s)) return stepStatusName(s.status);
  return std::string(s.direction == Direction::kDown ? "rolling back: down " : "") +
         stepStatusName(s.status) +
         (s.error_doc_id ? " at _id " + std::to_string(*s.error_doc_id) : "") + " after " +
         std::to_string(s.processed) + " documents, cursor at _id " + std::to_string(s.cursor);
}

namespace {

using Recorded = std::map<std::string, const MigrationState*>;

const MigrationState* findState(const Recorded& recorded, const std::string& id) {
  auto it = recorded.find(id);
  return it == recorded.end() ? nullptr : it->second;
}

// Each migration of the manifest against its recorded state: drifted,
// rebuilt, unverifiable, and pending ones before the last applied one.
void compareEach(const std::string& manifest_path, const std::vector<Fingerprint>& catalog,
                 const Recorded& recorded, const DriftOptions& options, DriftReport* report) {
  // The last applied migration in manifest order: anything pending before it
  // is out of order.
  std::string last_applied;
  for (const auto& plugin : catalog) {
    const MigrationState* s = findState(recorded, plugin.id);
    if (s && isApplied(*s)) last_applied = plugin.id;
  }
  bool before_last_applied = !last_applied.empty();
  for (const auto& plugin : catalog) {
    const MigrationState* s = findState(recorded, plugin.id);
    const bool applied = s && isApplied(*s);
    if (plugin.broken) {
      // Its plugin's own problem says what is wrong; nothing to compare.
    } else if (plugin.logic_digest.empty()) {
      report->findings.push_back(unverifiable(plugin, s, options));
    } else if (applied) {
      if (auto finding = compareApplied(plugin, *s, options))
        report->findings.push_back(std::move(*finding));
    }
    if (!applied && before_last_applied) {
      report->findings.push_back(
          {plugin.id, DriftKind::kOutOfOrder, !options.allow_out_of_order,
           "migration " + plugin.id + " is pending but comes before applied migration " +
               last_applied + " in " + manifest_path +
               (options.allow_out_of_order
                    ? " (let through by --allow-out-of-order)"
                    : " (move it after " + last_applied +
                          " in the manifest; --allow-out-of-order runs it anyway)")});
    }
    if (plugin.id == last_applied) before_last_applied = false;
  }
}

// Applied migrations in manifest order must have begun in that order
// (graft.sum catches a reorder too, where a team keeps one): the one that
// began after a later one, unless it was run out of order on purpose,
// says the manifest was reordered.
void findReorders(const std::string& manifest_path, const std::vector<Fingerprint>& catalog,
                  const Recorded& recorded, const DriftOptions& options, DriftReport* report) {
  const MigrationState* earliest_after = nullptr;  // of the applied ones after this one
  std::vector<DriftFinding> reorders;
  for (auto it = catalog.rbegin(); it != catalog.rend(); ++it) {
    const MigrationState* s = findState(recorded, it->id);
    if (!s || !isApplied(*s) || s->started_at.empty()) continue;
    if (earliest_after && !s->out_of_order && s->started_at > earliest_after->started_at) {
      reorders.push_back(
          {it->id, DriftKind::kReordered, !options.allow_drift,
           "migration " + it->id + " comes before " + earliest_after->id + " in " + manifest_path +
               " but was applied after it (it began at " + s->started_at + ", " +
               earliest_after->id + " at " + earliest_after->started_at +
               "): the order of applied migrations changed, and a new store would run them in "
               "another order than this one did" +
               (options.allow_drift ? " (let through by --allow-drift)"
                                    : " (restore their order in the manifest; --allow-drift runs "
                                      "anyway)")});
    }
    if (!earliest_after || s->started_at < earliest_after->started_at) earliest_after = s;
  }
  report->findings.insert(report->findings.end(), reorders.rbegin(), reorders.rend());
}

// Applied migrations that no manifest entry names any more, by id.
void findMissing(const std::string& manifest_path, const std::vector<Fingerprint>& catalog,
                 Recorded recorded, const DriftOptions& options, DriftReport* report) {
  for (const auto& plugin : catalog) recorded.erase(plugin.id);
  for (const auto& [id, s] : recorded) {  // by id: a std::map
    if (!isApplied(*s)) continue;
    report->findings.push_back(
        {id, DriftKind::kMissing, !options.allow_drift,
         "migration " + id + ": applied (" + describeState(*s) + ", logic " +
             shortDigest(s->logic_digest) + ") but no longer in " + manifest_path +
             ", and no plugin has its id" +
             (options.allow_drift ? " (let through by --allow-drift)"
                                  : " (restore its plugin and its manifest entry; --allow-drift "
                                    "runs anyway)")});
  }
}

}  // namespace

DriftReport checkDrift(const std::string& manifest_path, const std::vector<Fingerprint>& catalog,
                       const std::vector<MigrationState>& states, const DriftOptions& options) {
  Recorded recorded;
  for (const auto& s : states) recorded.emplace(s.id, &s);
  DriftReport report;
  compareEach(manifest_path, catalog, recorded, options, &report);
  findReorders(manifest_path, catalog, recorded, options, &report);
  findMissing(manifest_path, catalog, recorded, options, &report);
  return report;
}

std::string driftFlags(const DriftOptions& options) {
  std::string flags;
  if (options.strict) flags += " --strict";
  if (options.allow_drift) flags += " --allow-drift";
  if (options.allow_out_of_order) flags += " --allow-out-of-order";
  if (!options.restart.empty()) flags += " --restart " + options.restart;
  return flags;
}

}  // namespace graft
