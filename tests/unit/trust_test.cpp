// Tests for host/plugins/trust.cpp: a plugin file someone other than its
// owner could have put in place is refused before any of its code runs.
#include "plugins/trust.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "harness.h"

namespace graft {
namespace {

namespace fs = std::filesystem;

// <scratch>/plugins/c.so, a real plugin, 0644 in a 0755 directory: trusted.
struct Fixture {
  test::ScratchDir dir;
  std::string plugins = dir / "plugins";
  std::string file = plugins + "/c.so";

  Fixture() {
    fs::create_directories(plugins);
    fs::copy_file(test::testPlugin("counter"), file);
    chmod(dir.path().c_str(), 0755);
    chmod(plugins.c_str(), 0755);
    chmod(file.c_str(), 0644);
  }
};

bool isRoot(boost::unit_test::test_unit_id) { return geteuid() == 0; }

BOOST_AUTO_TEST_SUITE(trust)

BOOST_FIXTURE_TEST_CASE(a_file_only_its_owner_can_change_is_trusted, Fixture) {
  BOOST_TEST(untrustedReason(file) == "");
  // /tmp is writable by all, but sticky: no one can replace another's entry.
  const fs::perms tmp = fs::status(fs::path(dir.path()).parent_path()).permissions();
  BOOST_TEST(((tmp & fs::perms::others_write) != fs::perms::none));
  BOOST_TEST(((tmp & fs::perms::sticky_bit) != fs::perms::none));
  BOOST_TEST(untrustedReason(test::testPlugin("counter")) == "");
}

// Opening it will say that it is not there, with the stage.
BOOST_FIXTURE_TEST_CASE(a_missing_file_is_left_to_the_open_stage, Fixture) {
  BOOST_TEST(untrustedReason(plugins + "/missing.so") == "");
}

BOOST_FIXTURE_TEST_CASE(refuses_what_others_could_write_naming_it_and_the_fix, Fixture) {
  struct Case {
    const char* name;
    std::string path;  // what gets the mode
    mode_t mode;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"file writable by its group", file, 0664,
       "file " + file + " is writable by its group (mode 0664; fix with chmod go-w " + file + ")"},
      {"file writable by others", file, 0646,
       "file " + file + " is writable by others (mode 0646; fix with chmod go-w " + file + ")"},
      {"file writable by both", file, 0666,
       "file " + file + " is writable by others (mode 0666; fix with chmod go-w " + file + ")"},
      {"setuid bits shown in the mode", file, 04664,
       "file " + file + " is writable by its group (mode 4664; fix with chmod go-w " + file + ")"},
      {"its directory writable by others", plugins, 0757,
       "directory " + plugins + " is writable by others (mode 0757; fix with chmod go-w " +
           plugins + ")"},
      {"its directory writable by its group", plugins, 0775,
       "directory " + plugins + " is writable by its group (mode 0775; fix with chmod go-w " +
           plugins + ")"},
      {"a parent directory writable by others", dir.path(), 0777,
       "directory " + dir.path() + " is writable by others (mode 0777; fix with chmod go-w " +
           dir.path() + ")"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      struct stat before;
      BOOST_TEST_REQUIRE(stat(c.path.c_str(), &before) == 0);
      BOOST_TEST_REQUIRE(chmod(c.path.c_str(), c.mode) == 0);
      BOOST_TEST(untrustedReason(file) == c.reason);
      BOOST_TEST_REQUIRE(chmod(c.path.c_str(), before.st_mode & 07777) == 0);
      BOOST_TEST(untrustedReason(file) == "");
    }
  }
}

// Like /tmp: others can add entries but not replace the ones they do not own.
BOOST_FIXTURE_TEST_CASE(a_sticky_directory_writable_by_all_is_fine, Fixture) {
  BOOST_TEST_REQUIRE(chmod(plugins.c_str(), 01777) == 0);
  BOOST_TEST(untrustedReason(file) == "");
  // The sticky bit protects entries of a directory, not a file's bytes.
  BOOST_TEST_REQUIRE(chmod(file.c_str(), 01666) == 0);
  BOOST_TEST(untrustedReason(file) ==
             "file " + file + " is writable by others (mode 1666; fix with chmod go-w " + file +
                 ")");
}

BOOST_FIXTURE_TEST_CASE(refuses_a_symlink_even_to_a_trusted_file, Fixture) {
  const std::string link = plugins + "/link.so";
  fs::create_symlink(file, link);
  BOOST_TEST(untrustedReason(link) ==
             "file " + link + " is a symlink (copy the plugin itself into the plugin directory)");
}

BOOST_FIXTURE_TEST_CASE(refuses_what_is_not_a_regular_file, Fixture) {
  const std::string fifo = plugins + "/fifo.so";
  BOOST_TEST_REQUIRE(mkfifo(fifo.c_str(), 0644) == 0);
  BOOST_TEST(untrustedReason(fifo) == "file " + fifo + " is not a regular file");
  const std::string subdir = plugins + "/dir.so";
  fs::create_directory(subdir);
  BOOST_TEST(untrustedReason(subdir) == "file " + subdir + " is not a regular file");
}

// Only root can hand a file to another user; the case runs where it can.
BOOST_FIXTURE_TEST_CASE(refuses_a_file_or_directory_owned_by_someone_else, Fixture,
                        *boost::unit_test::precondition(isRoot)) {
  const std::string me = std::to_string(geteuid());
  BOOST_TEST_REQUIRE(chown(file.c_str(), 4321, 4321) == 0);
  BOOST_TEST(untrustedReason(file) ==
             "file " + file + " is owned by uid 4321, not by this user (uid " + me +
                 ") or root (chown it, or load plugins from a directory you own)");
  BOOST_TEST_REQUIRE(chown(file.c_str(), 0, 0) == 0);
  BOOST_TEST_REQUIRE(chown(plugins.c_str(), 4321, 4321) == 0);
  BOOST_TEST(untrustedReason(file) ==
             "directory " + plugins + " is owned by uid 4321, not by this user (uid " + me +
                 ") or root (chown it, or load plugins from a directory you own)");
  BOOST_TEST_REQUIRE(chown(plugins.c_str(), 0, 0) == 0);
  BOOST_TEST(untrustedReason(file) == "");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
