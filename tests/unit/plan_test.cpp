// Tests for host/plan/plan.cpp: what up and down will do with each migration
// and why, computed from the states alone (a pure function); and what a run
// does with the plan on a real store with real plugins: a blocked plan is
// recorded and runs nothing, notes go into the history, a restart resets
// the migration only under the run's lease.
#include "plan/plan.h"

#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "harness.h"
#include "run/lease.h"
#include "run/runner.h"
#include "store/store.h"

namespace graft {
namespace {

using test::ScratchDir;
using test::testPlugin;

const std::string kDigestA = "v1:sha256:" + std::string(64, 'a');
const std::string kSum1 = std::string(64, '1');

MigrationState state(const std::string& id, const std::string& status, const std::string& digest,
                     int64_t processed = 100, const std::string& direction = "up") {
  MigrationState s;
  s.id = id;
  s.status = parseStepStatus(status).value();
  s.logic_digest = digest;
  s.file_sha256 = kSum1;
  s.processed = processed;
  s.cursor = processed;
  s.direction = parseDirection(direction).value();
  return s;
}

// Real plugins in a real catalog: `plugins` built by tests/CMakeLists.txt
// ("counter") or paths of plugin files, under the manifest order `ids`.
struct Project {
  ScratchDir dir;
  Catalog catalog;

