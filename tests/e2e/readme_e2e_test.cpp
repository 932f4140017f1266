// The README's "Writing a migration" sample is what a new user copies first:
// it must build as the README says (graft_add_migration, here with the
// warnings a careful project turns into errors, exporting only its entry point), run with the real
// graft binary, and its down must give back exactly the documents up was given.
#include <algorithm>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness.h"

namespace graft {
namespace {

namespace fs = std::filesystem;
using test::Outcome;
using test::readBytes;
using test::runGraft;
using test::runProgram;
using test::ScratchDir;
using test::writeFile;

// The first fenced block of `language` after `heading` in `markdown`.
std::string fencedBlock(const std::string& markdown, const std::string& heading,
                        const std::string& language) {
  const size_t section = markdown.find("\n" + heading + "\n");
  if (section == std::string::npos) throw std::runtime_error("README has no " + heading);
  const std::string fence = "\n```" + language + "\n";
  const size_t open = markdown.find(fence, section);
  const size_t close = markdown.find("\n```\n", open + fence.size() - 1);
  if (open == std::string::npos || close == std::string::npos)
    throw std::runtime_error("README's " + heading + " has no ```" + language + " block");
  return markdown.substr(open + fence.size(), close + 1 - (open + fence.size()));
}

void cmake(const std::vector<std::string>& args, const std::string& what) {
  std::vector<std::string> argv{GRAFT_CMAKE_COMMAND};
  argv.insert(argv.end(), args.begin(), args.end());
  Outcome o = runProgram(argv);
  if (o.exit_code != 0) throw std::runtime_error(what + " failed:\n" + o.out + o.err);
}

BOOST_AUTO_TEST_SUITE(readme_e2e)

BOOST_AUTO_TEST_CASE(the_sample_migration_builds_without_warnings_and_its_down_undoes_its_up) {
  ScratchDir dir;
  const std::string readme = readBytes(GRAFT_SOURCE_DIR "/README.md");
  const std::string source = fencedBlock(readme, "## Writing a migration", "cpp");
  const std::string build_rule = fencedBlock(readme, "## Writing a migration", "cmake");
  const std::string id = "20260301_120000_backfill_priority";
  BOOST_TEST_REQUIRE(source.find(".id = \"" + id + "\"") != std::string::npos, source);

  // A project as the README describes one, the SDK found as drift_e2e's
  // fixture finds it (tests/drift_fixture/CMakeLists.txt).
  fs::create_directories(dir / "src/migrations");
  writeFile(dir / "src/migrations/" + id + ".cpp", source);
  writeFile(dir / "src/CMakeLists.txt",
            "cmake_minimum_required(VERSION 3.25)\n"
            "project(readme_sample LANGUAGES CXX)\n"
            "set(CMAKE_CXX_STANDARD 20)\n"
            "set(CMAKE_CXX_STANDARD_REQUIRED ON)\n"
            "add_compile_options(-Wall -Wextra -Wpedantic -Werror)\n"
            "find_package(Boost 1.81 REQUIRED COMPONENTS json)\n"
            "add_library(graft_sdk INTERFACE)\n"
            "add_library(graft::sdk ALIAS graft_sdk)\n"
            "target_include_directories(graft_sdk INTERFACE ${GRAFT_SDK_DIR}/include)\n"
            "target_link_libraries(graft_sdk INTERFACE Boost::json)\n"
            "include(${GRAFT_SDK_DIR}/cmake/GraftMigration.cmake)\n" +
                build_rule);
  cmake({"-S", dir / "src", "-B", dir / "build", "-DGRAFT_SDK_DIR=" GRAFT_SDK_DIR,
         "-DCMAKE_CXX_COMPILER=" GRAFT_CXX_COMPILER},
        "configure the README's sample");
  cmake({"--build", dir / "build"}, "build the README's sample");
  // The README says it exports the entry point and nothing else.
  Outcome symbols =
      runProgram({"/usr/bin/nm", "-D", "--defined-only", dir / "build/plugins/" + id + ".so"});
  BOOST_TEST_REQUIRE(symbols.exit_code == 0, symbols.err);
  BOOST_TEST(symbols.out.find(" T graft_plugin_entry\n") != std::string::npos, symbols.out);
  BOOST_TEST(std::count(symbols.out.begin(), symbols.out.end(), '\n') == 1, symbols.out);
  writeFile(dir / "build/plugins/manifest.json",
            "{\"graft_manifest\": 1, \"migrations\": [\"" + id + "\"]}");

  const std::vector<boost::json::object> before = {
      {{"title", "write docs"}},
      {{"title", "ship"}, {"priority", "high"}},
      {{"title", "rest"}, {"done", true}, {"priority", nullptr}},
  };
  const std::string db = dir / "store.db";
  test::seedDocs(db, "todos", before);
  const std::vector<std::string> args = {"--db", db, "--plugins", dir / "build/plugins"};
  auto with = [&](std::vector<std::string> rest) {
    std::vector<std::string> all = args;
    all.insert(all.end(), rest.begin(), rest.end());
    return all;
  };

  Outcome o = runGraft(with({"up", "--quiet"}));
  BOOST_TEST_REQUIRE(o.exit_code == 0, o.err);
  const auto up = test::readTable(db, "todos");
  BOOST_TEST_REQUIRE(up.size() == 3u);
  BOOST_TEST(up[0].at("priority") == "medium");
  BOOST_TEST(up[1].at("priority") == "high");  // it had one
  BOOST_TEST(up[2].at("priority").is_null());  // it had one too: null

  o = runGraft(with({"down", "--steps", "1", "--quiet"}));
  BOOST_TEST_REQUIRE(o.exit_code == 0, o.err);
  const auto down = test::readTable(db, "todos");
  BOOST_TEST_REQUIRE(down.size() == before.size());
  for (size_t i = 0; i < before.size(); ++i) {
    // The same members, in the same order, after the store's two.
    boost::json::object expected{{"_id", down[i].at("_id")},
                                 {"_creationTime", down[i].at("_creationTime")}};
    for (const auto& [key, value] : before[i]) expected[key] = value;
    BOOST_TEST(boost::json::serialize(down[i]) == boost::json::serialize(expected));
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
