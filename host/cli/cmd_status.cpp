// graft status: where each migration stands.
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <thread>

#include "cli/cli.h"
#include "run/lease.h"

namespace graft::cli {
namespace {

std::string shortSum(const std::string& sum) { return sum.empty() ? "-" : sum.substr(0, 12); }

// The recorded state, and what drift checking found when it found something:
// "rebuilt (completed)".
std::string stateText(const MigrationStatus& r) {
  if (!r.plugin_error.empty()) return "broken (" + r.state + ")";
  return r.drift.empty() || r.drift == r.state ? r.state : r.drift + " (" + r.state + ")";
}

// The plugins that failed their checks, one line each, after the table:
// the table shows every migration, and the exit code says something is
// wrong.
int failIfBroken(const Catalog& catalog) {
  if (catalog.problems.empty()) return 0;
  std::string lines;
  for (const auto& p : catalog.problems) lines += (lines.empty() ? "" : "\n") + p.message;
  return fail(Status(Code::kPlugin, lines));
}

// "120000 of 1000000 documents (12%)": what a migration has done of what
// was left when its run started; without a total (a store written by an
// older graft), "120000 documents done". Documents inserted since can take
// it past the total; the percentage stops at 100.
std::string doneText(const MigrationState& s) {
  if (s.total <= 0) return plural(s.processed, "document", "documents") + " done";
  const double percent =
      std::min(100.0, 100.0 * static_cast<double>(s.processed) / static_cast<double>(s.total));
  char text[96];
  std::snprintf(text, sizeof text, "%lld of %s (%.0f%%)", static_cast<long long>(s.processed),
                plural(s.total, "document", "documents").c_str(), std::floor(percent));
  return text;
}

// "active run R: pid P on host H since T, heartbeat 2 s ago", and the
// migration it is on with its progress; or nothing.
int printActiveRun(Host& host) {
  auto lease = host.activeRun();
  if (!lease.ok()) return fail(lease.status());
  if (!*lease) return 0;
  const Lease& l = **lease;
  std::printf("\nactive run %s: pid %lld on host %s since %s, heartbeat %lld s ago%s%s\n",
              l.run_id.c_str(), static_cast<long long>(l.pid), l.host.c_str(), l.started_at.c_str(),
              static_cast<long long>((nowMs() - l.heartbeat_ms) / 1000),
              leaseIsStale(l, nowMs()) ? " (its process is gone: the next run takes over)" : "",
              l.cancel_requested ? ", cancel requested" : "");
  auto states = host.store().loadStates();
  if (!states.ok()) return fail(states.status());
  for (const auto& s : *states) {
    if (s.run_id != l.run_id || s.status != StepStatus::kRunning) continue;
    std::printf("  %s %s: %s, at _id %lld\n", s.id.c_str(), directionName(s.direction),
                doneText(s).c_str(), static_cast<long long>(s.cursor));
  }
  return 0;
}

// What --watch saw of a migration at its last poll.
struct Seen {
  int64_t processed = 0;
  int64_t at_ms = 0;
  double rate = -1;  // documents a second; < 0 until two polls saw it
};

// ", <rate> docs/s, ETA <s> s" of migration `s` at `now_ms`, once `last`
// (updated here) saw it before; "" at its first poll.
std::string rateText(const MigrationState& s, int64_t now_ms, Seen* last) {
  if (last->at_ms > 0 && now_ms > last->at_ms) {
    const double instant = (s.processed - last->processed) * 1000.0 / (now_ms - last->at_ms);
    last->rate = last->rate < 0 ? instant : 0.7 * last->rate + 0.3 * instant;
  }
  last->processed = s.processed;
  last->at_ms = now_ms;
  std::string rate;
  if (last->rate >= 0) {
    rate = ", " + std::to_string(std::llround(last->rate)) + " docs/s";
    if (s.total > 0 && last->rate > 0) {
      const double left = static_cast<double>(std::max<int64_t>(0, s.total - s.processed));
      rate += ", ETA " + std::to_string(std::llround(left / last->rate)) + " s";
    }
  }
  return rate;
}

// "run <id> ended: ..." with what the store recorded of the run.
int printRunEnded(Host& host, const std::string& id) {
  auto runs = host.store().loadRuns(50);
  if (!runs.ok()) return fail(runs.status());
  for (const auto& r : *runs) {
    if (r.run_id != id) continue;
    std::printf("run %s ended: %s, %s, %s visited%s%s\n", id.c_str(), runStatusName(r.status),
                plural(r.migrations, "migration finished", "migrations finished").c_str(),
                plural(r.processed, "document", "documents").c_str(), r.error.empty() ? "" : ": ",
                r.error.c_str());
    return 0;
  }
  std::printf("run %s ended\n", id.c_str());
  return 0;
}

// --watch: follows the runs that hold the store, from another terminal,
// until none does: every `interval_s`, one line per migration the run is
// on, with its progress, its rate (a decaying average over the polls) and
// when it should end at that rate. Reads only.
int watchRuns(Host& host, double interval_s) {
  std::string run_id;
  std::map<std::string, Seen> seen;
  for (;;) {
    auto lease = host.activeRun();
    if (!lease.ok()) return fail(lease.status());
    if (*lease && (*lease)->run_id != run_id) {
      if (!run_id.empty() && printRunEnded(host, run_id) != 0) return 1;
      const Lease& l = **lease;
      run_id = l.run_id;
      seen.clear();
      std::printf("following run %s: pid %lld on host %s since %s\n", run_id.c_str(),
                  static_cast<long long>(l.pid), l.host.c_str(), l.started_at.c_str());
    }
    if (!*lease) {
      if (run_id.empty()) {
        std::printf("no run is active\n");
        return 0;
      }
      return printRunEnded(host, run_id);
    }
    auto states = host.store().loadStates();
    if (!states.ok()) return fail(states.status());
    const int64_t now = nowMs();
    for (const auto& s : *states) {
      if (s.run_id != run_id || s.status != StepStatus::kRunning) continue;
      const std::string rate = rateText(s, now, &seen[s.id]);
      std::printf("  %s %s: %s%s, at _id %lld%s\n", s.id.c_str(), directionName(s.direction),
                  doneText(s).c_str(), rate.c_str(), static_cast<long long>(s.cursor),
                  (*lease)->cancel_requested ? ", cancel requested" : "");
    }
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::duration<double>(interval_s));
  }
}

// One object per migration. The keys of the first graft that had them keep
// "" for none; the later ones say null.
boost::json::array statusJson(const std::vector<MigrationStatus>& rows) {
  boost::json::array out;
  for (const auto& r : rows) {
    out.push_back(boost::json::object{{"id", r.id},
                                      {"description", r.description},
                                      {"state", r.state},
                                      {"processed", r.processed},
                                      {"total", r.total},
                                      {"changed", r.changed},
                                      {"cursor", r.cursor},
                                      {"recorded_file_sha256", r.recorded_file_sha256},
                                      {"recorded_logic_digest", r.recorded_logic_digest},
                                      {"file_sha256", r.file_sha256},
                                      {"logic_digest", r.logic_digest},
                                      {"updated_at", r.updated_at},
                                      {"error", r.error},
                                      {"drift", r.drift},
                                      {"drift_detail", r.drift_detail},
                                      {"plugin_error", r.plugin_error},
                                      {"next", r.next},
                                      {"started_at", textOrNull(r.started_at)},
                                      {"completed_at", textOrNull(r.completed_at)},
                                      {"duration_ms", numberOrNull(r.duration_ms)},
                                      {"run_id", textOrNull(r.run_id)},
                                      {"run_user", textOrNull(r.run_user)},
                                      {"run_host", textOrNull(r.run_host)}});
  }
  return out;
}

// "    applied at T in 1.2 s by alice on db1 (run R)" for a migration whose
// pass finished, "    run R by alice on db1, started at T" for one still
// partly run; nothing for one no run touched.
void printRunLine(const MigrationStatus& r) {
  if (r.run_id.empty()) return;
  const std::string by = r.run_user.empty() && r.run_host.empty()
                             ? ""
                             : " by " + (r.run_user.empty() ? "?" : r.run_user) + " on " +
                                   (r.run_host.empty() ? "?" : r.run_host);
  if (!r.completed_at.empty()) {
    std::printf("    %s at %s%s%s (run %s)\n", r.state == "rolled_back" ? "rolled back" : "applied",
                r.completed_at.c_str(),
                r.duration_ms ? (" in " + durationText(*r.duration_ms)).c_str() : "", by.c_str(),
                r.run_id.c_str());
  } else {
    std::printf("    run %s%s, started at %s\n", r.run_id.c_str(), by.c_str(),
                r.started_at.empty() ? "?" : r.started_at.c_str());
  }
}

int runStatus(HostOptions host_options, bool json, bool load_plugins) {
  host_options.read_only = true;
  // Listing runs no plugin code unless asked to (see plugin_meta.h).
  host_options.metadata_only = !load_plugins;
  host_options.keep_going = true;
  auto host = Host::open(host_options);
  if (!host.ok()) return fail(host.status());
  auto rows = (*host)->status();
  if (!rows.ok()) return fail(rows.status());
  if (json) {
    std::printf("%s\n", boost::json::serialize(statusJson(*rows)).c_str());
    std::fflush(stdout);
    return failIfBroken((*host)->catalog());
  }
  int width = 2;
  int state_width = 10;
  for (const auto& r : *rows) {
    width = std::max(width, static_cast<int>(r.id.size()));
    state_width = std::max(state_width, static_cast<int>(stateText(r).size()));
  }
  std::printf("%-*s  %-*s %10s %10s  %s\n", width, "ID", state_width, "STATE", "PROCESSED",
              "CHANGED", "FILE SHA256");
  for (const auto& r : *rows) {
    std::printf(
        "%-*s  %-*s %10lld %10lld  %s\n", width, r.id.c_str(), state_width, stateText(r).c_str(),
        static_cast<long long>(r.processed), static_cast<long long>(r.changed),
        shortSum(r.recorded_file_sha256.empty() ? r.file_sha256 : r.recorded_file_sha256).c_str());
    if (!r.plugin_error.empty()) std::printf("    plugin: %s\n", r.plugin_error.c_str());
    if (!r.error.empty()) std::printf("    error: %s\n", r.error.c_str());
    if (!r.drift_detail.empty()) std::printf("    drift: %s\n", r.drift_detail.c_str());
    printRunLine(r);
  }
  if (int rc = printActiveRun(**host); rc != 0) return rc;
  std::fflush(stdout);
  return failIfBroken((*host)->catalog());
}

}  // namespace

