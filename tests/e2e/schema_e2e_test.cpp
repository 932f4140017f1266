// Schemas as the guides use them: declare a field optional, backfill it,
// then make it required; the store refuses writes that break the schema in
// force, from graft and from any other SQLite client. Index ranges and
// verification of migrations.
#include <boost/test/unit_test.hpp>

#include "harness.h"

namespace graft {
namespace {

using test::Outcome;
using test::runGraft;
using test::ScratchDir;
using test::testPlugin;
using test::writeFile;
namespace json = boost::json;

const std::string kExamplePlugins = GRAFT_EXAMPLE_PLUGIN_DIR;

std::string exampleRolePlugin() {
  return kExamplePlugins + "/20260101_000001_users_default_role.so";
}

// The users table of the guides' example, with `role` optional or required.
std::string usersSchema(bool role_required) {
  const std::string role = R"({"union": [{"literal": "admin"}, {"literal": "member"}]})";
  return R"({
  "graft_schema": 1,
  "tables": {
    "users": {
      "document": {
        "name": "string",
        "email": "string",
        "role": )" +
         (role_required ? role : R"({"optional": )" + role + "}") + R"(
      },
      "indexes": {"by_email": ["email"]}
    }
  }
}
)";
}

Outcome sqlite3Cli(const std::string& db, const std::string& sql) {
  return test::runProgram({"/usr/bin/sqlite3", db, sql});
}

BOOST_AUTO_TEST_SUITE(schema_e2e)

// The guides' add-a-required-field workflow, end to end.
BOOST_AUTO_TEST_CASE(optional_then_backfill_then_required) {
  ScratchDir dir;
  const std::string db = dir / "store.db";
  test::makePluginDir(dir, {exampleRolePlugin()}, {"20260101_000001_users_default_role"});
  writeFile(dir / "optional.json", usersSchema(false));
  writeFile(dir / "required.json", usersSchema(true));
  writeFile(dir / "old_users.jsonl",
            "{\"name\":\"Ada\",\"email\":\"ada@example.com\"}\n"
            "{\"name\":\"Bob\",\"email\":\"bob@example.com\",\"role\":\"admin\"}\n"
            "{\"name\":\"Cy\",\"email\":\"cy@example.com\"}\n");

  // 1. The field goes in as optional.
  Outcome o = runGraft(test::graftArgs(dir, {"import", "users", dir / "old_users.jsonl"}));
  BOOST_REQUIRE_EQUAL(o.exit_code, 0);
  o = runGraft(test::graftArgs(dir, {"schema", "push", dir / "optional.json"}));
  BOOST_TEST(o.exit_code == 0);
  BOOST_TEST(o.out == "schema " + dir / "optional.json" + " against " + db +
                          ":\n  users: 3 documents, all match\nall 3 documents match\n"
                          "schema v1 in force: 1 tables, 1 indexes, validation on\n");

  // 2. Making it required is refused while old documents lack it.
  o = runGraft(test::graftArgs(dir, {"schema", "push", dir / "required.json"}));
  BOOST_TEST(o.exit_code == 9);
  BOOST_TEST(o.out == "schema " + dir / "required.json" + " against " + db +
                          ":\n  users: 2 of 3 documents do not match\n"
                          "    users/1: missing required field \"role\"\n"
                          "    users/3: missing required field \"role\"\n");
  BOOST_TEST(o.err == "graft: schema push " + dir / "required.json" +
                          " refused: 2 documents do not match the schema; nothing was changed "
                          "(migrate them first, or relax the schema)\n");
  o = runGraft(test::graftArgs(dir, {"schema", "show", "--history"}));
  BOOST_TEST(o.exit_code == 0);
  BOOST_TEST(o.out.find("v1  ") == 0);
  BOOST_TEST(o.out.find("v2") == std::string::npos);

  // 3. The backfill.
  o = runGraft(test::graftArgs(dir, {"up", "-q"}));
  BOOST_REQUIRE_EQUAL(o.exit_code, 0);

  // 4. Now it is accepted.
  o = runGraft(test::graftArgs(dir, {"schema", "push", dir / "required.json"}));
  BOOST_TEST(o.exit_code == 0);
  BOOST_TEST(o.out.find("schema v2 in force") != std::string::npos);
  o = runGraft(test::graftArgs(dir, {"schema", "check"}));
  BOOST_TEST(o.exit_code == 0);
  BOOST_TEST(o.out == "schema v2 (in force) against " + db +
                          ":\n  users: 3 documents, all match\nall 3 documents match\n");

  // 5. A document without the field is refused, through graft...
  writeFile(dir / "new_user.jsonl", "{\"name\":\"Dee\",\"email\":\"dee@example.com\"}\n");
  o = runGraft(test::graftArgs(dir, {"import", "users", dir / "new_user.jsonl"}));
  BOOST_TEST(o.exit_code == 9);
  BOOST_TEST(o.err == "graft: import: " + dir / "new_user.jsonl" +
                          ":1: schema v2 refuses a new document in users: missing required field "
                          "\"role\"; nothing was imported\n");
  // ...and from a plain sqlite3 client, by the store itself.
  o = sqlite3Cli(db, "INSERT INTO users (body) VALUES ('{\"name\":\"Eve\",\"email\":\"e@x\"}')");
  BOOST_TEST(o.exit_code != 0);
  BOOST_TEST(o.err.find("schema v2: users: field \"role\" must be "
                        "union(literal(\"admin\"), literal(\"member\"))") != std::string::npos,
             o.err);
  o = sqlite3Cli(db, "UPDATE users SET body = json_set(body, '$.role', 'owner') WHERE _id = 1");
  BOOST_TEST(o.exit_code != 0);
  // A valid write goes through.
  o = sqlite3Cli(db,
                 "INSERT INTO users (body) VALUES "
                 "('{\"name\":\"Eve\",\"email\":\"e@x\",\"role\":\"member\"}')");
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM users") == "4");
  BOOST_TEST(test::sqlValue(db, "SELECT json_extract(body, '$.role') FROM users WHERE _id = 1") ==
             "member");
  // The index behind by_email exists and the planner uses it.
  BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
                                "name = 'graft_ix_users_by_email'") == "1");
}

