// graft up: run the pending migrations.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cli/cli.h"
#include "cli/progress.h"
#include "cli/report.h"
#include "cli/supervise.h"
#include "cli/watch.h"

namespace graft::cli {
namespace {

struct UpFlags {
  uint32_t batch_size = 0;
  double lock_ms = kDefaultLockMs;
  double pause_ms = 0;
  unsigned threads = 0;
  bool quiet = false;
  bool dry_run = false;
  std::string to;
  bool strict = false;
  bool allow_drift = false;
  bool allow_out_of_order = false;
  std::string restart;
  std::string only;
  bool rerun = false;
  bool watch = false;
  int batch_timeout_s = 600;
  std::string wait_lock;  // as given: "30s"; "" for no wait
  int64_t wait_lock_ms = 0;
};

ProgressPrinter::Mode progressMode(bool quiet) {
  if (quiet) return ProgressPrinter::Mode::kQuiet;
  // A terminal that can not erase a line gets the plain lines a log gets.
  const char* term = std::getenv("TERM");
  const bool can_redraw = term && *term && std::string_view(term) != "dumb";
  return isatty(fileno(stderr)) && can_redraw ? ProgressPrinter::Mode::kTerminal
                                              : ProgressPrinter::Mode::kPlain;
}

// The host, with its plugins loaded under the supervisor's watch.
Result<std::unique_ptr<Host>> openWatched(const Globals& globals) {
  HostOptions options = globals.host;
  options.before_plugin_load = [](const std::string& path) { worker::loading(path); };
  auto host = Host::open(options);
  worker::loaded();
  return host;
}

// Prints each note as the run makes it; finishRun prints the others.
struct NotePrinter {
  std::vector<std::string> printed;
  std::function<void(const std::string&)> callback() {
    return [this](const std::string& note) {
      std::fprintf(stderr, "graft: note: %s\n", note.c_str());
      printed.push_back(note);
    };
  }
  void forget(RunReport* report) const {
    for (const auto& note : printed) {
      auto it = std::find(report->notes.begin(), report->notes.end(), note);
      if (it != report->notes.end()) report->notes.erase(it);
    }
  }
};

// "500ms", "30s", "2m", "1h" in milliseconds; none for any other text.
std::optional<int64_t> parseDuration(const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0])) || !(v >= 0))
    return std::nullopt;
  const std::string_view unit(end);
  const double scale = unit == "ms"  ? 1
                       : unit == "s" ? 1e3
                       : unit == "m" ? 6e4
                       : unit == "h" ? 3.6e6
                                     : -1;
  if (scale < 0 || v * scale > 86400e3) return std::nullopt;
  return static_cast<int64_t>(v * scale);
}

// up, tried again while another run holds the lease, until this one has it
// or --wait-lock has passed. A lease lost in the middle of a run (kBusy
// too, once a migration ran) is not waited out.
Status upWaitingForLease(Host& host, const UpFlags& flags, const RunOptions& options,
                         RunReport* report) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(flags.wait_lock_ms);
  std::string announced;  // the run last said to be waited for
  for (;;) {
    Status status = host.up(options, report);
    if (status.code() != Code::kBusy || !report->migrations.empty() || flags.wait_lock_ms <= 0)
      return status;
    auto lease = host.activeRun();
    if (!lease.ok()) return lease.status();
    if (*lease) {
      const Lease& held = **lease;
      const std::string who = "run " + held.run_id + " (pid " + std::to_string(held.pid) +
                              " on host " + held.host + " since " + held.started_at + ")";
      if (Clock::now() >= deadline)
        return Status(Code::kBusy, who + " still holds the store's lease after waiting " +
                                       flags.wait_lock +
                                       " (--wait-lock); wait longer, or stop it with graft cancel");
      if (held.run_id != announced)
        std::fprintf(stderr, "graft: waiting up to %s for %s to release the store's lease\n",
                     flags.wait_lock.c_str(), who.c_str());
      announced = held.run_id;
    }
    if (options.stop_requested && options.stop_requested->load())
      return Status(Code::kCanceled,
                    "stopped by signal while waiting for the store's lease; "
                    "nothing ran (run graft up again)");
    const auto left = deadline - Clock::now();
    std::this_thread::sleep_for(std::min<Clock::duration>(std::chrono::milliseconds(100), left));
  }
}

