#include "cli/report.h"

#include <csignal>
#include <cstdio>

#include "cli/cli.h"

namespace graft::cli {
namespace {

std::atomic<bool> g_stop{false};

void onStopSignal(int) { g_stop.store(true); }

void printCounts(const char* indent, const WriteCounts& w) {
  std::printf("%s%lld inserted, %lld patched, %lld replaced, %lld deleted", indent,
              static_cast<long long>(w.inserts), static_cast<long long>(w.patches),
              static_cast<long long>(w.replaces), static_cast<long long>(w.deletes));
}

void printDryRun(const MigrationReport& m) {
  std::printf("%s: would change %lld of %lld documents\n", m.id.c_str(),
              static_cast<long long>(m.changed), static_cast<long long>(m.processed));
  if (!m.plan.empty()) std::printf("  walks %s\n", m.plan.c_str());
  for (const auto& [table, counts] : m.writes_by_table) {
    std::printf("  %s: ", table.c_str());
    printCounts("", counts);
    std::printf("\n");
  }
  for (const auto& change : m.examples) {
    std::printf("  %s/%lld: %s -> %s\n", change.table.c_str(), static_cast<long long>(change.id),
                change.before.empty() ? "(none)" : change.before.c_str(),
                change.after.empty() ? "(deleted)" : change.after.c_str());
  }
}

}  // namespace

const std::atomic<bool>* installStopHandlers() {
  struct sigaction action {};
  action.sa_handler = onStopSignal;
  action.sa_flags = SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  return &g_stop;
}

int finishRun(const Status& status, const RunReport& report, const char* command) {
  for (const auto& note : report.notes) std::fprintf(stderr, "graft: note: %s\n", note.c_str());
  const bool dry_run =
      report.status == RunStatus::kDryRun ||
      (!report.migrations.empty() && report.migrations[0].outcome == StepOutcome::kDryRun);
  for (const auto& m : report.migrations) {
    if (m.outcome == StepOutcome::kSkipped) continue;
    if (dry_run) {
      printDryRun(m);
      continue;
    }
    std::printf("%s: %s, %lld documents visited, %lld patched", m.id.c_str(), stepOutcomeName(m.outcome),
                static_cast<long long>(m.processed), static_cast<long long>(m.changed));
    if (m.db_writes.total() > 0) printCounts("; through ctx.db: ", m.db_writes);
    if (m.verified && m.verified->failed == 0)
      std::printf("; verified: all %lld documents hold", static_cast<long long>(m.verified->documents));
    std::printf("\n");
  }
  if (!status.ok()) return fail(status);
  if (report.status == RunStatus::kNoop) {
    std::printf(std::string(command) == "down" ? "nothing to roll back\n"
                                               : "nothing to do: every migration is completed\n");
  }
  if (report.status == RunStatus::kDryRun)
    std::printf(
        "dry run: no document or migration state was written, only the run's history row "
        "(dry_run)\n");
  if (report.status == RunStatus::kCanceled) {
    return fail(Status(Code::kCanceled, "stopped by " + report.stop_reason +
                                            " after a committed batch; run graft " + command +
                                            " to resume"));
  }
  return 0;
}

}  // namespace graft::cli