BOOST_AUTO_TEST_CASE(check_reports_each_failing_document_and_exits_9) {
  ScratchDir dir;
  const std::string db = dir / "store.db";
  test::seedDocs(db, "users",
                 {json::object{{"name", "Ada"}, {"email", "a@x"}, {"role", "owner"}},
                  json::object{{"name", "Bob"}, {"email", 7}},
                  json::object{{"name", "Cy"}, {"email", "c@x"}, {"nick", "cy"}}});
  test::seedDocs(db, "notes", {json::object{{"text", "hello"}}});
  // Another client stores a key twice: the triggers (SQLite) would read the
  // first value, graft the last.
  BOOST_REQUIRE(sqlite3Cli(db, "INSERT INTO users (body) VALUES ('{\"name\":\"Di\",\"email\":7,"
                               "\"email\":\"d@x\"}')")
                    .exit_code == 0);
  writeFile(dir / "schema.json", usersSchema(false));
  Outcome o = runGraft({"--db", db, "schema", "check", dir / "schema.json"});
  BOOST_TEST(o.exit_code == 9);
  BOOST_TEST(o.out ==
             "schema " + dir / "schema.json" + " against " + db +
                 ":\n  users: 4 of 4 documents do not match\n"
                 "    users/1: field \"role\": expected union(literal(\"admin\"), "
                 "literal(\"member\")), got \"owner\"\n"
                 "    users/2: field \"email\": expected string, got 7\n"
                 "    users/3: unknown field \"nick\" (not in the schema)\n"
                 "    users/4: key \"email\" is given twice (at /email; clients may read either "
                 "value: rewrite the document with it once)\n"
                 "  notes: not in the schema (allowed)\n");
  BOOST_TEST(o.err == "graft: 4 documents do not match the schema\n");
  // Nothing was pushed: show says so.
  o = runGraft({"--db", db, "schema", "show"});
  BOOST_TEST(o.exit_code == 2);
  BOOST_TEST(o.err == "graft: schema show: no schema has been pushed to " + db +
                          " (graft schema push FILE)\n");
}