int runUpOnce(const Globals& globals, const UpFlags& flags) {
  auto host = openWatched(globals);
  if (!host.ok()) return fail(host.status());
  if (flags.rerun)
    std::fprintf(stderr,
                 "graft: warning: --rerun runs %s again from its first document, over documents "
                 "it already migrated: its migrateOne must be idempotent (return nothing for a "
                 "document it already changed), or those documents change twice\n",
                 flags.only.c_str());
  ProgressPrinter printer(stderr, progressMode(flags.quiet));
  NotePrinter notes;
  RunOptions options;
  options.batch_size = flags.batch_size;
  options.lock_ms = flags.lock_ms;
  options.pause_ms = flags.pause_ms;
  options.threads = flags.threads;
  options.dry_run = flags.dry_run;
  options.to = flags.to;
  options.strict = flags.strict;
  options.allow_drift = flags.allow_drift;
  options.allow_out_of_order = flags.allow_out_of_order;
  options.restart = flags.restart;
  options.only = flags.only;
  options.rerun = flags.rerun;
  options.command = flags.dry_run ? "up --dry-run" : "up";
  options.on_progress = [&](const Progress& p) { printer.update(p); };
  options.stop_requested = installStopHandlers();
  options.current_document = worker::documentSlot();
  options.on_note = notes.callback();
  RunReport report;
  Status status = upWaitingForLease(**host, flags, options, &report);
  notes.forget(&report);
  return finishRun(status, report, "up");
}

int runUp(const Globals& globals, const UpFlags& flags) {
  return supervise(
      [&] {
        if (!flags.watch) return runUpOnce(globals, flags);
        return watchAndRun([&] { return runUpOnce(globals, flags); }, globals.host.plugin_dir,
                           manifestPathOf(globals.host), installStopHandlers());
      },
      globals.host.db_url, flags.batch_timeout_s, flags.dry_run ? "up --dry-run" : "up");
}

int runDown(const Globals& globals, const UpFlags& flags, int steps) {
  auto host = openWatched(globals);
  if (!host.ok()) return fail(host.status());
  ProgressPrinter printer(stderr, progressMode(flags.quiet));
  NotePrinter notes;
  DownOptions options;
  options.steps = steps;
  options.to = flags.to;
  options.batch_size = flags.batch_size;
  options.lock_ms = flags.lock_ms;
  options.pause_ms = flags.pause_ms;
  options.threads = flags.threads;
  options.dry_run = flags.dry_run;
  options.command = flags.dry_run ? "down --dry-run" : "down";
  options.on_progress = [&](const Progress& p) { printer.update(p); };
  options.stop_requested = installStopHandlers();
  options.current_document = worker::documentSlot();
  options.on_note = notes.callback();
  RunReport report;
  Status status = (*host)->down(options, &report);
  notes.forget(&report);
  return finishRun(status, report, "down");
}

// A number of milliseconds in [least, most]; CLI11's own range check would
// print the bounds as 0.000000 and call a word "not in range".
CLI::Validator milliseconds(double least, double most) {
  auto text = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return std::string(buf);
  };
  const std::string expected =
      "expected milliseconds from " + text(least) + " to " + text(most) + ", got \"";
  return CLI::Validator(
      [least, most, expected](std::string& value) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(value.c_str(), &end);
        if (value.empty() || *end != '\0' || !(v >= least && v <= most))
          return expected + value + "\"";
        return "";
      },
      "MS");
}

// A whole number in [least, most], said the way milliseconds() says it.
CLI::Validator wholeNumber(unsigned least, unsigned most) {
  const std::string expected = "expected a whole number from " + std::to_string(least) + " to " +
                               std::to_string(most) + ", got \"";
  return CLI::Validator(
      [least, most, expected](std::string& value) -> std::string {
        char* end = nullptr;
        const unsigned long long v = std::strtoull(value.c_str(), &end, 10);
        if (value.empty() || value[0] == '-' || value[0] == '+' || *end != '\0' || v < least ||
            v > most)
          return expected + value + "\"";
        return "";
      },
      "N");
}

