#include "plugins/plugin.h"

#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <filesystem>

#include "harness.h"

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

BOOST_AUTO_TEST_CASE(loads_a_good_plugin_and_reads_its_metadata) {
  auto plugin = Plugin::load(testPlugin("counter"));
  BOOST_REQUIRE_MESSAGE(plugin.ok(), plugin.status().message());
  BOOST_TEST((*plugin)->id() == "test_counter");
  BOOST_TEST((*plugin)->description() == "n += 1 on every item");
  BOOST_TEST(std::string((*plugin)->up().table) == "items");
  BOOST_TEST((*plugin)->down() != nullptr);
  BOOST_TEST((*plugin)->path() == testPlugin("counter"));
  BOOST_TEST((*plugin)->fileSha256() == shellSha256(testPlugin("counter")));
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
  std::string lib = test::readBytes(testPlugin("counter"));
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
  test::writeFile(dir / "empty.so", "");
  std::filesystem::create_directory(dir / "dir.so");
  const std::string hint = " (is it a shared library built for this machine with graft_add_migration?)";
  const std::string malformed =
      " (the plugin's graft_plugin is not what the SDK makes: define it with defineMigration and "
      "GRAFT_EXPORT_MIGRATION, and build it with graft_add_migration)";
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
                             ": check: an object file (.o), not a shared library: link it into "
                             "one (graft_add_migration does)"},
      {dir / "empty.so", "plugin " + dir / "empty.so" +
                             ": check: the file is empty (is it still being copied? copy it under "
                             "another name, then mv it into place)"},
      {dir / "dir.so", "plugin " + dir / "dir.so" +
                           ": open: a directory, not a plugin file (every file with the "
                           "shared-library suffix in the plugin directory is a plugin: rename or "
                           "move it)"},
      {testPlugin("newer_minor"), "plugin " + testPlugin("newer_minor") +
                                      ": ABI: built for graft ABI 1.99, this host speaks 1.4, "
                                      "which is older (upgrade graft, or rebuild the plugin "
                                      "against this host's SDK)"},
      {testPlugin("other_major"), "plugin " + testPlugin("other_major") +
                                      ": ABI: built for graft ABI 2.0, this host speaks 1.4 "
                                      "(rebuild the plugin against this host's SDK)"},
      {testPlugin("null_entry"), "plugin " + testPlugin("null_entry") +
                                     ": entry point: graft_plugin_entry returned NULL" + malformed},
      {testPlugin("small_struct"), "plugin " + testPlugin("small_struct") +
                                       ": metadata: graft_plugin is 8 bytes, expected at least 40" +
                                       malformed},
      {testPlugin("no_up"), "plugin " + testPlugin("no_up") + ": metadata: no up step" + malformed},
      {testPlugin("no_entry"), "plugin " + testPlugin("no_entry") +
                                   ": entry point: no symbol graft_plugin_entry (export the "
                                   "migration with GRAFT_EXPORT_MIGRATION)"},
      {testPlugin("bad_abi"), "plugin " + testPlugin("bad_abi") +
                                  ": ABI: built for graft ABI 2.0, this host speaks 1.4 (rebuild "
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

// status, verify and sum read only the embedded metadata, and must refuse
// what up refuses at its ABI stage: an ABI this host can not run.
BOOST_AUTO_TEST_CASE(inspecting_refuses_the_abi_loading_refuses) {
  for (const std::string name : {"newer_minor", "other_major"}) {
    BOOST_TEST_CONTEXT(name) {
      auto loaded = Plugin::load(testPlugin(name));
      auto inspected = Plugin::inspect(testPlugin(name), {});
      BOOST_REQUIRE(!loaded.ok());
      BOOST_REQUIRE(!inspected.ok());
      BOOST_TEST(inspected.status().message() == loaded.status().message());
      BOOST_TEST(inspected.status().message().find(": ABI: built for graft ABI ") !=
                 std::string::npos);
    }
  }
}

// What status and verify show without loading is what runs: a plugin whose
// entry point disagrees with its embedded metadata is refused when loaded.
BOOST_AUTO_TEST_CASE(refuses_a_plugin_whose_entry_point_disagrees_with_its_metadata) {
  // Built as graft_add_migration(test_counter_copy ...) from counter.cpp,
  // whose .id is "test_counter": the target name is the id it embeds.
  auto copy = Plugin::load(testPlugin("counter_copy"));
  BOOST_REQUIRE(!copy.ok());
  BOOST_TEST(copy.status().code() == Code::kPlugin);
  BOOST_TEST(copy.status().message() ==
             "plugin " + testPlugin("counter_copy") +
                 ": metadata: the embedded metadata disagrees with graft_plugin_entry: id "
                 "\"test_counter_copy\" embedded, \"test_counter\" returned (graft_add_migration's "
                 "target name is the id: name the target after .id)");
  // Inspecting it runs nothing and shows the embedded id.
  auto inspected = Plugin::inspect(testPlugin("counter_copy"), {});
  BOOST_REQUIRE(inspected.ok());
  BOOST_TEST((*inspected)->id() == "test_counter_copy");

  // Metadata edited in the file, same length: another description, no down.
  std::string lib = test::readBytes(testPlugin("counter"));
  // The text's terminating NUL makes room for "false".
  const std::string original("\"n += 1 on every item\",\"has_down\":true}\0", 40);
  const size_t at = lib.find(original);
  BOOST_REQUIRE(at != std::string::npos);
  lib.replace(at, original.size(), "\"n += 2 on every item\",\"has_down\":false}");
  ScratchDir dir;
  test::writeFile(dir / "edited.so", lib);
  auto edited = Plugin::load(dir / "edited.so");
  BOOST_REQUIRE(!edited.ok());
  BOOST_TEST(edited.status().message() ==
             "plugin " + dir / "edited.so" +
                 ": metadata: the embedded metadata disagrees with graft_plugin_entry: "
                 "description \"n += 2 on every item\" embedded, \"n += 1 on every item\" returned "
                 "(write .description as one string literal at the start of its line); down step "
                 "absent embedded, present returned (start the line that sets the down step with "
                 ".down =)");
}

BOOST_AUTO_TEST_CASE(refuses_files_that_someone_else_could_have_written) {
  ScratchDir dir;
  std::filesystem::create_directories(dir / "ok");
  std::filesystem::copy_file(testPlugin("counter"), dir / "ok/c.so");
  BOOST_TEST_REQUIRE(Plugin::load(dir / "ok/c.so").ok());

  std::filesystem::copy_file(testPlugin("counter"), dir / "group.so");
  chmod((dir / "group.so").c_str(), 0664);
  std::filesystem::create_directories(dir / "open");
  std::filesystem::copy_file(testPlugin("counter"), dir / "open/c.so");
  chmod((dir / "open").c_str(), 0777);
  std::filesystem::create_symlink(testPlugin("counter"), dir / "link.so");
  const std::string override_hint = "; or pass --allow-untrusted-plugins";
  struct Case {
    std::string path, message;
  };
  const std::vector<Case> cases = {
      {dir / "group.so", "plugin " + dir / "group.so" + ": trust: file " + dir / "group.so" +
                             " is writable by its group (mode 0664; fix with chmod go-w " +
                             dir / "group.so" + ")" + override_hint},
      {dir / "open/c.so", "plugin " + dir / "open/c.so" + ": trust: directory " + dir / "open" +
                              " is writable by others (mode 0777; fix with chmod go-w " +
                              dir / "open" + ")" + override_hint},
      {dir / "link.so", "plugin " + dir / "link.so" + ": trust: file " + dir / "link.so" +
                            " is a symlink (copy the plugin itself into the plugin directory)" +
                            override_hint},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.path) {
      auto plugin = Plugin::load(c.path);
      BOOST_REQUIRE(!plugin.ok());
      BOOST_TEST(plugin.status().code() == Code::kPlugin);
      BOOST_TEST(plugin.status().message() == c.message);
      BOOST_TEST(Plugin::load(c.path, {.allow_untrusted = true}).ok());
    }
  }
}