BOOST_AUTO_TEST_CASE(unknown_tables_can_be_refused) {
  ScratchDir dir;
  const std::string db = dir / "store.db";
  test::seedDocs(db, "notes", {json::object{{"text", "hello"}}});
  writeFile(dir / "strict.json", R"({"graft_schema": 1, "allowUnknownTables": false,
    "tables": {"users": {"document": {"name": "string"}}}})");
  Outcome o = runGraft({"--db", db, "schema", "push", dir / "strict.json"});
  BOOST_TEST(o.exit_code == 9);
  BOOST_TEST(o.out.find("    notes/1: table \"notes\" is not in the schema\n") != std::string::npos,
             o.out);
  BOOST_REQUIRE(sqlite3Cli(db, "DELETE FROM notes").exit_code == 0);
  o = runGraft({"--db", db, "schema", "push", dir / "strict.json"});
  BOOST_TEST(o.exit_code == 0, o.err);
  // An existing undeclared table refuses writes; a new one can not be made.
  o = sqlite3Cli(db, "INSERT INTO notes (body) VALUES ('{}')");
  BOOST_TEST(o.exit_code != 0);
  BOOST_TEST(o.err.find("schema v1: table \"notes\" is not in the schema, which refuses unknown "
                        "tables") != std::string::npos,
             o.err);
  writeFile(dir / "tags.jsonl", "{\"tag\":\"x\"}\n");
  o = runGraft({"--db", db, "import", "tags", dir / "tags.jsonl"});
  BOOST_TEST(o.exit_code == 9);
  BOOST_TEST(o.err.find("table \"tags\" is not in schema v1, which refuses unknown tables (declare "
                        "it, then graft schema push)") != std::string::npos,
             o.err);
  // Declaring it is what makes room for it.
  writeFile(dir / "with_tags.json", R"({"graft_schema": 1, "allowUnknownTables": false,
    "tables": {"users": {"document": {"name": "string"}}, "tags": {"document": {"tag": "string"}}}})");
  o = runGraft({"--db", db, "schema", "push", dir / "with_tags.json"});
  BOOST_TEST(o.exit_code == 0, o.err);
  o = runGraft({"--db", db, "import", "tags", dir / "tags.jsonl"});
  BOOST_TEST(o.exit_code == 0, o.err);
}

