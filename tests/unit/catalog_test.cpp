#include "plan/catalog.h"

#include <boost/test/unit_test.hpp>

#include <filesystem>

#include "harness.h"

namespace graft {
namespace {

using test::makePluginDir;
using test::ScratchDir;
using test::testPlugin;

BOOST_AUTO_TEST_SUITE(catalog)

BOOST_AUTO_TEST_CASE(orders_plugins_as_the_manifest_does) {
  ScratchDir dir;
  auto plugins = makePluginDir(dir, {testPlugin("counter"), testPlugin("probe"), testPlugin("fail_at")},
                               {"test_probe", "test_fail_at", "test_counter"});
  auto catalog = loadCatalog(plugins, plugins + "/manifest.json");
  BOOST_REQUIRE_MESSAGE(catalog.ok(), catalog.status().message());
  BOOST_REQUIRE(catalog->plugins.size() == 3u);
  BOOST_TEST(catalog->plugins[0]->id() == "test_probe");
  BOOST_TEST(catalog->plugins[1]->id() == "test_fail_at");
  BOOST_TEST(catalog->plugins[2]->id() == "test_counter");
  BOOST_TEST(catalog->find("test_fail_at") == catalog->plugins[1].get());
  BOOST_TEST(catalog->find("nope") == nullptr);
}

BOOST_AUTO_TEST_CASE(only_files_with_the_platform_suffix_are_plugins) {
  ScratchDir dir;
  auto plugins = makePluginDir(dir, {testPlugin("counter")}, {"test_counter"});
  test::writeFile(plugins + "/README.txt", "notes");
  auto catalog = loadCatalog(plugins, plugins + "/manifest.json");
  BOOST_REQUIRE_MESSAGE(catalog.ok(), catalog.status().message());
  BOOST_TEST(catalog->plugins.size() == 1u);
}

BOOST_AUTO_TEST_CASE(reports_every_mismatch_at_once_one_line_each) {
  ScratchDir dir;
  // The same plugin under a second name: two files with one id.
  std::filesystem::copy_file(testPlugin("counter"), dir / "test_counter_again.so");
  auto plugins = makePluginDir(
      dir, {testPlugin("counter"), dir / "test_counter_again.so", testPlugin("counter_copy"),
            testPlugin("probe"), testPlugin("bad_abi")},
      {"test_counter", "test_missing"});
  const std::string manifest = plugins + "/manifest.json";
  auto catalog = loadCatalog(plugins, manifest);
  BOOST_REQUIRE(!catalog.ok());
  BOOST_TEST(catalog.status().code() == Code::kPlugin);
  BOOST_TEST(catalog.status().message() ==
             "plugin " + plugins + "/test_bad_abi.so: ABI: built for graft ABI 2.0, this host speaks "
             "1.4 (rebuild the plugin against this host's SDK)\n"
             "plugins " + plugins + "/test_counter.so and " + plugins +
             "/test_counter_again.so both have id \"test_counter\" (remove one of them)\n"
             "plugin " + plugins + "/test_counter_copy.so: metadata: the embedded metadata "
             "disagrees with graft_plugin_entry: id \"test_counter_copy\" embedded, \"test_counter\" "
             "returned (graft_add_migration's target name is the id: name the target after .id)\n"
             "migration \"test_missing\" is in " + manifest + " but no plugin in " + plugins +
             " that loaded has that id (it may be one that failed to load, above)\n"
             "plugin " + plugins + "/test_probe.so has id \"test_probe\", which is not in " +
             manifest + " (add it to the manifest, or remove the file)");
}

// readCatalog: the same catalog from the plugins' embedded metadata, with
// no plugin loaded.
BOOST_AUTO_TEST_CASE(reads_a_catalog_without_loading_any_plugin) {
  ScratchDir dir;
  auto plugins = makePluginDir(dir, {testPlugin("fail_at"), testPlugin("counter")},
                               {"test_counter", "test_fail_at", "test_plain"});
  // No embedded metadata: it stands for the id that is its file name.
  std::filesystem::copy_file(testPlugin("counter_undigested"), plugins + "/test_plain.so");
  auto catalog = readCatalog(plugins, plugins + "/manifest.json");
  BOOST_REQUIRE_MESSAGE(catalog.ok(), catalog.status().message());
  BOOST_REQUIRE(catalog->plugins.size() == 3u);
  const Plugin& counter = *catalog->plugins[0];
  BOOST_TEST(counter.id() == "test_counter");
  BOOST_TEST(counter.description() == "n += 1 on every item");
  BOOST_TEST(counter.hasDown());
  BOOST_TEST(counter.metadataEmbedded());
  BOOST_TEST(!counter.loaded());
  auto loaded = Plugin::load(testPlugin("counter"));
  BOOST_REQUIRE(loaded.ok());
  BOOST_TEST(counter.logicDigest() == (*loaded)->logicDigest());
  BOOST_TEST(catalog->plugins[1]->id() == "test_fail_at");
  BOOST_TEST(!catalog->plugins[1]->hasDown());
  const Plugin& plain = *catalog->plugins[2];
  BOOST_TEST(plain.id() == "test_plain");
  BOOST_TEST(!plain.metadataEmbedded());
  BOOST_TEST(!plain.loaded());
  BOOST_TEST(plain.logicDigest() == "");

  // Under a name that is no manifest id, it can not be placed.
  std::filesystem::rename(plugins + "/test_plain.so", plugins + "/plain.so");
  auto misnamed = readCatalog(plugins, plugins + "/manifest.json");
  BOOST_REQUIRE(!misnamed.ok());
  BOOST_TEST(misnamed.status().code() == Code::kPlugin);
  BOOST_TEST(misnamed.status().message() ==
             "migration \"test_plain\" is in " + plugins + "/manifest.json but no plugin in " +
                 plugins + " has that id (build it, or remove it from the manifest)\nplugin " +
                 plugins + "/plain.so: metadata not embedded, and its file name is not an id in " +
                 plugins + "/manifest.json, so graft can not tell its id without running it "
                 "(build it with graft_add_migration, or pass --load-plugins)");
}

BOOST_AUTO_TEST_CASE(a_missing_directory_or_manifest_is_named) {
  ScratchDir dir;
  auto no_dir = loadCatalog(dir / "nope", dir / "manifest.json");
  BOOST_REQUIRE(!no_dir.ok());
  auto plugins = makePluginDir(dir, {}, {});
  auto no_manifest = loadCatalog(plugins, dir / "absent.json");
  BOOST_REQUIRE(!no_manifest.ok());
  BOOST_TEST(no_manifest.status().code() == Code::kBadInput);
  BOOST_TEST(no_manifest.status().message() ==
             "read manifest: " + dir / "absent.json" + ": can not open: No such file or directory");
  test::writeFile(dir / "manifest.json", "{}");
  auto missing_dir = loadCatalog(dir / "nope", dir / "manifest.json");
  BOOST_REQUIRE(!missing_dir.ok());
  BOOST_TEST(missing_dir.status().message() ==
             "read manifest: " + dir / "manifest.json" +
             ":1:1: missing \"graft_manifest\": 1 (the manifest format version)");
  test::writeFile(dir / "manifest.json", R"({"graft_manifest": 1, "migrations": []})");
  auto not_dir = loadCatalog(dir / "nope", dir / "manifest.json");
  BOOST_REQUIRE(!not_dir.ok());
  BOOST_TEST(not_dir.status().code() == Code::kPlugin);
  BOOST_TEST(not_dir.status().message() ==
             "plugin directory " + dir / "nope" +
             ": not a directory (pass --plugins DIR, the directory of the built plugins)");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
