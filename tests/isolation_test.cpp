// A plugin that crashes, aborts, exits or never returns does not take graft
// down silently: the run and the migration are recorded failed with the
// cause, the cursor stays at the last committed batch, the lease is freed,
// and once the plugin is fixed the next graft up finishes, every document
// migrated exactly once.
#include <boost/test/unit_test.hpp>

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
      const std::vector<std::string> up = {"--db", db, "--plugins", dir / "plugins", "up", "-q",
                                           "--batch-timeout", "1"};
      Outcome o = runGraft(up, {"GRAFT_TEST_CRASH=" + c.how, "GRAFT_TEST_CRASH_AT=25"});
      BOOST_TEST(o.exit_code == 1);
      BOOST_TEST(o.err == "graft: the run's process " + c.cause +
                              " while migrating test_crasher after _id 20; recorded as failed, the "
                              "lease is released and the cursor kept (fix the plugin, then run "
                              "graft up to resume)\n");
      BOOST_TEST(test::sqlValue(db, "SELECT status || ' ' || cursor || ' ' || error FROM migration_state") ==
                 "failed 20 the run's process " + c.cause + " while migrating after _id 20");
      BOOST_TEST(test::sqlValue(db, "SELECT status FROM migration_run") == "failed");
      BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM graft_lease") == "0");
      // Nothing of the batch that was in flight was written.
      BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM items WHERE json_extract(body, '$.n') = 1") == "20");

      o = runGraft(up);
      BOOST_TEST(o.exit_code == 0, o.err);
      BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM items WHERE json_extract(body, '$.n') != 1") == "0");
      BOOST_TEST(test::sqlValue(db, "SELECT status || ' ' || processed FROM migration_state") == "completed 35");
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