BOOST_AUTO_TEST_CASE(a_migration_write_the_schema_refuses_fails_the_batch_unless_bypassed) {
  ScratchDir dir;
  const std::string db = dir / "store.db";
  test::seedItems(db, 5);
  writeFile(dir / "schema.json", R"({"graft_schema": 1,
    "tables": {"items": {"document": {"k": "int64", "n": "int64"}}}})");
  BOOST_REQUIRE_EQUAL(runGraft({"--db", db, "schema", "push", dir / "schema.json"}).exit_code, 0);

  test::makePluginDir(dir, {testPlugin("write_normal")}, {"test_write_normal"});
  Outcome o = runGraft(test::graftArgs(dir, {"up", "-q"}));
  BOOST_TEST(o.exit_code == 1);
  BOOST_TEST(o.err ==
             "graft: migration test_write_normal failed: schema v1 refuses items/1: field \"n\": "
             "expected int64, got \"oops\"; the batch was rolled back, the cursor stays at _id 0 "
             "(fix the cause, then run graft up again to resume)\n");
  BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM items WHERE json_extract(body, '$.n') = 0") ==
             "5");
  // The refused document is recorded, as for any failing document.
  BOOST_TEST(test::sqlValue(db, "SELECT status || ' ' || error_doc_id FROM migration_state") ==
             "failed 1");

  // safe_bypass skips the checks, for this migration's writes only.
  ScratchDir other;
  test::seedItems(other / "store.db", 5);
  BOOST_REQUIRE_EQUAL(
      runGraft({"--db", other / "store.db", "schema", "push", dir / "schema.json"}).exit_code, 0);
  test::makePluginDir(other, {testPlugin("write_bypass")}, {"test_write_bypass"});
  o = runGraft(test::graftArgs(other, {"up", "-q"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(test::sqlValue(other / "store.db",
                            "SELECT count(*) FROM items WHERE json_extract(body, '$.n') = 'oops'") ==
             "5");
  // What it wrote is visible to schema check, and the checks are back on
  // for everyone else.
  o = runGraft({"--db", other / "store.db", "schema", "check"});
  BOOST_TEST(o.exit_code == 9);
  o = sqlite3Cli(other / "store.db", "INSERT INTO items (body) VALUES ('{\"k\":6,\"n\":\"x\"}')");
  BOOST_TEST(o.exit_code != 0);
}

// 10,000 items, 1% of them in the range: the migration visits exactly those,
// once each, in batches of 7, through the index.
BOOST_AUTO_TEST_CASE(custom_range_visits_only_the_range) {
  ScratchDir dir;
  const std::string db = dir / "store.db";
  std::vector<json::object> docs;
  int in_range = 0;
  for (int i = 1; i <= 10000; ++i) {
    json::object d{{"k", i}};
    if (i % 100 == 0) {
      d["status"] = "draft";
      d["rank"] = 3 + (i / 100) % 5;  // ranks repeat: the cursor needs the _id too
      ++in_range;
    } else if (i % 100 == 1) {
      d["status"] = "draft";
      if (i % 200 == 1) d["rank"] = 2;  // below the range; the others have no rank
    } else {
      d["status"] = i % 2 ? "published" : "archived";
      d["rank"] = i % 10;
    }
    docs.push_back(std::move(d));
  }
  test::seedDocs(db, "items", docs);
  writeFile(dir / "schema.json", R"({"graft_schema": 1, "tables": {"items": {
    "document": {"k": "int64", "status": "string", "rank": {"optional": "int64"},
                 "visits": {"optional": "int64"}},
    "indexes": {"by_status_and_rank": ["status", "rank"]}}}})");
  BOOST_REQUIRE_EQUAL(runGraft({"--db", db, "schema", "push", dir / "schema.json"}).exit_code, 0);
  test::makePluginDir(dir, {testPlugin("range_visit")}, {"test_range_visit"});

  // The dry run says how the store walks the range: an index search.
  Outcome o = runGraft(test::graftArgs(dir, {"up", "--dry-run"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(o.out.find("test_range_visit: would change 100 of 100 documents\n"
                        "  walks index by_status_and_rank: SEARCH items USING INDEX "
                        "graft_ix_items_by_status_and_rank (<expr>=? AND <expr>>?)\n") !=
                 std::string::npos,
             o.out);

  o = runGraft(test::graftArgs(dir, {"up", "-q"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(in_range == 100);
  BOOST_TEST(test::sqlValue(db, "SELECT processed FROM migration_state") == "100");
  BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM items WHERE json_extract(body, '$.visits') = 1") ==
             "100");
  BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM items WHERE json_extract(body, '$.visits') IS NOT 1 "
                                "AND json_extract(body, '$.visits') IS NOT NULL") == "0");
  BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM items WHERE json_extract(body, '$.visits') = 1 "
                                "AND NOT (json_extract(body, '$.status') = 'draft' AND "
                                "json_extract(body, '$.rank') >= 3)") == "0");
}

BOOST_AUTO_TEST_CASE(custom_range_needs_its_index_declared) {
  ScratchDir dir;
  test::seedItems(dir / "store.db", 3);
  test::makePluginDir(dir, {testPlugin("range_visit")}, {"test_range_visit"});
  Outcome o = runGraft(test::graftArgs(dir, {"up", "-q"}));
  BOOST_TEST(o.exit_code == 3);
  BOOST_TEST(o.err == "graft: migration test_range_visit customRange: index \"by_status_and_rank\" "
                      "needs a schema that declares it, and none is pushed (graft schema push "
                      "FILE)\n");
  BOOST_TEST(test::sqlValue(dir / "store.db", "SELECT count(*) FROM migration_state") == "0");
}

