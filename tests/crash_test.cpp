// SIGKILL at random instants in the middle of a migration: whatever instant
// the process dies at, the next `graft up` resumes and every document ends
// up migrated exactly once.
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <chrono>
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
  auto processed = [&]() -> int64_t {
    std::string text = test::sqlValue(db, "SELECT processed FROM migration_state");
    return text.empty() ? 0 : std::stoll(text);
  };
  int kills = 0;
  int mid_run_kills = 0;  // kills that left the migration partly done
  int finished_runs = 0;
  for (int attempt = 0; attempt < 200 && finished_runs == 0; ++attempt) {
    const int64_t before = processed();
    pid_t pid = test::startGraft(up, dir / "out", dir / "err");
    if (kills < 12) {
      // Kill once this run has committed something, at a random instant
      // after that: inside a batch, between two, or while committing.
      for (int i = 0; i < 5000 && processed() == before; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      std::this_thread::sleep_for(std::chrono::microseconds(extra_us(rng)));
      kill(pid, SIGKILL);
    }
    test::Outcome o = test::waitGraft(pid, dir / "out", dir / "err");
    if (o.signal == SIGKILL) {
      ++kills;
      const int64_t now = processed();
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

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
