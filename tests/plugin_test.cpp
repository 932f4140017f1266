#include "plugin.h"

#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <filesystem>

#include "harness.h"
#include "sha256.h"

namespace graft {
namespace {

using test::ScratchDir;
using test::testPlugin;

std::string shellSha256(const std::string& path) {
  std::string command = "sha256sum '" + path + "'";
  FILE* pipe = popen(command.c_str(), "r");
  char hex[65] = {0};
  BOOST_REQUIRE(pipe);
  BOOST_REQUIRE(std::fscanf(pipe, "%64s", hex) == 1);
  pclose(pipe);
  return hex;
}

BOOST_AUTO_TEST_SUITE(plugin)

BOOST_AUTO_TEST_CASE(sha256_matches_known_vectors) {
  BOOST_TEST(sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  BOOST_TEST(sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

BOOST_AUTO_TEST_CASE(loads_a_good_plugin_and_reads_its_metadata) {
  auto plugin = Plugin::load(testPlugin("counter"));
  BOOST_REQUIRE_MESSAGE(plugin.ok(), plugin.status().message());
  BOOST_TEST((*plugin)->id() == "test_counter");
  BOOST_TEST((*plugin)->description() == "n += 1 on every item");
  BOOST_TEST(std::string((*plugin)->up().table) == "items");
  BOOST_TEST((*plugin)->down() != nullptr);
  BOOST_TEST((*plugin)->path() == testPlugin("counter"));
  BOOST_TEST((*plugin)->sha256() == shellSha256(testPlugin("counter")));
}

BOOST_AUTO_TEST_CASE(a_plugin_without_down_says_so) {
  auto plugin = Plugin::load(testPlugin("fail_at"));
  BOOST_REQUIRE(plugin.ok());
  BOOST_TEST((*plugin)->down() == nullptr);
  BOOST_TEST((*plugin)->up().batch_size == 10u);
}

BOOST_AUTO_TEST_CASE(relative_paths_are_made_absolute) {
  ScratchDir dir;
  std::filesystem::copy_file(testPlugin("counter"), dir / "c.so");
  auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  auto plugin = Plugin::load("c.so");
  std::filesystem::current_path(cwd);
  BOOST_REQUIRE(plugin.ok());
  BOOST_TEST((*plugin)->path() == dir / "c.so");
}

BOOST_AUTO_TEST_CASE(refuses_each_kind_of_bad_plugin_with_the_stage_and_a_hint) {
  ScratchDir dir;
  std::string text;
  while (text.size() < 200) text += "this is not a shared library, just some text in a file\n";
  test::writeFile(dir / "text.so", text);
  std::string lib = test_util::readBytes(testPlugin("counter"));
  // A copy cut short: dlopen would map its segments past the end of the file
  // and the host would die of SIGBUS on first use.
  test::writeFile(dir / "truncated.so", lib.substr(0, 1000));
  // The section headers are at the end of the file.
  const std::string needed = std::to_string(lib.size());
  // A relocatable object, not a shared library: an ELF header of type ET_REL.
  std::string object = lib.substr(0, 64);
  object[16] = 1;
  object[17] = 0;
  test::writeFile(dir / "object.o", object);
  const std::string hint = " (is it a shared library built for this machine with graft_add_migration?)";
  struct Case {
    std::string path;
    std::string message;
  };
  const std::vector<Case> cases = {
      {dir / "missing.so", "plugin " + dir / "missing.so" + ": open: " + dir / "missing.so" +
                               ": can not open: No such file or directory"},
      {dir / "text.so", "plugin " + dir / "text.so" +
                            ": check: not a shared library: no ELF header (build it with "
                            "graft_add_migration)"},
      {dir / "truncated.so", "plugin " + dir / "truncated.so" + ": check: truncated: the file has "
                                 "1000 bytes, its headers need " + needed + " (copy or build the "
                                 "plugin again)"},
      {dir / "object.o", "plugin " + dir / "object.o" +
                             ": check: not a shared library: ELF type 1 (build it with "
                             "graft_add_migration)"},
      {testPlugin("no_entry"), "plugin " + testPlugin("no_entry") +
                                   ": entry point: no symbol graft_plugin_entry (export the "
                                   "migration with GRAFT_EXPORT_MIGRATION)"},
      {testPlugin("bad_abi"), "plugin " + testPlugin("bad_abi") +
                                  ": ABI: built for graft ABI 2.0, this host speaks 1.1 (rebuild "
                                  "the plugin against this host's SDK)"},
      {testPlugin("unresolved"), "plugin " + testPlugin("unresolved") + ": load: " +
                                     testPlugin("unresolved") +
                                     ": undefined symbol: graft_test_symbol_nobody_defines" + hint},
  };
  for (const auto& c : cases) {
    auto plugin = Plugin::load(c.path);
    BOOST_TEST_CONTEXT(c.path) {
      BOOST_REQUIRE(!plugin.ok());
      BOOST_TEST(plugin.status().code() == Code::kPlugin);
      BOOST_TEST(plugin.status().message() == c.message);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
