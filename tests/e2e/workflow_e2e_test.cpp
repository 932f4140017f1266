// The team workflow end to end: graft installed with `cmake --install`, a
// plugin built outside graft's tree against the installed SDK and hot-added
// to the installed host, `graft create`, and graft.sum catching a merge that
// nobody reviewed. Real CMake, real compiler, real files, real binaries.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <stdexcept>

#include "harness.h"
#include "base/sha256.h"

extern char** environ;

namespace graft {
namespace {

namespace fs = std::filesystem;
using test::Outcome;
using test::runProgram;
using test::ScratchDir;
using test::testPlugin;
using test::readBytes;
using test::writeFile;


// `cmake --install` of the build these tests belong to, into a scratch
// prefix; once per process, shared by the tests that need it.
const std::string& installedPrefix() {
  static ScratchDir dir;
  static const std::string prefix = [] {
    const std::string p = dir / "prefix";
    Outcome o = runProgram({GRAFT_CMAKE_COMMAND, "--install", GRAFT_BUILD_DIR, "--prefix", p});
    if (o.exit_code != 0) throw std::runtime_error("cmake --install failed:\n" + o.out + o.err);
    return p;
  }();
  return prefix;
}

// Configures and builds the CMake project in `source` against the installed
// graft only (find_package through CMAKE_PREFIX_PATH).
void buildAgainstInstalledSdk(const std::string& source, const std::string& build) {
  Outcome o = runProgram({GRAFT_CMAKE_COMMAND, "-S", source, "-B", build,
                          "-DCMAKE_PREFIX_PATH=" + installedPrefix(), "-DCMAKE_BUILD_TYPE=Release",
                          "-DCMAKE_CXX_COMPILER=" GRAFT_CXX_COMPILER});
  BOOST_TEST_REQUIRE(o.exit_code == 0, "configure " << source << ":\n" << o.out << o.err);
  o = runProgram({GRAFT_CMAKE_COMMAND, "--build", build});
  BOOST_TEST_REQUIRE(o.exit_code == 0, "build " << source << ":\n" << o.out << o.err);
}

bool everyItem(const std::string& db, const std::string& field, const boost::json::value& value) {
  for (const auto& doc : test::readTable(db, "items")) {
    const boost::json::value* v = doc.if_contains(field);
    if (!v || *v != value) return false;
  }
  return true;
}

const char* const kOutsideProject = R"(cmake_minimum_required(VERSION 3.25)
project(outside LANGUAGES CXX)
find_package(graft 0.1 REQUIRED)
graft_add_migration(20260501_000000_outside_flag SOURCES flag.cpp)
)";

const char* const kOutsideMigration = R"(#include <graft/migration.hpp>

static const auto migration = graft::defineMigration({
    .id = "20260501_000000_outside_flag",
    .description = "built outside graft's tree",
    .up = {.table = "items",
           .migrateOne = [](graft::Ctx&, const boost::json::object& doc) -> graft::Result {
             if (doc.contains("outside")) return graft::skip;
             return graft::Patch().set("outside", true);
           }},
});
GRAFT_EXPORT_MIGRATION(migration)
)";

BOOST_AUTO_TEST_SUITE(workflow)

