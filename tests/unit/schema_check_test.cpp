// Tests for host/schema/schema_check.cpp: the data at rest against a
// schema (graft schema check and push) and a step's verify, on real stores.
#include "schema/schema_check.h"

#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "harness.h"
#include "plugins/plugin.h"
#include "store/store.h"

namespace graft {
namespace {

const char kPeople[] = R"({"graft_schema": 1, "tables": {
  "people": {"document": {"name": "string", "role": {"optional": "string"}}}}})";

Schema schemaOf(const std::string& text) {
  auto schema = parseSchema(text, "s.json");
  BOOST_TEST_REQUIRE(schema.ok(), schema.status().message());
  return std::move(schema).value();
}

struct Fixture {
  test::ScratchDir dir;
  std::string db = dir / "store.db";
  std::unique_ptr<Store> store;

  // people/1..n: {"name": "p<i>"}, with the given ones replaced.
  void seedPeople(int n, const std::vector<std::pair<int, boost::json::object>>& odd = {}) {
    std::vector<boost::json::object> docs;
    for (int i = 1; i <= n; ++i) docs.push_back({{"name", "p" + std::to_string(i)}});
    for (const auto& [i, doc] : odd) docs[static_cast<size_t>(i - 1)] = doc;
    test::seedDocs(db, "people", docs);
    store = test::openStore(db);
  }
  // A body written by another client, past graft's parser.
  void rawInsert(const std::string& table, const std::string& body) {
    sqlite3* conn = nullptr;
    BOOST_TEST_REQUIRE(sqlite3_open(db.c_str(), &conn) == SQLITE_OK);
    const std::string sql = "INSERT INTO " + table + " (body) VALUES ('" + body + "')";
    const int rc = sqlite3_exec(conn, sql.c_str(), nullptr, nullptr, nullptr);
    sqlite3_close(conn);
    BOOST_TEST_REQUIRE(rc == SQLITE_OK);
  }
};

BOOST_AUTO_TEST_SUITE(schema_check)

BOOST_AUTO_TEST_CASE(documents_do_counts_in_words) {
  BOOST_TEST(documentsDo(0) == "0 documents do");
  BOOST_TEST(documentsDo(1) == "1 document does");
  BOOST_TEST(documentsDo(2) == "2 documents do");
}

BOOST_FIXTURE_TEST_CASE(check_counts_every_document_and_keeps_the_first_samples, Fixture) {
  seedPeople(30, {{4, {{"name", 4}}}, {9, {{"nick", "x"}}}, {12, {{"name", 12}}}});
  test::seedItems(db, 2);
  auto check = checkData(*store, schemaOf(kPeople), 2);
  BOOST_TEST_REQUIRE(check.ok(), check.status().message());
  BOOST_TEST_REQUIRE(check->tables.size() == 2u);
  const TableCheck& people = check->tables[0];
  BOOST_TEST(people.table == "people");
  BOOST_TEST(people.declared);
  BOOST_TEST(people.documents == 30);
  BOOST_TEST(people.failed == 3);
  BOOST_TEST_REQUIRE(people.samples.size() == 2u);
  BOOST_TEST(people.samples[0].first == 4);
  BOOST_TEST(people.samples[0].second == "field \"name\": expected string, got 4");
  BOOST_TEST(people.samples[1].first == 9);
  BOOST_TEST(people.samples[1].second == "missing required field \"name\"");
  // Tables the schema does not name come after, unchecked while allowed.
  BOOST_TEST(check->tables[1].table == "items");
  BOOST_TEST(!check->tables[1].declared);
  BOOST_TEST(check->tables[1].documents == 0);
  BOOST_TEST(check->failed() == 3);
  BOOST_TEST(formatCheck(*check) ==
             "  people: 3 of 30 documents do not match\n"
             "    people/4: field \"name\": expected string, got 4\n"
             "    people/9: missing required field \"name\"\n"
             "    ... and 1 more\n"
             "  items: not in the schema (allowed)\n");
}

