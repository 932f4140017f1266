// What operators expect of the real binary: the run history, who applied a
// migration and when, one migration run alone or again, and a run that
// waits for the one holding the store.
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <climits>
#include <cstdio>
#include <string>
#include <vector>

#include "harness.h"
#include "run/lease.h"

namespace graft {
namespace {

using test::Outcome;
using test::runGraft;
using test::ScratchDir;
using test::testPlugin;

// Runs `sql` on the store as another client would.
void execSql(const std::string& db, const std::string& sql) {
  sqlite3* conn = nullptr;
  BOOST_TEST_REQUIRE(sqlite3_open(db.c_str(), &conn) == SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(conn, sql.c_str(), nullptr, nullptr, &error);
  const std::string message = error ? error : "";
  sqlite3_free(error);
  sqlite3_close(conn);
  BOOST_TEST_REQUIRE(rc == SQLITE_OK, message);
}

// Column `column` of the run `n` places from the newest (0: the newest).
std::string runColumn(const std::string& db, int n, const std::string& column) {
  return test::sqlValue(db, "SELECT " + column +
                                " FROM migration_run ORDER BY started_at DESC, run_id DESC "
                                "LIMIT 1 OFFSET " +
                                std::to_string(n));
}

// Milliseconds between two of graft's timestamps, computed by SQLite.
std::string sqlElapsedMs(const std::string& db, const std::string& from, const std::string& to) {
  const auto ms = [](const std::string& t) {
    return "(strftime('%s', '" + t + "') * 1000 + CAST(substr('" + t + "', 21, 3) AS INTEGER))";
  };
  return test::sqlValue(db, "SELECT " + ms(to) + " - " + ms(from));
}

std::string thisHost() {
  char name[HOST_NAME_MAX + 1] = {0};
  gethostname(name, sizeof name - 1);
  return name;
}

bool everyItem(const std::string& db, int n) {
  return test::sqlValue(db, "SELECT count(*) FROM items WHERE json_extract(body, '$.n') != " +
                                std::to_string(n)) == "0";
}

BOOST_AUTO_TEST_SUITE(operations_e2e)

// Two runs, one failed, one that ran a completed migration again: history
// lists them newest first with who, when, how long and how each ended, and
// status says who applied each migration and when.
BOOST_AUTO_TEST_CASE(history_and_status_say_who_ran_what_and_when) {
  ScratchDir dir;
  const std::string db = dir / "store.db";
  test::makePluginDir(dir, {testPlugin("counter"), testPlugin("fail_at")},
                      {"test_counter", "test_fail_at"});
  Outcome o = runGraft(test::graftArgs(dir, {"history"}));
  BOOST_TEST(o.exit_code == 5);  // no store yet
  test::seedItems(db, 40);
  o = runGraft(test::graftArgs(dir, {"history"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(o.out == "no runs recorded\n");
  o = runGraft(test::graftArgs(dir, {"history", "--json"}));
  BOOST_TEST(o.out == "{\"runs\":[]}\n");

  o = runGraft(test::graftArgs(dir, {"up", "-q", "--batch-size", "10"}), {"GRAFT_TEST_FAIL_AT=33"});
  BOOST_TEST(o.exit_code == 1);
  o = runGraft(test::graftArgs(dir, {"up", "-q", "--only", "test_counter", "--rerun"}));
  BOOST_TEST(o.exit_code == 0, o.err);

  struct Run {
    std::string id, started, ended, ms, user, host, pid;
  };
  std::vector<Run> runs;
  for (int n = 0; n < 2; ++n) {
    Run r{runColumn(db, n, "run_id"),   runColumn(db, n, "started_at"),
          runColumn(db, n, "ended_at"), "",
          runColumn(db, n, "user"),     runColumn(db, n, "host"),
          runColumn(db, n, "pid")};
    r.ms = sqlElapsedMs(db, r.started, r.ended);
    runs.push_back(r);
  }
  BOOST_TEST(runs[0].user == userName());
  BOOST_TEST(runs[0].host == thisHost());
  const std::string failure = runColumn(db, 1, "error");
  BOOST_TEST(failure.find("migration test_fail_at failed: migrateOne failed on items/33") == 0,
             failure);

  o = runGraft(test::graftArgs(dir, {"history", "--json"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  const auto listed = boost::json::parse(o.out).as_object().at("runs").as_array();
  BOOST_TEST_REQUIRE(listed.size() == 2u);
  const auto& rerun = listed[0].as_object();
  BOOST_TEST(rerun.size() == 14u);
  BOOST_TEST(rerun.at("run_id").as_string() == runs[0].id);
  BOOST_TEST(rerun.at("command").as_string() == "up --only test_counter --rerun");
  BOOST_TEST(rerun.at("status").as_string() == "completed");
  BOOST_TEST(rerun.at("user").as_string() == runs[0].user);
  BOOST_TEST(rerun.at("host").as_string() == runs[0].host);
  BOOST_TEST(std::to_string(rerun.at("pid").as_int64()) == runs[0].pid);
  BOOST_TEST(rerun.at("started_at").as_string() == runs[0].started);
  BOOST_TEST(rerun.at("ended_at").as_string() == runs[0].ended);
  BOOST_TEST(std::to_string(rerun.at("duration_ms").as_int64()) == runs[0].ms);
  BOOST_TEST(rerun.at("migrations") == 1);
  BOOST_TEST(rerun.at("processed") == 40);
  BOOST_TEST(rerun.at("changed") == 40);
  BOOST_TEST(rerun.at("error").is_null());
  BOOST_TEST(boost::json::serialize(rerun.at("notes")) ==
             "[\"migration test_counter: completed, and run again from its first document "
             "(rerun)\"]");
  const auto& failed = listed[1].as_object();
  BOOST_TEST(failed.at("command").as_string() == "up");
  BOOST_TEST(failed.at("status").as_string() == "failed");
  BOOST_TEST(failed.at("migrations") == 1);
  BOOST_TEST(failed.at("processed") == 70);  // 40 by test_counter, 30 by test_fail_at
  BOOST_TEST(failed.at("changed") == 70);
  BOOST_TEST(failed.at("error").as_string() == failure);
  BOOST_TEST(failed.at("notes").as_array().empty());

  const std::string by = runs[0].user + "@" + runs[0].host;
  char header[512], line0[512], line1[512];
  const int run_width = static_cast<int>(std::max(runs[0].id.size(), runs[1].id.size()));
  const int by_width = static_cast<int>(by.size());
  std::snprintf(header, sizeof header, "%-*s  %-24s %10s  %-9s %10s %10s %10s  %-*s %8s  %s\n",
                run_width, "RUN", "STARTED", "DURATION", "STATUS", "MIGRATIONS", "PROCESSED",
                "CHANGED", by_width, "BY", "PID", "COMMAND");
  std::snprintf(line0, sizeof line0, "%-*s  %-24s %10s  %-9s %10d %10d %10d  %-*s %8s  %s\n",
                run_width, runs[0].id.c_str(), runs[0].started.c_str(),
                (runs[0].ms + " ms").c_str(), "completed", 1, 40, 40, by_width, by.c_str(),
                runs[0].pid.c_str(), "up --only test_counter --rerun");
  std::snprintf(line1, sizeof line1, "%-*s  %-24s %10s  %-9s %10d %10d %10d  %-*s %8s  %s\n",
                run_width, runs[1].id.c_str(), runs[1].started.c_str(),
                (runs[1].ms + " ms").c_str(), "failed", 1, 70, 70, by_width, by.c_str(),
                runs[1].pid.c_str(), "up");
  o = runGraft(test::graftArgs(dir, {"history"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(o.out == std::string(header) + line0 +
                          "    note: migration test_counter: completed, and run again from its "
                          "first document (rerun)\n" +
                          line1 + "    error: " + failure + "\n");
  o = runGraft(test::graftArgs(dir, {"history", "--limit", "1"}));
  BOOST_TEST(o.out.find(runs[1].id) == std::string::npos, o.out);
  BOOST_TEST(o.out.find(runs[0].id) != std::string::npos, o.out);
  o = runGraft(test::graftArgs(dir, {"history", "--limit", "0"}));
  BOOST_TEST(o.exit_code == 2);
  BOOST_TEST(o.err ==
             "graft: usage: --limit: Value 0 not in range 1 to 1000000 (see graft --help)\n");

  // status: who applied test_counter (the rerun) and when; the run that
  // left test_fail_at failed.
  const auto state = [&](const std::string& id, const std::string& column) {
    return test::sqlValue(db, "SELECT " + column + " FROM migration_state WHERE id = '" + id + "'");
  };
  const std::string completed = state("test_counter", "completed_at");
  const std::string took = sqlElapsedMs(db, state("test_counter", "started_at"), completed);
  o = runGraft(test::graftArgs(dir, {"status"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(o.out.find("\n    applied at " + completed + " in " + took + " ms by " + runs[0].user +
                        " on " + runs[0].host + " (run " + runs[0].id + ")\n") != std::string::npos,
             o.out);
  BOOST_TEST(
      o.out.find("\n    run " + runs[1].id + " by " + runs[1].user + " on " + runs[1].host +
                 ", started at " + state("test_fail_at", "started_at") + "\n") != std::string::npos,
      o.out);
  o = runGraft(test::graftArgs(dir, {"status", "--json"}));
  const auto rows = boost::json::parse(o.out).as_array();
  BOOST_TEST_REQUIRE(rows.size() == 2u);
  const auto& counter = rows[0].as_object();
  BOOST_TEST(counter.at("state").as_string() == "completed");  // the keys there were
  BOOST_TEST(counter.at("completed_at").as_string() == completed);
  BOOST_TEST(std::to_string(counter.at("duration_ms").as_int64()) == took);
  BOOST_TEST(counter.at("run_id").as_string() == runs[0].id);
  BOOST_TEST(counter.at("run_user").as_string() == runs[0].user);
  BOOST_TEST(counter.at("run_host").as_string() == runs[0].host);
  const auto& fail_at = rows[1].as_object();
  BOOST_TEST(fail_at.at("completed_at").is_null());
  BOOST_TEST(fail_at.at("duration_ms").is_null());
  BOOST_TEST(fail_at.at("run_id").as_string() == runs[1].id);
  BOOST_TEST(fail_at.at("error").as_string() ==
             "migrateOne failed on items/33: cannot migrate k=33");
}

// --only runs one migration; before a pending one only when out of order is
// allowed, and then the next plain run needs that too.
BOOST_AUTO_TEST_CASE(up_only_runs_the_one_named) {
  ScratchDir dir;
  const std::string db = dir / "store.db";
  const std::string manifest = dir / "plugins/manifest.json";
  test::makePluginDir(dir, {testPlugin("counter"), testPlugin("marker")},
                      {"test_counter", "test_marker"});
  test::seedItems(db, 10);
  Outcome o = runGraft(test::graftArgs(dir, {"up", "-q", "--only", "nope"}));
  BOOST_TEST(o.exit_code == 2);
  BOOST_TEST(o.err == "graft: graft up --only nope: no such migration in " + manifest + "\n");
  o = runGraft(test::graftArgs(dir, {"up", "-q", "--only", "test_marker"}));
  BOOST_TEST(o.exit_code == 2);
  BOOST_TEST(o.err ==
             "graft: graft up --only test_marker: migration test_counter comes before "
             "it in " +
                 manifest +
                 " and is pending; run it first (graft up --to test_counter), or add "
                 "--allow-out-of-order to run test_marker alone\n");
  BOOST_TEST(everyItem(db, 0));
  o = runGraft(test::graftArgs(dir, {"up", "-q", "--only", "test_counter", "--to", "test_marker"}));
  BOOST_TEST(o.exit_code == 2);
  BOOST_TEST(o.err == "graft: usage: --to excludes --only (see graft --help)\n");

  o = runGraft(test::graftArgs(dir, {"up", "-q", "--only", "test_marker", "--allow-out-of-order"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(o.out == "test_marker: completed, 10 documents visited, 10 patched\n");
  BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM migration_state WHERE id = 'test_counter'") ==
             "0");
  BOOST_TEST(runColumn(db, 0, "command") == "up --only test_marker --allow-out-of-order");
  o = runGraft(test::graftArgs(dir, {"up", "-q"}));
  BOOST_TEST(o.exit_code == 8);
  o = runGraft(test::graftArgs(dir, {"up", "-q", "--allow-out-of-order"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(o.out == "test_counter: completed, 10 documents visited, 10 patched\n");
  o = runGraft(test::graftArgs(dir, {"up", "-q"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(o.out == "nothing to do: every migration is completed\n");
  BOOST_TEST(everyItem(db, 2));
}

// --rerun runs a completed migration from its first document, with a
// warning, and leaves no drift behind; --restart still refuses it.
BOOST_AUTO_TEST_CASE(up_only_rerun_runs_a_completed_migration_again) {
  ScratchDir dir;
  const std::string db = dir / "store.db";
  test::makePluginDir(dir, {testPlugin("counter"), testPlugin("marker")},
                      {"test_counter", "test_marker"});
  test::seedItems(db, 10);
  Outcome o = runGraft(test::graftArgs(dir, {"up", "-q"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  o = runGraft(test::graftArgs(dir, {"up", "-q", "--rerun"}));
  BOOST_TEST(o.exit_code == 2);
  BOOST_TEST(o.err == "graft: usage: --rerun requires --only (see graft --help)\n");
  o = runGraft(test::graftArgs(dir, {"up", "-q", "--restart", "test_counter"}));
  BOOST_TEST(o.exit_code == 2);
  BOOST_TEST(o.err ==
             "graft: graft up --restart test_counter: migration test_counter can not be restarted "
             "(state: completed); --restart runs a failed or canceled migration again from its "
             "first document (drop the flag; graft up --only test_counter --rerun runs a "
             "completed one again)\n");
  o = runGraft(test::graftArgs(dir, {"up", "-q", "--only", "test_counter"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(o.out == "nothing to do: every migration is completed\n");  // skipped
  BOOST_TEST(everyItem(db, 2));

  o = runGraft(test::graftArgs(dir, {"up", "-q", "--only", "test_counter", "--rerun"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(o.err ==
             "graft: warning: --rerun runs test_counter again from its first document, over "
             "documents it already migrated: its migrateOne must be idempotent (return nothing "
             "for a document it already changed), or those documents change twice\n"
             "graft: note: migration test_counter: completed, and run again from its first "
             "document (rerun)\n");
  BOOST_TEST(o.out == "test_counter: completed, 10 documents visited, 10 patched\n");
  BOOST_TEST(everyItem(db, 3));  // test_counter is not idempotent: n went up again
  BOOST_TEST(runColumn(db, 0, "command") == "up --only test_counter --rerun");
  BOOST_TEST(runColumn(db, 0, "error") ==
             "note: migration test_counter: completed, and run again from its first document "
             "(rerun)");
  // Run after test_marker, on purpose: not a reordered manifest.
  o = runGraft(test::graftArgs(dir, {"verify"}));
  BOOST_TEST(o.exit_code == 0, o.out + o.err);
  o = runGraft(test::graftArgs(dir, {"up", "-q"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(o.out == "nothing to do: every migration is completed\n");
}

// A lease held by a live process that is not a run: --wait-lock waits for
// it, says for whom, and exits 7 when the wait ends without the lease.
BOOST_AUTO_TEST_CASE(wait_lock_gives_up_after_its_duration_with_exit_7) {
  ScratchDir dir;
  const std::string db = dir / "store.db";
  test::makePluginDir(dir, {testPlugin("counter")}, {"test_counter"});
  test::seedItems(db, 10);
  BOOST_TEST(runGraft(test::graftArgs(dir, {"status"})).exit_code == 0);
  // This test's own pid, on this host: alive for as long as graft waits.
  const std::string pid = std::to_string(getpid());
  execSql(db,
          "INSERT INTO graft_lease (name, run_id, host, pid, started_at, heartbeat_ms) VALUES "
          "('run', 'R-other', '" +
              thisHost() + "', " + pid + ", '2026-12-01T10:00:00.000Z', 0)");
  const std::string who =
      "run R-other (pid " + pid + " on host " + thisHost() + " since 2026-12-01T10:00:00.000Z)";
  for (const std::string bad : {"30", "2x", "-1s", "25h", ""}) {
    Outcome o = runGraft(test::graftArgs(dir, {"up", "-q", "--wait-lock", bad}));
    BOOST_TEST(o.exit_code == 2, bad);
    BOOST_TEST(o.err.find("expected a duration such as 500ms, 30s, 2m or 1h (at most 24h), got \"" +
                          bad + "\"") != std::string::npos,
               o.err);
  }
  const auto began = std::chrono::steady_clock::now();
  Outcome o = runGraft(test::graftArgs(dir, {"up", "-q", "--wait-lock", "700ms"}));
  const auto waited = std::chrono::steady_clock::now() - began;
  BOOST_TEST(o.exit_code == 7);
  BOOST_TEST(o.err == "graft: waiting up to 700ms for " + who +
                          " to release the store's lease\n"
                          "graft: " +
                          who +
                          " still holds the store's lease after waiting 700ms (--wait-lock); "
                          "wait longer, or stop it with graft cancel\n");
  BOOST_TEST(waited >= std::chrono::milliseconds(700));
  BOOST_TEST(everyItem(db, 0));
  BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM migration_run") == "0");
}

// Two real runs: the second waits for the first to end, then finds nothing
// to do; every document was migrated exactly once.
BOOST_AUTO_TEST_CASE(wait_lock_waits_for_the_run_holding_the_store) {
  ScratchDir dir;
  const std::string db = dir / "store.db";
  test::makePluginDir(dir, {testPlugin("counter")}, {"test_counter"});
  test::seedItems(db, 20000);
  // 1000 batches, each followed by a 3 ms pause: several seconds.
  pid_t first =
      test::startGraft(test::graftArgs(dir, {"up", "-q", "--batch-size", "20", "--pause-ms", "3"}),
                       dir / "out1", dir / "err1");
  BOOST_REQUIRE(test::waitForProcessedBeyond(db, 0));
  const std::string run = test::sqlValue(db, "SELECT run_id FROM graft_lease");
  const std::string since = test::sqlValue(db, "SELECT started_at FROM graft_lease");
  Outcome second = runGraft(test::graftArgs(dir, {"up", "-q", "--wait-lock", "2m"}));
  Outcome done = test::waitGraft(first, dir / "out1", dir / "err1");
  BOOST_TEST(done.exit_code == 0, done.err);
  BOOST_TEST(done.out == "test_counter: completed, 20000 documents visited, 20000 patched\n");
  BOOST_TEST(second.exit_code == 0, second.err);
  BOOST_TEST(second.err == "graft: waiting up to 2m for run " + run + " (pid " +
                               std::to_string(first) + " on host " + thisHost() + " since " +
                               since + ") to release the store's lease\n");
  BOOST_TEST(second.out == "nothing to do: every migration is completed\n");
  BOOST_TEST(everyItem(db, 1));
  BOOST_TEST(runColumn(db, 0, "status") == "noop");
  BOOST_TEST(runColumn(db, 1, "run_id") == run);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
