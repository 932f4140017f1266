// Tests for host/plan/scaffold.cpp: what `graft create` writes, and what it
// refuses. (That the files build and run is workflow_e2e_test.cpp's job.)
#include "plan/scaffold.h"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "plan/manifest.h"
#include "plan/sumfile.h"
#include "harness.h"

namespace graft {
namespace {

using test::readBytes;
using test::ScratchDir;
using test::writeFile;

// 2026-03-01 12:00:05 UTC.
std::chrono::system_clock::time_point march1() {
  using namespace std::chrono;
  return sys_days{year{2026} / 3 / 1} + hours{12} + seconds{5};
}

CreateOptions optionsIn(const ScratchDir& dir, const std::string& name) {
  CreateOptions options;
  options.name = name;
  options.manifest_path = dir / "migrations/manifest.json";
  options.now = march1();
  return options;
}

BOOST_AUTO_TEST_SUITE(scaffold)

BOOST_AUTO_TEST_CASE(ids_are_the_utc_time_then_the_name) {
  BOOST_TEST(migrationIdAt(march1(), "backfill_priority") == "20260301_120005_backfill_priority");
}

BOOST_AUTO_TEST_CASE(names_are_letters_digits_and_underscores) {
  for (const std::string& good :
       std::vector<std::string>{"a", "backfill_priority", "v2_Split_name", std::string(112, 'x')})
    BOOST_TEST(checkMigrationName(good).ok(), good);
  for (const std::string& bad : std::vector<std::string>{"", "add role", "2fast", "_x", "a-b",
                                                         "a.b", "é", std::string(113, 'x')}) {
    BOOST_TEST_CONTEXT(bad) {
      Status status = checkMigrationName(bad);
      BOOST_TEST(status.code() == Code::kUsage);
      BOOST_TEST(status.message() == "\"" + bad +
                                         "\" is not a valid migration name (letters, digits and "
                                         "'_', starting with a letter; at most 112)");
    }
  }
}

struct AppendCase {
  const char* name;
  std::string before;
  std::string after;
};

BOOST_AUTO_TEST_CASE(append_keeps_the_manifests_own_layout) {
  const std::vector<AppendCase> cases = {
      {"one id a line",
       "{\n  \"graft_manifest\": 1,\n  \"migrations\": [\n    \"a\",\n    \"b\"\n  ]\n}\n",
       "{\n  \"graft_manifest\": 1,\n  \"migrations\": [\n    \"a\",\n    \"b\",\n    \"new\"\n  "
       "]\n}\n"},
      {"one line", R"({"graft_manifest": 1, "migrations": ["a", "b"]})",
       R"({"graft_manifest": 1, "migrations": ["a", "b", "new"]})"},
      {"no spaces", R"({"migrations":["a","b"],"graft_manifest":1})",
       R"({"migrations":["a","b","new"],"graft_manifest":1})"},
      {"one id", R"({"graft_manifest":1,"migrations":["a"]})",
       R"({"graft_manifest":1,"migrations":["a", "new"]})"},
      {"one id on its own line", "{\"graft_manifest\": 1, \"migrations\": [\n  \"a\"\n]}",
       "{\"graft_manifest\": 1, \"migrations\": [\n  \"a\",\n  \"new\"\n]}"},
      {"empty list", R"({"graft_manifest": 1, "migrations": []})",
       "{\n  \"graft_manifest\": 1,\n  \"migrations\": [\n    \"new\"\n  ]\n}\n"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      auto text = appendToManifest(c.before, "m.json", "new");
      BOOST_TEST_REQUIRE(text.ok(), text.status().message());
      BOOST_TEST(*text == c.after);
    }
  }
  auto twice =
      appendToManifest(R"({"graft_manifest": 1, "migrations": ["a", "new"]})", "m.json", "new");
  BOOST_TEST(twice.status().code() == Code::kBadInput);
  BOOST_TEST(twice.status().message() == "m.json: already lists \"new\" (pick another name)");
  auto broken = appendToManifest(R"({"graft_manifest": 1, "migrations": ["a",]})", "m.json", "new");
  BOOST_TEST(broken.status().message() == "m.json:1:42: syntax error");
}

BOOST_AUTO_TEST_CASE(create_writes_source_build_line_and_manifest) {
  ScratchDir dir;
  auto created = createMigration(optionsIn(dir, "backfill_priority"));
  BOOST_TEST_REQUIRE(created.ok(), created.status().message());
  const std::string id = "20260301_120005_backfill_priority";
  BOOST_TEST(created->id == id);
  BOOST_TEST(created->source_path == dir / ("migrations/" + id + ".cpp"));
  BOOST_TEST(created->cmake_path == dir / "migrations/CMakeLists.txt");
  BOOST_TEST(created->cmake_created);
  BOOST_TEST(created->manifest_created);
  BOOST_TEST(created->sum_path == "");

  BOOST_TEST(readBytes(created->source_path) ==
             migrationSource(id, "backfill priority", "my_table"));
  const std::string source = readBytes(created->source_path);
  BOOST_TEST(source.find(".id = \"" + id + "\",") != std::string::npos);
  BOOST_TEST(source.find(".table = \"my_table\",") != std::string::npos);
  BOOST_TEST(source.find("return graft::skip;") != std::string::npos);
  BOOST_TEST(source.find("GRAFT_EXPORT_MIGRATION(migration)") != std::string::npos);

  const std::string cmake = readBytes(created->cmake_path);
  BOOST_TEST(cmake.find("find_package(graft REQUIRED)") != std::string::npos);
  const std::string line = "graft_add_migration(" + id + " SOURCES " + id + ".cpp)\n";
  BOOST_TEST(cmake.size() > line.size());
  BOOST_TEST(cmake.substr(cmake.size() - line.size()) == line);

  auto manifest = readManifest(dir / "migrations/manifest.json");
  BOOST_TEST_REQUIRE(manifest.ok(), manifest.status().message());
  BOOST_TEST(manifest->ids == std::vector<std::string>{id}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(create_appends_to_existing_files_and_a_sum) {
  ScratchDir dir;
  std::filesystem::create_directories(dir / "src");
  writeFile(dir / "src/CMakeLists.txt", "project(x)\ngraft_add_migration(old SOURCES old.cpp)");
  std::filesystem::create_directories(dir / "migrations");
  writeFile(dir / "migrations/manifest.json", R"({"graft_manifest": 1, "migrations": ["old"]})");
  const SumFile before =
      computeSum({{"old", "v1:sha256:" + std::string(64, 'a'), "old.so"}}).value();
  BOOST_TEST_REQUIRE(writeSum(before, dir / "migrations/graft.sum").ok());

  CreateOptions options = optionsIn(dir, "add_role");
  options.source_dir = dir / "src";
  options.table = "users";
  auto created = createMigration(options);
  BOOST_TEST_REQUIRE(created.ok(), created.status().message());
  const std::string id = "20260301_120005_add_role";
  BOOST_TEST(created->source_path == dir / ("src/" + id + ".cpp"));
  BOOST_TEST(!created->cmake_created);
  BOOST_TEST(!created->manifest_created);
  BOOST_TEST(created->sum_path == dir / "migrations/graft.sum");
  BOOST_TEST(readBytes(dir / "src/CMakeLists.txt") ==
             "project(x)\ngraft_add_migration(old SOURCES old.cpp)\ngraft_add_migration(" + id +
                 " SOURCES " + id + ".cpp)\n");
  BOOST_TEST(readBytes(dir / "migrations/manifest.json") ==
             R"({"graft_manifest": 1, "migrations": ["old", ")" + id + R"("]})");
  BOOST_TEST(readBytes(dir / "migrations/graft.sum") == formatSum(appendPending(before, id)));
  BOOST_TEST(readBytes(created->source_path).find(".table = \"users\",") != std::string::npos);
}

struct Refusal {
  const char* name;
  CreateOptions options;
  Code code;
  std::string message;
};

BOOST_AUTO_TEST_CASE(create_refuses_and_writes_nothing) {
  ScratchDir dir;
  auto first = createMigration(optionsIn(dir, "add_role"));
  BOOST_TEST_REQUIRE(first.ok(), first.status().message());
  const std::string cmake = readBytes(dir / "migrations/CMakeLists.txt");

  CreateOptions bad_name = optionsIn(dir, "add role");
  CreateOptions bad_table = optionsIn(dir, "other");
  bad_table.table = "migration_state";
  CreateOptions listed = optionsIn(dir, "listed");
  writeFile(dir / "migrations/manifest.json",
            R"({"graft_manifest": 1, "migrations": ["20260301_120005_listed"]})");
  const std::string manifest = readBytes(dir / "migrations/manifest.json");
  const std::vector<Refusal> cases = {
      {"same name, same second", optionsIn(dir, "add_role"), Code::kBadInput,
       dir / "migrations/20260301_120005_add_role.cpp" +
           ": already exists (pick another name, or remove the file)"},
      {"invalid name", bad_name, Code::kUsage,
       "\"add role\" is not a valid migration name (letters, digits and '_', starting with a "
       "letter; at most 112)"},
      {"reserved table", bad_table, Code::kUsage,
       "table \"migration_state\" is reserved for graft (names starting with migration_, graft_ "
       "or sqlite_)"},
      {"id already in the manifest", listed, Code::kBadInput,
       "read manifest: " + dir / "migrations/manifest.json" +
           ": already lists \"20260301_120005_listed\" (pick another name)"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      auto created = createMigration(c.options);
      BOOST_TEST_REQUIRE(!created.ok());
      BOOST_TEST(created.status().code() == c.code);
      BOOST_TEST(created.status().message() == c.message);
    }
  }
  BOOST_TEST(!std::filesystem::exists(dir / "migrations/20260301_120005_listed.cpp"));
  BOOST_TEST(!std::filesystem::exists(dir / "migrations/20260301_120005_other.cpp"));
  BOOST_TEST(readBytes(dir / "migrations/CMakeLists.txt") == cmake);
  BOOST_TEST(readBytes(dir / "migrations/manifest.json") == manifest);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
