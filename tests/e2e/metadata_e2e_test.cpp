// Listing never runs plugin code, end to end: the real graft binary, and a
// test plugin whose constructor (which runs as soon as the library is loaded,
// before graft calls anything) leaves a marker file. status, verify and sum
// leave no marker; up, which must load the plugin to run it, leaves one. And
// a plugin whose entry point disagrees with its embedded metadata does not run.
#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "harness.h"

namespace graft {
namespace {

namespace fs = std::filesystem;
using test::Outcome;
using test::runGraft;
using test::ScratchDir;
using test::testPlugin;

struct Marked {
  ScratchDir dir;
  std::string marker = dir / "marker";
  std::vector<std::string> env{"GRAFT_TEST_MARKER=" + marker};

  Outcome graft(const std::vector<std::string>& args) const {
    return runGraft(test::graftArgs(dir, args), env);
  }
  // Runs `args`, expecting `exit_code`; true when the plugin's constructor ran.
  bool ran(const std::vector<std::string>& args, int exit_code = 0) const {
    fs::remove(marker);
    Outcome o = graft(args);
    BOOST_TEST(o.exit_code == exit_code, args[0] << ": " << o.out << o.err);
    return fs::exists(marker);
  }
};

BOOST_AUTO_TEST_SUITE(metadata_e2e)

BOOST_AUTO_TEST_CASE(status_verify_and_sum_never_run_a_plugin_and_up_does) {
  Marked m;
  test::makePluginDir(m.dir, {testPlugin("counter"), testPlugin("marker")},
                      {"test_counter", "test_marker"});
  test::seedItems(m.dir / "store.db", 5);
  for (const auto& args : std::vector<std::vector<std::string>>{{"status"},
                                                                {"status", "--json"},
                                                                {"verify"},
                                                                {"verify", "--json"},
                                                                {"verify", "--strict"},
                                                                {"sum"},
                                                                {"sum", "--check"}})
    BOOST_TEST(!m.ran(args), args[0]);
  // What status shows came from the file, without loading it.
  Outcome o = m.graft({"status", "--json"});
  BOOST_TEST(o.out.find(R"("id":"test_marker","description":"n += 1, and a constructor that )"
                        R"(leaves a marker file","state":"pending")") != std::string::npos,
             o.out);

  BOOST_TEST(m.ran({"up", "-q"}));
  BOOST_TEST(test::sqlValue(m.dir / "store.db",
                            "SELECT status FROM migration_state WHERE id = 'test_marker'") ==
             "completed");
  // Applied: the drift check compares the recorded digest with the embedded one.
  BOOST_TEST(!m.ran({"status"}));
  BOOST_TEST(!m.ran({"verify", "--strict"}));
  o = m.graft({"verify"});
  BOOST_TEST(o.out.find("test_marker: ok (completed)\n") != std::string::npos, o.out);
  // Asked to, they load the plugins; so do up and verify --data.
  BOOST_TEST(m.ran({"status", "--load-plugins"}));
  BOOST_TEST(m.ran({"verify", "--load-plugins"}));
  BOOST_TEST(m.ran({"sum", "--check", "--load-plugins"}));
  BOOST_TEST(m.ran({"verify", "--data"}));
}

BOOST_AUTO_TEST_CASE(a_plugin_without_embedded_metadata_is_not_run_unless_asked) {
  Marked m;
  const std::string plugins = test::makePluginDir(m.dir, {}, {"test_marker"});
  // Named after its id, as graft_add_migration would name it.
  fs::copy_file(testPlugin("marker_undigested"), plugins + "/test_marker.so");
  test::seedItems(m.dir / "store.db", 5);
  const std::string path = plugins + "/test_marker.so";
  const std::string finding =
      "migration test_marker: plugin " + path +
      ": metadata not embedded (built without graft_add_migration, or with an older SDK), and "
      "graft runs no plugin code to read its logic digest, so graft can not tell a change to its "
      "logic from a rebuild (build it with graft_add_migration, or pass --load-plugins; --strict "
      "refuses this)";

  BOOST_TEST(!m.ran({"status"}));
  Outcome o = m.graft({"status"});
  BOOST_TEST(o.out.find("test_marker  unverifiable (pending)") != std::string::npos, o.out);
  BOOST_TEST(o.out.find("    drift: " + finding + "\n") != std::string::npos, o.out);
  BOOST_TEST(!m.ran({"verify"}));
  o = m.graft({"verify"});
  BOOST_TEST(o.out.find("  why: " + finding + "\n") != std::string::npos, o.out);
  BOOST_TEST(!m.ran({"verify", "--strict"}, 8));
  // A run loads it as it always did.
  BOOST_TEST(m.ran({"up", "-q"}));
  BOOST_TEST(!m.ran({"status"}));
  // --load-plugins reads what the plugin itself says: it has no digest.
  BOOST_TEST(m.ran({"verify", "--load-plugins"}));
  o = m.graft({"verify", "--load-plugins"});
  BOOST_TEST(
      o.out.find("has no logic digest (built without graft_add_migration") != std::string::npos,
      o.out);

  // Under another name, graft can not tell its id without running it.
  fs::rename(path, plugins + "/renamed.so");
  BOOST_TEST(!m.ran({"status"}, 4));
  o = m.graft({"status"});
  const std::string manifest = plugins + "/manifest.json";
  BOOST_TEST(o.err ==
             "graft: migration \"test_marker\" is in " + manifest + " but no plugin in " + plugins +
                 " has that id (build it, or remove it from the manifest)\n"
                 "graft: plugin " +
                 plugins +
                 "/renamed.so: metadata not embedded, and its file "
                 "name is not an id in " +
                 manifest +
                 ", so graft can not tell its id without "
                 "running it (build it with graft_add_migration, or pass --load-plugins)\n");
  BOOST_TEST(m.ran({"status", "--load-plugins"}));
}

BOOST_AUTO_TEST_CASE(up_refuses_a_plugin_whose_entry_point_disagrees_with_its_metadata) {
  ScratchDir dir;
  // graft_add_migration(test_counter_copy ...) over a source whose .id is
  // "test_counter".
  const std::string plugins =
      test::makePluginDir(dir, {testPlugin("counter_copy")}, {"test_counter_copy"});
  test::seedItems(dir / "store.db", 5);
  Outcome o = runGraft(test::graftArgs(dir, {"status"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  o = runGraft(test::graftArgs(dir, {"up", "-q"}));
  BOOST_TEST(o.exit_code == 4);
  BOOST_TEST(o.err == "graft: plugin " + plugins +
                          "/test_counter_copy.so: metadata: the embedded metadata disagrees with "
                          "graft_plugin_entry: id \"test_counter_copy\" embedded, \"test_counter\" "
                          "returned (graft_add_migration's target name is the id: name the target "
                          "after .id)\n"
                          "graft: migration \"test_counter_copy\" is in " +
                          plugins + "/manifest.json but no plugin in " + plugins +
                          " that loaded has that id (it may be one that failed to load, above)\n");
  BOOST_TEST(test::sqlValue(dir / "store.db", "SELECT count(*) FROM migration_state") == "0");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
