// A plugin that crashes, aborts, exits or never returns does not take graft
// down silently: the run and the migration are recorded failed with the
// cause, the cursor stays at the last committed batch, the lease is freed,
// and once the plugin is fixed the next graft up finishes, every document
// migrated exactly once.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <filesystem>

#include "harness.h"

namespace graft {
namespace {

using test::Outcome;
using test::runGraft;
using test::ScratchDir;

BOOST_AUTO_TEST_SUITE(isolation)

BOOST_AUTO_TEST_CASE(a_misbehaving_plugin_is_recorded_and_the_run_resumes_once_fixed) {
  struct Case {
    std::string how, cause;
  };
  const std::vector<Case> cases = {
      {"segv", "was killed by signal SIGSEGV (Segmentation fault)"},
      {"abort", "was killed by signal SIGABRT (Aborted)"},
      {"exit", "exited with code 3 in the middle of a run"},
      {"hang", "finished no batch in 1 s (--batch-timeout) and was killed"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.how) {
      ScratchDir dir;
      test::makePluginDir(dir, {test::testPlugin("crasher")}, {"test_crasher"});
      const std::string db = dir / "store.db";
      test::seedItems(db, 35);
      std::filesystem::create_directory(dir / "tmp");
      const std::vector<std::string> up = {"--db", db, "--plugins", dir / "plugins", "up", "-q",
                                           "--batch-timeout", "1"};
      Outcome o = runGraft(up, {"GRAFT_TEST_CRASH=" + c.how, "GRAFT_TEST_CRASH_AT=25",
                                "TMPDIR=" + dir / "tmp"});
      BOOST_TEST(o.exit_code == 1);
      BOOST_TEST(o.err == "graft: the run's process " + c.cause +
                              " while migrating test_crasher at _id 25; recorded as failed, the "
                              "lease is released and the cursor stays at _id 20 (fix the plugin, "
                              "then run graft up to resume)\n");
      BOOST_TEST(test::sqlValue(db, "SELECT status || ' ' || cursor || ' ' || error_doc_id || ' ' "
                                    "|| error FROM migration_state") ==
                 "failed 20 25 the run's process " + c.cause +
                     " while migrating _id 25 (the cursor stays at _id 20)");
      BOOST_TEST(test::sqlValue(db, "SELECT status FROM migration_run") == "failed");
      BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM graft_lease") == "0");
      // The worker's private copies of the plugins went with it.
      BOOST_TEST(test::listDir(dir / "tmp").empty());
      // Nothing of the batch that was in flight was written.
      BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM items WHERE json_extract(body, '$.n') = 1") == "20");

      o = runGraft(up);
      BOOST_TEST(o.exit_code == 0, o.err);
      BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM items WHERE json_extract(body, '$.n') != 1") == "0");
      BOOST_TEST(test::sqlValue(db, "SELECT status || ' ' || processed FROM migration_state") == "completed 35");
    }
  }
}

// A plugin whose constructor exits, aborts or never returns: graft names
// the plugin and the load stage, records a failed run, runs nothing, and
// leaves no private copy behind; once the plugin behaves, up runs.
BOOST_AUTO_TEST_CASE(a_plugin_that_misbehaves_while_loading_is_named_and_recorded) {
  struct Case {
    std::string how, what;
  };
  const std::vector<Case> cases = {
      {"exit0", "the plugin called exit(0) while its code was being loaded (a constructor, or "
                "graft_plugin_entry)"},
      {"abort", "the process was killed by signal SIGABRT (Aborted) while its code was being "
                "loaded (a constructor, or graft_plugin_entry)"},
      {"hang", "its code did not finish loading in 1 s (--batch-timeout; a constructor that "
               "never returns?) and the process was killed"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.how) {
      ScratchDir dir;
      const std::string plugins = test::makePluginDir(dir, {test::testPlugin("crasher")}, {"test_crasher"});
      const std::string db = dir / "store.db";
      test::seedItems(db, 5);
      std::filesystem::create_directory(dir / "tmp");
      const std::vector<std::string> up = {"--db", db, "--plugins", plugins, "up", "-q",
                                           "--batch-timeout", "1"};
      const auto started = std::chrono::steady_clock::now();
      Outcome o = runGraft(up, {"GRAFT_TEST_LOAD=" + c.how, "TMPDIR=" + dir / "tmp"});
      BOOST_TEST((std::chrono::steady_clock::now() - started < std::chrono::seconds(30)));
      const std::string message = "plugin " + plugins + "/test_crasher.so: load: " + c.what +
                                  "; nothing ran (fix the plugin, then run graft up again)";
      BOOST_TEST(o.exit_code == 4);
      BOOST_TEST(o.err == "graft: " + message + "\n");
      BOOST_TEST(o.out == "");
      BOOST_TEST(test::sqlValue(db, "SELECT status || ' ' || command || ' ' || error FROM "
                                    "migration_run") == "failed up " + message);
      BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM migration_state") == "0");
      BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM graft_lease") == "0");
      BOOST_TEST(test::listDir(dir / "tmp").empty());
      o = runGraft(up, {"TMPDIR=" + dir / "tmp"});
      BOOST_TEST(o.exit_code == 0, o.err);
      BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM items WHERE json_extract(body, '$.n') = 1") == "5");
      BOOST_TEST(test::listDir(dir / "tmp").empty());
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
