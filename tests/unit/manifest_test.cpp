// Tests for host/plan/manifest.cpp: the manifest format and migration ids.
#include "plan/manifest.h"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "harness.h"

namespace graft {
namespace {

using test::ScratchDir;

BOOST_AUTO_TEST_SUITE(manifest)

BOOST_AUTO_TEST_CASE(good_manifest_keeps_ids_in_order) {
  const std::string text = R"({
  "graft_manifest": 1,
  "migrations": ["20260101_120000_add_role", "20260102_090000_split-name", "v2.backfill"]
})";
  auto manifest = parseManifest(text, "m.json");
  BOOST_TEST_REQUIRE(manifest.ok(), manifest.status().message());
  BOOST_TEST(manifest->path == "m.json");
  const std::vector<std::string> expected = {"20260101_120000_add_role",
                                             "20260102_090000_split-name", "v2.backfill"};
  BOOST_TEST(manifest->ids == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(empty_migration_list_is_a_manifest) {
  auto manifest = parseManifest(R"({"migrations": [], "graft_manifest": 1})", "m.json");
  BOOST_TEST_REQUIRE(manifest.ok(), manifest.status().message());
  BOOST_TEST(manifest->ids.empty());
}

// Windows editors save UTF-8 with a byte order mark: it is skipped, and
// positions still count its bytes.
BOOST_AUTO_TEST_CASE(a_byte_order_mark_is_skipped) {
  auto manifest = parseManifest("\xEF\xBB\xBF{\"graft_manifest\": 1, \"migrations\": [\"a\"]}", "m.json");
  BOOST_TEST_REQUIRE(manifest.ok(), manifest.status().message());
  BOOST_TEST(manifest->ids == std::vector<std::string>{"a"}, boost::test_tools::per_element());
  auto bad = parseManifest("\xEF\xBB\xBF{\"graft_manifest\": 1, \"extra\": 1}", "m.json");
  BOOST_TEST(bad.status().message() ==
             "m.json:1:26: unknown key \"extra\" (a manifest has only \"graft_manifest\" and "
             "\"migrations\")");
  auto utf8 = parseManifest("{\"graft_manifest\": 1, \"migrations\": [\"caf\xE9\"]}", "m.json");
  BOOST_TEST(utf8.status().message() == "m.json:1:42: invalid UTF-8 (byte 0xE9; save the file as UTF-8)");
}

struct BadManifest {
  const char* name;
  const char* text;
  const char* message;
};

BOOST_AUTO_TEST_CASE(bad_manifests_say_what_is_wrong) {
  const std::vector<BadManifest> cases = {
      {"bad JSON, with line:column", "{\n  \"graft_manifest\": 1,\n  \"migrations\": [\"a\",,]\n}",
       "m.json:3:22: syntax error"},
      {"not an object", "[\"a\"]",
       "m.json:1:1: a manifest is a JSON object {\"graft_manifest\": 1, \"migrations\": [...]}"},
      {"unknown key", R"({"graft_manifest": 1, "migrations": [], "extra": true})",
       "m.json:1:41: unknown key \"extra\" (a manifest has only \"graft_manifest\" and "
       "\"migrations\")"},
      {"missing version", R"({"migrations": ["a"]})",
       "m.json:1:1: missing \"graft_manifest\": 1 (the manifest format version)"},
      {"version as a string", R"({"graft_manifest": "1", "migrations": ["a"]})",
       "m.json:1:20: missing \"graft_manifest\": 1 (the manifest format version)"},
      {"wrong version", R"({"graft_manifest": 2, "migrations": ["a"]})",
       "m.json:1:20: manifest format 2 is not supported; this graft reads format 1"},
      {"missing migrations", R"({"graft_manifest": 1})",
       "m.json:1:1: \"migrations\" must be an array of migration ids"},
      {"migrations not an array", R"({"graft_manifest": 1, "migrations": "a"})",
       "m.json:1:37: \"migrations\" must be an array of migration ids"},
      {"duplicate id", R"({"graft_manifest": 1, "migrations": ["a", "b", "a"]})",
       "m.json:1:48: duplicate id \"a\" at migrations[2], first at migrations[0] (1:38)"},
      {"non-string entry", R"({"graft_manifest": 1, "migrations": ["a", 7]})",
       "m.json:1:43: migrations[1] is not a string"},
      {"duplicate key", "{\"graft_manifest\": 1,\n \"migrations\": [],\n \"migrations\": [\"a\"]}",
       "m.json:3:2: duplicate key \"migrations\" (first at 2:2)"},
      {"invalid id", R"({"graft_manifest": 1, "migrations": ["a", "add role"]})",
       "m.json:1:43: migrations[1]: \"add role\" is not a valid id (letters, digits, '_', '-', '.'; "
       "at most 128)"},
      // Found by tests/fuzz/manifest_fuzz: a string from the file is shown
      // escaped, so that its newline can not split the message in two.
      {"unknown key with a newline", R"({"graft_m\nifest": 1, "migrations": []})",
       "m.json:1:2: unknown key \"graft_m\\nifest\" (a manifest has only \"graft_manifest\" and "
       "\"migrations\")"},
      {"invalid id with a newline", R"({"graft_manifest": 1, "migrations": ["a\nb"]})",
       "m.json:1:38: migrations[0]: \"a\\nb\" is not a valid id (letters, digits, '_', '-', '.'; "
       "at most 128)"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      auto manifest = parseManifest(c.text, "m.json");
      BOOST_TEST_REQUIRE(!manifest.ok());
      BOOST_TEST(manifest.status().code() == Code::kBadInput);
      BOOST_TEST(manifest.status().message() == c.message);
    }
  }
}

struct IdCase {
  std::string id;
  bool valid;
};

BOOST_AUTO_TEST_CASE(migration_ids) {
  const std::vector<IdCase> cases = {
      {"20260101_120000_add_role", true},
      {"a", true},
      {"A-b.c_9", true},
      {std::string(128, 'x'), true},
      {"", false},
      {std::string(129, 'x'), false},
      {"add role", false},
      {"dir/id", false},
      {"it's", false},
      {"semi;colon", false},
      {"caf\xc3\xa9", false},  // letters are ASCII letters only
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("id \"" << c.id << "\"") { BOOST_TEST(isValidMigrationId(c.id) == c.valid); }
  }
}

BOOST_AUTO_TEST_CASE(read_manifest_from_a_file) {
  ScratchDir dir;
  const std::string path = dir.file("manifest.json");
  test::writeFile(path, R"({"graft_manifest": 1, "migrations": ["one", "two"]})");
  auto manifest = readManifest(path);
  BOOST_TEST_REQUIRE(manifest.ok(), manifest.status().message());
  BOOST_TEST(manifest->path == path);
  const std::vector<std::string> expected = {"one", "two"};
  BOOST_TEST(manifest->ids == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(read_manifest_errors_name_the_stage_and_the_file) {
  ScratchDir dir;
  const std::string missing = dir.file("missing.json");
  auto not_there = readManifest(missing);
  BOOST_TEST_REQUIRE(!not_there.ok());
  BOOST_TEST(not_there.status().code() == Code::kBadInput);
  BOOST_TEST(not_there.status().message() ==
             "read manifest: " + missing + ": can not open: No such file or directory");

  const std::string wrong = dir.file("wrong.json");
  test::writeFile(wrong, R"({"graft_manifest": 3, "migrations": []})");
  auto too_new = readManifest(wrong);
  BOOST_TEST_REQUIRE(!too_new.ok());
  BOOST_TEST(too_new.status().code() == Code::kBadInput);
  BOOST_TEST(too_new.status().message() ==
             "read manifest: " + wrong +
                 ":1:20: manifest format 3 is not supported; this graft reads "
                 "format 1");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