// --batch-size, --lock-ms, --pause-ms and --threads, the same for up and down.
void addPacing(CLI::App* sub, UpFlags* flags) {
  sub->add_option("--batch-size", flags->batch_size,
                  "documents per batch (default: the migration's batchSize, else sized by "
                  "--lock-ms)")
      ->check(wholeNumber(1, 1000000));
  sub->add_option("--lock-ms", flags->lock_ms,
                  "target milliseconds a batch holds the write lock, when no size is pinned")
      ->check(milliseconds(0.1, 10000))
      ->capture_default_str();
  sub->add_option("--pause-ms", flags->pause_ms,
                  "milliseconds added to the pause after every batch, to throttle the run")
      ->check(milliseconds(0, 60000))
      ->capture_default_str();
  sub->add_option("--threads", flags->threads,
                  "threads that compute a batch of a migration that declares parallelize "
                  "(default: one per core, at most 8; 1: no threads of its own)")
      ->check(wholeNumber(1, 64));
}

void addBatchTimeout(CLI::App* sub, UpFlags* flags) {
  sub->add_option("--batch-timeout", flags->batch_timeout_s,
                  "seconds a batch may take before its process is killed and the run recorded failed")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
}

// --only, --rerun and --wait-lock.
void addSelection(CLI::App* sub, UpFlags* flags, CLI::Option* restart) {
  CLI::Option* only =
      sub->add_option("--only", flags->only,
                      "run just this migration (the ones before it must be applied, unless "
                      "--allow-out-of-order)");
  only->excludes(sub->get_option("--to"))->excludes(sub->get_option("--watch"));
  sub->add_flag("--rerun", flags->rerun,
                "with --only: run it from its first document even when it is completed (its "
                "migrateOne must be idempotent)")
      ->needs(only)
      ->excludes(restart);
  sub->add_option("--wait-lock", flags->wait_lock,
                  "when another run holds the store, wait up to this long for it (500ms, 30s, "
                  "2m, 1h) instead of exiting 7 at once")
      ->check(CLI::Validator(
          [flags](std::string& value) -> std::string {
            const auto ms = parseDuration(value);
            if (!ms)
              return "expected a duration such as 500ms, 30s, 2m or 1h (at most 24h), got \"" +
                     value + "\"";
            flags->wait_lock_ms = *ms;
            return "";
          },
          "DURATION"));
}

}  // namespace

Command addUpCommand(CLI::App& app, const Globals& globals) {
  auto flags = std::make_shared<UpFlags>();
  CLI::App* sub = app.add_subcommand("up", "run pending migrations, in manifest order, batch by batch");
  addPacing(sub, flags.get());
  sub->add_flag("-q,--quiet", flags->quiet, "no progress output");
  sub->add_flag("--dry-run", flags->dry_run,
                "run every migrateOne, keep nothing, report what would be written");
  sub->add_option("--to", flags->to, "stop after this migration id");
  addBatchTimeout(sub, flags.get());
  sub->add_flag("--watch", flags->watch,
                "keep running: apply new migrations as they appear in the plugin directory");
  sub->add_flag("--strict", flags->strict,
                "rebuilt plugins and plugins without a logic digest block the run too");
  sub->add_flag("--allow-drift", flags->allow_drift,
                "run although applied migrations changed or are gone (emergencies; recorded)");
  sub->add_flag("--allow-out-of-order", flags->allow_out_of_order,
                "run pending migrations placed in the manifest before applied ones");
  CLI::Option* restart = sub->add_option(
      "--restart", flags->restart, "run this partly-run migration again from its first document");
  addSelection(sub, flags.get(), restart);
  return {sub, [&globals, flags] { return runUp(globals, *flags); }};
}

Command addDownCommand(CLI::App& app, const Globals& globals) {
  auto flags = std::make_shared<UpFlags>();
  auto steps = std::make_shared<int>(0);
  CLI::App* sub = app.add_subcommand(
      "down", "roll back applied migrations with their down steps, newest first");
  sub->add_option("--steps", *steps, "roll back the last N applied migrations")
      ->check(CLI::Range(1, 1000000));
  sub->add_option("--to", flags->to, "roll back every applied migration after this id");
  addPacing(sub, flags.get());
  sub->add_flag("-q,--quiet", flags->quiet, "no progress output");
  sub->add_flag("--dry-run", flags->dry_run, "run every down step, keep nothing");
  addBatchTimeout(sub, flags.get());
  return {sub, [&globals, flags, steps] {
            return supervise([&] { return runDown(globals, *flags, *steps); }, globals.host.db_url,
                             flags->batch_timeout_s, flags->dry_run ? "down --dry-run" : "down");
          }};
}

}  // namespace graft::cli
