// The graft command as an operator meets it: exit codes and the exact text
// of its messages.
#include <pty.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <sstream>
#include <thread>

#include "base/sha256.h"
#include "harness.h"

namespace graft {
namespace {

using test::Outcome;
using test::runGraft;
using test::ScratchDir;
using test::testPlugin;
using test::writeFile;


BOOST_AUTO_TEST_SUITE(cli)

BOOST_AUTO_TEST_CASE(usage_errors_exit_2) {
  Outcome o = runGraft({"frobnicate"});
  BOOST_TEST(o.exit_code == 2);
  BOOST_TEST(o.err == "graft: usage: The following argument was not expected: frobnicate (see graft --help)\n");
  o = runGraft({});
  BOOST_TEST(o.exit_code == 2);
  BOOST_TEST(o.err == "graft: usage: a command is required (see graft --help)\n");
  o = runGraft({"up", "--batch-size", "0"});
  BOOST_TEST(o.exit_code == 2);
  o = runGraft({"--help"});
  BOOST_TEST(o.exit_code == 0);
  BOOST_TEST(o.out.find("status") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(store_errors_exit_5_and_name_the_file) {
  ScratchDir dir;
  test::makePluginDir(dir, {testPlugin("counter")}, {"test_counter"});
  Outcome o = runGraft(test::graftArgs(dir, {"status"}));
  BOOST_TEST(o.exit_code == 5);
  BOOST_TEST(o.err == "graft: database " + dir / "store.db" +
                          ": does not exist (check --db, or create it with graft import)\n");
  test::writeFile(dir / "store.db", std::string(4096, 'x'));
  o = runGraft(test::graftArgs(dir, {"up"}));
  BOOST_TEST(o.exit_code == 5);
  BOOST_TEST(o.err == "graft: database " + dir / "store.db" +
                          ": read schema: file is not a database (the file is not a SQLite "
                          "database: check --db)\n");
}

// --db takes a store URL, GRAFT_DB is its default, and a URL of a backend
// this build lacks is a usage error (exit 2) that names only its scheme.
BOOST_AUTO_TEST_CASE(db_takes_a_store_url_and_graft_db_is_its_default) {
  ScratchDir dir;
  writeFile(dir / "items.jsonl", "{\"k\":1}\n");
  Outcome o =
      runGraft({"--db", "sqlite:" + dir / "app.db", "import", "items", dir / "items.jsonl"});
  BOOST_TEST_REQUIRE(o.exit_code == 0, o.err);
  o = runGraft({"export", "items"}, {"GRAFT_DB=" + dir / "app.db"});
  BOOST_TEST_REQUIRE(o.exit_code == 0, o.err);
  BOOST_TEST(o.out.find(",\"k\":1}\n") != std::string::npos, o.out);
#ifdef GRAFT_WITH_POSTGRESQL
  // A server that is not there: exit 5, one line, no password.
  const std::string unreachable = "ann:secret@/app?host=/nonexistent-dir&port=5999";
  const std::string no_server =
      "graft: database app at /nonexistent-dir:5999: cannot connect: connection to server on "
      "socket \"/nonexistent-dir/.s.PGSQL.5999\" failed: No such file or directory Is the server "
      "running locally and accepting connections on that socket? (check the URL, that the server "
      "runs and lets this user in)\n";
  o = runGraft({"--db", "postgresql://" + unreachable, "export", "items"});
  BOOST_TEST(o.exit_code == 5);
  BOOST_TEST(o.err == no_server);
  o = runGraft({"cancel"}, {"GRAFT_DB=postgres://" + unreachable});
  BOOST_TEST(o.exit_code == 5);
  BOOST_TEST(o.err == no_server);
#else
  o = runGraft({"--db", "postgresql://ann:secret@db.example.com/app", "export", "items"});
  BOOST_TEST(o.exit_code == 2);
  BOOST_TEST(o.err ==
             "graft: store URL postgresql://...: this build of graft has only the SQLite backend "
             "(give a SQLite file as PATH or sqlite:PATH)\n");
  o = runGraft({"cancel"}, {"GRAFT_DB=postgres://localhost/app"});
  BOOST_TEST(o.exit_code == 2);
  BOOST_TEST(o.err.find("graft: store URL postgres://...: ") == 0u, o.err);
#endif
}

// A store nobody may write: the file and its directory read-only. As root
// (CI) the modes would not stop graft, so graft runs as nobody there.
BOOST_AUTO_TEST_CASE(a_read_only_store_exits_5_and_changes_nothing) {
  ScratchDir dir;
  const std::string db = dir / "store.db";
  test::seedItems(db, 3);
  writeFile(dir / "more.jsonl", "{\"k\":4}\n");
  BOOST_REQUIRE(chmod(db.c_str(), 0444) == 0);
  BOOST_REQUIRE(chmod((dir / "more.jsonl").c_str(), 0444) == 0);
  BOOST_REQUIRE(chmod(dir.path().c_str(), 0555) == 0);
  std::vector<std::string> argv = {GRAFT_BINARY, "--db", db, "import", "items", dir / "more.jsonl"};
  if (geteuid() == 0)
    argv.insert(argv.begin(), {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
  Outcome o = test::runProgram(argv);
  BOOST_REQUIRE(chmod(dir.path().c_str(), 0700) == 0);
  BOOST_TEST(o.exit_code == 5);
  BOOST_TEST(o.err == "graft: database " + db +
                          ": read schema: attempt to write a readonly database (the file or its "
                          "directory is read-only: check permissions)\n");
  BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM items") == "3");
}

// Reading needs no write access: status and export of a store in a
// directory this user can not write (where SQLite can not make the -shm
// file of a WAL store) read it all the same, and write nothing.
BOOST_AUTO_TEST_CASE(a_read_only_store_can_be_read) {
  ScratchDir dir;
  test::makePluginDir(dir, {testPlugin("counter")}, {"test_counter"});
  const std::string db = dir / "store.db";
  test::seedItems(db, 3);
  BOOST_REQUIRE(runGraft(test::graftArgs(dir, {"up", "-q"})).exit_code == 0);
  const std::string before = test::readBytes(db);
  BOOST_REQUIRE(chmod(db.c_str(), 0444) == 0);
  BOOST_REQUIRE(chmod(dir.path().c_str(), 0555) == 0);
  auto asNobody = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {GRAFT_BINARY, "--db", db, "--plugins", dir / "plugins"};
    argv.insert(argv.end(), args.begin(), args.end());
    if (geteuid() == 0)
      argv.insert(argv.begin(),
                  {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
    return test::runProgram(argv);
  };
  Outcome status = asNobody({"status"});
  Outcome exported = asNobody({"export", "items"});
  BOOST_REQUIRE(chmod(dir.path().c_str(), 0700) == 0);
  BOOST_TEST(status.exit_code == 0, status.err);
  BOOST_TEST(status.out.find("test_counter  completed") != std::string::npos, status.out);
  BOOST_TEST(exported.exit_code == 0, exported.err);
  BOOST_TEST(std::count(exported.out.begin(), exported.out.end(), '\n') == 3);
  BOOST_TEST(exported.out.find("\"k\":3,\"n\":1}\n") != std::string::npos, exported.out);
  BOOST_TEST((test::readBytes(db) == before));
}

// Another application's SQLite file: graft refuses it before it writes
// anything, and says so; a table in another layout is refused by name.
BOOST_AUTO_TEST_CASE(a_database_that_is_not_a_graft_store_is_refused_before_anything_is_written) {
  ScratchDir dir;
  test::makePluginDir(dir, {testPlugin("counter")}, {"test_counter"});
  const std::string db = dir / "store.db";
  sqlite3* conn = nullptr;
  BOOST_REQUIRE(sqlite3_open(db.c_str(), &conn) == SQLITE_OK);
  BOOST_REQUIRE(sqlite3_exec(conn,
                             "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);"
                             "INSERT INTO customers (name) VALUES ('Ada');",
                             nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(conn);
  const std::string before = test::readBytes(db);
  const std::string foreign =
      "graft: database " + db +
      ": not a graft store: it has no graft_meta table, and its table \"customers\" is not a "
      "graft document table (graft wrote nothing to it; check the database path: graft adds its "
      "own tables only to an empty file or to one whose tables are all document tables)\n";
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"up"}, {"status"}, {"cancel"}, {"import", "items", "-"}}) {
    BOOST_TEST_CONTEXT(args[0]) {
      Outcome o = runGraft(test::graftArgs(dir, args));
      BOOST_TEST(o.exit_code == 5);
      BOOST_TEST(o.err == foreign);
      BOOST_TEST((test::readBytes(db) == before));
      BOOST_TEST(test::sqlValue(db, "SELECT group_concat(name) FROM sqlite_master") == "customers");
    }
  }
  // A graft store with a table of another layout: the table is named.
  ScratchDir other;
  const std::string store = other / "store.db";
  test::seedItems(store, 2);
  BOOST_REQUIRE(sqlite3_open(store.c_str(), &conn) == SQLITE_OK);
  BOOST_REQUIRE(sqlite3_exec(conn, "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)", nullptr,
                             nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(conn);
  Outcome o = runGraft({"--db", store, "export", "notes"});
  BOOST_TEST(o.exit_code == 5);
  BOOST_TEST(o.err == "graft: export: database " + store +
                          ": table \"notes\" is not a graft document table: its columns are (id, "
                          "text), a document table has _id, _creationTime and body (check the "
                          "database path and the table's name)\n");
  // A directory given as the database.
  o = runGraft({"--db", other.path(), "export", "items"});
  BOOST_TEST(o.exit_code == 5);
  BOOST_TEST(o.err == "graft: database " + other.path() +
                          ": is a directory, not a SQLite file (check the database path)\n");
}

// A migration over a table the store does not have is, most often, a
// misspelt table: it fails, recorded, instead of completing over nothing
// and being applied for good. A step that says its table may be absent, a
// table the schema declares, and a store with no document table at all
// (nothing to migrate) are fine.
BOOST_AUTO_TEST_CASE(a_migration_over_a_missing_table_fails_unless_that_is_expected) {
  ScratchDir dir;
  test::makePluginDir(dir, {testPlugin("counter")}, {"test_counter"});
  const std::string db = dir / "store.db";
  test::seedItems(db, 3, "things");
  Outcome o = runGraft(test::graftArgs(dir, {"up", "-q"}));
  const std::string missing =
      "migration test_counter: table \"items\" does not exist in the store (its document tables: "
      "things); nothing was written (correct the step's table; a step whose table may not exist "
      "yet declares tableMayBeAbsent)";
  BOOST_TEST(o.exit_code == 1);
  BOOST_TEST(o.err == "graft: " + missing + "\n");
  BOOST_TEST(test::sqlValue(db, "SELECT status || ' ' || processed || ' ' || error FROM "
                                "migration_state") == "failed 0 " + missing);
  o = runGraft(test::graftArgs(dir, {"status"}));
  BOOST_TEST(o.out.find("test_counter  failed") != std::string::npos, o.out);
  // Once the table is there, the migration runs.
  test::seedItems(db, 2);
  o = runGraft(test::graftArgs(dir, {"up", "-q"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(test::sqlValue(db, "SELECT group_concat(json_extract(body, '$.n')) FROM items") == "1,1");

  struct Fine {
    std::string name, plugin, id;
    bool schema;
  };
  for (const Fine& f : {Fine{"tableMayBeAbsent", "optional_table", "test_optional_table", false},
                        Fine{"declared by the schema", "counter", "test_counter", true}}) {
    BOOST_TEST_CONTEXT(f.name) {
      ScratchDir d;
      test::makePluginDir(d, {testPlugin(f.plugin)}, {f.id});
      test::seedItems(d / "store.db", 1, "things");
      if (f.schema) {
        writeFile(d / "schema.json",
                  R"({"graft_schema": 1, "tables": {"things": {"document": {"k": "number", )"
                  R"("n": "number"}}, "items": {"document": {"k": "number", "n": "number"}}}})");
        Outcome pushed = runGraft(test::graftArgs(d, {"schema", "push", d / "schema.json"}));
        BOOST_TEST_REQUIRE(pushed.exit_code == 0, pushed.err);
      }
      Outcome up = runGraft(test::graftArgs(d, {"up", "-q"}));
      BOOST_TEST(up.exit_code == 0, up.err);
      BOOST_TEST(test::sqlValue(d / "store.db", "SELECT status FROM migration_state") == "completed");
    }
  }
  // A new store, with no document table yet, has nothing to migrate.
  ScratchDir fresh;
  test::makePluginDir(fresh, {testPlugin("counter")}, {"test_counter"});
  writeFile(fresh / "empty.jsonl", "");
  BOOST_REQUIRE(runGraft({"--db", fresh / "store.db", "import", "things", fresh / "empty.jsonl"})
                    .exit_code == 0);
  sqlite3* conn = nullptr;
  BOOST_REQUIRE(sqlite3_open((fresh / "store.db").c_str(), &conn) == SQLITE_OK);
  BOOST_REQUIRE(sqlite3_exec(conn, "DROP TABLE things", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(conn);
  o = runGraft(test::graftArgs(fresh, {"up", "-q"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(test::sqlValue(fresh / "store.db", "SELECT status FROM migration_state") == "completed");
}

// Another process keeps the write lock past graft's 5 s busy timeout.
BOOST_AUTO_TEST_CASE(a_store_locked_past_the_busy_timeout_exits_5) {
  ScratchDir dir;
  test::makePluginDir(dir, {testPlugin("counter")}, {"test_counter"});
  test::seedItems(dir / "store.db", 3);
  const std::string locked = dir / "locked";
  pid_t holder = fork();
  BOOST_REQUIRE(holder >= 0);
  if (holder == 0) {
    sqlite3* conn = nullptr;
    sqlite3_open((dir / "store.db").c_str(), &conn);
    sqlite3_exec(conn, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    test::writeFile(locked, "");
    sleep(8);
    sqlite3_exec(conn, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(conn);
    _exit(0);
  }
  while (access(locked.c_str(), F_OK) != 0) usleep(1000);
  Outcome o = runGraft(test::graftArgs(dir, {"up", "-q"}));
  BOOST_TEST(o.exit_code == 5);
  BOOST_TEST(o.err == "graft: database " + dir / "store.db" +
                          ": begin transaction: database is locked (another process held the "
                          "database past the busy timeout: retry when it is done)\n");
  int status = 0;
  waitpid(holder, &status, 0);
  // Nothing was recorded as running, and it works once the lock is gone.
  BOOST_TEST(test::sqlValue(dir / "store.db", "SELECT count(*) FROM graft_lease") == "0");
  o = runGraft(test::graftArgs(dir, {"up", "-q"}));
  BOOST_TEST(o.exit_code == 0, o.err);
}

BOOST_AUTO_TEST_CASE(bad_manifest_exits_3_with_line_and_column) {
  ScratchDir dir;
  auto plugins = test::makePluginDir(dir, {testPlugin("counter")}, {"test_counter"});
  test::writeFile(plugins + "/manifest.json", "{\n  \"graft_manifest\": 1,\n  \"migrations\": [\"a\",, ]\n}\n");
  test::seedItems(dir / "store.db", 1);
  Outcome o = runGraft(test::graftArgs(dir, {"up"}));
  BOOST_TEST(o.exit_code == 3);
  BOOST_TEST(o.err == "graft: read manifest: " + plugins + "/manifest.json:3:22: syntax error\n");
}

BOOST_AUTO_TEST_CASE(bad_plugins_exit_4_all_reported_before_anything_runs) {
  ScratchDir dir;
  auto plugins = test::makePluginDir(dir, {testPlugin("counter"), testPlugin("bad_abi"), testPlugin("no_entry")},
                                     {"test_counter"});
  test::seedItems(dir / "store.db", 5);
  Outcome o = runGraft(test::graftArgs(dir, {"up"}));
  BOOST_TEST(o.exit_code == 4);
  BOOST_TEST(o.err ==
             "graft: plugin " + plugins + "/test_bad_abi.so: ABI: built for graft ABI 2.0, this host "
             "speaks 1.4 (rebuild the plugin against this host's SDK)\n"
             "graft: plugin " + plugins + "/test_no_entry.so: entry point: no symbol "
             "graft_plugin_entry (export the migration with GRAFT_EXPORT_MIGRATION)\n");
  for (const auto& doc : test::readTable(dir / "store.db", "items")) BOOST_TEST(doc.at("n") == 0);
}

// With a broken plugin among them, status and verify still show every
// migration, the broken one with its stage and message, and exit 4; what up
// refuses (another ABI, from the embedded metadata alone), verify refuses.
BOOST_AUTO_TEST_CASE(status_and_verify_show_every_migration_when_a_plugin_is_broken) {
  ScratchDir dir;
  const std::string plugins = test::makePluginDir(
      dir, {testPlugin("counter"), testPlugin("marker")}, {"test_counter", "test_marker"});
  test::seedItems(dir / "store.db", 5);
  BOOST_REQUIRE(runGraft(test::graftArgs(dir, {"up", "-q"})).exit_code == 0);
  // test_counter is cut short; test_marker is replaced by one of another
  // ABI major, under its name.
  const std::string lib = test::readBytes(testPlugin("counter"));
  writeFile(plugins + "/test_counter.so", lib.substr(0, 1000));
  std::filesystem::remove(plugins + "/test_marker.so");
  std::filesystem::copy_file(testPlugin("other_major"), plugins + "/test_marker.so");
  const std::string truncated = "plugin " + plugins + "/test_counter.so: check: truncated: the file has 1000 "
                                "bytes, its headers need " + std::to_string(lib.size()) +
                                " (copy or build the plugin again)";
  const std::string other_abi = "plugin " + plugins + "/test_marker.so: ABI: built for graft ABI 2.0, "
                                "this host speaks 1.4 (rebuild the plugin against this host's SDK)";
  Outcome o = runGraft(test::graftArgs(dir, {"status"}));
  BOOST_TEST(o.exit_code == 4);
  BOOST_TEST(o.err == "graft: " + truncated + "\ngraft: " + other_abi + "\n");
  BOOST_TEST(o.out.find("\ntest_counter  broken (completed)          5          5  ") != std::string::npos,
             o.out);
  BOOST_TEST(o.out.find("\n    plugin: " + truncated + "\n") != std::string::npos, o.out);
  BOOST_TEST(o.out.find("\ntest_marker   broken (completed)") != std::string::npos, o.out);
  BOOST_TEST(o.out.find("\n    plugin: " + other_abi + "\n") != std::string::npos, o.out);

  o = runGraft(test::graftArgs(dir, {"status", "--json"}));
  BOOST_TEST(o.exit_code == 4);
  auto rows = boost::json::parse(o.out).as_array();
  BOOST_REQUIRE(rows.size() == 2u);
  BOOST_TEST(rows[0].at("state") == "completed");
  BOOST_TEST(rows[0].at("plugin_error").as_string() == truncated);

  o = runGraft(test::graftArgs(dir, {"verify"}));
  BOOST_TEST(o.exit_code == 4);
  BOOST_TEST(o.err == "graft: " + truncated + "\ngraft: " + other_abi + "\n");
  BOOST_TEST(o.out.find("test_counter: broken, blocks (completed)\n") == 0u, o.out);
  BOOST_TEST(o.out.find("\ntest_marker: broken, blocks (completed)\n") != std::string::npos, o.out);
  BOOST_TEST(o.out.find("  why: " + other_abi + "\n") != std::string::npos, o.out);
  BOOST_TEST(o.out.find("verify: 2 migrations, 2 blocking findings\n") != std::string::npos, o.out);
  o = runGraft(test::graftArgs(dir, {"up", "-q"}));
  BOOST_TEST(o.exit_code == 4);
}

BOOST_AUTO_TEST_CASE(untrusted_plugins_are_refused_unless_overridden_on_the_record) {
  ScratchDir dir;
  auto plugins = test::makePluginDir(dir, {testPlugin("counter")}, {"test_counter"});
  chmod(plugins.c_str(), 0777);
  test::seedItems(dir / "store.db", 3);
  Outcome o = runGraft(test::graftArgs(dir, {"up", "-q"}));
  BOOST_TEST(o.exit_code == 4);
  BOOST_TEST(o.err == "graft: plugin " + plugins + "/test_counter.so: trust: directory " + plugins +
                          " is writable by others (mode 0777; fix with chmod go-w " + plugins +
                          "); or pass --allow-untrusted-plugins\n"
                          "graft: migration \"test_counter\" is in " + plugins +
                          "/manifest.json but no plugin in " + plugins +
                          " that loaded has that id (it may be one that failed to load, above)\n");
  o = runGraft({"--db", dir / "store.db", "--plugins", plugins, "--allow-untrusted-plugins", "up", "-q"});
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(test::sqlValue(dir / "store.db", "SELECT command FROM migration_run") ==
             "up --allow-untrusted-plugins");
}

BOOST_AUTO_TEST_CASE(import_and_export_round_trip) {
  ScratchDir dir;
  test::writeFile(dir / "in.jsonl", "{\"a\":1}\n\n{\"b\":[true,null],\"c\":{\"d\":\"x\"}}\n");
  Outcome o = runGraft({"--db", dir / "store.db", "import", "things", dir / "in.jsonl"});
  BOOST_TEST(o.exit_code == 0);
  BOOST_TEST(o.out == "imported 2 documents into things\n");
  o = runGraft({"--db", dir / "store.db", "export", "things"});
  BOOST_TEST(o.exit_code == 0);
  const std::string t1 = test::sqlValue(dir / "store.db", "SELECT CAST(_creationTime AS INTEGER) FROM things WHERE _id = 1");
  const std::string t2 = test::sqlValue(dir / "store.db", "SELECT CAST(_creationTime AS INTEGER) FROM things WHERE _id = 2");
  BOOST_TEST(o.out == "{\"_id\":1,\"_creationTime\":" + t1 + ".0,\"a\":1}\n" +
                          "{\"_id\":2,\"_creationTime\":" + t2 + ".0" +
                          ",\"b\":[true,null],\"c\":{\"d\":\"x\"}}\n");
  // Whole milliseconds since the epoch: after 2025, and not in the future.
  BOOST_TEST(std::stoll(t1) > 1735689600000LL);
  BOOST_TEST(std::stoll(t2) >= std::stoll(t1));
}

// Every number comes back from export as import was given it: 2.5 stays
// 2.5, 1.0 stays 1.0, and no 17-digit double moves by an ulp (Boost.JSON
// 1.81 reads about one in ten of them one ulp off).
BOOST_AUTO_TEST_CASE(import_and_export_keep_every_number_as_written) {
  ScratchDir dir;
  std::mt19937_64 random(20261203);
  std::uniform_real_distribution<double> magnitude(-300, 300);
  std::string in = "{\"a\":2.5,\"b\":1.0,\"c\":980.1748474925821}\n";
  std::vector<std::string> members = {"\"a\":2.5,\"b\":1.0,\"c\":980.1748474925821"};
  char number[64];
  for (int i = 0; i < 20000; ++i) {
    const double d = std::pow(10.0, magnitude(random)) * (random() % 2 ? 1 : -1);
    std::snprintf(number, sizeof number, "%.17g", d);
    members.push_back("\"x\":" + std::string(number));
    in += "{" + members.back() + "}\n";
  }
  test::writeFile(dir / "in.jsonl", in);
  Outcome o = runGraft({"--db", dir / "store.db", "import", "numbers", dir / "in.jsonl"});
  BOOST_TEST_REQUIRE(o.exit_code == 0, o.err);
  BOOST_TEST(o.out == "imported 20001 documents into numbers\n");
  o = runGraft({"--db", dir / "store.db", "export", "numbers"});
  BOOST_TEST_REQUIRE(o.exit_code == 0, o.err);
  std::istringstream lines(o.out);
  std::string line;
  size_t i = 0, changed = 0;
  for (; std::getline(lines, line) && i < members.size(); ++i) {
    // {"_id":N,"_creationTime":T,<members>}
    const size_t start = line.find(',', line.find("\"_creationTime\"")) + 1;
    if (line.substr(start, line.size() - start - 1) != members[i]) ++changed;
  }
  BOOST_TEST(i == members.size());
  BOOST_TEST(changed == 0u);
}

BOOST_AUTO_TEST_CASE(a_bad_import_line_imports_nothing_and_exits_3) {
  ScratchDir dir;
  test::writeFile(dir / "in.jsonl", "{\"a\":1}\n{\"a\":2}\n{\"a\":\n");
  Outcome o = runGraft({"--db", dir / "store.db", "import", "things", dir / "in.jsonl"});
  BOOST_TEST(o.exit_code == 3);
  BOOST_TEST(o.err == "graft: import: " + dir / "in.jsonl" + ":3:6: incomplete JSON\n");
  test::writeFile(dir / "in.jsonl", "{\"a\":1}\n{\"_id\":5}\n");
  o = runGraft({"--db", dir / "store.db", "import", "things", dir / "in.jsonl"});
  BOOST_TEST(o.exit_code == 3);
  BOOST_TEST(o.err == "graft: import: " + dir / "in.jsonl" +
                          ":2: document sets _id: _id and _creationTime are assigned by the store "
                          "(remove _id and _creationTime from the input)\n");
  // Nothing imported: not even the table was created.
  BOOST_TEST(test::sqlValue(dir / "store.db", "SELECT count(*) FROM sqlite_master WHERE name = 'things'") == "0");
  o = runGraft({"--db", dir / "store.db", "import", "migration_state", dir / "in.jsonl"});
  BOOST_TEST(o.exit_code == 3);
  BOOST_TEST(o.err == "graft: import: table \"migration_state\" is reserved for graft (names "
                      "starting with migration_, graft_ or sqlite_)\n");
}

// --batch-size pins the batch size (the progress line counts the committed
// batches); it, --lock-ms, --pause-ms and --threads are checked before
// anything runs.
BOOST_AUTO_TEST_CASE(pacing_options) {
  ScratchDir dir;
  test::makePluginDir(dir, {testPlugin("counter")}, {"test_counter"});
  test::seedItems(dir / "store.db", 50);
  struct Bad {
    std::vector<std::string> args;
    std::string err;
  };
  const std::vector<Bad> bad = {
      {{"up", "--pause-ms", "-1"},
       "graft: usage: --pause-ms: expected milliseconds from 0 to 60000, got \"-1\" (see graft "
       "--help)\n"},
      {{"up", "--pause-ms", "soon"},
       "graft: usage: --pause-ms: expected milliseconds from 0 to 60000, got \"soon\" (see graft "
       "--help)\n"},
      {{"up", "--lock-ms", "0"},
       "graft: usage: --lock-ms: expected milliseconds from 0.1 to 10000, got \"0\" (see graft "
       "--help)\n"},
      {{"down", "--steps", "1", "--pause-ms", "60001"},
       "graft: usage: --pause-ms: expected milliseconds from 0 to 60000, got \"60001\" (see "
       "graft --help)\n"},
      {{"up", "--batch-size", "0"},
       "graft: usage: --batch-size: expected a whole number from 1 to 1000000, got \"0\" (see "
       "graft --help)\n"},
      {{"up", "--threads", "many"},
       "graft: usage: --threads: expected a whole number from 1 to 64, got \"many\" (see graft "
       "--help)\n"},
      {{"down", "--steps", "1", "--threads", "65"},
       "graft: usage: --threads: expected a whole number from 1 to 64, got \"65\" (see graft "
       "--help)\n"},
  };
  for (const auto& b : bad) {
    BOOST_TEST_CONTEXT(b.args[b.args.size() - 2] << " " << b.args.back()) {
      Outcome o = runGraft(test::graftArgs(dir, b.args));
      BOOST_TEST(o.exit_code == 2);
      BOOST_TEST(o.err == b.err);
    }
  }
  for (const auto& doc : test::readTable(dir / "store.db", "items")) BOOST_TEST(doc.at("n") == 0);
  // 50 documents in batches of 7: seven full ones and one of 1. Off a
  // terminal the last progress line says so.
  Outcome o = runGraft(test::graftArgs(dir, {"up", "--batch-size", "7", "--pause-ms", "1.5"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(o.err.find("test_counter 50/50 (100%) ") != std::string::npos, o.err);
  BOOST_TEST(o.err.find(" docs/s, 50 changed, 8 batches (last 1), ETA done\n") != std::string::npos,
             o.err);
  for (const auto& doc : test::readTable(dir / "store.db", "items")) BOOST_TEST(doc.at("n") == 1);
}

// What a bug report or a deploy script asks first: which graft is this.
BOOST_AUTO_TEST_CASE(version_prints_the_package_the_plugin_abi_and_the_store_format) {
  const std::string abi = std::to_string(GRAFT_ABI_MAJOR) + "." + std::to_string(GRAFT_ABI_MINOR);
  for (const char* flag : {"--version", "-V"}) {
    Outcome o = runGraft({flag});
    BOOST_TEST(o.exit_code == 0, o.err);
    BOOST_TEST(o.out == "graft " GRAFT_VERSION " (plugin ABI " + abi + ", store format 1)\n");
  }
  Outcome o = runGraft({"--version", "--json"});
  BOOST_TEST(o.exit_code == 0, o.err);
  const auto version = boost::json::parse(o.out).as_object();
  BOOST_TEST(version.at("graft") == GRAFT_VERSION);
  BOOST_TEST(version.at("plugin_abi").as_string() == abi);
  BOOST_TEST(version.at("store_format") == 1);
  BOOST_TEST(version.size() == 3u);
  // A command with no --json of its own does not take it silently.
  o = runGraft({"--db", "none.db", "up", "--json"});
  BOOST_TEST(o.exit_code == 2);
  BOOST_TEST(o.err ==
             "graft: usage: --json goes with --version or with a command that has its own --json "
             "(status, history, verify)\n");
}

// Global options may come after the command, as most tools allow.
BOOST_AUTO_TEST_CASE(global_options_may_follow_the_command) {
  ScratchDir dir;
  test::makePluginDir(dir, {testPlugin("counter")}, {"test_counter"});
  test::seedItems(dir / "store.db", 5);
  Outcome before = runGraft({"--db", dir / "store.db", "--plugins", dir / "plugins", "status"});
  Outcome after = runGraft({"status", "--plugins", dir / "plugins", "--db", dir / "store.db"});
  BOOST_TEST(before.exit_code == 0, before.err);
  BOOST_TEST(after.exit_code == 0, after.err);
  BOOST_TEST(after.out == before.out);
  BOOST_TEST(after.out.find("\ntest_counter  pending") != std::string::npos, after.out);
  Outcome up = runGraft({"up", "-q", "--db", dir / "store.db", "--plugins", dir / "plugins"});
  BOOST_TEST(up.exit_code == 0, up.err);
  for (const auto& doc : test::readTable(dir / "store.db", "items")) BOOST_TEST(doc.at("n") == 1);
}

// Runs graft on a pseudo-terminal `columns` wide with TERM=`term` (unset
// when empty), and returns what it wrote there (stdout and stderr both).
std::string runOnTerminal(const std::vector<std::string>& args, const std::string& term,
                          unsigned short columns) {
  struct winsize size {};
  size.ws_row = 24;
  size.ws_col = columns;
  int terminal = -1;
  const pid_t pid = forkpty(&terminal, nullptr, nullptr, &size);
  BOOST_TEST_REQUIRE(pid >= 0);
  if (pid == 0) {
    if (term.empty()) {
      unsetenv("TERM");
    } else {
      setenv("TERM", term.c_str(), 1);
    }
    unsetenv("COLUMNS");
    std::vector<char*> argv{const_cast<char*>(GRAFT_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(GRAFT_BINARY, argv.data());
    _exit(127);
  }
  std::string out;
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(terminal, buffer, sizeof buffer);
    if (n <= 0) break;  // EIO once graft has exited and closed its side
    out.append(buffer, static_cast<size_t>(n));
  }
  close(terminal);
  int status = 0;
  waitpid(pid, &status, 0);
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 0, out);
  return out;
}

// The progress line redraws in place within the terminal's width (it used
// to be 145-160 columns and wrapped on 80), and a terminal that can not
// erase a line (TERM=dumb) gets plain lines, no escape sequences.
BOOST_AUTO_TEST_CASE(progress_fits_the_terminal_and_a_dumb_one_gets_plain_lines) {
  ScratchDir dir;
  test::makePluginDir(dir, {testPlugin("counter")}, {"test_counter"});
  test::seedItems(dir / "store.db", 300);
  const std::string out =
      runOnTerminal(test::graftArgs(dir, {"up", "--batch-size", "50"}), "xterm", 60);
  BOOST_TEST(out.find("\033[K") != std::string::npos, out);
  // Each redraw is "\r\033[K<line>"; no line may reach the last column.
  size_t lines = 0;
  for (size_t at = out.find("\r\033[K"); at != std::string::npos;
       at = out.find("\r\033[K", at + 1)) {
    const size_t begin = at + 4;
    const size_t end = out.find_first_of("\r\n", begin);
    BOOST_TEST(end - begin < 60u, out.substr(begin, end - begin));
    ++lines;
  }
  BOOST_TEST(lines >= 1u);
  // 60 columns leave no room for the bar, the batches or the changed count.
  BOOST_TEST(out.find("\033[Ktest_counter 300/300 (100%) ") != std::string::npos, out);
  BOOST_TEST(out.find(" docs/s ETA done\r\n") != std::string::npos, out);
  for (const std::string term : {"dumb", ""}) {
    BOOST_TEST_CONTEXT("TERM=" << term) {
      ScratchDir again;
      test::makePluginDir(again, {testPlugin("counter")}, {"test_counter"});
      test::seedItems(again / "store.db", 300);
      const std::string plain =
          runOnTerminal(test::graftArgs(again, {"up", "--batch-size", "50"}), term, 60);
      BOOST_TEST(plain.find('\033') == std::string::npos, plain);
      BOOST_TEST(plain.find("test_counter 300/300 (100%) ") != std::string::npos, plain);
      BOOST_TEST(
          plain.find(" docs/s, 300 changed, 6 batches (last 50), ETA done") != std::string::npos,
          plain);
    }
  }
}

// One prefix, the command's own words: not "graft: graft down needs ...".
BOOST_AUTO_TEST_CASE(down_without_steps_or_to_says_what_it_needs_once) {
  ScratchDir dir;
  test::makePluginDir(dir, {testPlugin("counter")}, {"test_counter"});
  test::seedItems(dir / "store.db", 5);
  Outcome o = runGraft(test::graftArgs(dir, {"down"}));
  BOOST_TEST(o.exit_code == 2);
  BOOST_TEST(o.err == "graft: down needs exactly one of --steps N or --to ID\n");
}

BOOST_AUTO_TEST_CASE(a_failing_migration_exits_1_then_resumes) {
  ScratchDir dir;
  test::makePluginDir(dir, {testPlugin("fail_at"), testPlugin("counter")}, {"test_fail_at", "test_counter"});
  test::seedItems(dir / "store.db", 50);
  // Every run removes its private copies of the plugins (in $TMPDIR) when
  // it ends, failed or not.
  std::filesystem::create_directory(dir / "tmp");
  const std::string tmp = "TMPDIR=" + dir / "tmp";
  Outcome o = runGraft(test::graftArgs(dir, {"up", "--quiet"}), {"GRAFT_TEST_FAIL_AT=33", tmp});
  BOOST_TEST(o.exit_code == 1);
  BOOST_TEST(test::listDir(dir / "tmp").empty());
  BOOST_TEST(o.err ==
             "graft: migration test_fail_at failed: migrateOne failed on items/33: cannot migrate "
             "k=33; the batch was rolled back, the cursor stays at _id 30 (fix the cause, then run "
             "graft up again to resume)\n");
  BOOST_TEST(o.out == "test_fail_at: failed, 30 documents visited, 30 patched\n");
  // The run stopped: the next migration did not start.
  for (const auto& doc : test::readTable(dir / "store.db", "items")) BOOST_TEST(doc.at("n") == 0);

  o = runGraft(test::graftArgs(dir, {"status"}));
  BOOST_TEST(o.exit_code == 0);
  BOOST_TEST(o.out.find("test_fail_at  failed") != std::string::npos, o.out);
  BOOST_TEST(o.out.find("    error: migrateOne failed on items/33: cannot migrate k=33\n") !=
             std::string::npos);

  o = runGraft(test::graftArgs(dir, {"status", "--load-plugins"}), {tmp});
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(test::listDir(dir / "tmp").empty());
  // What up would do next, from the plan a run makes.
  o = runGraft(test::graftArgs(dir, {"status", "--json"}));
  auto planned = boost::json::parse(o.out).as_array();
  BOOST_REQUIRE(planned.size() == 2u);
  BOOST_TEST(planned[0].at("next") == "resume");
  BOOST_TEST(planned[1].at("next") == "run");

  o = runGraft(test::graftArgs(dir, {"up", "--quiet"}), {tmp});
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(o.out == "test_fail_at: completed, 20 documents visited, 20 patched\n"
                      "test_counter: completed, 50 documents visited, 50 patched\n");
  BOOST_TEST(test::listDir(dir / "tmp").empty());
  o = runGraft(test::graftArgs(dir, {"status", "--json"}));
  auto rows = boost::json::parse(o.out).as_array();
  BOOST_REQUIRE(rows.size() == 2u);
  BOOST_TEST(rows[0].at("id") == "test_fail_at");
  BOOST_TEST(rows[0].at("state") == "completed");
  BOOST_TEST(rows[0].at("processed") == 50);
  BOOST_TEST(rows[0].at("total") == 50);
  BOOST_TEST(rows[1].at("state") == "completed");
  BOOST_TEST(rows[1].at("next") == "skip");
  // What it ran with and what its plugin is now, by the names verify uses.
  const std::string counter_sha256 = sha256Hex(test::readBytes(testPlugin("counter")));
  BOOST_TEST(rows[1].at("file_sha256").as_string() == counter_sha256);
  BOOST_TEST(rows[1].at("recorded_file_sha256").as_string() == counter_sha256);
  BOOST_TEST(rows[1].at("logic_digest") == rows[1].at("recorded_logic_digest"));
  BOOST_TEST(rows[1].at("logic_digest").as_string().starts_with("v1:sha256:"));
  o = runGraft(test::graftArgs(dir, {"up"}));
  BOOST_TEST(o.out == "nothing to do: every migration is completed\n");
}

BOOST_AUTO_TEST_CASE(sigterm_finishes_the_batch_exits_6_and_resumes) {
  ScratchDir dir;
  test::makePluginDir(dir, {testPlugin("counter")}, {"test_counter"});
  const int n = 200000;
  test::seedItems(dir / "store.db", n);
  pid_t pid = test::startGraft(test::graftArgs(dir, {"up", "--batch-size", "100"}), dir / "out", dir / "err");
  // Wait until the first batches are committed, then ask it to stop.
  for (int i = 0; i < 500; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::string processed = test::sqlValue(dir / "store.db",
                                           "SELECT processed FROM migration_state WHERE id = 'test_counter'");
    if (!processed.empty() && std::stoll(processed) > 0) break;
  }
  kill(pid, SIGTERM);
  Outcome o = test::waitGraft(pid, dir / "out", dir / "err");
  BOOST_TEST(o.exit_code == 6, o.err);
  BOOST_TEST(o.err.find("graft: stopped by signal after a committed batch; run graft up to resume\n") !=
             std::string::npos);
  BOOST_TEST(test::sqlValue(dir / "store.db", "SELECT status FROM migration_state") == "canceled");
  const std::string cursor = test::sqlValue(dir / "store.db", "SELECT cursor FROM migration_state");
  BOOST_TEST(std::stoll(cursor) % 100 == 0);
  BOOST_TEST(std::stoll(cursor) < n);
  o = runGraft(test::graftArgs(dir, {"up", "--quiet"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(test::sqlValue(dir / "store.db",
                            "SELECT count(*) FROM items WHERE json_extract(body, '$.n') != 1") == "0");
  BOOST_TEST(test::sqlValue(dir / "store.db", "SELECT processed FROM migration_state") == std::to_string(n));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
