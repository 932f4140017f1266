// A disk that fills up in the middle of a run, made real two ways: with the
// file size limit of the process (RLIMIT_FSIZE, set by prlimit(1) between
// fork and exec), where SQLite's writes past it fail with EFBIG, and with a
// small file system of its own that runs out of blocks, where they fail
// with ENOSPC. Either way the batch rolls back, the migration is recorded
// failed with the reason, nothing is lost, the store stays sound, and once
// there is room again `graft up` resumes and migrates every document
// exactly once.
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "harness.h"

namespace graft {
namespace {

using test::Outcome;
using test::ScratchDir;

constexpr int kDocuments = 20000;
constexpr int kBatch = 100;

// The graft binary run by prlimit with a file size limit of `bytes`.
Outcome runGraftWithFileSizeLimit(uintmax_t bytes, const std::vector<std::string>& args) {
  std::vector<std::string> argv{"/usr/bin/prlimit", "--fsize=" + std::to_string(bytes),
                                GRAFT_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return test::runProgram(argv);
}

// What `graft up` on the store `db` must have done (its outcome `o`) once a
// write found no room, for the reason `reason`: one line, exit 5, the
// failure recorded (and shown by `graft status`, run with `status_args`),
// the committed batches and nothing else written, a sound store. Returns the
// cursor it stopped at.
int64_t requireStoppedCleanly(const Outcome& o, const std::string& db, const std::string& reason,
                              const std::vector<std::string>& status_args) {
  BOOST_TEST(o.signal == 0);
  BOOST_TEST(o.exit_code == 5, o.err);
  const std::string cursor = test::sqlValue(db, "SELECT cursor FROM migration_state");
  BOOST_TEST_REQUIRE(!cursor.empty());
  const int64_t at = std::stoll(cursor);
  BOOST_TEST(at > 0);
  BOOST_TEST(at < kDocuments);
  BOOST_TEST(at % kBatch == 0);
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
  BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM items") == std::to_string(kDocuments));
  BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM items WHERE json_extract(body, '$.n') = 1 "
                                "AND _id <= " + cursor) == cursor);
  BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM items WHERE json_extract(body, '$.n') = 0 "
                                "AND _id > " + cursor) == std::to_string(kDocuments - at));
  BOOST_TEST(test::sqlValue(db, "PRAGMA integrity_check") == "ok");
  Outcome status = test::runGraft(status_args);
  BOOST_TEST(status.out.find("    error: " + reason + "\n") != std::string::npos, status.out);
  return at;
}

// With room again, `graft up` resumes at `cursor`: every document once.
void requireResumesOnce(const std::vector<std::string>& up_args, const std::string& db,
                        int64_t cursor) {
  Outcome o = test::runGraft(up_args);
  BOOST_TEST(o.exit_code == 0, o.err);
  const std::string rest = std::to_string(kDocuments - cursor);
  BOOST_TEST(o.out == "test_counter: completed, " + rest + " documents visited, " + rest +
                          " patched\n");
  BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM items WHERE json_extract(body, '$.n') = 1") ==
             std::to_string(kDocuments));
  BOOST_TEST(test::sqlValue(db, "SELECT status || ' ' || processed FROM migration_state") ==
             "completed " + std::to_string(kDocuments));
  BOOST_TEST(test::sqlValue(db, "PRAGMA integrity_check") == "ok");
}