BOOST_AUTO_TEST_CASE(installed_sdk_builds_a_plugin_the_installed_host_runs_unchanged) {
  const std::string prefix = installedPrefix();
  const std::string host = prefix + "/bin/graft";
  for (const std::string file :
       {"/bin/graft", "/include/graft/graft.h", "/include/graft/migration.hpp"})
    BOOST_TEST_REQUIRE(fs::exists(prefix + file), prefix + file);
  const std::string host_sha = sha256Hex(readBytes(host));

  ScratchDir dir;
  const std::string db = dir / "store.db";
  test::seedItems(db, 20);
  const std::string plugins = test::makePluginDir(dir, {}, {});
  Outcome o = runProgram({host, "--db", db, "--plugins", plugins, "up", "-q"});
  BOOST_TEST_REQUIRE(o.exit_code == 0, o.err);

  fs::create_directories(dir / "outside");
  writeFile(dir / "outside/CMakeLists.txt", kOutsideProject);
  writeFile(dir / "outside/flag.cpp", kOutsideMigration);
  buildAgainstInstalledSdk(dir / "outside", dir / "outside/build");

  // Hot-add: drop the plugin in and list it; the host is not rebuilt.
  test::makePluginDir(dir, {dir / "outside/build/20260501_000000_outside_flag.so"},
                      {"20260501_000000_outside_flag"});
  BOOST_TEST(!everyItem(db, "outside", true));
  o = runProgram({host, "--db", db, "--plugins", plugins, "up", "-q"});
  BOOST_TEST_REQUIRE(o.exit_code == 0, o.err);
  BOOST_TEST(everyItem(db, "outside", true));
  BOOST_TEST(test::readTable(db, "items").size() == 20u);
  BOOST_TEST(test::sqlValue(db,
                            "SELECT status || ' ' || processed || ' ' || changed FROM "
                            "migration_state WHERE id = '20260501_000000_outside_flag'") ==
             "completed 20 20");

  // The installed graft_add_migration embedded a logic digest: it can be summed.
  o = runProgram({host, "--plugins", plugins, "sum"});
  BOOST_TEST(o.exit_code == 0, o.err);
  o = runProgram({host, "--plugins", plugins, "sum", "--check"});
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(o.out == plugins + "/graft.sum matches the manifest and plugins: 1 migration\n");

  BOOST_TEST(sha256Hex(readBytes(host)) == host_sha);
}

BOOST_AUTO_TEST_CASE(create_writes_files_that_build_and_run) {
  const std::string host = installedPrefix() + "/bin/graft";
  ScratchDir dir;
  const std::string db = dir / "store.db";
  const std::string migrations = dir / "migrations";
  const std::string manifest = migrations + "/manifest.json";
  const std::string plugins = migrations + "/build/plugins";
  test::seedItems(db, 20);
  const auto before = test::readTable(db, "items");
  auto graft = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {host, "--db", db, "--plugins", plugins, "--manifest", manifest});
    return runProgram(args);
  };

  Outcome o = graft({"create", "mark_seen", "--table", "items"});
  BOOST_TEST_REQUIRE(o.exit_code == 0, o.err);
  // "created migration YYYYMMDD_HHMMSS_mark_seen\n..."
  const std::string first = o.out.substr(18, 25);
  BOOST_TEST_REQUIRE(first.size() == 25u);
  BOOST_TEST(first.substr(15) == "_mark_seen");
  BOOST_TEST(o.out == "created migration " + first + "\n  wrote " + migrations + "/" + first +
                          ".cpp\n  wrote " + migrations + "/CMakeLists.txt\n  wrote " + manifest +
                          "\n");

  buildAgainstInstalledSdk(migrations, migrations + "/build");
  o = graft({"up", "-q"});
  BOOST_TEST_REQUIRE(o.exit_code == 0, o.err);
  BOOST_TEST(test::sqlValue(db,
                            "SELECT status || ' ' || processed || ' ' || changed FROM "
                            "migration_state WHERE id = '" +
                                first + "'") == "completed 20 0");
  BOOST_TEST(test::readTable(db, "items") == before, boost::test_tools::per_element());

  // With a graft.sum, create adds a pending entry that up refuses until
  // graft sum has seen the built plugin.
  o = graft({"sum"});
  BOOST_TEST_REQUIRE(o.exit_code == 0, o.err);
  o = graft({"create", "second", "--table", "items"});
  BOOST_TEST_REQUIRE(o.exit_code == 0, o.err);
  const std::string second = o.out.substr(18, 22);
  BOOST_TEST(o.out.find("  appended to " + migrations +
                        "/graft.sum (pending: build, then run graft sum)\n") != std::string::npos,
             o.out);
  buildAgainstInstalledSdk(migrations, migrations + "/build");
  o = graft({"up", "-q"});
  BOOST_TEST(o.exit_code == 8);
  BOOST_TEST(o.err == "graft: sum check: " + migrations + "/graft.sum:4: entry \"" + second +
                          "\" is pending: graft create added it and graft sum has not run since "
                          "(build it, then run graft sum, and review)\n");
  o = graft({"sum"});
  BOOST_TEST_REQUIRE(o.exit_code == 0, o.err);
  o = graft({"up", "-q"});
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(test::sqlValue(db, "SELECT status FROM migration_state WHERE id = '" + second + "'") ==
             "completed");
}

