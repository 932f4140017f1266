// Tests for host/plan/drift.cpp: which differences between the applied history
// and the plugins block a run, with every message verbatim. What a run does
// with them is in plan_test.cpp.
#include "plan/drift.h"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "store/store.h"

namespace graft {
namespace {

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
  s.status = parseStepStatus(status).value();
  s.logic_digest = digest;
  s.file_sha256 = sum;
  s.processed = processed;
  s.cursor = processed;
  s.direction = parseDirection(direction).value();
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
  DriftOptions options;
  BOOST_TEST(driftFlags(options) == "");
  options.strict = options.allow_drift = options.allow_out_of_order = true;
  options.restart = "a";
  BOOST_TEST(driftFlags(options) == " --strict --allow-drift --allow-out-of-order --restart a");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