// A tmpfs mounted on `dir` for the object's lifetime, and unmounted by its
// destructor, so also when a failed BOOST_REQUIRE unwinds the test (declare
// it after the ScratchDir that holds `dir`, which must still be there).
// tmpfs, not ext4 on a loop device: it keeps no blocks in reserve for root,
// which the tests run as in CI, so a full one is full for graft too.
class TmpfsMount {
 public:
  TmpfsMount(std::string dir, const std::string& size) : dir_(std::move(dir)) {
    std::filesystem::create_directory(dir_);
    const std::string options = "size=" + size + ",mode=0700";
    if (mount("tmpfs", dir_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0)
      error_ = std::strerror(errno);
  }
  ~TmpfsMount() {
    // A process that still has a file open there keeps a plain unmount
    // from working; detached, the mount goes once that process is gone.
    if (error_.empty() && umount2(dir_.c_str(), 0) != 0) umount2(dir_.c_str(), MNT_DETACH);
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  // "" when mounted, else why not (strerror of mount(2)).
  const std::string& error() const { return error_; }

 private:
  std::string dir_;
  std::string error_;
};

// A precondition: the case needs to mount a file system (root or
// CAP_SYS_ADMIN). Where it can not, Boost.Test skips the case with this
// reason, and the message says so in the log.
boost::test_tools::assertion_result mayMountATmpfs(boost::unit_test::test_unit_id) {
  ScratchDir dir;
  TmpfsMount probe(dir / "probe", "64k");
  boost::test_tools::assertion_result allowed(probe.error().empty());
  if (!allowed) {
    allowed.message() << "no real full file system here: mounting a tmpfs failed ("
                      << probe.error() << "; it needs root or CAP_SYS_ADMIN)";
    BOOST_TEST_MESSAGE("disk_full: the ENOSPC case is skipped: mounting a tmpfs failed ("
                       << probe.error() << "; it needs root or CAP_SYS_ADMIN)");
  }
  return allowed;
}

// Fills the file system that holds `dir` with one file, `dir`/filler, but
// for about `room` bytes. Returns the filler's path.
std::string fillAllBut(const std::string& dir, uintmax_t room) {
  struct statvfs fs {};
  BOOST_REQUIRE(statvfs(dir.c_str(), &fs) == 0);
  const uintmax_t free_bytes = static_cast<uintmax_t>(fs.f_bavail) * fs.f_frsize;
  BOOST_REQUIRE(free_bytes > room);
  const std::string filler = dir + "/filler";
  const int fd = open(filler.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  BOOST_REQUIRE(fd >= 0);
  const int rc = posix_fallocate(fd, 0, static_cast<off_t>(free_bytes - room));
  close(fd);
  BOOST_REQUIRE_MESSAGE(rc == 0, "posix_fallocate: " << std::strerror(rc));
  return filler;
}

BOOST_AUTO_TEST_SUITE(disk_full)

BOOST_AUTO_TEST_CASE(a_full_disk_mid_batch_rolls_back_records_the_failure_and_resumes) {
  BOOST_REQUIRE_MESSAGE(access("/usr/bin/prlimit", X_OK) == 0, "needs prlimit (util-linux)");
  ScratchDir dir;
  test::makePluginDir(dir, {test::testPlugin("counter")}, {"test_counter"});
  const std::string db = dir / "store.db";
  test::seedItems(db, kDocuments);
  // Every batch appends its pages to the WAL; with room for 64 KiB more than
  // the database holds now, the WAL reaches the limit after a few dozen
  // batches, long before the end and before any checkpoint.
  const uintmax_t limit = std::filesystem::file_size(db) + 65536;
  const auto up = test::graftArgs(dir, {"up", "-q", "--batch-size", std::to_string(kBatch)});
  Outcome o = runGraftWithFileSizeLimit(limit, up);

  // graft ignores SIGXFSZ: without that, the kernel kills it (and its
  // supervised worker) at the first write past the limit and nothing is
  // recorded.
  const std::string reason =
      "database " + db + ": commit: disk I/O error (" + db +
      "-wal reached the file size limit of this process, ulimit -f: raise the limit, then run the "
      "command again; nothing of the failed transaction was written)";
  const int64_t cursor = requireStoppedCleanly(o, db, reason, test::graftArgs(dir, {"status"}));

  // Space again: the run resumes at the cursor, every document once.
  requireResumesOnce(up, db, cursor);
}

// The store on a file system of its own that has no block left: SQLite
// gets ENOSPC and returns SQLITE_FULL, which has its own message. The
// documents keep their size, so the checkpoint after the failed write
// moves the WAL's pages over pages the database file already has, and
// truncating the WAL gives back the room that recording the failure needs.
BOOST_AUTO_TEST_CASE(a_full_file_system_mid_batch_rolls_back_records_the_failure_and_resumes,
                     *boost::unit_test::precondition(mayMountATmpfs)) {
  ScratchDir dir;
  test::makePluginDir(dir, {test::testPlugin("counter")}, {"test_counter"});
  TmpfsMount disk(dir / "disk", "8m");
  BOOST_REQUIRE_MESSAGE(disk.error().empty(), "mount tmpfs: " << disk.error());
  const std::string db = dir / "disk/store.db";
  test::seedItems(db, kDocuments);
  // Room for a few dozen batches' pages in the WAL (and for the WAL index
  // beside it), long before the end and before any checkpoint.
  const std::string filler = fillAllBut(dir / "disk", 256 * 1024);
  const std::vector<std::string> store{"--db", db, "--plugins", dir / "plugins"};
  std::vector<std::string> up = store, status = store;
  up.insert(up.end(), {"up", "-q", "--batch-size", std::to_string(kBatch)});
  status.push_back("status");
  Outcome o = test::runGraft(up);

  const std::string reason = "database " + db +
                             ": commit: database or disk is full (the disk or the database is "
                             "full: free space, then run the command again; nothing of the "
                             "failed transaction was written)";
  const int64_t cursor = requireStoppedCleanly(o, db, reason, status);

  // Room again: the filler goes, the run resumes at the cursor, every
  // document once.
  BOOST_REQUIRE(std::filesystem::remove(filler));
  requireResumesOnce(up, db, cursor);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
