// SIGKILL at random instants in the middle of a migration: whatever instant
// the process dies at, the next `graft up` resumes and every document ends
// up migrated exactly once.
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <sstream>
#include <random>
#include <thread>

#include "harness.h"

namespace graft {
namespace {

using test::ScratchDir;

BOOST_AUTO_TEST_SUITE(crash)

BOOST_AUTO_TEST_CASE(sigkill_mid_migration_then_resume_migrates_each_document_once) {
  ScratchDir dir;
  test::makePluginDir(dir, {test::testPlugin("counter")}, {"test_counter"});
  const std::string db = dir / "store.db";
  const int n = 200000;
  test::seedItems(db, n);
  const std::vector<std::string> up = {"--db", db, "--plugins", dir / "plugins", "up", "--quiet",
                                       "--batch-size", "50"};
  std::mt19937 rng(12345);  // fixed seed: a failure can be replayed
  std::uniform_int_distribution<int> extra_us(0, 20000);
  int kills = 0;
  int mid_run_kills = 0;  // kills that left the migration partly done
  int finished_runs = 0;
  for (int attempt = 0; attempt < 200 && finished_runs == 0; ++attempt) {
    const int64_t before = test::processedSoFar(db);
    pid_t pid = test::startGraft(up, dir / "out", dir / "err");
    if (kills < 12) {
      // Kill once this run has committed something, at a random instant
      // after that: inside a batch, between two, or while committing.
      test::waitForProcessedBeyond(db, before);
      std::this_thread::sleep_for(std::chrono::microseconds(extra_us(rng)));
      kill(pid, SIGKILL);
    }
    test::Outcome o = test::waitGraft(pid, dir / "out", dir / "err");
    if (o.signal == SIGKILL) {
      ++kills;
      const int64_t now = test::processedSoFar(db);
      if (now > before && now < n) ++mid_run_kills;
    } else {
      BOOST_REQUIRE_MESSAGE(o.exit_code == 0, o.err);
      ++finished_runs;
    }
  }
  BOOST_TEST(kills >= 10);
  BOOST_TEST(mid_run_kills >= 5);
  BOOST_TEST(finished_runs == 1);
  BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM items") == std::to_string(n));
  BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM items WHERE json_extract(body, '$.n') = 1") ==
             std::to_string(n));
  BOOST_TEST(test::sqlValue(db, "SELECT status || ' ' || processed || ' ' || cursor FROM migration_state") ==
             "completed " + std::to_string(n) + " " + std::to_string(n));
}

// The application keeps writing, in a process of its own, while graft is
// killed again and again: after the last resume every document (the ones
// the application inserted meanwhile too) is migrated exactly once, and
// every write the application committed is still there, untouched by the
// migration's own writes.
BOOST_AUTO_TEST_CASE(fifty_kills_with_a_concurrent_writer_lose_nothing) {
  ScratchDir dir;
  test::makePluginDir(dir, {test::testPlugin("counter")}, {"test_counter"});
  const std::string db = dir / "store.db";
  const int n = 100000;
  test::seedItems(db, n);

  // The application: inserts one item or patches field "a" of one just
  // ahead of the migration's cursor (where graft is reading and computing:
  // the writes most likely to be lost if graft applied a stale patch), each
  // in its own transaction, and logs it once it has committed.
  const std::string log_path = dir / "app.log", stop_path = dir / "stop";
  pid_t app = fork();
  BOOST_REQUIRE(app >= 0);
  if (app == 0) {
    sqlite3* conn = nullptr;
    sqlite3_open(db.c_str(), &conn);
    sqlite3_busy_timeout(conn, 5000);
    FILE* log = std::fopen(log_path.c_str(), "w");
    std::mt19937 rng(7);
    for (long seq = 1; access(stop_path.c_str(), F_OK) != 0; ++seq) {
      std::string sql;
      long cursor = 0;
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v2(conn, "SELECT cursor FROM migration_state", -1, &stmt, nullptr) == SQLITE_OK &&
          sqlite3_step(stmt) == SQLITE_ROW)
        cursor = static_cast<long>(sqlite3_column_int64(stmt, 0));
      sqlite3_finalize(stmt);
      const long target = std::min<long>(n, cursor + 1 + static_cast<long>(rng() % 128));
      const bool insert = seq % 3 == 0;
      if (insert) {
        sql = "INSERT INTO items (body) VALUES (json_object('k', 0, 'n', 0, 'app', " + std::to_string(seq) + "))";
      } else {
        sql = "UPDATE items SET body = json_set(body, '$.a', " + std::to_string(seq) + ") WHERE _id = " +
              std::to_string(target);
      }
      if (sqlite3_exec(conn, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK) {
        std::fprintf(log, "%c %lld %ld\n", insert ? 'I' : 'P',
                     insert ? static_cast<long long>(sqlite3_last_insert_rowid(conn)) : static_cast<long long>(target),
                     seq);
      } else {
        std::fprintf(log, "E %s\n", sqlite3_errmsg(conn));
      }
      std::fflush(log);
      usleep(1000);
    }
    std::fclose(log);
    sqlite3_close(conn);
    _exit(0);
  }

  const std::vector<std::string> up = {"--db", db, "--plugins", dir / "plugins", "up", "--quiet",
                                       "--batch-size", "64"};
  std::mt19937 rng(4242);
  std::uniform_int_distribution<int> extra_us(0, 15000);
  int kills = 0;
  for (int attempt = 0; attempt < 400 && kills < 50; ++attempt) {
    const int64_t before = test::processedSoFar(db);
    pid_t pid = test::startGraft(up, dir / "out", dir / "err");
    test::waitForProcessedBeyond(db, before);
    std::this_thread::sleep_for(std::chrono::microseconds(extra_us(rng)));
    kill(pid, SIGKILL);
    test::Outcome o = test::waitGraft(pid, dir / "out", dir / "err");
    if (o.signal == SIGKILL) {
      ++kills;
    } else {
      BOOST_REQUIRE_MESSAGE(o.exit_code == 0, o.err);
      break;  // finished before the kill: the table is done
    }
  }
  test::writeFile(stop_path, "");
  int app_status = 0;
  waitpid(app, &app_status, 0);
  BOOST_REQUIRE(WIFEXITED(app_status) && WEXITSTATUS(app_status) == 0);
  test::Outcome last = test::runGraft(up);
  BOOST_REQUIRE_MESSAGE(last.exit_code == 0, last.err);
  BOOST_TEST(kills >= 50);

  // Exactly once, for every document, the application's included.
  BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM items WHERE json_extract(body, '$.n') IS NOT 1") == "0");
  // Every committed application write is there.
  std::map<long long, long> last_patch;  // _id -> last "a" written
  std::map<long long, long> inserted;    // _id -> its "app" value
  int errors = 0;
  std::istringstream log(test::readBytes(log_path));
  for (std::string kind; log >> kind;) {
    if (kind == "E") {
      std::string rest;
      std::getline(log, rest);
      ++errors;
      BOOST_TEST_MESSAGE("application write failed:" << rest);
      continue;
    }
    long long id = 0;
    long seq = 0;
    log >> id >> seq;
    (kind == "I" ? inserted : last_patch)[id] = seq;
  }
  BOOST_TEST(errors == 0);
  BOOST_TEST(inserted.size() > 10u);
  BOOST_TEST(last_patch.size() > 10u);
  const std::string count = test::sqlValue(db, "SELECT count(*) FROM items");
  BOOST_TEST(std::stoll(count) == n + static_cast<long long>(inserted.size()));
  for (const auto& [id, seq] : inserted) {
    BOOST_TEST(test::sqlValue(db, "SELECT json_extract(body, '$.app') FROM items WHERE _id = " + std::to_string(id)) ==
               std::to_string(seq));
  }
  for (const auto& [id, seq] : last_patch) {
    BOOST_TEST(test::sqlValue(db, "SELECT json_extract(body, '$.a') FROM items WHERE _id = " + std::to_string(id)) ==
               std::to_string(seq), "items/" << id);
  }
}

// A run through migrations that write nothing, killed with SIGKILL at
// random instants: their end states do not sync one by one (see
// StepRun::wroteNothing), yet every migration a killed run had reported
// done is completed in the store, and the runs after it complete the rest
// and the counter after them, each document migrated once.
BOOST_AUTO_TEST_CASE(sigkill_in_a_run_of_migrations_that_write_nothing_loses_no_end) {
  ScratchDir dir;
  std::vector<std::string> files, ids;
  for (int i = 10; i <= 21; ++i) {
    files.push_back(test::testPlugin("skip_" + std::to_string(i)));
    ids.push_back("test_skip_" + std::to_string(i));
  }
  files.push_back(test::testPlugin("counter"));
  ids.push_back("test_counter");
  test::makePluginDir(dir, files, ids);
  const std::string db = dir / "store.db";
  test::seedItems(db, 3000);
  const std::vector<std::string> up = {"--db",         db,  "--plugins", dir / "plugins", "up",
                                       "--batch-size", "20"};
  auto completed = [&](const std::string& id) {
    return test::sqlValue(db, "SELECT status FROM migration_state WHERE id = '" + id + "'") ==
           "completed";
  };
  std::mt19937 rng(2026);  // fixed seed: a failure can be replayed
  std::uniform_int_distribution<int> after_us(50000, 700000);
  int kills = 0, reported = 0;
  for (int attempt = 0; attempt < 40 && !completed("test_counter"); ++attempt) {
    pid_t pid = test::startGraft(up, dir / "out", dir / "err");
    if (kills < 6) {
      std::this_thread::sleep_for(std::chrono::microseconds(after_us(rng)));
      kill(pid, SIGKILL);
    }
    test::Outcome o = test::waitGraft(pid, dir / "out", dir / "err");
    if (o.signal != SIGKILL) {
      BOOST_REQUIRE_MESSAGE(o.exit_code == 0, o.err);
      continue;
    }
    ++kills;
    // "<id> 3000/3000 (100%) ... ETA done" on stderr: the run saw it end.
    std::istringstream lines(o.err);
    for (std::string line; std::getline(lines, line);) {
      if (!line.ends_with("ETA done")) continue;
      const std::string id = line.substr(0, line.find(' '));
      ++reported;
      BOOST_TEST(completed(id), id << " was reported done before the kill");
    }
  }
  BOOST_TEST(kills == 6);
  BOOST_TEST(reported > 0);
  for (const std::string& id : ids) BOOST_TEST(completed(id), id);
  BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM items WHERE json_extract(body, '$.n') = 1") ==
             "3000");
  BOOST_TEST(test::sqlValue(db, "SELECT sum(changed) FROM migration_state") == "3000");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
