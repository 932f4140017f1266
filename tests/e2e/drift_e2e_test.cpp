// Drift detection end to end: a migration built by a CMake project of its own
// (tests/drift_fixture, with the in-tree SDK's graft_add_migration), applied
// with the real graft binary, then edited and rebuilt, rebuilt elsewhere,
// deleted, reordered and restarted. Real CMake, compiler, files and binaries.
#include <fcntl.h>
#include <graft/graft.h>
#include <spawn.h>
#include <sys/wait.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <stdexcept>

#include "harness.h"
#include "plugins/plugin.h"
#include "base/sha256.h"

extern char** environ;

namespace graft {
namespace {

namespace fs = std::filesystem;
using test::Outcome;
using test::runProgram;
using test::runGraft;
using test::ScratchDir;
using test::testPlugin;
using test::readBytes;
using test::writeFile;

const std::string kId = "drift_fixture";


void cmake(const std::vector<std::string>& args, const std::string& what) {
  std::vector<std::string> argv{GRAFT_CMAKE_COMMAND};
  argv.insert(argv.end(), args.begin(), args.end());
  Outcome o = runProgram(argv);
  if (o.exit_code != 0) throw std::runtime_error(what + " failed:\n" + o.out + o.err);
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  if (at == std::string::npos) throw std::runtime_error("no \"" + from + "\" in the fixture");
  return text.replace(at, from.size(), to);
}

// The fixture plugin built three ways, once per process: the source as it
// is (v1); the same build directory after the source was edited (v2); and
// the unchanged source copied elsewhere and built there with other flags.
struct Builds {
  ScratchDir dir;
  std::string v1, v2, elsewhere;  // paths of <kId>.so
  std::string second_build_log;   // of the v2 build, which must not configure again

  Builds() {
    const std::string fixture = GRAFT_DRIFT_FIXTURE_DIR;
    const std::string sdk = "-DGRAFT_SDK_DIR=" GRAFT_SDK_DIR;
    const std::string compiler = "-DCMAKE_CXX_COMPILER=" GRAFT_CXX_COMPILER;
    fs::copy(fixture, dir / "src", fs::copy_options::recursive);
    cmake({"-S", dir / "src", "-B", dir / "build", sdk, compiler}, "configure the fixture");
    cmake({"--build", dir / "build"}, "build the fixture");
    v1 = keep(dir / "build", "v1");

    const std::string source = dir / "src/" + kId + ".cpp";
    writeFile(source, replaced(readBytes(source), "set(\"v\", 1)", "set(\"v\", 2)"));
    Outcome o = runProgram({GRAFT_CMAKE_COMMAND, "--build", dir / "build"});
    if (o.exit_code != 0) throw std::runtime_error("rebuild the fixture:\n" + o.out + o.err);
    second_build_log = o.out;
    v2 = keep(dir / "build", "v2");

    fs::create_directories(dir / "elsewhere");
    fs::copy(fixture, dir / "elsewhere/src", fs::copy_options::recursive);
    cmake({"-S", dir / "elsewhere/src", "-B", dir / "elsewhere/build", sdk, compiler,
           "-DCMAKE_BUILD_TYPE=Release"},
          "configure the fixture elsewhere");
    cmake({"--build", dir / "elsewhere/build"}, "build the fixture elsewhere");
    elsewhere = keep(dir / "elsewhere/build", "elsewhere");
  }

