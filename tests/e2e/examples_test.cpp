// The example plugins on the demo data, checked field by field against the
// documents they started from.
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>

#include "harness.h"

namespace graft {
namespace {

using test::ScratchDir;

std::vector<boost::json::object> readJsonLines(const std::string& path) {
  std::vector<boost::json::object> docs;
  std::istringstream lines(test::readBytes(path));
  std::string line;
  while (std::getline(lines, line)) docs.push_back(boost::json::parse(line).as_object());
  return docs;
}

BOOST_AUTO_TEST_SUITE(examples)

BOOST_AUTO_TEST_CASE(every_example_migration_reshapes_the_demo_data) {
  ScratchDir dir;
  const std::string db = dir / "demo.db";
  const int users = 400;
  std::string command = std::string(GRAFT_MAKE_DEMO_DATA) + " " + dir.path() + " " +
                        std::to_string(users) + " > /dev/null";
  BOOST_REQUIRE(std::system(command.c_str()) == 0);
  for (const char* table : {"teams", "users", "posts"}) {
    auto o = test::runGraft({"--db", db, "import", table, dir / (std::string(table) + ".jsonl")});
    BOOST_REQUIRE_MESSAGE(o.exit_code == 0, o.err);
  }
  // The schemas of plugins/schema: the final shape is refused before the
  // migrations; the one that admits old and new shapes is in force while
  // they run, so each of their writes is checked by the store.
  const std::string schemas = GRAFT_EXAMPLE_SCHEMA_DIR;
  auto o = test::runGraft({"--db", db, "schema", "push", schemas + "/final.json"});
  BOOST_TEST(o.exit_code == 9);
  o = test::runGraft({"--db", db, "schema", "push", schemas + "/during.json"});
  BOOST_REQUIRE_MESSAGE(o.exit_code == 0, o.err);
  o = test::runGraft({"--db", db, "--plugins", GRAFT_EXAMPLE_PLUGIN_DIR, "up", "--batch-size", "37"});
  BOOST_REQUIRE_MESSAGE(o.exit_code == 0, o.err);
  o = test::runGraft({"--db", db, "schema", "push", schemas + "/final.json"});
  BOOST_TEST(o.exit_code == 0, o.err);

  const auto old_users = readJsonLines(dir / "users.jsonl");
  const auto old_posts = readJsonLines(dir / "posts.jsonl");
  const auto new_users = test::readTable(db, "users");
  const auto profiles = test::readTable(db, "profiles");
  const auto new_posts = test::readTable(db, "posts");
  BOOST_REQUIRE(new_users.size() == old_users.size());

  std::map<int64_t, boost::json::object> profile_by_id;
  for (const auto& p : profiles) profile_by_id[p.at("_id").as_int64()] = p;
  BOOST_TEST(profiles.size() == old_users.size());

  for (size_t i = 0; i < new_users.size(); ++i) {
    const auto& before = old_users[i];
    const auto& after = new_users[i];
    const int64_t id = after.at("_id").as_int64();
    BOOST_TEST_CONTEXT("users/" << id) {
      BOOST_TEST(id == static_cast<int64_t>(i + 1));
      // 1: default role; an existing role is kept.
      BOOST_TEST(after.at("role") == (before.contains("role") ? before.at("role") : "member"));
      // 2: legacyNickname removed.
      BOOST_TEST(!after.contains("legacyNickname"));
      // 3: isPro -> plan.
      BOOST_TEST(!after.contains("isPro"));
      BOOST_TEST(after.at("plan") == (before.at("isPro").as_bool() ? "pro" : "free"));
      // 5: profile moved out, linked both ways.
      BOOST_TEST(!after.contains("profile"));
      const auto& profile = profile_by_id.at(after.at("profileId").as_int64());
      BOOST_TEST(profile.at("userId") == id);
      BOOST_TEST(profile.at("bio") == before.at("profile").at("bio"));
      BOOST_TEST(profile.at("avatarUrl") == before.at("profile").at("avatarUrl"));
      // Untouched fields stay as they were.
      for (const char* field : {"name", "email", "teamId"}) BOOST_TEST(after.at(field) == before.at(field));
      // _id, _creationTime, name, email, teamId, role, plan, profileId: nothing else.
      BOOST_TEST(after.size() == 8u);
    }
  }

  // 4 and 6: posts renamed, orphans deleted, the rest kept in order.
  size_t kept = 0;
  for (size_t i = 0; i < old_posts.size(); ++i) {
    const auto& before = old_posts[i];
    const bool orphan = before.at("authorId").as_int64() > users;
    if (orphan) continue;
    BOOST_REQUIRE(kept < new_posts.size());
    const auto& after = new_posts[kept++];
    BOOST_TEST_CONTEXT("posts/" << after.at("_id")) {
      BOOST_TEST(after.at("_id").as_int64() == static_cast<int64_t>(i + 1));
      BOOST_TEST(after.at("body") == before.at("text"));
      BOOST_TEST(!after.contains("text"));
      for (const char* field : {"authorId", "title", "likes"}) BOOST_TEST(after.at(field) == before.at(field));
    }
  }
  BOOST_TEST(kept == new_posts.size());
  BOOST_TEST(kept < old_posts.size());  // the demo has orphans, and they are gone
}

// A plugin built with graft_add_migration exports its entry point and
// nothing else: no Boost.System vtable or inline member another plugin, or
// the host, could bind to instead of its own.
BOOST_AUTO_TEST_CASE(every_example_plugin_exports_only_its_entry_point) {
  size_t plugins = 0;
  for (const auto& entry : std::filesystem::directory_iterator(GRAFT_EXAMPLE_PLUGIN_DIR)) {
    if (entry.path().extension() != ".so") continue;
    ++plugins;
    BOOST_TEST_CONTEXT(entry.path().filename().string()) {
      test::Outcome o = test::runProgram({"/usr/bin/nm", "-D", "--defined-only", entry.path()});
      BOOST_TEST_REQUIRE(o.exit_code == 0, o.err);
      BOOST_TEST(o.out.find(" T graft_plugin_entry\n") != std::string::npos, o.out);
      BOOST_TEST(std::count(o.out.begin(), o.out.end(), '\n') == 1, o.out);
    }
  }
  BOOST_TEST(plugins == 6u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
