// graft up: run the pending migrations.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>

#include "cli.h"
#include "progress.h"

namespace graft::cli {
namespace {

std::atomic<bool> g_stop{false};

void onStopSignal(int) { g_stop.store(true); }

// SIGINT/SIGTERM: finish the batch in flight, commit, record, exit. The
// handler is reset on first use, so a second Ctrl-C stops at once (which is
// still safe: an uncommitted batch is simply rolled back by SQLite).
void installStopHandlers() {
  struct sigaction action {};
  action.sa_handler = onStopSignal;
  action.sa_flags = SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

struct UpFlags {
  uint32_t batch_size = 0;
  bool quiet = false;
};

int runUp(const Globals& globals, const UpFlags& flags) {
  auto host = Host::open(globals.host);
  if (!host.ok()) return fail(host.status());
  ProgressPrinter printer(stderr, flags.quiet                ? ProgressPrinter::Mode::kQuiet
                                  : isatty(fileno(stderr)) ? ProgressPrinter::Mode::kTerminal
                                                           : ProgressPrinter::Mode::kPlain);
  RunOptions options;
  options.batch_size = flags.batch_size;
  options.on_progress = [&](const Progress& p) { printer.update(p); };
  options.stop_requested = &g_stop;
  installStopHandlers();
  RunReport report;
  Status status = (*host)->up(options, &report);
  for (const auto& m : report.migrations) {
    if (m.outcome == "skipped") continue;
    std::printf("%s: %s, %lld documents visited, %lld patched", m.id.c_str(), m.outcome.c_str(),
                static_cast<long long>(m.processed), static_cast<long long>(m.changed));
    const WriteCounts& w = m.db_writes;
    if (w.total() > 0) {
      std::printf("; through ctx.db: %lld inserted, %lld patched, %lld replaced, %lld deleted",
                  static_cast<long long>(w.inserts), static_cast<long long>(w.patches),
                  static_cast<long long>(w.replaces), static_cast<long long>(w.deletes));
    }
    std::printf("\n");
  }
  if (!status.ok()) return fail(status);
  if (report.status == "noop") std::printf("nothing to do: every migration is completed\n");
  if (report.status == "canceled") {
    return fail(Status(Code::kCanceled,
                       "stopped by signal after a committed batch; run graft up to resume"));
  }
  return 0;
}

}  // namespace

Command addUpCommand(CLI::App& app, const Globals& globals) {
  auto flags = std::make_shared<UpFlags>();
  CLI::App* sub = app.add_subcommand("up", "run pending migrations, in manifest order, batch by batch");
  sub->add_option("--batch-size", flags->batch_size,
                  "documents per batch (default: the migration's, else 256)")
      ->check(CLI::Range(1u, 1000000u));
  sub->add_flag("-q,--quiet", flags->quiet, "no progress output");
  return {sub, [&globals, flags] { return runUp(globals, *flags); }};
}

}  // namespace graft::cli
