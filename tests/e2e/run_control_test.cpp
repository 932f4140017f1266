// Run control as operators meet it, with the real binary: one run per store,
// stale leases taken over, graft cancel, dry runs that keep nothing, and
// down steps that undo up.
#include <boost/test/unit_test.hpp>

#include <algorithm>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include "harness.h"

namespace graft {
namespace {

using test::Outcome;
using test::runGraft;
using test::ScratchDir;
using test::testPlugin;


// Waits until the migration has committed at least one batch.
void waitForProgress(const std::string& db) { BOOST_REQUIRE(test::waitForProcessedBeyond(db, 0)); }

std::string itemsWithCountOtherThan(const std::string& db, int n) {
  return test::sqlValue(db, "SELECT count(*) FROM items WHERE json_extract(body, '$.n') != " +
                                std::to_string(n));
}

BOOST_AUTO_TEST_SUITE(run_control)

BOOST_AUTO_TEST_CASE(a_second_up_is_refused_while_one_runs) {
  ScratchDir dir;
  test::makePluginDir(dir, {testPlugin("counter")}, {"test_counter"});
  // Long enough that the first run is still going when the second starts.
  test::seedItems(dir / "store.db", 400000);
  pid_t first = test::startGraft(test::graftArgs(dir, {"up", "-q", "--batch-size", "20"}), dir / "out1", dir / "err1");
  waitForProgress(dir / "store.db");
  Outcome second = runGraft(test::graftArgs(dir, {"up", "-q"}));
  BOOST_TEST(second.exit_code == 7);
  const std::string started = test::sqlValue(dir / "store.db", "SELECT started_at FROM graft_lease");
  const std::string run = test::sqlValue(dir / "store.db", "SELECT run_id FROM graft_lease");
  BOOST_TEST(second.err == "graft: already running (pid " + std::to_string(first) + " on host " +
                               test::sqlValue(dir / "store.db", "SELECT host FROM graft_lease") +
                               " since " + started + ", run " + run +
                               "); wait for it, or stop it with graft cancel\n");
  // Another terminal sees who holds the store and how far it got.
  Outcome status = runGraft(test::graftArgs(dir, {"status"}));
  BOOST_TEST(status.exit_code == 0, status.err);
  const std::string active = "\nactive run " + run + ": pid " + std::to_string(first) + " on host ";
  BOOST_TEST(status.out.find(active) != std::string::npos, status.out);
  BOOST_TEST(status.out.find("\n  test_counter up: ") != std::string::npos, status.out);
  Outcome done = test::waitGraft(first, dir / "out1", dir / "err1");
  BOOST_TEST(done.exit_code == 0, done.err);
  BOOST_TEST(runGraft(test::graftArgs(dir, {"status"})).out.find("active run") == std::string::npos);
  BOOST_TEST(itemsWithCountOtherThan(dir / "store.db", 1) == "0",
             "n by count: " << test::sqlValue(dir / "store.db",
                                              "SELECT group_concat(n || ':' || c) FROM (SELECT "
                                              "json_extract(body, '$.n') AS n, count(*) AS c FROM "
                                              "items GROUP BY 1)")
                            << "; runs: "
                            << test::sqlValue(dir / "store.db",
                                              "SELECT group_concat(run_id || ' ' || status || ' ' "
                                              "|| pid || ' ' || processed, '; ') FROM migration_run")
                            << "; second: " << second.out << second.err);
  // The lease is given back at the end.
  BOOST_TEST(test::sqlValue(dir / "store.db", "SELECT count(*) FROM graft_lease") == "0");
}

BOOST_AUTO_TEST_CASE(the_lease_of_a_killed_run_is_taken_over) {
  ScratchDir dir;
  test::makePluginDir(dir, {testPlugin("counter")}, {"test_counter"});
  test::seedItems(dir / "store.db", 100000);
  std::filesystem::create_directory(dir / "tmp");
  const std::string tmp = "TMPDIR=" + dir / "tmp";
  pid_t victim = test::startGraft(test::graftArgs(dir, {"up", "-q", "--batch-size", "100"}),
                                  dir / "out", dir / "err", {tmp});
  waitForProgress(dir / "store.db");
  kill(victim, SIGKILL);
  test::waitGraft(victim, dir / "out", dir / "err");
  const std::string db = dir / "store.db";
  const std::string run = test::sqlValue(db, "SELECT run_id FROM graft_lease");
  BOOST_REQUIRE(!run.empty());
  const std::string cursor = test::sqlValue(db, "SELECT cursor FROM migration_state");
  // Paced, so that the takeover is seen while the run goes on: it is said
  // when it happens, not at the end.
  pid_t next = test::startGraft(test::graftArgs(dir, {"up", "-q", "--batch-size", "100",
                                                       "--pause-ms", "5"}),
                                dir / "out2", dir / "err2", {tmp});
  bool said_while_running = false;
  for (int i = 0; i < 1000 && !said_while_running; ++i) {
    said_while_running = test::readBytes(dir / "err2").find("graft: note: took over") == 0 &&
                         test::sqlValue(db, "SELECT count(*) FROM graft_lease") == "1";
    if (!said_while_running) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  BOOST_TEST(said_while_running);
  Outcome o = test::waitGraft(next, dir / "out2", dir / "err2");
  BOOST_TEST(o.exit_code == 0, o.err);
  const std::string prefix = "graft: note: took over the lease of run " + run + " (pid " +
                             std::to_string(victim) + " on host ";
  BOOST_TEST(o.err.rfind(prefix, 0) == 0, o.err);
  BOOST_TEST(o.err.find("): that process is gone; its run is recorded abandoned, and migration "
                        "test_counter failed at its cursor, _id " + cursor + "\n") !=
                 std::string::npos,
             o.err);
  BOOST_TEST(std::count(o.err.begin(), o.err.end(), '\n') == 1, o.err);
  // The killed run is closed: abandoned, with when and by whom it was found.
  const std::string next_run = test::sqlValue(
      db, "SELECT run_id FROM migration_run WHERE run_id != '" + run + "' AND status = 'completed'");
  BOOST_TEST(test::sqlValue(db, "SELECT status FROM migration_run WHERE run_id = '" + run + "'") ==
             "abandoned");
  BOOST_TEST(test::sqlValue(db, "SELECT ended_at IS NOT NULL FROM migration_run WHERE run_id = '" +
                                    run + "'") == "1");
  const std::string error =
      test::sqlValue(db, "SELECT error FROM migration_run WHERE run_id = '" + run + "'");
  BOOST_TEST(error.rfind("abandoned: that process is gone; found by run " + next_run + " (pid ", 0) ==
                 0,
             error);
  BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM migration_run WHERE status = 'running'") ==
             "0");
  BOOST_TEST(itemsWithCountOtherThan(db, 1) == "0");
  // The killed run's worker could not remove its private copies of the
  // plugins, nor could its supervisor: the next run did.
  BOOST_TEST(test::listDir(dir / "tmp").empty());
}

// status --watch in another terminal follows the run to its end.
BOOST_AUTO_TEST_CASE(status_watch_follows_a_run_until_it_ends) {
  ScratchDir dir;
  test::makePluginDir(dir, {testPlugin("counter")}, {"test_counter"});
  const int n = 100000;
  test::seedItems(dir / "store.db", n);
  Outcome idle = runGraft(test::graftArgs(dir, {"status", "--watch"}));
  BOOST_TEST(idle.exit_code == 0, idle.err);
  BOOST_TEST(idle.out == "no run is active\n");
  pid_t runner = test::startGraft(
      test::graftArgs(dir, {"up", "-q", "--batch-size", "100", "--pause-ms", "2"}), dir / "out",
      dir / "err");
  waitForProgress(dir / "store.db");
  Outcome watch = runGraft(test::graftArgs(dir, {"status", "--watch", "--interval", "0.1"}));
  Outcome up = test::waitGraft(runner, dir / "out", dir / "err");
  BOOST_TEST(up.exit_code == 0, up.err);
  BOOST_TEST(watch.exit_code == 0, watch.err);
  BOOST_TEST(watch.out.find("following run ") == 0u, watch.out);
  // Progress lines while it runs, against the documents there were to do,
  // with a rate and an ETA from the second poll on...
  BOOST_TEST(watch.out.find("\n  test_counter up: ") != std::string::npos, watch.out);
  BOOST_TEST(watch.out.find(" of 100000 documents (") != std::string::npos, watch.out);
  BOOST_TEST(watch.out.find(" docs/s, ETA ") != std::string::npos, watch.out);
  BOOST_TEST(watch.out.find(" s, at _id ") != std::string::npos, watch.out);
  // ...and how it ended, from the run history.
  const std::string run_id =
      test::sqlValue(dir / "store.db", "SELECT run_id FROM migration_run ORDER BY started_at DESC LIMIT 1");
  const std::string last_line = "run " + run_id +
                                " ended: completed, 1 migration finished, 100000 documents visited\n";
  BOOST_TEST(watch.out.size() >= last_line.size());
  BOOST_TEST(watch.out.substr(watch.out.size() - std::min(watch.out.size(), last_line.size())) ==
             last_line);
}

BOOST_AUTO_TEST_CASE(cancel_stops_after_the_batch_and_up_resumes_exactly_once) {
  ScratchDir dir;
  test::makePluginDir(dir, {testPlugin("counter")}, {"test_counter"});
  const int n = 200000;
  test::seedItems(dir / "store.db", n);
  pid_t runner = test::startGraft(test::graftArgs(dir, {"up", "-q", "--batch-size", "100"}), dir / "out", dir / "err");
  waitForProgress(dir / "store.db");
  Outcome cancel = runGraft(test::graftArgs(dir, {"cancel"}));
  BOOST_TEST(cancel.exit_code == 0, cancel.err);
  BOOST_TEST(cancel.out.find("cancel requested: run ") == 0u, cancel.out);
  Outcome stopped = test::waitGraft(runner, dir / "out", dir / "err");
  BOOST_TEST(stopped.exit_code == 6, stopped.err);
  BOOST_TEST(stopped.err == "graft: stopped by graft cancel after a committed batch; run graft up to resume\n");
  BOOST_TEST(test::sqlValue(dir / "store.db", "SELECT status FROM migration_state") == "canceled");
  BOOST_TEST(test::sqlValue(dir / "store.db",
                            "SELECT status FROM migration_run ORDER BY started_at DESC LIMIT 1") ==
             "canceled");
  BOOST_TEST(test::processedSoFar(dir / "store.db") < n);
  BOOST_TEST(runGraft(test::graftArgs(dir, {"cancel"})).out == "no run is active\n");
  Outcome resumed = runGraft(test::graftArgs(dir, {"up", "-q"}));
  BOOST_TEST(resumed.exit_code == 0, resumed.err);
  BOOST_TEST(itemsWithCountOtherThan(dir / "store.db", 1) == "0");
  BOOST_TEST(test::processedSoFar(dir / "store.db") == n);
}

BOOST_AUTO_TEST_CASE(a_dry_run_reports_every_write_and_keeps_no_document_change) {
  ScratchDir dir;
  const std::string db = dir / "demo.db";
  test::seedDocs(db, "users",
                 {{{"name", "a"}, {"profile", {{"bio", "x"}}}}, {{"name", "b"}, {"profile", {{"bio", "y"}}}}});
  const std::string plugin = std::string(GRAFT_EXAMPLE_PLUGIN_DIR) + "/20260101_000005_users_split_profile.so";
  test::makePluginDir(dir, {plugin}, {"20260101_000005_users_split_profile"});
  const std::string dump = "SELECT group_concat(_id || ' ' || _creationTime || ' ' || body, char(10)) FROM users";
  const std::string before = test::sqlValue(db, dump);
  Outcome o = runGraft({"--db", db, "--plugins", dir / "plugins", "up", "--dry-run"});
  BOOST_TEST(o.exit_code == 0, o.err);
  const std::string t1 = test::sqlValue(db, "SELECT _creationTime FROM users WHERE _id = 1");
  BOOST_TEST(o.out.find("20260101_000005_users_split_profile: would change 2 of 2 documents\n"
                        "  profiles: 2 inserted, 0 patched, 0 replaced, 0 deleted\n"
                        "  users: 0 inserted, 2 patched, 0 replaced, 0 deleted\n") == 0u,
             o.out);
  BOOST_TEST(o.out.find("  users/1: {\"_id\":1,\"_creationTime\":") != std::string::npos, o.out);
  BOOST_TEST(o.out.find(",\"name\":\"a\",\"profile\":{\"bio\":\"x\"}} -> {\"_id\":1,\"_creationTime\":") !=
                 std::string::npos, o.out);
  BOOST_TEST(o.out.find(",\"name\":\"a\",\"profileId\":1}\n") != std::string::npos, o.out);
  BOOST_TEST(o.out.find("  profiles/1: (none) -> {\"_id\":1,\"_creationTime\":") != std::string::npos, o.out);
  BOOST_TEST(o.out.find("dry run: no document or migration state was written, only the run's "
                        "history row (dry_run)\n") != std::string::npos);
  // Documents byte for byte as they were, no new table, no state; only the
  // run history says a dry run happened.
  BOOST_TEST(test::sqlValue(db, dump) == before);
  BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM sqlite_master WHERE name = 'profiles'") == "0");
  BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM migration_state") == "0");
  BOOST_TEST(test::sqlValue(db, "SELECT status || ' ' || command FROM migration_run") == "dry_run up --dry-run");
}

BOOST_AUTO_TEST_CASE(down_after_up_restores_the_documents) {
  ScratchDir dir;
  const std::string db = dir / "demo.db";
  std::vector<boost::json::object> users;
  for (int i = 0; i < 300; ++i)
    users.push_back({{"name", "u" + std::to_string(i)}, {"isPro", i % 3 == 0},
                     {"profile", {{"bio", "b" + std::to_string(i)}}}});
  test::seedDocs(db, "users", users);
  const std::string plugins = GRAFT_EXAMPLE_PLUGIN_DIR;
  test::makePluginDir(dir, {plugins + "/20260101_000003_users_plan_from_ispro.so",
                            plugins + "/20260101_000005_users_split_profile.so",
                            plugins + "/20260101_000002_users_remove_legacy_nickname.so"},
                      {"20260101_000002_users_remove_legacy_nickname",
                       "20260101_000003_users_plan_from_ispro", "20260101_000005_users_split_profile"});
  const std::string dump = "SELECT group_concat(_id || ' ' || body, char(10)) FROM users";
  const std::string before = test::sqlValue(db, dump);
  BOOST_REQUIRE(runGraft({"--db", db, "--plugins", dir / "plugins", "up", "-q"}).exit_code == 0);
  BOOST_REQUIRE(test::sqlValue(db, dump) != before);

  // The oldest has no down step: asking for all three changes nothing.
  Outcome refused = runGraft({"--db", db, "--plugins", dir / "plugins", "down", "--steps", "3"});
  BOOST_TEST(refused.exit_code == 2);
  BOOST_TEST(refused.err == "graft: migration 20260101_000002_users_remove_legacy_nickname has no "
                            "down step and can not be rolled back; nothing was changed (undo it "
                            "with a new migration instead)\n");
  Outcome down = runGraft({"--db", db, "--plugins", dir / "plugins", "down", "-q", "--to",
                           "20260101_000002_users_remove_legacy_nickname", "--batch-size", "7"});
  BOOST_TEST(down.exit_code == 0, down.err);
  BOOST_TEST(down.out == "20260101_000005_users_split_profile: rolled_back, 300 documents visited, 300 patched; "
                         "through ctx.db: 0 inserted, 0 patched, 0 replaced, 300 deleted\n"
                         "20260101_000003_users_plan_from_ispro: rolled_back, 300 documents visited, 300 patched\n");
  // Same fields, same values; fields come back at the end of the object.
  auto restored = test::readTable(db, "users");
  BOOST_REQUIRE(restored.size() == users.size());
  for (size_t i = 0; i < users.size(); ++i) {
    boost::json::object want = users[i];
    want["_id"] = restored[i].at("_id");
    want["_creationTime"] = restored[i].at("_creationTime");
    BOOST_TEST(restored[i] == want, "users/" << i + 1);
  }
  BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM profiles") == "0");
  // Rolled back means pending again: up applies them anew.
  Outcome again = runGraft({"--db", db, "--plugins", dir / "plugins", "up", "-q"});
  BOOST_TEST(again.exit_code == 0, again.err);
  BOOST_TEST(again.out == "20260101_000003_users_plan_from_ispro: completed, 300 documents visited, 300 patched\n"
                          "20260101_000005_users_split_profile: completed, 300 documents visited, 300 patched; "
                          "through ctx.db: 300 inserted, 0 patched, 0 replaced, 0 deleted\n");
}

BOOST_AUTO_TEST_CASE(up_to_stops_after_the_named_migration) {
  ScratchDir dir;
  test::makePluginDir(dir, {testPlugin("counter"), testPlugin("fail_at")}, {"test_counter", "test_fail_at"});
  test::seedItems(dir / "store.db", 20);
  Outcome o = runGraft(test::graftArgs(dir, {"up", "-q", "--to", "test_counter"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(o.out == "test_counter: completed, 20 documents visited, 20 patched\n");
  o = runGraft(test::graftArgs(dir, {"up", "-q", "--to", "nope"}));
  BOOST_TEST(o.exit_code == 2);
  BOOST_TEST(o.err == "graft: graft up --to nope: no such migration in " + dir / "plugins/manifest.json" + "\n");
}

// Hot-add: a plugin dropped in while `graft up --watch` runs is applied once
// it is complete and in the manifest; a half-copied one is not loaded.
BOOST_AUTO_TEST_CASE(watch_applies_a_plugin_once_it_is_complete) {
  ScratchDir dir;
  const std::string plugins = test::makePluginDir(dir, {}, {});
  test::seedItems(dir / "store.db", 500);
  pid_t watcher = test::startGraft(test::graftArgs(dir, {"up", "-q", "--watch"}), dir / "out", dir / "err");
  auto wait_for = [&](const std::function<bool()>& done) {
    for (int i = 0; i < 1500 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return done();
  };
  BOOST_REQUIRE(wait_for([&] { return test::readBytes(dir / "err").find("watching") != std::string::npos; }));

  // The copy stops a third of the way, and the manifest already names it.
  const std::string lib = test::readBytes(testPlugin("counter"));
  test::writeFile(plugins + "/test_counter.so", lib.substr(0, lib.size() / 3));
  test::writeFile(plugins + "/manifest.json", R"({"graft_manifest": 1, "migrations": ["test_counter"]})");
  BOOST_REQUIRE(wait_for([&] { return test::readBytes(dir / "err").find("graft: waiting: ") != std::string::npos; }));
  BOOST_TEST(test::readBytes(dir / "err").find(": check: truncated: the file has ") != std::string::npos);
  BOOST_TEST(itemsWithCountOtherThan(dir / "store.db", 0) == "0");

  // The copy completes.
  test::writeFile(plugins + "/test_counter.so", lib);
  BOOST_REQUIRE(wait_for([&] {
    return test::sqlValue(dir / "store.db", "SELECT status FROM migration_state") == "completed";
  }));
  BOOST_TEST(itemsWithCountOtherThan(dir / "store.db", 1) == "0");
  kill(watcher, SIGTERM);
  Outcome o = test::waitGraft(watcher, dir / "out", dir / "err");
  BOOST_TEST(o.exit_code == 0, o.err);
}

// A rescan loads only what changed: a plugin already loaded, same bytes,
// is not loaded again (its constructors ran once).
BOOST_AUTO_TEST_CASE(watch_loads_each_plugin_file_once) {
  ScratchDir dir;
  const std::string plugins =
      test::makePluginDir(dir, {testPlugin("marker")}, {"test_marker"});
  test::seedItems(dir / "store.db", 50);
  const std::string marker = dir / "marker";
  pid_t watcher = test::startGraft(test::graftArgs(dir, {"up", "-q", "--watch"}), dir / "out",
                                   dir / "err", {"GRAFT_TEST_MARKER=" + marker});
  auto wait_for = [&](const std::function<bool()>& done) {
    for (int i = 0; i < 1500 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return done();
  };
  BOOST_REQUIRE(wait_for([&] { return test::readBytes(dir / "err").find("watching") != std::string::npos; }));
  // Two more migrations, one rescan each.
  for (const std::string name : {"counter", "optional_table"}) {
    std::filesystem::copy_file(testPlugin(name), plugins + "/test_" + name + ".so");
    std::vector<std::string> ids = {"test_marker", "test_counter"};
    if (name == "optional_table") ids.push_back("test_optional_table");
    std::string list;
    for (const auto& id : ids) list += (list.empty() ? "\"" : ",\"") + id + "\"";
    test::writeFile(plugins + "/manifest.json",
                    R"({"graft_manifest": 1, "migrations": [)" + list + "]}");
    BOOST_REQUIRE(wait_for([&] {
      return test::sqlValue(dir / "store.db", "SELECT count(*) FROM migration_state WHERE id = 'test_" +
                                                  name + "' AND status = 'completed'") == "1";
    }));
  }
  kill(watcher, SIGTERM);
  Outcome o = test::waitGraft(watcher, dir / "out", dir / "err");
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(test::readBytes(marker) == "constructor ran\n");
  BOOST_TEST(itemsWithCountOtherThan(dir / "store.db", 3) == "0");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
