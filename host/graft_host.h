// graft_host.h -- the host library an application embeds.
//
//   graft::HostOptions options{.db_url = "app.db", .plugin_dir = "migrations"};
//   auto host = graft::Host::open(options);
//   if (!host.ok()) { log(host.status().message()); ... }
//   graft::RunReport report;
//   graft::Status s = (*host)->up({}, &report);   // all pending, in order
//
// The `graft` command is a thin layer over this class.
#ifndef GRAFT_HOST_GRAFT_HOST_H_
#define GRAFT_HOST_GRAFT_HOST_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "plan/catalog.h"
#include "run/runner.h"
#include "base/status.h"
#include "store/store.h"

namespace graft {

struct HostOptions {
  // The store: a SQLite file as PATH or sqlite:PATH (see open_store.h for
  // every accepted form).
  std::string db_url = "graft.db";
  std::string plugin_dir = "plugins";
  std::string manifest_path;  // "": <plugin_dir>/manifest.json
  bool read_only = false;     // status only: open the store without writing
  // Load plugins that fail the trust checks (trust.h); every run made with
  // it says so in its history.
  bool allow_untrusted_plugins = false;
  // Read each plugin's embedded metadata instead of loading it (readCatalog
  // in catalog.h): no plugin code runs, not even a constructor. Enough for
  // status() and drift checks; up() and down() refuse (kUsage) on such a
  // host, and catalog() plugins are not loaded().
  bool metadata_only = false;
  // status and verify: open even when plugins fail their checks or disagree
  // with the manifest; catalog().problems says what failed, and status()
  // shows those migrations with the problem. up() and down() refuse (kUsage)
  // on such a host.
  bool keep_going = false;
  // Called with each plugin's path right before its code is loaded; see
  // Plugin::Options::before_load.
  std::function<void(const std::string& path)> before_plugin_load;
};

struct MigrationStatus {
  std::string id;
  std::string description;
  std::string state;  // pending, running, completed, failed, canceled, missing
  int64_t processed = 0;
  int64_t total = 0;  // processed + what was left when its latest run started; 0: unknown
  int64_t changed = 0;
  int64_t cursor = 0;
  // What it last ran with, "" if it never ran, and what its plugin is now,
  // "" if missing: the SHA-256 of the plugin file, and its logic digest
  // ("" also for a plugin built without one).
  std::string recorded_file_sha256, recorded_logic_digest;
  std::string file_sha256, logic_digest;
  std::string updated_at;
  // When its latest pass began and, if it finished, ended (ISO 8601 UTC,
  // "" if not), and the time between them (none unless both are known): a
  // pass resumed after a failure counts from its first start.
  std::string started_at, completed_at;
  std::optional<int64_t> duration_ms;
  // The run that last worked on it (migration_run), "" if none; the user
  // and host that run recorded, "" when unknown (no such row).
  std::string run_id, run_user, run_host;
  std::string error;
  // "" when the migration matches what was applied, else what drift.h found:
  // drifted, rebuilt, missing, unverifiable or out of order; and that
  // finding's one-line message.
  std::string drift;
  std::string drift_detail;
  // The plugin's problem when it failed its checks (a host opened with
  // keep_going), else "".
  std::string plugin_error;
  // What `up` would do with it now, from the same plan a run makes
  // (plan.h): run, resume, restart or skip; "blocked" when drift stops the
  // whole run; "" when up would not reach it (missing, a broken plugin, or a
  // plan that up refuses, such as a rollback to finish first).
  std::string next;
};

// options.manifest_path, or <plugin_dir>/manifest.json when it is empty.
std::string manifestPathOf(const HostOptions& options);

class Host {
 public:
  // Opens the store and loads (or, with metadata_only, inspects) every
  // plugin of the manifest. Errors name the file and the stage (see
  // Plugin::load, loadCatalog, openStore).
  static Result<std::unique_ptr<Host>> open(const HostOptions& options);

  // Runs pending migrations (all, or options.only). See Runner::up. First,
  // when a graft.sum sits beside the manifest, checks that it matches the
  // manifest and the plugins: kDrift (or the error reading it) if not, and
  // nothing runs. See checkSumFile. Then checks the applied migrations
  // against the plugins (options.strict, allow_drift, allow_out_of_order,
  // restart): kDrift, and nothing runs, when a finding blocks; the other
  // findings end up in report->notes. See gateRun in drift.h.
  Status up(const RunOptions& options, RunReport* report);

  // Rolls back applied migrations. See Runner::down.
  Status down(const DownOptions& options, RunReport* report);

  // The run holding the store now, if any.
  Result<std::optional<Lease>> activeRun() { return store_->loadLease(); }

  // One row per manifest entry, in manifest order, then one per migration
  // recorded in the store but gone from the manifest ("missing").
  Result<std::vector<MigrationStatus>> status();

  Store& store() { return *store_; }
  const Catalog& catalog() const { return catalog_; }

 private:
  Host(std::unique_ptr<Store> store, Catalog catalog)
      : store_(std::move(store)), catalog_(std::move(catalog)) {}

  std::unique_ptr<Store> store_;
  Catalog catalog_;
  std::string command_suffix_;  // flags every run's history must show
  bool metadata_only_ = false;
  bool keep_going_ = false;
};

}  // namespace graft

#endif  // GRAFT_HOST_GRAFT_HOST_H_
