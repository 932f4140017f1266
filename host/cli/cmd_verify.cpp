// graft verify: what was applied against what is on disk now, and why they
// differ (see drift.h). Exits 0 when nothing blocks `graft up`, 8 otherwise.
#include <boost/json.hpp>
#include <cstdio>
#include <map>

#include "cli/cli.h"
#include "plan/drift.h"
#include "schema/schema_check.h"

namespace graft::cli {
namespace {

struct VerifyFlags {
  bool json = false;
  bool strict = false;
  bool allow_out_of_order = false;
  bool data = false;
  bool load_plugins = false;
};

// One migration as verify shows it: in the manifest, recorded, or both.
struct Row {
  std::string id;
  const Fingerprint* now = nullptr;
  const MigrationState* recorded = nullptr;
  std::vector<const DriftFinding*> findings;
  std::string broken;  // its plugin's problem, when it failed its checks

  std::string state() const {
    if (recorded) return stepStatusName(recorded->status);
    return now ? "pending" : "missing";
  }
  bool blocks() const {
    if (!broken.empty()) return true;
    for (const auto* f : findings)
      if (f->blocks) return true;
    return false;
  }
  // "ok", "pending", "failed", or the kinds found: "unverifiable, out of order".
  std::string verdict() const {
    if (!broken.empty()) return "broken";
    if (findings.empty()) return recorded && isApplied(*recorded) ? "ok" : state();
    std::string text;
    for (const auto* f : findings)
      text += (text.empty() ? "" : ", ") + std::string(driftKindName(f->kind));
    return text;
  }
};

std::string orNone(const std::string& value) { return value.empty() ? "none" : value; }

void printText(const std::vector<Row>& rows, size_t blocking) {
  for (const Row& r : rows) {
    std::printf("%s: %s%s (%s)\n", r.id.c_str(), r.verdict().c_str(), r.blocks() ? ", blocks" : "",
                r.state().c_str());
    const std::string recorded_digest = r.recorded ? orNone(r.recorded->logic_digest) : "-";
    const std::string recorded_sum = r.recorded ? orNone(r.recorded->file_sha256) : "-";
    std::printf("  logic digest: recorded %s, now %s\n", recorded_digest.c_str(),
                r.now ? orNone(r.now->logic_digest).c_str() : "-");
    std::printf("  file sha256:  recorded %s, now %s\n", recorded_sum.c_str(),
                r.now ? r.now->file_sha256.c_str() : "-");
    if (r.now && !r.now->broken) std::printf("  plugin: %s\n", r.now->path.c_str());
    if (!r.broken.empty()) std::printf("  why: %s\n", r.broken.c_str());
    for (const auto* f : r.findings) std::printf("  why: %s\n", f->message.c_str());
  }
  const char* plural = rows.size() == 1 ? "" : "s";
  if (blocking == 0) {
    std::printf("verify: %zu migration%s, nothing blocks graft up\n", rows.size(), plural);
  } else {
    std::printf("verify: %zu migration%s, %zu blocking finding%s\n", rows.size(), plural, blocking,
                blocking == 1 ? "" : "s");
  }
}

void printJson(const std::vector<Row>& rows, size_t blocking) {
  boost::json::array migrations;
  for (const Row& r : rows) {
    boost::json::array findings;
    for (const auto* f : r.findings)
      findings.push_back(boost::json::object{
          {"kind", driftKindName(f->kind)}, {"blocks", f->blocks}, {"message", f->message}});
    boost::json::value recorded = nullptr;
    if (r.recorded) {
      recorded = boost::json::object{{"logic_digest", r.recorded->logic_digest},
                                     {"file_sha256", r.recorded->file_sha256}};
    }
    boost::json::value now = nullptr;
    if (r.now && !r.now->broken) {
      now = boost::json::object{{"logic_digest", r.now->logic_digest},
                                {"file_sha256", r.now->file_sha256},
                                {"path", r.now->path}};
    }
    migrations.push_back(boost::json::object{
        {"id", r.id},
        {"state", r.state()},
        {"verdict", r.verdict()},
        {"blocks", r.blocks()},
        {"recorded", recorded},
        {"now", now},
        {"findings", findings},
        {"broken", r.broken.empty() ? boost::json::value(nullptr) : boost::json::value(r.broken)}});
  }
  boost::json::object out{{"blocked", blocking > 0}, {"migrations", migrations}};
  std::printf("%s\n", boost::json::serialize(out).c_str());
}

// --data: each applied (or verify-failed) migration's verify over its
// table now. Runs the plugins' verify code. Returns the documents failing.
Result<int64_t> verifyData(Store& store, const Catalog& catalog,
                           const std::vector<MigrationState>& states, std::string* failing_ids) {
  int64_t failing = 0;
  for (const auto& plugin : catalog.plugins) {
    const graft_step& step = plugin->up();
    if (!step.verify_json && !step.verify_one) continue;
    const MigrationState* state = nullptr;
    for (const auto& s : states)
      if (s.id == plugin->id()) state = &s;
    if (!state || state->direction == Direction::kDown ||
        (state->status != StepStatus::kCompleted &&
         state->error.rfind("verification failed", 0) != 0)) {
      std::printf("%s: not applied, nothing to verify\n", plugin->id().c_str());
      continue;
    }
    auto check = verifyStep(store, step);
    if (!check.ok()) return check.status();
    if (check->failed == 0) {
      std::printf("%s: complete (%lld documents in %s hold)\n", plugin->id().c_str(),
                  static_cast<long long>(check->documents), check->table.c_str());
      continue;
    }
    failing += check->failed;
    *failing_ids += (failing_ids->empty() ? "" : ", ") + plugin->id();
    std::printf("%s: %lld of %lld documents in %s do not hold\n", plugin->id().c_str(),
                static_cast<long long>(check->failed), static_cast<long long>(check->documents),
                check->table.c_str());
    for (const auto& [id, why] : check->samples)
      std::printf("    %s/%lld: %s\n", check->table.c_str(), static_cast<long long>(id), why.c_str());
  }
  return failing;
}

// One row per migration the catalog or the store knows, the catalog's
// first; *index gets the row of each id.
std::vector<Row> rowsOf(const std::vector<Fingerprint>& prints,
                        const std::vector<MigrationState>& states,
                        std::map<std::string, size_t>* index) {
  std::vector<Row> rows;
  for (const auto& print : prints) {
    (*index)[print.id] = rows.size();
    rows.push_back({print.id, &print, nullptr, {}, ""});
  }
  for (const auto& s : states) {
    auto [it, added] = index->emplace(s.id, rows.size());
    if (added) rows.push_back({s.id, nullptr, nullptr, {}, ""});
    rows[it->second].recorded = &s;
  }
  return rows;
}

// Gives each row the catalog's problem and the drift findings of its
// migration; returns how many of those block, with their messages, one a
// line, in *blocking_lines.
size_t markProblems(const Catalog& catalog, const DriftReport& report,
                    const std::map<std::string, size_t>& index, std::vector<Row>* rows,
                    std::string* blocking_lines) {
  size_t blocking = 0;
  for (const auto& problem : catalog.problems) {
    ++blocking;
    *blocking_lines += (blocking_lines->empty() ? "" : "\n") + problem.message;
    auto it = index.find(problem.id);
    if (it != index.end() && (*rows)[it->second].broken.empty())
      (*rows)[it->second].broken = problem.message;
  }
  for (const auto& f : report.findings) {
    (*rows)[index.at(f.id)].findings.push_back(&f);
    if (!f.blocks) continue;
    ++blocking;
    *blocking_lines += (blocking_lines->empty() ? "" : "\n") + f.message;
  }
  return blocking;
}

int runVerify(HostOptions host_options, const VerifyFlags& flags) {
  host_options.read_only = true;
  // Comparing fingerprints runs no plugin code; --data runs verify code, so
  // it loads them.
  host_options.metadata_only = !flags.load_plugins && !flags.data;
  // Every migration is shown, a broken plugin's among them; the exit code
  // still says it is broken.
  host_options.keep_going = true;
  auto host = Host::open(host_options);
  if (!host.ok()) return fail(host.status());
  auto states = (*host)->store().loadStates();
  if (!states.ok()) return fail(states.status());
  const Catalog& catalog = (*host)->catalog();
  const std::vector<Fingerprint> prints = fingerprints(catalog);
  DriftOptions options;
  options.strict = flags.strict;
  options.allow_out_of_order = flags.allow_out_of_order;
  const DriftReport report = checkDrift(catalog.manifest.path, prints, *states, options);

  std::map<std::string, size_t> index;
  std::vector<Row> rows = rowsOf(prints, *states, &index);
  std::string blocking_lines;
  const size_t blocking = markProblems(catalog, report, index, &rows, &blocking_lines);
  const bool broken = !catalog.problems.empty();

  if (flags.json)
    printJson(rows, blocking);
  else
    printText(rows, blocking);
  std::fflush(stdout);
  if (blocking > 0) return fail(Status(broken ? Code::kPlugin : Code::kDrift, blocking_lines));
  if (!flags.data) return 0;
  std::string failing_ids;
  auto failing = verifyData((*host)->store(), catalog, *states, &failing_ids);
  std::fflush(stdout);
  if (!failing.ok()) return fail(failing.status());
  if (*failing > 0)
    return fail(Status(Code::kSchema, documentsDo(*failing) +
                                          " not hold what their migration verifies (" +
                                          failing_ids + ")"));
  return 0;
}

}  // namespace

Command addVerifyCommand(CLI::App& app, const Globals& globals) {
  auto flags = std::make_shared<VerifyFlags>();
  CLI::App* sub = app.add_subcommand(
      "verify", "compare each applied migration's recorded fingerprints with its plugin now");
  sub->add_flag("--json", flags->json, "print a JSON object instead");
  sub->add_flag("--strict", flags->strict,
                "count rebuilt plugins and plugins without a logic digest as blocking");
  sub->add_flag("--allow-out-of-order", flags->allow_out_of_order,
                "do not count pending migrations before applied ones as blocking");
  sub->add_flag("--data", flags->data,
                "also check each applied migration's verify over its table now (runs the "
                "plugins' verify code; exit 9 when a document does not hold)");
  sub->add_flag("--load-plugins", flags->load_plugins,
                "load the plugins (runs their code) instead of reading their embedded metadata, "
                "for plugins built without it");
  return {sub, [&globals, flags] { return runVerify(globals.host, *flags); }};
}

}  // namespace graft::cli