int runWatch(HostOptions host_options, double interval_s, bool load_plugins) {
  host_options.read_only = true;
  host_options.metadata_only = !load_plugins;
  auto host = Host::open(host_options);
  if (!host.ok()) return fail(host.status());
  return watchRuns(**host, interval_s);
}

Command addStatusCommand(CLI::App& app, const Globals& globals) {
  auto json = std::make_shared<bool>(false);
  auto watch = std::make_shared<bool>(false);
  auto interval = std::make_shared<double>(1.0);
  auto load_plugins = std::make_shared<bool>(false);
  CLI::App* sub =
      app.add_subcommand("status", "one line per migration: id, state, counts, file SHA-256");
  sub->add_flag("--json", *json, "print a JSON array instead");
  sub->add_flag("--load-plugins", *load_plugins,
                "load the plugins (runs their code) instead of reading their embedded metadata, "
                "for plugins built without it");
  sub->add_flag("--watch", *watch,
                "follow the active run until no run holds the store: its migrations' progress "
                "and rate every --interval seconds, then how it ended");
  sub->add_option("--interval", *interval, "seconds between --watch lines")
      ->check(CLI::Range(0.05, 3600.0))
      ->capture_default_str();
  return {sub, [&globals, json, watch, interval, load_plugins] {
            if (*watch) return runWatch(globals.host, *interval, *load_plugins);
            return runStatus(globals.host, *json, *load_plugins);
          }};
}

}  // namespace graft::cli