  Project(const std::vector<std::string>& plugins, const std::vector<std::string>& ids) {
    std::vector<std::string> files;
    for (const auto& p : plugins)
      files.push_back(p.find('/') == std::string::npos ? testPlugin(p) : p);
    auto plugin_dir = test::makePluginDir(dir, files, ids);
    auto loaded = loadCatalog(plugin_dir, plugin_dir + "/manifest.json");
    BOOST_REQUIRE_MESSAGE(loaded.ok(), loaded.status().message());
    catalog = std::move(loaded).value();
  }
  // The recorded state of `id` as its current plugin would have left it.
  MigrationState applied(const std::string& id, const std::string& status, int64_t processed = 100,
                         const std::string& direction = "up") const {
    const Plugin* p = catalog.find(id);
    BOOST_TEST_REQUIRE(p != nullptr);
    MigrationState s = state(id, status, p->logicDigest(), processed, direction);
    s.file_sha256 = p->fileSha256();
    return s;
  }
};

struct Row {
  std::string id;
  StepAction action;
  bool out_of_order;
  std::string why;
};

void expectSteps(const Plan& plan, const std::vector<Row>& rows) {
  BOOST_TEST_REQUIRE(plan.steps.size() == rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    BOOST_TEST_CONTEXT("step " << i) {
      BOOST_TEST(plan.steps[i].id() == rows[i].id);
      BOOST_TEST(stepActionName(plan.steps[i].action) ==
                 std::string(stepActionName(rows[i].action)));
      BOOST_TEST(plan.steps[i].out_of_order == rows[i].out_of_order);
      BOOST_TEST(plan.steps[i].why == rows[i].why);
    }
  }
}

BOOST_AUTO_TEST_SUITE(plan)

BOOST_AUTO_TEST_CASE(up_skips_completed_runs_pending_and_resumes_partly_run_ones) {
  Project p({"counter", "marker", "probe"}, {"test_counter", "test_marker", "test_probe"});
  MigrationState failed = p.applied("test_marker", "failed", 30);
  failed.error_doc_id = 31;
  auto plan = planUp(p.catalog, {p.applied("test_counter", "completed"), failed}, {});
  BOOST_TEST_REQUIRE(plan.ok(), plan.status().message());
  expectSteps(*plan, {{"test_counter", StepAction::kSkip, false, "completed"},
                      {"test_marker", StepAction::kResume, false,
                       "failed at _id 31 after 30 documents, cursor at _id 30"},
                      {"test_probe", StepAction::kRun, false, "pending"}});
  BOOST_TEST(plan->runnable() == 2u);
  BOOST_TEST(!plan->blocked());
  BOOST_TEST(plan->notes.empty());
}

BOOST_AUTO_TEST_CASE(a_rolled_back_migration_runs_again_from_its_first_document) {
  Project p({"counter"}, {"test_counter"});
  auto plan = planUp(p.catalog, {p.applied("test_counter", "rolled_back", 100, "down")}, {});
  BOOST_TEST_REQUIRE(plan.ok(), plan.status().message());
  expectSteps(*plan, {{"test_counter", StepAction::kRun, false, "pending"}});
}

BOOST_AUTO_TEST_CASE(only_and_to_select_what_up_runs) {
  Project p({"counter", "marker", "probe"}, {"test_counter", "test_marker", "test_probe"});
  UpRequest request;
  request.only = "test_marker";
  auto plan = planUp(p.catalog, {p.applied("test_counter", "completed")}, request);
  BOOST_TEST_REQUIRE(plan.ok(), plan.status().message());
  expectSteps(*plan, {{"test_marker", StepAction::kRun, false, "pending"}});

  // Alone, before the pending one ahead of it, only when that is allowed:
  // every later plain run would stop at test_counter.
  request.only = "test_probe";
  plan = planUp(p.catalog, {p.applied("test_marker", "failed")}, request);
  BOOST_TEST_REQUIRE(!plan.ok());
  BOOST_TEST(plan.status().code() == Code::kUsage);
  BOOST_TEST(plan.status().message() ==
             "graft up --only test_probe: migration test_counter comes before it in " +
                 p.catalog.manifest.path +
                 " and is pending; run it first (graft up --to test_counter), or add "
                 "--allow-out-of-order to run test_probe alone");
  plan = planUp(p.catalog, {}, request);
  BOOST_TEST_REQUIRE(!plan.ok());
  BOOST_TEST(plan.status().message() ==
             "graft up --only test_probe: migrations test_counter, test_marker come before it in " +
                 p.catalog.manifest.path +
                 " and are pending; run them first (graft up --to test_marker), or add "
                 "--allow-out-of-order to run test_probe alone");
  request.drift.allow_out_of_order = true;
  plan = planUp(p.catalog, {}, request);
  BOOST_TEST_REQUIRE(plan.ok(), plan.status().message());
  expectSteps(*plan, {{"test_probe", StepAction::kRun, false, "pending"}});

  request = {};
  request.to = "test_marker";
  plan = planUp(p.catalog, {}, request);
  BOOST_TEST_REQUIRE(plan.ok(), plan.status().message());
  expectSteps(*plan, {{"test_counter", StepAction::kRun, false, "pending"},
                      {"test_marker", StepAction::kRun, false, "pending"}});
}

// A completed migration runs again only when asked by name, and says so in
// the run's notes; one applied after it makes the rerun out of order, so
// that drift checking does not take it for a reordered manifest.
BOOST_AUTO_TEST_CASE(rerun_runs_the_one_named_again_whatever_its_state) {
  Project p({"counter", "marker"}, {"test_counter", "test_marker"});
  UpRequest request;
  request.only = "test_counter";
  request.rerun = true;
  auto plan = planUp(
      p.catalog, {p.applied("test_counter", "completed"), p.applied("test_marker", "completed")},
      request);
  BOOST_TEST_REQUIRE(plan.ok(), plan.status().message());
  expectSteps(*plan, {{"test_counter", StepAction::kRerun, true, "completed"}});
  BOOST_TEST(plan->notes ==
                 std::vector<std::string>{
                     "migration test_counter: completed, and run again from its first document "
                     "(rerun)"},
             boost::test_tools::per_element());

  plan = planUp(p.catalog, {p.applied("test_counter", "failed")}, request);
  BOOST_TEST_REQUIRE(plan.ok(), plan.status().message());
  BOOST_TEST(plan->steps.size() == 1u);
  BOOST_TEST(stepActionName(plan->steps[0].action) == std::string("restart"));

  plan = planUp(p.catalog, {}, request);
  BOOST_TEST_REQUIRE(plan.ok(), plan.status().message());
  expectSteps(*plan, {{"test_counter", StepAction::kRun, false, "pending"}});
  BOOST_TEST(plan->notes.empty());
}

BOOST_AUTO_TEST_CASE(a_pending_migration_before_an_applied_one_is_out_of_order) {
  Project p({"counter", "marker"}, {"test_counter", "test_marker"});
  const std::vector<MigrationState> states{p.applied("test_marker", "completed")};
  auto plan = planUp(p.catalog, states, {});
  BOOST_TEST_REQUIRE(plan.ok(), plan.status().message());
  BOOST_TEST_REQUIRE(plan->blocked());
  BOOST_TEST(plan->blockedStatus().code() == Code::kDrift);
  BOOST_TEST(plan->blockedStatus().message() ==
             "migration test_counter is pending but comes before applied migration test_marker "
             "in " +
                 p.catalog.manifest.path +
                 " (move it after test_marker in the manifest; --allow-out-of-order runs it "
                 "anyway)");

  UpRequest request;
  request.drift.allow_out_of_order = true;
  plan = planUp(p.catalog, states, request);
  BOOST_TEST_REQUIRE(plan.ok(), plan.status().message());
  BOOST_TEST(!plan->blocked());
  BOOST_TEST(plan->notes.size() == 1u);
  expectSteps(*plan, {{"test_counter", StepAction::kRun, true, "pending"},
                      {"test_marker", StepAction::kSkip, false, "completed"}});
}

BOOST_AUTO_TEST_CASE(up_refuses_what_it_can_not_plan) {
  Project p({"counter"}, {"test_counter"});
  const std::string manifest = p.catalog.manifest.path;
  struct Case {
    UpRequest request;
    std::vector<MigrationState> states;
    std::string message;
  };
  UpRequest only, to, restart;
  only.only = "nope";
  to.to = "nope";
  restart.drift.restart = "nope";
  UpRequest restart_counter;
  restart_counter.drift.restart = "test_counter";
  UpRequest rerun_alone;
  rerun_alone.rerun = true;
  const std::vector<Case> cases{
      {only, {}, "graft up --only nope: no such migration in " + manifest},
      {rerun_alone, {}, "graft up --rerun: name the one migration to run again with --only ID"},
      {to, {}, "graft up --to nope: no such migration in " + manifest},
      {restart, {}, "graft up --restart nope: no such migration in " + manifest},
      {restart_counter,
       {},
       "graft up --restart test_counter: migration test_counter can not be restarted (state: "
       "pending); --restart runs a failed or canceled migration again from its first document "
       "(drop the flag)"},
      {restart_counter,
       {p.applied("test_counter", "completed")},
       "graft up --restart test_counter: migration test_counter can not be restarted (state: "
       "completed); --restart runs a failed or canceled migration again from its first document "
       "(drop the flag; graft up --only test_counter --rerun runs a completed one again)"},
      {{},
       {p.applied("test_counter", "canceled", 12, "down")},
       "migration test_counter is partly rolled back (down canceled at _id 12); run graft down "
       "again to finish it, then graft up"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.message) {
      auto plan = planUp(p.catalog, c.states, c.request);
      BOOST_TEST_REQUIRE(!plan.ok());
      BOOST_TEST(plan.status().code() == Code::kUsage);
      BOOST_TEST(plan.status().message() == c.message);
    }
  }
}

BOOST_AUTO_TEST_CASE(down_rolls_back_applied_migrations_newest_first) {
  // Two example migrations with down steps.
  const std::string plan_id = "20260101_000003_users_plan_from_ispro";
  const std::string split_id = "20260101_000005_users_split_profile";
  const std::string examples = GRAFT_EXAMPLE_PLUGIN_DIR;
  Project p({examples + "/" + plan_id + ".so", examples + "/" + split_id + ".so"},
            {plan_id, split_id});
  const std::vector<MigrationState> states{p.applied(plan_id, "completed"),
                                           p.applied(split_id, "canceled", 40, "down")};
  DownRequest request;
  request.steps = 5;
  auto plan = planDown(p.catalog, states, request);
  BOOST_TEST_REQUIRE(plan.ok(), plan.status().message());
  expectSteps(*plan, {{split_id, StepAction::kRollBack, false,
                       "rolling back: down canceled after 40 documents, cursor at _id 40"},
                      {plan_id, StepAction::kRollBack, false, "completed"}});

  request.steps = 1;
  plan = planDown(p.catalog, states, request);
  BOOST_TEST_REQUIRE(plan.ok(), plan.status().message());
  BOOST_TEST(plan->steps.size() == 1u);

  request = {};
  request.to = plan_id;
  plan = planDown(p.catalog, states, request);
  BOOST_TEST_REQUIRE(plan.ok(), plan.status().message());
  expectSteps(*plan, {{split_id, StepAction::kRollBack, false,
                       "rolling back: down canceled after 40 documents, cursor at _id 40"}});
}

BOOST_AUTO_TEST_CASE(down_refuses_what_it_can_not_plan) {
  Project p({"counter", "probe"}, {"test_counter", "test_probe"});
  const std::string manifest = p.catalog.manifest.path;
  DownRequest neither, both, to;
  both.steps = 1;
  both.to = "test_counter";
  to.to = "nope";
  for (const auto& [request, message] : std::vector<std::pair<DownRequest, std::string>>{
           {neither, "down needs exactly one of --steps N or --to ID"},
           {both, "down needs exactly one of --steps N or --to ID"},
           {to, "graft down --to nope: no such migration in " + manifest}}) {
    auto plan = planDown(p.catalog, {}, request);
    BOOST_TEST_REQUIRE(!plan.ok());
    BOOST_TEST(plan.status().code() == Code::kUsage);
    BOOST_TEST(plan.status().message() == message);
  }
  // test_probe has no down step: nothing rolls back, not even test_counter.
  DownRequest all;
  all.steps = 2;
  auto plan =
      planDown(p.catalog,
               {p.applied("test_counter", "completed"), p.applied("test_probe", "completed")}, all);
  BOOST_TEST_REQUIRE(!plan.ok());
  BOOST_TEST(plan.status().code() == Code::kUsage);
  BOOST_TEST(plan.status().message() ==
             "migration test_probe has no down step and can not be rolled back; nothing was "
             "changed (undo it with a new migration instead)");
}

// A run carries its plan out on a real store: test_counter (which carries a
// logic digest because graft_add_migration built it) over five items.
struct Gate {
  ScratchDir dir;
  std::string db = dir / "store.db";
  Catalog catalog;
  std::unique_ptr<Store> store;
  std::string path;  // of the counter plugin in the catalog