BOOST_FIXTURE_TEST_CASE(check_reports_declared_tables_in_schema_order_even_when_absent, Fixture) {
  seedPeople(1);
  auto check = checkData(*store, schemaOf(R"({"graft_schema": 1, "tables": {
    "teams": {"document": {}}, "people": {"document": {"name": "string"}}}})"));
  BOOST_TEST_REQUIRE(check.ok(), check.status().message());
  BOOST_TEST_REQUIRE(check->tables.size() == 2u);
  BOOST_TEST(check->tables[0].table == "teams");
  BOOST_TEST(check->tables[0].documents == 0);
  BOOST_TEST(check->tables[1].table == "people");
  BOOST_TEST(formatCheck(*check) ==
             "  teams: 0 documents, all match\n"
             "  people: 1 document, all match\n");
}

BOOST_FIXTURE_TEST_CASE(unknown_tables_refused_fail_every_document, Fixture) {
  seedPeople(1);
  test::seedItems(db, 2);
  auto check = checkData(*store, schemaOf(R"({"graft_schema": 1, "allowUnknownTables": false,
    "tables": {"people": {"document": {"name": "string"}}}})"));
  BOOST_TEST_REQUIRE(check.ok(), check.status().message());
  BOOST_TEST(check->failed() == 2);
  BOOST_TEST(formatCheck(*check) ==
             "  people: 1 document, all match\n"
             "  items: 2 of 2 documents do not match\n"
             "    items/1: table \"items\" is not in the schema\n"
             "    items/2: table \"items\" is not in the schema\n");
}

BOOST_FIXTURE_TEST_CASE(validation_off_checks_nothing, Fixture) {
  seedPeople(2, {{1, {{"name", 1}}}});
  auto check = checkData(*store, schemaOf(R"({"graft_schema": 1, "schemaValidation": false,
    "allowUnknownTables": false, "tables": {"people": {"document": {"name": "string"}}}})"));
  BOOST_TEST_REQUIRE(check.ok(), check.status().message());
  BOOST_TEST(check->failed() == 0);
  BOOST_TEST(check->tables.at(0).documents == 0);
}

// SQLite reads the first of two equal keys, Boost.JSON the last: such a
// document means two things, so the check refuses it whatever the schema.
BOOST_FIXTURE_TEST_CASE(a_key_given_twice_fails_the_check, Fixture) {
  seedPeople(1);
  rawInsert("people", R"({"name": "a", "name": "b"})");
  auto check = checkData(*store, schemaOf(kPeople));
  BOOST_TEST_REQUIRE(check.ok(), check.status().message());
  BOOST_TEST_REQUIRE(check->tables.at(0).samples.size() == 1u);
  BOOST_TEST(check->tables[0].samples[0].first == 2);
  BOOST_TEST(check->tables[0].samples[0].second ==
             "key \"name\" is given twice (at /name; clients may read either value: rewrite the "
             "document with it once)");
}

BOOST_FIXTURE_TEST_CASE(push_installs_when_every_document_matches, Fixture) {
  seedPeople(3);
  SchemaCheck check;
  Status s = pushSchema(*store, schemaOf(kPeople), "ann", &check);
  BOOST_TEST_REQUIRE(s.ok(), s.message());
  BOOST_TEST(check.tables.at(0).documents == 3);
  auto in_force = loadSchemaInForce(*store);
  BOOST_TEST_REQUIRE(in_force.ok(), in_force.status().message());
  BOOST_TEST_REQUIRE(in_force->has_value());
  BOOST_TEST((*in_force)->record.version == 1);
  BOOST_TEST((*in_force)->record.user == "ann");
  BOOST_TEST((*in_force)->record.text == schemaJson(schemaOf(kPeople)));
  BOOST_TEST((*in_force)->schema.find("people") != nullptr);
  // From now on the store itself refuses what does not match.
  auto refused = store->insert("people", R"({"name": 5})");
  BOOST_TEST(!refused.ok());
}

