// A disk that fills up in the middle of a run, made real with the file size
// limit of the process (RLIMIT_FSIZE, set by prlimit(1) between fork and
// exec): SQLite's writes past it fail with EFBIG, as they would on a full
// disk. The batch rolls back, the migration is recorded failed with the
// reason, nothing is lost, the store stays sound, and once the limit is gone
// `graft up` resumes and migrates every document exactly once.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <filesystem>

#include "harness.h"

namespace graft {
namespace {

using test::Outcome;
using test::ScratchDir;

// The graft binary run by prlimit with a file size limit of `bytes`.
Outcome runGraftWithFileSizeLimit(uintmax_t bytes, const std::vector<std::string>& args) {
  std::vector<std::string> argv{"/usr/bin/prlimit", "--fsize=" + std::to_string(bytes),
                                GRAFT_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return test::runProgram(argv);
}

BOOST_AUTO_TEST_SUITE(disk_full)

BOOST_AUTO_TEST_CASE(a_full_disk_mid_batch_rolls_back_records_the_failure_and_resumes) {
  BOOST_REQUIRE_MESSAGE(access("/usr/bin/prlimit", X_OK) == 0, "needs prlimit (util-linux)");
  ScratchDir dir;
  test::makePluginDir(dir, {test::testPlugin("counter")}, {"test_counter"});
  const std::string db = dir / "store.db";
  const int n = 20000;
  test::seedItems(db, n);
  // Every batch appends its pages to the WAL; with room for 64 KiB more than
  // the database holds now, the WAL reaches the limit after a few dozen
  // batches of 100, long before the end and before any checkpoint.
  const uintmax_t limit = std::filesystem::file_size(db) + 65536;
  Outcome o = runGraftWithFileSizeLimit(limit, test::graftArgs(dir, {"up", "-q", "--batch-size", "100"}));

  // One line, exit 5, naming the file, the limit and what to do. graft
  // ignores SIGXFSZ: without that, the kernel kills it (and its supervised
  // worker) at the first write past the limit and nothing is recorded.
  BOOST_TEST(o.signal == 0);
  BOOST_TEST(o.exit_code == 5, o.err);
  const std::string cursor = test::sqlValue(db, "SELECT cursor FROM migration_state");
  BOOST_TEST_REQUIRE(!cursor.empty());
  BOOST_TEST(std::stoll(cursor) > 0);
  BOOST_TEST(std::stoll(cursor) < n);
  BOOST_TEST(std::stoll(cursor) % 100 == 0);
  const std::string reason =
      "database " + db + ": commit: disk I/O error (" + db +
      "-wal reached the file size limit of this process, ulimit -f: raise the limit, then run the "
      "command again; nothing of the failed transaction was written)";
  BOOST_TEST(o.err == "graft: migration test_counter failed: " + reason +
                          "; the batch was rolled back, the cursor stays at _id " + cursor +
                          " (fix the cause, then run graft up again to resume)\n");
  BOOST_TEST(o.out == "test_counter: failed, " + cursor + " documents visited, " + cursor +
                          " patched\n");

  // Recorded: the migration and the run failed with the reason, the lease
  // released.
  BOOST_TEST(test::sqlValue(db, "SELECT status || ' ' || processed FROM migration_state") ==
             "failed " + cursor);
  BOOST_TEST(test::sqlValue(db, "SELECT error FROM migration_state") == reason);
  BOOST_TEST(test::sqlValue(db, "SELECT status FROM migration_run") == "failed");
  BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM graft_lease") == "0");
  // Nothing lost, nothing half-done: the committed batches and nothing else.
  BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM items") == std::to_string(n));
  BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM items WHERE json_extract(body, '$.n') = 1 "
                                "AND _id <= " + cursor) == cursor);
  BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM items WHERE json_extract(body, '$.n') = 0 "
                                "AND _id > " + cursor) == std::to_string(n - std::stoll(cursor)));
  BOOST_TEST(test::sqlValue(db, "PRAGMA integrity_check") == "ok");
  o = test::runGraft(test::graftArgs(dir, {"status"}));
  BOOST_TEST(o.out.find("    error: " + reason + "\n") != std::string::npos, o.out);

  // Space again: the run resumes at the cursor, every document once.
  o = test::runGraft(test::graftArgs(dir, {"up", "-q", "--batch-size", "100"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  const std::string rest = std::to_string(n - std::stoll(cursor));
  BOOST_TEST(o.out == "test_counter: completed, " + rest + " documents visited, " + rest +
                          " patched\n");
  BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM items WHERE json_extract(body, '$.n') = 1") ==
             std::to_string(n));
  BOOST_TEST(test::sqlValue(db, "SELECT status || ' ' || processed FROM migration_state") ==
             "completed " + std::to_string(n));
  BOOST_TEST(test::sqlValue(db, "PRAGMA integrity_check") == "ok");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