  // Copies the plugin just built in `build` to <dir>/<name>/<kId>.so.
  std::string keep(const std::string& build, const std::string& name) const {
    fs::create_directories(dir / name);
    const std::string to = dir / name + "/" + kId + ".so";
    fs::copy_file(build + "/plugins/" + kId + ".so", to);
    return to;
  }
};

const Builds& builds() {
  static const Builds built;
  return built;
}

struct Loaded {
  std::string digest, sha256;
};
Loaded load(const std::string& path) {
  auto plugin = Plugin::load(path);
  if (!plugin.ok()) throw std::runtime_error(plugin.status().message());
  return {(*plugin)->logicDigest(), (*plugin)->fileSha256()};
}
std::string shortDigest(const std::string& path) { return load(path).digest.substr(0, 22); }


// <dir>/plugins holding exactly `files` (as their file names) and a manifest
// listing `ids`.
void usePlugins(const ScratchDir& dir, const std::vector<std::string>& files,
                const std::vector<std::string>& ids) {
  fs::remove_all(dir / "plugins");
  test::makePluginDir(dir, files, ids);
}

std::string lastRun(const std::string& db, const std::string& column) {
  return test::sqlValue(
      db, "SELECT " + column + " FROM migration_run ORDER BY started_at DESC, run_id DESC LIMIT 1");
}

bool everyItem(const std::string& db, const std::string& field, const boost::json::value& value) {
  for (const auto& doc : test::readTable(db, "items"))
    if (!doc.contains(field) || doc.at(field) != value) return false;
  return true;
}

// Applies the v1 fixture to 20 items in a fresh store.
void applyV1(const ScratchDir& dir) {
  usePlugins(dir, {builds().v1}, {kId});
  test::seedItems(dir / "store.db", 20);
  Outcome o = runGraft(test::graftArgs(dir, {"up", "-q"}));
  BOOST_TEST_REQUIRE(o.exit_code == 0, o.err);
  BOOST_TEST_REQUIRE(o.out == "drift_fixture: completed, 20 documents visited, 20 patched\n");
}

BOOST_AUTO_TEST_SUITE(drift_e2e)

BOOST_AUTO_TEST_CASE(the_digest_covers_the_source_and_not_the_build) {
  const Builds& b = builds();
  const Loaded v1 = load(b.v1), v2 = load(b.v2), elsewhere = load(b.elsewhere);
  // Exactly what GraftLogicDigest.cmake documents, over the fixture source.
  const std::string source = readBytes(std::string(GRAFT_DRIFT_FIXTURE_DIR) + "/" + kId + ".cpp");
  const std::string expected =
      "v1:sha256:" +
      sha256Hex("graft logic digest v1\nid drift_fixture\nabi " + std::to_string(GRAFT_ABI_MAJOR) +
                "\nsource " + sha256Hex(source) + "\n");
  BOOST_TEST(v1.digest == expected);
  BOOST_TEST(v2.digest != v1.digest);
  BOOST_TEST(v2.digest.size() == v1.digest.size());
  // The edit reached the digest without configuring again.
  BOOST_TEST(
      b.second_build_log.find("Logic digest of migration drift_fixture") != std::string::npos,
      b.second_build_log);
  BOOST_TEST(b.second_build_log.find("Configuring") == std::string::npos, b.second_build_log);
  // Another directory and other flags: another file, the same logic.
  BOOST_TEST(elsewhere.digest == v1.digest);
  BOOST_TEST(elsewhere.sha256 != v1.sha256);
}

BOOST_AUTO_TEST_CASE(the_digest_ignores_line_endings_a_bom_and_the_order_of_sources) {
  ScratchDir dir;
  const std::string source = readBytes(std::string(GRAFT_DRIFT_FIXTURE_DIR) + "/" + kId + ".cpp");
  std::string crlf = "\xEF\xBB\xBF";
  for (char c : source) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  writeFile(dir / "lf.cpp", source);
  writeFile(dir / "crlf.cpp", crlf);
  writeFile(dir / "helper.h", "// a second source\n");
  auto digest = [&](const std::vector<std::string>& sources) {
    std::vector<std::string> argv{"-DID=drift_fixture",
                                  "-DABI_HEADER=" GRAFT_SDK_DIR "/include/graft/graft.h",
                                  "-DOUTPUT=" + dir / "digest.c",
                                  "-P",
                                  GRAFT_SDK_DIR "/cmake/GraftLogicDigest.cmake",
                                  "--"};
    for (const auto& s : sources) argv.push_back(dir / s);
    cmake(argv, "GraftLogicDigest.cmake");
    const std::string text = readBytes(dir / "digest.c");
    const size_t at = text.find("\"v1:sha256:");
    return at == std::string::npos ? text : text.substr(at + 1, 10 + 64);
  };
  const std::string lf = digest({"lf.cpp"});
  BOOST_TEST(lf == load(builds().v1).digest);
  BOOST_TEST(digest({"crlf.cpp"}) == lf);
  const std::string two = digest({"lf.cpp", "helper.h"});
  BOOST_TEST(two != lf);
  BOOST_TEST(digest({"helper.h", "lf.cpp"}) == two);
}

BOOST_AUTO_TEST_CASE(an_edited_and_rebuilt_migration_blocks_up_until_allow_drift) {
  ScratchDir dir;
  applyV1(dir);
  usePlugins(dir, {builds().v2, testPlugin("counter")}, {kId, "test_counter"});
  const std::string drift =
      "migration drift_fixture: logic changed since it was applied (completed): recorded " +
      shortDigest(builds().v1) + ", now " + shortDigest(builds().v2) + " in " + dir / "plugins/" +
      kId + ".so";
  const std::string blocked = drift +
                              " (restore the source it was applied with and put the change in a "
                              "new migration; --allow-drift runs anyway)";
  Outcome o = runGraft(test::graftArgs(dir, {"up", "-q"}));
  BOOST_TEST(o.exit_code == 8);
  BOOST_TEST(o.err == "graft: " + blocked + "\n");
  BOOST_TEST(o.out == "");
  BOOST_TEST(lastRun(dir / "store.db", "status") == "drift_blocked");
  BOOST_TEST(lastRun(dir / "store.db", "command") == "up");
  BOOST_TEST(lastRun(dir / "store.db", "error") == blocked);
  BOOST_TEST(everyItem(dir / "store.db", "n", 0));  // test_counter did not run
  BOOST_TEST(everyItem(dir / "store.db", "v", 1));

  o = runGraft(test::graftArgs(dir, {"status"}));
  BOOST_TEST(o.exit_code == 0);
  BOOST_TEST(o.out.find("drift_fixture  drifted (completed)") != std::string::npos, o.out);
  BOOST_TEST(o.out.find("    drift: " + blocked + "\n") != std::string::npos, o.out);
  // The plan a run would make: the completed one skipped, the pending one
  // blocked with the rest.
  o = runGraft(test::graftArgs(dir, {"status", "--json"}));
  auto rows = boost::json::parse(o.out).as_array();
  BOOST_REQUIRE(rows.size() == 2u);
  BOOST_TEST(rows[0].at("next") == "skip");
  BOOST_TEST(rows[1].at("next") == "blocked");

  o = runGraft(test::graftArgs(dir, {"verify"}));
  BOOST_TEST(o.exit_code == 8);
  BOOST_TEST(o.err == "graft: " + blocked + "\n");
  BOOST_TEST(o.out ==
             "drift_fixture: drifted, blocks (completed)\n"
             "  logic digest: recorded " +
                 load(builds().v1).digest + ", now " + load(builds().v2).digest +
                 "\n"
                 "  file sha256:  recorded " +
                 load(builds().v1).sha256 + ", now " + load(builds().v2).sha256 +
                 "\n"
                 "  plugin: " +
                 dir / "plugins/" + kId +
                 ".so\n"
                 "  why: " +
                 blocked +
                 "\n"
                 "test_counter: pending (pending)\n"
                 "  logic digest: recorded -, now " +
                 load(testPlugin("counter")).digest +
                 "\n"
                 "  file sha256:  recorded -, now " +
                 load(testPlugin("counter")).sha256 +
                 "\n"
                 "  plugin: " +
                 dir /
                     "plugins/test_counter.so\n"
                     "verify: 2 migrations, 1 blocking finding\n");
  o = runGraft(test::graftArgs(dir, {"verify", "--json"}));
  BOOST_TEST(o.exit_code == 8);
  auto report = boost::json::parse(o.out).as_object();
  BOOST_TEST(report.at("blocked") == true);
  const auto& fixture = report.at("migrations").at(0).as_object();
  BOOST_TEST(fixture.at("verdict") == "drifted");
  BOOST_TEST(fixture.at("recorded").at("logic_digest") ==
             boost::json::value(load(builds().v1).digest));
  BOOST_TEST(fixture.at("now").at("logic_digest") == boost::json::value(load(builds().v2).digest));
  BOOST_TEST(fixture.at("findings").at(0).at("message") == boost::json::value(blocked));

  o = runGraft(test::graftArgs(dir, {"up", "-q", "--allow-drift"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(o.err == "graft: note: " + drift + " (let through by --allow-drift)\n");
  BOOST_TEST(o.out == "test_counter: completed, 20 documents visited, 20 patched\n");
  BOOST_TEST(everyItem(dir / "store.db", "n", 1));
  BOOST_TEST(lastRun(dir / "store.db", "status") == "completed");
  BOOST_TEST(lastRun(dir / "store.db", "command") == "up --allow-drift");
  BOOST_TEST(lastRun(dir / "store.db", "error") ==
             "note: " + drift + " (let through by --allow-drift)");
}

BOOST_AUTO_TEST_CASE(the_same_source_rebuilt_elsewhere_is_rebuilt_not_drift) {
  ScratchDir dir;
  applyV1(dir);
  usePlugins(dir, {builds().elsewhere}, {kId});
  const std::string rebuilt =
      "migration drift_fixture: plugin rebuilt since it was applied: file sha256 recorded " +
      load(builds().v1).sha256.substr(0, 12) + ", now " +
      load(builds().elsewhere).sha256.substr(0, 12) + " in " + dir / "plugins/" + kId +
      ".so, same logic " + shortDigest(builds().v1);
  Outcome o = runGraft(test::graftArgs(dir, {"status"}));
  BOOST_TEST(o.exit_code == 0);
  BOOST_TEST(o.out.find("drift_fixture  rebuilt (completed)") != std::string::npos, o.out);

  o = runGraft(test::graftArgs(dir, {"up"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(o.err == "graft: note: " + rebuilt + " (nothing to do; --strict refuses this)\n");
  BOOST_TEST(o.out == "nothing to do: every migration is completed\n");
  BOOST_TEST(runGraft(test::graftArgs(dir, {"verify"})).exit_code == 0);

  o = runGraft(test::graftArgs(dir, {"up", "--strict"}));
  BOOST_TEST(o.exit_code == 8);
  BOOST_TEST(o.err == "graft: " + rebuilt +
                          " (restore the plugin file it was applied with, or run without "
                          "--strict)\n");
  BOOST_TEST(lastRun(dir / "store.db", "command") == "up --strict");
  BOOST_TEST(runGraft(test::graftArgs(dir, {"verify", "--strict"})).exit_code == 8);
}

BOOST_AUTO_TEST_CASE(an_applied_migration_whose_plugin_is_gone_blocks) {
  ScratchDir dir;
  applyV1(dir);
  // The plugin deleted, the manifest untouched: the catalog refuses it.
  fs::remove(dir / "plugins/" + kId + ".so");
  Outcome o = runGraft(test::graftArgs(dir, {"up"}));
  BOOST_TEST(o.exit_code == 4);
  BOOST_TEST(o.err == "graft: migration \"drift_fixture\" is in " + dir / "plugins/manifest.json" +
                          " but no plugin in " + dir / "plugins" +
                          " has that id (build it, or remove it from the manifest)\n");
  // Gone from the manifest too: drift.
  usePlugins(dir, {testPlugin("counter")}, {"test_counter"});
  const std::string missing = "migration drift_fixture: applied (completed, logic " +
                              shortDigest(builds().v1) + ") but no longer in " +
                              dir / "plugins/manifest.json" + ", and no plugin has its id";
  o = runGraft(test::graftArgs(dir, {"up"}));
  BOOST_TEST(o.exit_code == 8);
  BOOST_TEST(o.err == "graft: " + missing +
                          " (restore its plugin and its manifest entry; --allow-drift runs "
                          "anyway)\n");
  BOOST_TEST(everyItem(dir / "store.db", "n", 0));
  o = runGraft(test::graftArgs(dir, {"status"}));
  BOOST_TEST(o.out.find("drift_fixture  missing") != std::string::npos, o.out);
  o = runGraft(test::graftArgs(dir, {"up", "-q", "--allow-drift"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(everyItem(dir / "store.db", "n", 1));
}

BOOST_AUTO_TEST_CASE(a_pending_migration_before_an_applied_one_blocks) {
  ScratchDir dir;
  applyV1(dir);
  usePlugins(dir, {testPlugin("counter"), builds().v1}, {"test_counter", kId});
  Outcome o = runGraft(test::graftArgs(dir, {"up", "-q"}));
  BOOST_TEST(o.exit_code == 8);
  BOOST_TEST(o.err ==
             "graft: migration test_counter is pending but comes before applied "
             "migration drift_fixture in " +
                 dir / "plugins/manifest.json" +
                 " (move it after drift_fixture in the manifest; --allow-out-of-order runs "
                 "it anyway)\n");
  BOOST_TEST(everyItem(dir / "store.db", "n", 0));
  o = runGraft(test::graftArgs(dir, {"status"}));
  BOOST_TEST(o.out.find("test_counter   out of order (pending)") != std::string::npos, o.out);

  o = runGraft(test::graftArgs(dir, {"up", "-q", "--allow-out-of-order"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(o.out == "test_counter: completed, 20 documents visited, 20 patched\n");
  BOOST_TEST(everyItem(dir / "store.db", "n", 1));
  BOOST_TEST(lastRun(dir / "store.db", "command") == "up --allow-out-of-order");
}

// The way on after a failure (Convex, better-convex): fix the plugin and run
// it again. It resumes from its cursor with the new code, and the history
// says so with both digests; --strict refuses that, and --restart runs it
// again from the first document instead.
BOOST_AUTO_TEST_CASE(a_failed_migration_resumes_with_fixed_code_or_restarts) {
  for (const bool restart : {false, true}) {
    BOOST_TEST_CONTEXT((restart ? "--restart" : "resume")) {
      ScratchDir dir;
      usePlugins(dir, {builds().v1}, {kId});
      test::seedItems(dir / "store.db", 50);
      Outcome o = runGraft(test::graftArgs(dir, {"up", "-q"}), {"GRAFT_TEST_FAIL_AT=33"});
      BOOST_TEST_REQUIRE(o.exit_code == 1, o.err);
      BOOST_TEST(o.out == "drift_fixture: failed, 30 documents visited, 30 patched\n");

      usePlugins(dir, {builds().v2}, {kId});
      const std::string drift =
          "migration drift_fixture: logic changed since it partly ran (failed at _id 33 after 30 "
          "documents, cursor at _id 30): recorded " +
          shortDigest(builds().v1) + ", now " + shortDigest(builds().v2) + " in " +
          dir / "plugins/" + kId + ".so";
      if (!restart) {
        o = runGraft(test::graftArgs(dir, {"up", "-q", "--strict"}));
        BOOST_TEST(o.exit_code == 8);
        BOOST_TEST(o.err == "graft: " + drift +
                                "; --strict refuses to resume it with changed code (run without "
                                "--strict, or with --allow-drift, to resume it from its cursor; "
                                "graft up --restart drift_fixture runs it again from the first "
                                "document)\n");
        BOOST_TEST(test::sqlValue(dir / "store.db", "SELECT cursor FROM migration_state") == "30");
        o = runGraft(test::graftArgs(dir, {"up", "-q"}));
        const std::string note = drift +
                                 "; resuming it from its cursor with the new code (the documents "
                                 "before the cursor keep what the old code did; graft up --restart "
                                 "drift_fixture runs it again from the first document)";
        BOOST_TEST(o.exit_code == 0, o.err);
        BOOST_TEST(o.err == "graft: note: " + note + "\n");
        BOOST_TEST(o.out == "drift_fixture: completed, 20 documents visited, 20 patched\n");
        BOOST_TEST(test::sqlValue(dir / "store.db",
                                  "SELECT group_concat(DISTINCT json_extract(body, '$.v')) FROM "
                                  "items WHERE _id <= 30") == "1");
        BOOST_TEST(test::sqlValue(dir / "store.db",
                                  "SELECT group_concat(DISTINCT json_extract(body, '$.v')) FROM "
                                  "items WHERE _id > 30") == "2");
        // The history keeps both digests.
        BOOST_TEST(lastRun(dir / "store.db", "status") == "completed");
        BOOST_TEST(lastRun(dir / "store.db", "error") == "note: " + note);
      } else {
        o = runGraft(test::graftArgs(dir, {"up", "-q", "--restart", kId}));
        BOOST_TEST(o.exit_code == 0, o.err);
        BOOST_TEST(o.err == "graft: note: " + drift +
                                " (restarting it from the first document, as --restart "
                                "drift_fixture asks)\n");
        BOOST_TEST(o.out == "drift_fixture: completed, 50 documents visited, 50 patched\n");
        BOOST_TEST(everyItem(dir / "store.db", "v", 2));
        BOOST_TEST(test::sqlValue(dir / "store.db", "SELECT processed FROM migration_state") == "50");
        BOOST_TEST(lastRun(dir / "store.db", "command") == "up --restart drift_fixture");
      }
      BOOST_TEST(test::sqlValue(dir / "store.db", "SELECT logic_digest FROM migration_state") ==
                 load(builds().v2).digest);
      o = runGraft(test::graftArgs(dir, {"verify"}));
      BOOST_TEST(o.exit_code == 0, o.out + o.err);
      // Completed, it is immutable again: another change blocks.
      usePlugins(dir, {builds().v1}, {kId});
      o = runGraft(test::graftArgs(dir, {"up", "-q"}));
      BOOST_TEST(o.exit_code == 8, o.err);
    }
  }
}

// Applied migrations swapped in the manifest, with no graft.sum to catch it:
// the store's history does. A migration run out of order on purpose is not
// taken for a reorder afterwards.
BOOST_AUTO_TEST_CASE(a_reordered_manifest_blocks_without_a_sum_file) {
  ScratchDir dir;
  const std::string plugins = test::makePluginDir(dir, {testPlugin("counter")}, {"test_counter"});
  test::seedItems(dir / "store.db", 5);
  BOOST_REQUIRE(runGraft(test::graftArgs(dir, {"up", "-q"})).exit_code == 0);
  std::filesystem::copy_file(testPlugin("optional_table"), plugins + "/test_optional_table.so");
  test::writeFile(plugins + "/manifest.json",
                  R"({"graft_manifest": 1, "migrations": ["test_counter", "test_optional_table"]})");
  BOOST_REQUIRE(runGraft(test::graftArgs(dir, {"up", "-q"})).exit_code == 0);
  test::writeFile(plugins + "/manifest.json",
                  R"({"graft_manifest": 1, "migrations": ["test_optional_table", "test_counter"]})");
  const std::string db = dir / "store.db";
  auto began = [&](const std::string& id) {
    return test::sqlValue(db, "SELECT started_at FROM migration_state WHERE id = '" + id + "'");
  };
  Outcome o = runGraft(test::graftArgs(dir, {"up", "-q"}));
  BOOST_TEST(o.exit_code == 8);
  BOOST_TEST(o.err == "graft: migration test_optional_table comes before test_counter in " +
                          plugins + "/manifest.json but was applied after it (it began at " +
                          began("test_optional_table") + ", test_counter at " +
                          began("test_counter") +
                          "): the order of applied migrations changed, and a new store would run "
                          "them in another order than this one did (restore their order in the "
                          "manifest; --allow-drift runs anyway)\n");
  BOOST_TEST(runGraft(test::graftArgs(dir, {"verify"})).exit_code == 8);
  BOOST_TEST(everyItem(db, "n", 2));

  // A pending migration run before an applied one with --allow-out-of-order
  // is recorded so: later runs do not call it a reorder.
  ScratchDir other;
  const std::string more = test::makePluginDir(other, {testPlugin("counter")}, {"test_counter"});
  test::seedItems(other / "store.db", 5);
  BOOST_REQUIRE(runGraft(test::graftArgs(other, {"up", "-q"})).exit_code == 0);
  std::filesystem::copy_file(testPlugin("optional_table"), more + "/test_optional_table.so");
  test::writeFile(more + "/manifest.json",
                  R"({"graft_manifest": 1, "migrations": ["test_optional_table", "test_counter"]})");
  BOOST_TEST(runGraft(test::graftArgs(other, {"up", "-q"})).exit_code == 8);  // out of order
  o = runGraft(test::graftArgs(other, {"up", "-q", "--allow-out-of-order"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  o = runGraft(test::graftArgs(other, {"up", "-q"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(runGraft(test::graftArgs(other, {"verify"})).exit_code == 0);
}

BOOST_AUTO_TEST_CASE(a_plugin_built_without_the_sdk_function_is_unverifiable) {
  ScratchDir dir;
  const std::string plugin = testPlugin("counter_undigested");
  usePlugins(dir, {plugin}, {"test_counter"});
  test::seedItems(dir / "store.db", 5);
  const std::string unverifiable =
      "migration test_counter: plugin " + dir / "plugins/test_counter_undigested.so" +
      " has no logic digest (built without graft_add_migration, or with an SDK older than ABI "
      "1.1), so graft can not tell a change to its logic from a rebuild (build it with "
      "graft_add_migration";
  Outcome o = runGraft(test::graftArgs(dir, {"up", "-q", "--strict"}));
  BOOST_TEST(o.exit_code == 8);
  BOOST_TEST(o.err == "graft: " + unverifiable + ", or run without --strict)\n");
  o = runGraft(test::graftArgs(dir, {"up", "-q"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(o.err == "graft: note: " + unverifiable + "; --strict refuses this)\n");
  BOOST_TEST(everyItem(dir / "store.db", "n", 1));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