BOOST_FIXTURE_TEST_CASE(push_refuses_and_changes_nothing_when_a_document_does_not_match, Fixture) {
  seedPeople(3, {{2, {{"name", 2}}}, {3, {{"name", 3}}}});
  SchemaCheck check;
  Status s = pushSchema(*store, schemaOf(kPeople), "ann", &check);
  BOOST_TEST(s.code() == Code::kSchema);
  BOOST_TEST(s.message() ==
             "2 documents do not match the schema; nothing was changed (migrate them first, or "
             "relax the schema)");
  BOOST_TEST(check.failed() == 2);
  auto in_force = loadSchemaInForce(*store);
  BOOST_TEST_REQUIRE(in_force.ok());
  BOOST_TEST(!in_force->has_value());
  BOOST_TEST(store->insert("people", R"({"name": 5})").ok());
}

BOOST_AUTO_TEST_CASE(a_recorded_schema_that_does_not_parse_is_a_store_error) {
  SchemaRecord record{7, "2026-01-02T03:04:05.000Z", "ann", "{\"graft_schema\": 1,"};
  auto parsed = parseSchemaRecord(record);
  BOOST_TEST_REQUIRE(!parsed.ok());
  BOOST_TEST(parsed.status().code() == Code::kStore);
  BOOST_TEST(parsed.status().message().rfind("schema v7 (recorded in the store):", 0) == 0u,
             parsed.status().message());
}

// test_verify_role: role member or admin, and not banned (its verify_one).
BOOST_FIXTURE_TEST_CASE(verify_runs_the_validator_then_the_check_on_every_document, Fixture) {
  seedPeople(5, {{1, {{"name", "a"}, {"role", "member"}}},
                 {2, {{"name", "b"}}},
                 {3, {{"name", "c"}, {"role", "admin"}, {"banned", true}}},
                 {4, {{"name", "d"}, {"role", "member"}}},
                 {5, {{"name", "e"}, {"role", "admin"}}}});
  auto plugin = Plugin::load(test::testPlugin("verify_role"), {});
  BOOST_TEST_REQUIRE(plugin.ok(), plugin.status().message());
  auto check = verifyStep(*store, (*plugin)->up());
  BOOST_TEST_REQUIRE(check.ok(), check.status().message());
  BOOST_TEST(check->table == "people");
  BOOST_TEST(check->documents == 5);
  BOOST_TEST(check->failed == 2);
  BOOST_TEST_REQUIRE(check->samples.size() == 2u);
  BOOST_TEST(check->samples[0].first == 2);
  BOOST_TEST(check->samples[0].second == "missing required field \"role\"");
  BOOST_TEST(check->samples[1].first == 3);
  BOOST_TEST(check->samples[1].second == "the migration's verify check does not hold");
  BOOST_TEST(describeVerifyFailure(*check) ==
             "2 of 5 documents in people do not hold: people/2 (missing required field \"role\"), "
             "people/3 (the migration's verify check does not hold)");
}

BOOST_FIXTURE_TEST_CASE(verify_of_a_missing_table_holds_for_no_documents, Fixture) {
  store = test::openStore(db);
  auto plugin = Plugin::load(test::testPlugin("verify_role"), {});
  BOOST_TEST_REQUIRE(plugin.ok(), plugin.status().message());
  auto check = verifyStep(*store, (*plugin)->up());
  BOOST_TEST_REQUIRE(check.ok(), check.status().message());
  BOOST_TEST(check->documents == 0);
  BOOST_TEST(check->failed == 0);
}

BOOST_AUTO_TEST_CASE(describe_verify_failure_names_three_samples_at_most) {
  TableCheck check;
  check.table = "t";
  check.documents = 10;
  check.failed = 4;
  check.samples = {{1, "a"}, {2, "b"}, {3, "c"}, {4, "d"}};
  BOOST_TEST(describeVerifyFailure(check) ==
             "4 of 10 documents in t do not hold: t/1 (a), t/2 (b), t/3 (c), ...");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