// The SDK parses each document into memory that ends with the call: a
// document it can not parse fails that call with the parser's reason, and
// the next call parses as if none had failed.
BOOST_AUTO_TEST_CASE(sdk_recovers_from_a_document_it_can_not_parse) {
  auto plugin = Plugin::load(testPlugin("counter"));
  BOOST_REQUIRE(plugin.ok());
  graft_context ctx{sizeof(graft_context), "test_counter", "r", GRAFT_UP, 0, nullptr, nullptr};
  const char* patch = nullptr;
  size_t len = 0;
  char err[256] = {0};
  const std::string broken = R"({"_id":1,"_creationTime":1.0,"n":[1,2,{"x":)";
  BOOST_TEST((*plugin)->up().migrate_one(&ctx, broken.data(), broken.size(), &patch, &len, err,
                                         sizeof err) == GRAFT_ERROR);
  BOOST_TEST(std::string(err).rfind("incomplete JSON", 0) == 0u, err);
  for (int n : {41, 7}) {
    const std::string doc =
        R"({"_id":1,"_creationTime":1.0,"n":)" + std::to_string(n) + R"(,"tags":["a","b"]})";
    BOOST_TEST((*plugin)->up().migrate_one(&ctx, doc.data(), doc.size(), &patch, &len, err,
                                           sizeof err) == GRAFT_PATCH);
    BOOST_TEST(std::string(patch, len) == R"({"$set":{"n":)" + std::to_string(n + 1) + "}}");
  }
}