  explicit Gate(const std::string& plugin = "counter") {
    test::seedItems(db, 5);
    store = test::openStore(db);
    auto plugins = test::makePluginDir(dir, {testPlugin(plugin)}, {"test_counter"});
    auto loaded = loadCatalog(plugins, plugins + "/manifest.json");
    BOOST_REQUIRE_MESSAGE(loaded.ok(), loaded.status().message());
    catalog = std::move(loaded).value();
    path = catalog.plugins[0]->path();
  }
  void record(MigrationState s) {
    BOOST_REQUIRE(store->begin().ok());
    BOOST_REQUIRE(store->saveState(s).ok());
    BOOST_REQUIRE(store->commit().ok());
  }
  MigrationState recorded() {
    auto s = store->loadState("test_counter");
    BOOST_REQUIRE(s.ok() && s->has_value());
    return **s;
  }
  std::vector<RunRecord> runs() {
    auto r = store->loadRuns(10);
    BOOST_REQUIRE(r.ok());
    return *r;
  }
  Status up(const RunOptions& options, RunReport* report = nullptr) {
    RunReport ignored;
    return Runner(*store, catalog).up(options, report ? report : &ignored);
  }
};

BOOST_AUTO_TEST_CASE(graft_add_migration_embeds_a_logic_digest_and_a_plain_build_does_not) {
  Gate digested;
  const std::string digest = digested.catalog.plugins[0]->logicDigest();
  BOOST_TEST(digest.size() == std::string("v1:sha256:").size() + 64);
  BOOST_TEST(digest.rfind("v1:sha256:", 0) == 0u);
  BOOST_TEST(digest.find_first_not_of("0123456789abcdef", 10) == std::string::npos);
  // test_counter_copy: the same source under another id (target name), so
  // another digest. Inspected: its .id disagrees, so it does not load.
  auto copy = Plugin::inspect(testPlugin("counter_copy"), {});
  BOOST_TEST_REQUIRE(copy.ok(), copy.status().message());
  BOOST_TEST((*copy)->logicDigest().size() == digest.size());
  BOOST_TEST((*copy)->logicDigest() != digest);
  Gate plain("counter_undigested");
  BOOST_TEST(plain.catalog.plugins[0]->logicDigest() == "");
}

BOOST_AUTO_TEST_CASE(a_blocked_run_is_recorded_with_its_findings_and_runs_nothing) {
  Gate g;
  g.record(state("test_counter", "completed", kDigestA));
  RunOptions options;
  options.strict = true;
  options.command = "up --strict";
  options.dry_run = true;  // blocked too, but a dry run records nothing
  BOOST_TEST(g.up(options).code() == Code::kDrift);
  BOOST_TEST(g.runs().empty());
  options.dry_run = false;
  RunReport report;
  Status s = g.up(options, &report);
  const std::string now = g.catalog.plugins[0]->logicDigest().substr(0, 22);
  const std::string finding =
      "migration test_counter: logic changed since it was applied (completed): recorded "
      "v1:sha256:aaaaaaaaaaaa, now " +
      now + " in " + g.path +
      " (restore the source it was applied with and put the change in a new migration; "
      "--allow-drift runs anyway)";
  BOOST_TEST(s.code() == Code::kDrift);
  BOOST_TEST(s.message() == finding);
  BOOST_TEST(report.notes.empty());
  auto runs = g.runs();
  BOOST_TEST_REQUIRE(runs.size() == 1u);
  BOOST_TEST(runs[0].run_id == report.run_id);
  BOOST_TEST(runs[0].status == RunStatus::kDriftBlocked);
  BOOST_TEST(runs[0].command == "up --strict");
  BOOST_TEST(runs[0].error == finding);
  BOOST_TEST(g.recorded().status == StepStatus::kCompleted);
  auto lease = g.store->loadLease();
  BOOST_TEST_REQUIRE(lease.ok());
  BOOST_TEST(!lease->has_value());  // given back
}

BOOST_AUTO_TEST_CASE(non_blocking_findings_become_notes_and_are_recorded_with_the_run) {
  Gate g;
  const std::string digest = g.catalog.plugins[0]->logicDigest();
  g.record(state("test_counter", "completed", digest));
  RunReport report;
  BOOST_TEST_REQUIRE(g.up({}, &report).ok());
  const std::string rebuilt =
      "migration test_counter: plugin rebuilt since it was applied: file sha256 recorded "
      "111111111111, now " +
      g.catalog.plugins[0]->fileSha256().substr(0, 12) + " in " + g.path + ", same logic " +
      digest.substr(0, 22) + " (nothing to do; --strict refuses this)";
  BOOST_TEST_REQUIRE(report.notes.size() == 1u);
  BOOST_TEST(report.notes[0] == rebuilt);
  BOOST_TEST(report.status == RunStatus::kNoop);
  auto runs = g.runs();
  BOOST_TEST_REQUIRE(runs.size() == 1u);
  BOOST_TEST(runs[0].status == RunStatus::kNoop);
  BOOST_TEST(runs[0].error == "note: " + rebuilt);
}

BOOST_AUTO_TEST_CASE(restart_runs_a_partly_run_migration_again_from_its_first_document) {
  Gate g;
  MigrationState partly = state("test_counter", "failed", kDigestA, 30);
  partly.error = "boom";
  partly.error_doc_id = 31;
  partly.changed = 12;
  partly.started_at = "2026-01-01T00:00:00.000Z";
  g.record(partly);

  // Without restart it would resume; under strict, its changed logic blocks.
  RunOptions options;
  options.strict = true;
  BOOST_TEST(g.up(options).code() == Code::kDrift);
  BOOST_TEST(g.recorded().cursor == 30);

  options.strict = false;
  options.restart = "test_counter";
  options.dry_run = true;  // writes nothing, not even the reset
  BOOST_TEST_REQUIRE(g.up(options).ok());
  BOOST_TEST(g.recorded().cursor == 30);
  BOOST_TEST(g.recorded().error == "boom");

  options.dry_run = false;
  RunReport report;
  BOOST_TEST_REQUIRE(g.up(options, &report).ok());
  BOOST_TEST_REQUIRE(report.notes.size() == 1u);
  BOOST_TEST(report.notes[0].find("(restarting it from the first document, as --restart "
                                  "test_counter asks)") != std::string::npos);
  // Its five items, counted from nothing: the 30 done before are forgotten.
  const MigrationState done = g.recorded();
  BOOST_TEST(done.status == StepStatus::kCompleted);
  BOOST_TEST(done.processed == 5);
  BOOST_TEST(done.changed == 5);
  BOOST_TEST(done.cursor == 5);
  BOOST_TEST(done.error == "");
  BOOST_TEST(!done.error_doc_id.has_value());
  BOOST_TEST(done.started_at != "2026-01-01T00:00:00.000Z");
}

BOOST_AUTO_TEST_CASE(restart_does_not_reset_a_migration_under_a_live_run) {
  Gate g;
  g.record(state("test_counter", "canceled", kDigestA, 40));
  Lease live{"r-live", hostName(), static_cast<int64_t>(getpid()), "2026-01-01T00:00:00.000Z",
             nowMs(),  false};
  BOOST_TEST_REQUIRE(g.store->saveLease(live).ok());
  RunOptions options;
  options.restart = "test_counter";
  Status s = g.up(options);
  BOOST_TEST(s.code() == Code::kBusy);
  BOOST_TEST(s.message() == "already running (pid " + std::to_string(getpid()) + " on host " +
                                hostName() +
                                " since 2026-01-01T00:00:00.000Z, run r-live); wait for it, or "
                                "stop it with graft cancel");
  BOOST_TEST(g.recorded().cursor == 40);
  BOOST_TEST(g.runs().empty());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
