// Tests for host/plan/drift.cpp: which differences between the applied history
// and the plugins block a run, with every message verbatim; and the gate
// Host::up puts before the runner, on a real store with real plugins.
#include "plan/drift.h"

#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "harness.h"
#include "run/lease.h"
#include "store/sqlite_store.h"

namespace graft {
namespace {

using test::ScratchDir;
using test::testPlugin;

const std::string kDigestA = "v1:sha256:" + std::string(64, 'a');
const std::string kDigestB = "v1:sha256:" + std::string(64, 'b');
const std::string kSum1 = std::string(64, '1');
const std::string kSum2 = std::string(64, '2');
const std::string kManifest = "p/manifest.json";

Fingerprint plugin(const std::string& id, const std::string& digest, const std::string& sum) {
  return {id, "/p/" + id + ".so", digest, sum};
}

MigrationState state(const std::string& id, const std::string& status, const std::string& digest,
                     const std::string& sum, int64_t processed = 100,
                     const std::string& direction = "up") {
  MigrationState s;
  s.id = id;
  s.status = status;
  s.logic_digest = digest;
  s.checksum = sum;
  s.processed = processed;
  s.cursor = processed;
  s.direction = direction;
  return s;
}

// An applied state whose up pass began at `started_at`.
MigrationState began(const std::string& id, const std::string& started_at,
                     bool out_of_order = false) {
  MigrationState s = state(id, "completed", kDigestA, kSum1);
  s.started_at = started_at;
  s.out_of_order = out_of_order;
  return s;
}

struct Expected {
  std::string id;
  DriftKind kind;
  bool blocks;
  std::string message;
};

struct Case {
  const char* name;
  std::vector<Fingerprint> catalog;
  std::vector<MigrationState> states;
  DriftOptions options;
  std::vector<Expected> findings;
};

DriftOptions strict() {
  DriftOptions o;
  o.strict = true;
  return o;
}
DriftOptions allowDrift() {
  DriftOptions o;
  o.allow_drift = true;
  return o;
}
DriftOptions allowOutOfOrder() {
  DriftOptions o;
  o.allow_out_of_order = true;
  return o;
}
DriftOptions restart(const std::string& id) {
  DriftOptions o;
  o.restart = id;
  return o;
}

const std::string kChangedCompleted =
    "migration a: logic changed since it was applied (completed): recorded "
    "v1:sha256:aaaaaaaaaaaa, now v1:sha256:bbbbbbbbbbbb in /p/a.so";
const std::string kChangedPartly =
    "migration a: logic changed since it partly ran (failed after 30 documents, cursor at _id 30): "
    "recorded v1:sha256:aaaaaaaaaaaa, now v1:sha256:bbbbbbbbbbbb in /p/a.so";
const std::string kResumed =
    "; resuming it from its cursor with the new code (the documents before the cursor keep what "
    "the old code did; graft up --restart a runs it again from the first document)";
const std::string kRebuilt =
    "migration a: plugin rebuilt since it was applied: file sha256 recorded 111111111111, now "
    "222222222222 in /p/a.so, same logic v1:sha256:aaaaaaaaaaaa";
const std::string kNoDigest =
    "migration a: plugin /p/a.so has no logic digest (built without graft_add_migration, or with "
    "an SDK older than ABI 1.1)";

std::vector<Case> cases() {
  return {
      {"nothing applied yet",
       {plugin("a", kDigestA, kSum1), plugin("b", kDigestA, kSum1)},
       {},
       {},
       {}},
      {"applied and unchanged",
       {plugin("a", kDigestA, kSum1)},
       {state("a", "completed", kDigestA, kSum1)},
       strict(),
       {}},
      {"logic changed after completion",
       {plugin("a", kDigestB, kSum2)},
       {state("a", "completed", kDigestA, kSum1)},
       {},
       {{"a", DriftKind::kDrifted, true,
         kChangedCompleted + " (restore the source it was applied with and put the change in a "
                             "new migration; --allow-drift runs anyway)"}}},
      {"logic changed, --allow-drift",
       {plugin("a", kDigestB, kSum2)},
       {state("a", "completed", kDigestA, kSum1)},
       allowDrift(),
       {{"a", DriftKind::kDrifted, false, kChangedCompleted + " (let through by --allow-drift)"}}},
      {"only the file changed: rebuilt",
       {plugin("a", kDigestA, kSum2)},
       {state("a", "completed", kDigestA, kSum1)},
       {},
       {{"a", DriftKind::kRebuilt, false, kRebuilt + " (nothing to do; --strict refuses this)"}}},
      {"rebuilt, --strict",
       {plugin("a", kDigestA, kSum2)},
       {state("a", "completed", kDigestA, kSum1)},
       strict(),
       {{"a", DriftKind::kRebuilt, true,
         kRebuilt + " (restore the plugin file it was applied with, or run without --strict)"}}},
      // Fix the plugin, run it again: the way on after a failure.
      {"logic changed after a partial run: resumed with the new code",
       {plugin("a", kDigestB, kSum2)},
       {state("a", "failed", kDigestA, kSum1, 30)},
       {},
       {{"a", DriftKind::kDrifted, false, kChangedPartly + kResumed}}},
      {"partial run, --allow-drift",
       {plugin("a", kDigestB, kSum2)},
       {state("a", "failed", kDigestA, kSum1, 30)},
       allowDrift(),
       {{"a", DriftKind::kDrifted, false, kChangedPartly + kResumed}}},
      {"partial run, --strict refuses to resume it with changed code",
       {plugin("a", kDigestB, kSum2)},
       {state("a", "failed", kDigestA, kSum1, 30)},
       strict(),
       {{"a", DriftKind::kDrifted, true,
         kChangedPartly + "; --strict refuses to resume it with changed code (run without "
                          "--strict, or with --allow-drift, to resume it from its cursor; graft up "
                          "--restart a runs it again from the first document)"}}},
      {"partial run, --restart",
       {plugin("a", kDigestB, kSum2)},
       {state("a", "failed", kDigestA, kSum1, 30)},
       restart("a"),
       {{"a", DriftKind::kDrifted, false,
         kChangedPartly + " (restarting it from the first document, as --restart a asks)"}}},
      {"canceled and running runs are partial runs too",
       {plugin("a", kDigestB, kSum2), plugin("b", kDigestB, kSum2)},
       {state("a", "canceled", kDigestA, kSum1, 5), state("b", "running", kDigestA, kSum1, 7)},
       restart("a"),
       {{"a", DriftKind::kDrifted, false,
         "migration a: logic changed since it partly ran (canceled after 5 documents, cursor at _id 5): "
         "recorded v1:sha256:aaaaaaaaaaaa, now v1:sha256:bbbbbbbbbbbb in /p/a.so (restarting it "
         "from the first document, as --restart a asks)"},
        {"b", DriftKind::kDrifted, false,
         "migration b: logic changed since it partly ran (running after 7 documents, cursor at "
         "_id 7): recorded v1:sha256:aaaaaaaaaaaa, now v1:sha256:bbbbbbbbbbbb in /p/b.so; resuming "
         "it from its cursor with the new code (the documents before the cursor keep what the old "
         "code did; graft up --restart b runs it again from the first document)"}}},
      {"failed before its first batch: nothing applied, nothing drifted",
       {plugin("a", kDigestB, kSum2)},
       {state("a", "failed", kDigestA, kSum1, 0)},
       strict(),
       {}},
      {"rolled back: pending again",
       {plugin("a", kDigestB, kSum2)},
       {state("a", "rolled_back", kDigestA, kSum1, 100, "down")},
       strict(),
       {}},
      {"in the middle of a rollback",
       {plugin("a", kDigestB, kSum2)},
       {state("a", "failed", kDigestA, kSum1, 0, "down")},
       {},
       {{"a", DriftKind::kDrifted, true,
         "migration a: logic changed since it was applied (rolling back: down failed after 0 "
         "documents, cursor at _id 0): recorded v1:sha256:aaaaaaaaaaaa, now v1:sha256:bbbbbbbbbbbb in "
         "/p/a.so (restore the source it was applied with and put the change in a new migration; "
         "--allow-drift runs anyway)"}}},
      {"applied, then gone from the manifest",
       {plugin("b", kDigestA, kSum1)},
       {state("a", "completed", kDigestA, kSum1), state("b", "completed", kDigestA, kSum1),
        state("c", "failed", kDigestA, kSum1, 0)},
       {},
       {{"a", DriftKind::kMissing, true,
         "migration a: applied (completed, logic v1:sha256:aaaaaaaaaaaa) but no longer in "
         "p/manifest.json, and no plugin has its id (restore its plugin and its manifest entry; "
         "--allow-drift runs anyway)"}}},
      {"gone, --allow-drift",
       {},
       {state("a", "canceled", "", kSum1, 3)},
       allowDrift(),
       {{"a", DriftKind::kMissing, false,
         "migration a: applied (canceled after 3 documents, cursor at _id 3, logic none) but no longer in "
         "p/manifest.json, and no plugin has its id (let through by --allow-drift)"}}},
      {"a pending plugin without a logic digest",
       {plugin("a", "", kSum1)},
       {},
       {},
       {{"a", DriftKind::kUnverifiable, false,
         kNoDigest + ", so graft can not tell a change to its logic from a rebuild (build it with "
                     "graft_add_migration; --strict refuses this)"}}},
      {"an applied plugin that lost its logic digest, --strict",
       {plugin("a", "", kSum2)},
       {state("a", "completed", kDigestA, kSum1)},
       strict(),
       {{"a", DriftKind::kUnverifiable, true,
         kNoDigest +
             "; logic recorded v1:sha256:aaaaaaaaaaaa, now none; file sha256 recorded "
             "111111111111, now 222222222222, so graft can not tell a change to its logic "
             "from a rebuild (build it with graft_add_migration, or run without --strict)"}}},
      {"applied without a digest, unchanged file",
       {plugin("a", kDigestA, kSum1)},
       {state("a", "completed", "", kSum1)},
       strict(),
       {}},
      {"applied without a digest, changed file",
       {plugin("a", kDigestA, kSum2)},
       {state("a", "completed", "", kSum1)},
       {},
       {{"a", DriftKind::kUnverifiable, false,
         "migration a: applied (completed) by a plugin without a logic digest, and its file "
         "changed since: sha256 recorded 111111111111, now 222222222222 in /p/a.so, so graft can "
         "not tell whether its logic changed (compare the source with the one it was applied "
         "with; --strict refuses this)"}}},
      {"pending before applied: out of order",
       {plugin("a", kDigestA, kSum1), plugin("b", kDigestA, kSum1), plugin("c", kDigestA, kSum1),
        plugin("d", kDigestA, kSum1), plugin("e", kDigestA, kSum1)},
       {state("b", "completed", kDigestA, kSum1), state("c", "failed", kDigestA, kSum1, 0),
        state("d", "completed", kDigestA, kSum1)},
       {},
       {{"a", DriftKind::kOutOfOrder, true,
         "migration a is pending but comes before applied migration d in p/manifest.json (move "
         "it after d in the manifest; --allow-out-of-order runs it anyway)"},
        {"c", DriftKind::kOutOfOrder, true,
         "migration c is pending but comes before applied migration d in p/manifest.json (move "
         "it after d in the manifest; --allow-out-of-order runs it anyway)"}}},
      {"out of order, --allow-out-of-order",
       {plugin("a", kDigestA, kSum1), plugin("b", kDigestA, kSum1)},
       {state("b", "completed", kDigestA, kSum1)},
       allowOutOfOrder(),
       {{"a", DriftKind::kOutOfOrder, false,
         "migration a is pending but comes before applied migration b in p/manifest.json (let "
         "through by --allow-out-of-order)"}}},
      // Without graft.sum, the history says which came first.
      {"applied in one order, listed in another: reordered",
       {plugin("a", kDigestA, kSum1), plugin("b", kDigestA, kSum1), plugin("c", kDigestA, kSum1)},
       {began("a", "2026-01-01T00:00:03.000Z"), began("b", "2026-01-01T00:00:01.000Z"),
        began("c", "2026-01-01T00:00:02.000Z")},
       {},
       {{"a", DriftKind::kReordered, true,
         "migration a comes before b in p/manifest.json but was applied after it (it began at "
         "2026-01-01T00:00:03.000Z, b at 2026-01-01T00:00:01.000Z): the order of applied "
         "migrations changed, and a new store would run them in another order than this one did "
         "(restore their order in the manifest; --allow-drift runs anyway)"}}},
      {"reordered, --allow-drift",
       {plugin("a", kDigestA, kSum1), plugin("b", kDigestA, kSum1)},
       {began("a", "2026-01-01T00:00:02.000Z"), began("b", "2026-01-01T00:00:01.000Z")},
       allowDrift(),
       {{"a", DriftKind::kReordered, false,
         "migration a comes before b in p/manifest.json but was applied after it (it began at "
         "2026-01-01T00:00:02.000Z, b at 2026-01-01T00:00:01.000Z): the order of applied "
         "migrations changed, and a new store would run them in another order than this one did "
         "(let through by --allow-drift)"}}},
      {"applied out of order on purpose, and begun at the same instant: no reorder",
       {plugin("a", kDigestA, kSum1), plugin("b", kDigestA, kSum1), plugin("c", kDigestA, kSum1)},
       {began("a", "2026-01-01T00:00:02.000Z", true), began("b", "2026-01-01T00:00:01.000Z"),
        began("c", "2026-01-01T00:00:01.000Z")},
       strict(),
       {}},
      {"every finding at once, in manifest order, then the missing ones",
       {plugin("x", "", kSum1), plugin("a", kDigestA, kSum2), plugin("y", kDigestA, kSum1)},
       {state("z", "completed", kDigestA, kSum1), state("a", "completed", kDigestA, kSum1),
        state("y", "completed", kDigestB, kSum1)},
       {},
       {{"x", DriftKind::kUnverifiable, false,
         "migration x: plugin /p/x.so has no logic digest (built without graft_add_migration, or "
         "with an SDK older than ABI 1.1), so graft can not tell a change to its logic from a "
         "rebuild (build it with graft_add_migration; --strict refuses this)"},
        {"x", DriftKind::kOutOfOrder, true,
         "migration x is pending but comes before applied migration y in p/manifest.json (move "
         "it after y in the manifest; --allow-out-of-order runs it anyway)"},
        {"a", DriftKind::kRebuilt, false, kRebuilt + " (nothing to do; --strict refuses this)"},
        {"y", DriftKind::kDrifted, true,
         "migration y: logic changed since it was applied (completed): recorded "
         "v1:sha256:bbbbbbbbbbbb, now v1:sha256:aaaaaaaaaaaa in /p/y.so (restore the source it "
         "was applied with and put the change in a new migration; --allow-drift runs anyway)"},
        {"z", DriftKind::kMissing, true,
         "migration z: applied (completed, logic v1:sha256:aaaaaaaaaaaa) but no longer in "
         "p/manifest.json, and no plugin has its id (restore its plugin and its manifest entry; "
         "--allow-drift runs anyway)"}}},
  };
}

BOOST_AUTO_TEST_SUITE(drift)

BOOST_AUTO_TEST_CASE(findings_say_what_differs_and_whether_it_blocks) {
  for (const Case& c : cases()) {
    BOOST_TEST_CONTEXT(c.name) {
      const DriftReport report = checkDrift(kManifest, c.catalog, c.states, c.options);
      BOOST_TEST_REQUIRE(report.findings.size() == c.findings.size());
      bool blocks = false;
      for (size_t i = 0; i < c.findings.size(); ++i) {
        const DriftFinding& got = report.findings[i];
        const Expected& want = c.findings[i];
        BOOST_TEST(got.id == want.id);
        BOOST_TEST(std::string(driftKindName(got.kind)) == driftKindName(want.kind));
        BOOST_TEST(got.blocks == want.blocks);
        BOOST_TEST(got.message == want.message);
        blocks = blocks || want.blocks;
      }
      BOOST_TEST(report.blocked() == blocks);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_migration_shows_its_blocking_finding_first) {
  const DriftReport report =
      checkDrift(kManifest, {plugin("x", "", kSum1), plugin("y", kDigestA, kSum1)},
                 {state("y", "completed", kDigestA, kSum1)}, {});
  const DriftFinding* x = report.forMigration("x");
  BOOST_TEST_REQUIRE(x != nullptr);
  BOOST_TEST(driftKindName(x->kind) == std::string("out of order"));
  BOOST_TEST(report.forMigration("y") == nullptr);
}

BOOST_AUTO_TEST_CASE(drift_flags_as_the_command_line_spells_them) {
  RunOptions options;
  BOOST_TEST(driftFlags(options) == "");
  options.strict = options.allow_drift = options.allow_out_of_order = true;
  options.restart = "a";
  BOOST_TEST(driftFlags(options) == " --strict --allow-drift --allow-out-of-order --restart a");
}

// The gate on a real store, with test_counter (which carries a logic digest
// because graft_add_migration built it) and the same source built without it.
struct Gate {
  ScratchDir dir;
  std::string db = dir / "store.db";
  Catalog catalog;
  std::unique_ptr<SqliteStore> store = test::openStore(db);
  std::string path;  // of the counter plugin in the catalog

  explicit Gate(const std::string& plugin = "counter") {
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

BOOST_AUTO_TEST_CASE(a_blocked_run_is_recorded_with_its_findings) {
  Gate g;
  g.record(state("test_counter", "completed", kDigestA, kSum1));
  RunOptions options;
  options.strict = true;
  options.command = "up --strict";
  std::vector<std::string> notes;
  options.dry_run = true;  // blocked too, but a dry run records nothing
  BOOST_TEST(gateRun(*g.store, g.catalog, options, &notes).code() == Code::kDrift);
  BOOST_TEST(g.runs().empty());
  options.dry_run = false;
  Status s = gateRun(*g.store, g.catalog, options, &notes);
  const std::string now = g.catalog.plugins[0]->logicDigest().substr(0, 22);
  const std::string finding =
      "migration test_counter: logic changed since it was applied (completed): recorded "
      "v1:sha256:aaaaaaaaaaaa, now " +
      now + " in " + g.path +
      " (restore the source it was applied with and put the change in a new migration; "
      "--allow-drift runs anyway)";
  BOOST_TEST(s.code() == Code::kDrift);
  BOOST_TEST(s.message() == finding);
  BOOST_TEST(notes.empty());
  auto runs = g.runs();
  BOOST_TEST_REQUIRE(runs.size() == 1u);
  BOOST_TEST(runs[0].status == "drift_blocked");
  BOOST_TEST(runs[0].command == "up --strict");
  BOOST_TEST(runs[0].error == finding);
  BOOST_TEST(g.recorded().status == "completed");
}

BOOST_AUTO_TEST_CASE(non_blocking_findings_become_notes_and_are_recorded_with_the_run) {
  Gate g;
  const std::string digest = g.catalog.plugins[0]->logicDigest();
  g.record(state("test_counter", "completed", digest, kSum1));
  std::vector<std::string> notes;
  BOOST_TEST_REQUIRE(gateRun(*g.store, g.catalog, RunOptions{}, &notes).ok());
  const std::string rebuilt =
      "migration test_counter: plugin rebuilt since it was applied: file sha256 recorded "
      "111111111111, now " +
      g.catalog.plugins[0]->sha256().substr(0, 12) + " in " + g.path + ", same logic " +
      digest.substr(0, 22) + " (nothing to do; --strict refuses this)";
  BOOST_TEST_REQUIRE(notes.size() == 1u);
  BOOST_TEST(notes[0] == rebuilt);
  BOOST_TEST(g.runs().empty());

  RunRecord run;
  run.run_id = "r1";
  run.status = "noop";
  run.command = "up";
  run.started_at = "2026-01-01T00:00:00.000Z";
  BOOST_TEST_REQUIRE(g.store->saveRun(run).ok());
  BOOST_TEST_REQUIRE(recordNotes(*g.store, "r1", notes).ok());
  BOOST_TEST_REQUIRE(recordNotes(*g.store, "no such run", notes).ok());
  auto runs = g.runs();
  BOOST_TEST_REQUIRE(runs.size() == 1u);
  BOOST_TEST(runs[0].error == "note: " + rebuilt);
}

BOOST_AUTO_TEST_CASE(restart_resets_a_partly_run_migration_to_its_first_document) {
  Gate g;
  MigrationState partly = state("test_counter", "failed", kDigestA, kSum1, 30);
  partly.error = "boom";
  partly.error_doc_id = 31;
  partly.changed = 12;
  partly.started_at = "2026-01-01T00:00:00.000Z";
  g.record(partly);

  // Without --restart it would resume (under --strict: be refused), and
  // the gate leaves the cursor where it is.
  RunOptions options;
  options.strict = true;
  std::vector<std::string> notes;
  Status s = gateRun(*g.store, g.catalog, options, &notes);
  BOOST_TEST(s.code() == Code::kDrift);
  BOOST_TEST(g.recorded().cursor == 30);
  options.strict = false;
  BOOST_TEST_REQUIRE(gateRun(*g.store, g.catalog, options, &notes).ok());
  BOOST_TEST(g.recorded().cursor == 30);

  notes.clear();
  options.restart = "test_counter";
  options.dry_run = true;  // writes nothing, not even the reset
  BOOST_TEST_REQUIRE(gateRun(*g.store, g.catalog, options, &notes).ok());
  BOOST_TEST(g.recorded().cursor == 30);

  options.dry_run = false;
  notes.clear();
  BOOST_TEST_REQUIRE(gateRun(*g.store, g.catalog, options, &notes).ok());
  BOOST_TEST_REQUIRE(notes.size() == 1u);
  BOOST_TEST(notes[0].find("(restarting it from the first document, as --restart test_counter "
                           "asks)") != std::string::npos);
  const MigrationState reset = g.recorded();
  BOOST_TEST(reset.status == "pending");
  BOOST_TEST(reset.cursor == 0);
  BOOST_TEST(reset.processed == 0);
  BOOST_TEST(reset.changed == 0);
  BOOST_TEST(reset.error == "");
  BOOST_TEST(!reset.error_doc_id.has_value());
  BOOST_TEST(reset.started_at == "");
}

BOOST_AUTO_TEST_CASE(restart_does_not_reset_a_migration_under_a_live_run) {
  Gate g;
  g.record(state("test_counter", "canceled", kDigestA, kSum1, 40));
  Lease live{"r-live", hostName(), static_cast<int64_t>(getpid()), "2026-01-01T00:00:00.000Z",
             nowMs(),  false};
  BOOST_TEST_REQUIRE(g.store->saveLease(live).ok());
  RunOptions options;
  options.restart = "test_counter";
  std::vector<std::string> notes;
  Status s = gateRun(*g.store, g.catalog, options, &notes);
  BOOST_TEST(s.code() == Code::kBusy);
  BOOST_TEST(s.message() == "graft up --restart test_counter: already running (pid " +
                                std::to_string(getpid()) + " on host " + hostName() +
                                " since 2026-01-01T00:00:00.000Z, run r-live); wait for it, or "
                                "stop it with graft cancel");
  BOOST_TEST(g.recorded().cursor == 40);
}

BOOST_AUTO_TEST_CASE(restart_refuses_what_it_can_not_restart) {
  Gate g;
  RunOptions options;
  std::vector<std::string> notes;
  options.restart = "nope";
  Status s = gateRun(*g.store, g.catalog, options, &notes);
  BOOST_TEST(s.code() == Code::kUsage);
  BOOST_TEST(s.message() ==
             "graft up --restart nope: no such migration in " + g.catalog.manifest.path);
  options.restart = "test_counter";
  s = gateRun(*g.store, g.catalog, options, &notes);
  BOOST_TEST(s.code() == Code::kUsage);
  BOOST_TEST(s.message() ==
             "graft up --restart test_counter: migration test_counter can not be restarted "
             "(state: pending); --restart runs a failed or canceled migration again from its "
             "first document (drop the flag)");
  g.record(state("test_counter", "completed", g.catalog.plugins[0]->logicDigest(), kSum1));
  s = gateRun(*g.store, g.catalog, options, &notes);
  BOOST_TEST(s.code() == Code::kUsage);
  BOOST_TEST(s.message() ==
             "graft up --restart test_counter: migration test_counter can not be restarted "
             "(state: completed); --restart runs a failed or canceled migration again from its "
             "first document (drop the flag)");
  BOOST_TEST(g.runs().empty());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