// What was hashed is what runs: the file is read once and loaded from a
// private copy of those bytes, so replacing it afterwards changes nothing.
BOOST_AUTO_TEST_CASE(the_bytes_hashed_are_the_bytes_that_run) {
  ScratchDir dir;
  std::filesystem::copy_file(testPlugin("counter"), dir / "p.so");
  const std::string original = shellSha256(dir / "p.so");
  auto plugin = Plugin::load(dir / "p.so");
  BOOST_REQUIRE(plugin.ok());
  // Swap in another plugin, in place (the same inode, as a careless copy
  // would): a library mapped from this file would now run other code.
  test::writeFile(dir / "p.so", test::readBytes(testPlugin("probe")));
  BOOST_TEST((*plugin)->fileSha256() == original);
  BOOST_TEST((*plugin)->id() == "test_counter");
  BOOST_TEST(std::string((*plugin)->up().table) == "items");
  // And it still runs: migrateOne of the counter, not of the probe.
  const std::string doc = R"({"_id":1,"_creationTime":1.0,"n":41})";
  const char* patch = nullptr;
  size_t len = 0;
  char err[256] = {0};
  graft_context ctx{sizeof(graft_context), "test_counter", "r", GRAFT_UP, 0, nullptr, nullptr};
  BOOST_TEST((*plugin)->up().migrate_one(&ctx, doc.data(), doc.size(), &patch, &len, err, sizeof err) == GRAFT_PATCH);
  BOOST_TEST(std::string(patch, len) == R"({"$set":{"n":42}})");
  // The code is mapped from the private copy, which is already unlinked,
  // and not from the plugin file.
  std::istringstream maps(test::readBytes("/proc/self/maps"));
  int copies = 0;
  for (std::string line; std::getline(maps, line);) {
    BOOST_TEST(line.find(dir / "p.so") == std::string::npos, line);
    if (line.find("/plugin-") != std::string::npos && line.find("/graft-") != std::string::npos) {
      ++copies;
      BOOST_TEST(line.size() >= 10u);
      BOOST_TEST(line.substr(line.size() - 10) == " (deleted)", line);
    }
  }
  BOOST_TEST(copies > 0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