BOOST_AUTO_TEST_CASE(sum_catches_a_merge_of_two_branches_and_graft_sum_fixes_it) {
  ScratchDir dir;
  const std::string db = dir / "store.db";
  test::seedItems(db, 30);
  test::seedDocs(db, "probes", {{{"action", "none"}}});  // the table test_probe walks
  auto graft = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--db", db, "--plugins", dir / "plugins"});
    return test::runGraft(args);
  };
  // main: one migration, summed and committed.
  const std::string plugins = test::makePluginDir(dir, {testPlugin("counter")}, {"test_counter"});
  const std::string sum = plugins + "/graft.sum";
  Outcome o = graft({"sum"});
  BOOST_TEST_REQUIRE(o.exit_code == 0, o.err);
  BOOST_TEST(o.out.find("wrote " + sum + ": 1 migration, total ") == 0u, o.out);
  o = graft({"sum"});
  BOOST_TEST(o.out == sum + " is up to date: 1 migration\n");
  const std::string base = readBytes(sum);
  // Two branches each add a migration, and each runs graft sum.
  test::makePluginDir(dir, {testPlugin("fail_at")}, {"test_counter", "test_fail_at"});
  BOOST_TEST_REQUIRE(graft({"sum"}).exit_code == 0);
  const std::string ours = readBytes(sum);
  fs::remove(plugins + "/test_fail_at.so");
  test::makePluginDir(dir, {testPlugin("probe")}, {"test_counter", "test_probe"});
  BOOST_TEST_REQUIRE(graft({"sum"}).exit_code == 0);
  const std::string theirs = readBytes(sum);
  BOOST_TEST(ours != base);
  BOOST_TEST(theirs != ours);

  // The merge: both migrations in the manifest, in an order nobody reviewed.
  test::makePluginDir(dir, {testPlugin("fail_at")}, {"test_counter", "test_fail_at", "test_probe"});
  struct Merged {
    const char* name;
    std::string sum_text;
    std::string error;
  };
  const std::string fix =
      " (the manifest changed after graft sum ran: run graft sum after merging, and review)\n";
  const std::vector<Merged> merges = {
      {"kept our graft.sum", ours,
       "graft: sum check: " + sum + ": no entry for \"test_probe\", migrations[2] of the manifest" +
           fix},
      {"kept their graft.sum", theirs,
       "graft: sum check: " + sum +
           ":4: entry \"test_probe\" does not match the manifest, which has \"test_fail_at\" "
           "there" +
           fix},
      {"left git's conflict in it",
       base.substr(0, 12) + "<<<<<<< ours\n" + ours.substr(12) + "=======\n" + theirs.substr(12) +
           ">>>>>>> theirs\n",
       "graft: sum check: " + sum +
           ":2: unresolved merge conflict (resolve the manifest, then run graft sum after merging, "
           "and review)\n"},
  };
  for (const auto& m : merges) {
    BOOST_TEST_CONTEXT(m.name) {
      writeFile(sum, m.sum_text);
      o = graft({"up", "-q"});
      BOOST_TEST(o.exit_code == 8);
      BOOST_TEST(o.err == m.error);
      BOOST_TEST(o.out == "");
      o = graft({"sum", "--check"});
      BOOST_TEST(o.exit_code == 8);
      BOOST_TEST(o.err == m.error);
    }
  }
  BOOST_TEST(everyItem(db, "n", 0));  // nothing ran

  // Reviewed: graft sum pins the merged order, and up runs it.
  o = graft({"sum"});
  BOOST_TEST_REQUIRE(o.exit_code == 0, o.err);
  BOOST_TEST(o.out.find("wrote " + sum + ": 3 migrations, total ") == 0u, o.out);
  o = graft({"sum", "--check"});
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(o.out == sum + " matches the manifest and plugins: 3 migrations\n");
  o = graft({"up", "-q"});
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(everyItem(db, "n", 1));
  BOOST_TEST(everyItem(db, "done", true));

  // No graft.sum, no check: the file is opt-in.
  fs::remove(sum);
  o = graft({"sum", "--check"});
  BOOST_TEST(o.exit_code == 8);
  BOOST_TEST(o.err == "graft: sum check: " + sum + ": does not exist (write it with graft sum)\n");
  o = graft({"up", "-q"});
  BOOST_TEST(o.exit_code == 0, o.err);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
