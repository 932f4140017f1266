// graft history: the runs the store recorded, newest first.
#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "base/clock.h"
#include "cli/cli.h"
#include "store/open_store.h"

namespace graft::cli {
namespace {

// One recorded run as history shows it: migration_run keeps the run's error
// and the notes it went ahead despite ("note: ..." lines, see the runner) in
// one column; they are shown apart.
struct HistoryRow {
  const RunRecord* run = nullptr;
  std::string error;
  std::vector<std::string> notes;
  std::optional<int64_t> duration_ms;
};

HistoryRow rowOf(const RunRecord& run) {
  HistoryRow row{&run, "", {}, elapsedMs(run.started_at, run.ended_at)};
  std::istringstream lines(run.error);
  std::string line;
  const std::string note = "note: ";
  while (std::getline(lines, line)) {
    if (line.compare(0, note.size(), note) == 0)
      row.notes.push_back(line.substr(note.size()));
    else
      row.error += (row.error.empty() ? "" : "\n") + line;
  }
  return row;
}

boost::json::object jsonOf(const HistoryRow& row) {
  const RunRecord& r = *row.run;
  boost::json::array notes;
  for (const auto& note : row.notes) notes.push_back(boost::json::string(note));
  return {{"run_id", r.run_id},
          {"command", r.command},
          {"status", runStatusName(r.status)},
          {"user", textOrNull(r.user)},
          {"host", textOrNull(r.host)},
          {"pid", numberOrNull(r.pid > 0 ? std::optional<int64_t>(r.pid) : std::nullopt)},
          {"started_at", textOrNull(r.started_at)},
          {"ended_at", textOrNull(r.ended_at)},
          {"duration_ms", numberOrNull(row.duration_ms)},
          {"migrations", r.migrations},
          {"processed", r.processed},
          {"changed", r.changed},
          {"error", textOrNull(row.error)},
          {"notes", std::move(notes)}};
}

// "alice@db1": who ran it, "-" when the row does not say.
std::string byText(const RunRecord& r) {
  if (r.user.empty() && r.host.empty()) return "-";
  return (r.user.empty() ? "" : r.user + "@") + r.host;
}

// A table, one line per run, then its error and its notes indented below.
void printTable(const std::vector<HistoryRow>& rows) {
  int run_width = 3, status_width = 6, by_width = 2;
  for (const auto& row : rows) {
    run_width = std::max(run_width, static_cast<int>(row.run->run_id.size()));
    status_width = std::max(status_width,
                            static_cast<int>(std::string(runStatusName(row.run->status)).size()));
    by_width = std::max(by_width, static_cast<int>(byText(*row.run).size()));
  }
  std::printf("%-*s  %-24s %10s  %-*s %10s %10s %10s  %-*s %8s  %s\n", run_width, "RUN", "STARTED",
              "DURATION", status_width, "STATUS", "MIGRATIONS", "PROCESSED", "CHANGED", by_width,
              "BY", "PID", "COMMAND");
  for (const auto& row : rows) {
    const RunRecord& r = *row.run;
    std::printf(
        "%-*s  %-24s %10s  %-*s %10lld %10lld %10lld  %-*s %8s  %s\n", run_width, r.run_id.c_str(),
        r.started_at.c_str(), row.duration_ms ? durationText(*row.duration_ms).c_str() : "-",
        status_width, runStatusName(r.status), static_cast<long long>(r.migrations),
        static_cast<long long>(r.processed), static_cast<long long>(r.changed), by_width,
        byText(r).c_str(), r.pid > 0 ? std::to_string(r.pid).c_str() : "-", r.command.c_str());
    std::istringstream error(row.error);
    std::string line;
    while (std::getline(error, line)) std::printf("    error: %s\n", line.c_str());
    for (const auto& note : row.notes) std::printf("    note: %s\n", note.c_str());
  }
}

int runHistory(const std::string& db_url, int64_t limit, bool json) {
  auto store = openStore(db_url, {.read_only = true});
  if (!store.ok()) return fail(store.status());
  auto runs = (*store)->loadRuns(limit);
  if (!runs.ok()) return fail(runs.status());
  std::vector<HistoryRow> rows;
  for (const auto& run : *runs) rows.push_back(rowOf(run));
  if (json) {
    boost::json::array out;
    for (const auto& row : rows) out.push_back(jsonOf(row));
    std::printf("%s\n",
                boost::json::serialize(boost::json::object{{"runs", std::move(out)}}).c_str());
  } else if (rows.empty()) {
    std::printf("no runs recorded\n");
  } else {
    printTable(rows);
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace

Command addHistoryCommand(CLI::App& app, const Globals& globals) {
  auto json = std::make_shared<bool>(false);
  auto limit = std::make_shared<int64_t>(20);
  CLI::App* sub = app.add_subcommand(
      "history",
      "the recorded runs, newest first: who ran what, when, for how long, and how it ended");
  sub->add_option("--limit", *limit, "show the newest N runs")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}))
      ->capture_default_str();
  sub->add_flag("--json", *json, "print {\"runs\": [...]} instead");
  return {sub, [&globals, json, limit] { return runHistory(globals.host.db_url, *limit, *json); }};
}

}  // namespace graft::cli