BOOST_AUTO_TEST_CASE(with_index_reads_through_the_declared_index) {
  ScratchDir dir;
  const std::string db = dir / "store.db";
  test::seedDocs(db, "owners",
                 {json::object{{"name", "ann"}}, json::object{{"name", "ben"}},
                  json::object{{"name", "cat"}}});
  test::seedDocs(db, "items",
                 {json::object{{"owner", "ben"}}, json::object{{"owner", "cat"}},
                  json::object{{"owner", "zed"}}});
  test::makePluginDir(dir, {testPlugin("with_index")}, {"test_with_index"});
  // Without the index declared, the query fails with the reason.
  Outcome o = runGraft(test::graftArgs(dir, {"up", "-q"}));
  BOOST_TEST(o.exit_code == 1);
  BOOST_TEST(o.err.find("ctx.db.query owners withIndex: index \"by_name\" needs a schema that "
                        "declares it, and none is pushed (graft schema push FILE)") !=
                 std::string::npos,
             o.err);
  writeFile(dir / "schema.json", R"({"graft_schema": 1, "tables": {
    "owners": {"document": {"name": "string"}, "indexes": {"by_name": ["name"]}}}})");
  BOOST_REQUIRE_EQUAL(runGraft({"--db", db, "schema", "push", dir / "schema.json"}).exit_code, 0);
  o = runGraft(test::graftArgs(dir, {"up", "-q"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  auto items = test::readTable(db, "items");
  BOOST_REQUIRE_EQUAL(items.size(), 3u);
  BOOST_TEST(items[0].at("ownerId").as_int64() == 2);
  BOOST_TEST(items[1].at("ownerId").as_int64() == 3);
  BOOST_TEST(items[2].at("ownerId").is_null());
  o = sqlite3Cli(db, "EXPLAIN QUERY PLAN SELECT _id FROM owners WHERE json_extract(body, "
                     "'$.name') IS 'ben'");
  BOOST_TEST(o.out.find("SEARCH owners USING INDEX graft_ix_owners_by_name") != std::string::npos,
             o.out);
}

BOOST_AUTO_TEST_CASE(verify_is_checked_when_the_migration_finishes_and_on_demand) {
  ScratchDir dir;
  const std::string db = dir / "store.db";
  test::seedDocs(db, "people",
                 {json::object{{"name", "a"}}, json::object{{"name", "b"}, {"skipMe", true}},
                  json::object{{"name", "c"}, {"role", "admin"}},
                  json::object{{"name", "d"}, {"role", "admin"}, {"banned", true}}});
  test::makePluginDir(dir, {testPlugin("verify_role")}, {"test_verify_role"});
  Outcome o = runGraft(test::graftArgs(dir, {"up", "-q"}));
  BOOST_TEST(o.exit_code == 1);
  BOOST_TEST(o.err == "graft: migration test_verify_role walked its table but verification "
                      "failed: 2 of 4 documents in people do not hold: people/2 (missing required "
                      "field \"role\"), people/4 (the migration's verify check does not hold) (fix "
                      "the plugin and run graft up --restart test_verify_role, or fix the data and "
                      "run graft up again)\n");
  BOOST_TEST(test::sqlValue(db, "SELECT status FROM migration_state") == "failed");

  o = runGraft(test::graftArgs(dir, {"verify", "--data"}));
  BOOST_TEST(o.exit_code == 9);
  BOOST_TEST(o.err == "graft: 2 documents do not hold what their migration verifies "
                      "(test_verify_role)\n");
  BOOST_TEST(o.out.find("test_verify_role: 2 of 4 documents in people do not hold\n"
                        "    people/2: missing required field \"role\"\n") != std::string::npos,
             o.out);

  // Fix the data; the next run walks nothing new, verifies, and completes.
  BOOST_REQUIRE(sqlite3Cli(db, "DELETE FROM people WHERE _id IN (2, 4)").exit_code == 0);
  o = runGraft(test::graftArgs(dir, {"up"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(o.out.find("verified: all 2 documents hold") != std::string::npos, o.out);
  BOOST_TEST(test::sqlValue(db, "SELECT status FROM migration_state") == "completed");
  o = runGraft(test::graftArgs(dir, {"verify", "--data"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(o.out.find("test_verify_role: complete (2 documents in people hold)\n") !=
                 std::string::npos,
             o.out);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
