#include "graft_host.h"

#include <filesystem>
#include <limits>
#include <map>

#include "base/clock.h"
#include "plan/drift.h"
#include "plan/plan.h"
#include "store/open_store.h"
#include "plan/sumfile.h"

namespace graft {

Result<std::unique_ptr<Host>> Host::open(const HostOptions& options) {
  const Plugin::Options plugin_options{options.allow_untrusted_plugins, options.before_plugin_load};
  auto catalog = options.metadata_only ? readCatalog(options.plugin_dir, manifestPathOf(options),
                                                     plugin_options, options.keep_going)
                                       : loadCatalog(options.plugin_dir, manifestPathOf(options),
                                                     plugin_options, options.keep_going);
  if (!catalog.ok()) return catalog.status();
  auto store = openStore(options.db_url, {.read_only = options.read_only});
  if (!store.ok()) return store.status();
  auto host =
      std::unique_ptr<Host>(new Host(std::move(store).value(), std::move(catalog).value()));
  if (options.allow_untrusted_plugins) host->command_suffix_ = " --allow-untrusted-plugins";
  host->metadata_only_ = options.metadata_only;
  host->keep_going_ = options.keep_going;
  return host;
}

std::string manifestPathOf(const HostOptions& options) {
  if (!options.manifest_path.empty()) return options.manifest_path;
  return (std::filesystem::path(options.plugin_dir) / "manifest.json").string();
}

namespace {

Status metadataOnly() {
  return Status(Code::kUsage,
                "this host read the plugins' metadata only and loaded none: open it without "
                "metadata_only to run migrations");
}

Status keptGoing() {
  return Status(Code::kUsage,
                "this host was opened with keep_going, which lets broken plugins through: open it "
                "without keep_going to run migrations");
}

// Each row's `next`, from the plan a plain `graft up` would make now.
void fillNext(const Catalog& catalog, const std::vector<MigrationState>& states,
              std::vector<MigrationStatus>* rows) {
  auto plan = planUp(catalog, states, UpRequest{});
  if (!plan.ok()) return;
  std::map<std::string, const PlannedStep*> steps;
  for (const auto& step : plan->steps) steps.emplace(step.id(), &step);
  for (auto& row : *rows) {
    auto it = steps.find(row.id);
    if (it == steps.end()) continue;
    row.next = plan->blocked() && it->second->runs() ? "blocked"
                                                     : stepActionName(it->second->action);
  }
}

}  // namespace

Status Host::up(const RunOptions& options, RunReport* report) {
  if (metadata_only_) return metadataOnly();
  if (keep_going_) return keptGoing();
  // A graft.sum beside the manifest pins the order and logic the team
  // reviewed; without one, up runs as it always did (see sumfile.h).
  GRAFT_RETURN_IF_ERROR(checkSumFile(catalog_));
  // The runner plans under the lease, drift checks included (plan.h); the
  // run's history keeps the drift flags it was given.
  RunOptions run = options;
  if (!options.only.empty()) run.command += " --only " + options.only;
  if (options.rerun) run.command += " --rerun";
  run.command += driftFlags(driftOptionsOf(options)) + command_suffix_;
  Runner runner(*store_, catalog_);
  return runner.up(run, report);
}

Status Host::down(const DownOptions& options, RunReport* report) {
  if (metadata_only_) return metadataOnly();
  if (keep_going_) return keptGoing();
  DownOptions run = options;
  run.command += command_suffix_;
  Runner runner(*store_, catalog_);
  return runner.down(run, report);
}

namespace {

// What the store recorded of a migration, into its status row, shown as
// `state`.
void fillRecorded(const MigrationState& s, const char* state, MigrationStatus* row) {
  row->state = state;
  row->started_at = s.started_at;
  row->completed_at = s.completed_at;
  row->duration_ms = elapsedMs(s.started_at, s.completed_at);
  row->run_id = s.run_id;
  row->processed = s.processed;
  row->total = s.total;
  row->changed = s.changed;
  row->cursor = s.cursor;
  row->recorded_file_sha256 = s.file_sha256;
  row->recorded_logic_digest = s.logic_digest;
  row->updated_at = s.updated_at;
  row->error = s.error;
}

// Who ran each row's run, from the run history.
Status fillRunners(Store& store, std::vector<MigrationStatus>* rows) {
  auto runs = store.loadRuns(std::numeric_limits<int64_t>::max());
  if (!runs.ok()) return runs.status();
  std::map<std::string, const RunRecord*> by_id;
  for (const auto& run : *runs) by_id.emplace(run.run_id, &run);
  for (auto& row : *rows) {
    auto it = by_id.find(row.run_id);
    if (it == by_id.end()) continue;
    row.run_user = it->second->user;
    row.run_host = it->second->host;
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<MigrationStatus>> Host::status() {
  auto states = store_->loadStates();
  if (!states.ok()) return states.status();
  const DriftReport drift =
      checkDrift(catalog_.manifest.path, fingerprints(catalog_), *states, DriftOptions{});
  std::map<std::string, MigrationState> recorded;
  for (const auto& s : *states) recorded.emplace(s.id, s);

  std::vector<MigrationStatus> rows;
  for (const auto& id : catalog_.manifest.ids) {
    MigrationStatus row;
    row.id = id;
    row.state = "pending";
    if (const Plugin* plugin = catalog_.find(id)) {
      row.description = plugin->description();
      row.file_sha256 = plugin->fileSha256();
      row.logic_digest = plugin->logicDigest();
    } else if (const CatalogProblem* problem = catalog_.problemOf(id)) {
      row.plugin_error = problem->message;
    }
    auto it = recorded.find(row.id);
    if (it != recorded.end()) {
      fillRecorded(it->second, stepStatusName(it->second.status), &row);
      recorded.erase(it);
    }
    rows.push_back(std::move(row));
  }
  for (const auto& [id, s] : recorded) {
    MigrationStatus row;
    row.id = id;
    fillRecorded(s, "missing", &row);
    rows.push_back(std::move(row));
  }
  for (auto& row : rows) {
    if (const DriftFinding* finding = drift.forMigration(row.id)) {
      row.drift = driftKindName(finding->kind);
      row.drift_detail = finding->message;
    }
  }
  fillNext(catalog_, *states, &rows);
  GRAFT_RETURN_IF_ERROR(fillRunners(*store_, &rows));
  return rows;
}

}  // namespace graft
