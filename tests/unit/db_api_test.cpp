// Tests for host/run/db_api.cpp: ctx.db as a plugin calls it, through the
// graft_db_api table, on a real store inside a transaction.
#include "run/db_api.h"

#include <graft/graft.h>

#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "harness.h"
#include "store/store.h"

namespace graft {
namespace {

namespace json = boost::json;

// items/1..3 {"k": i, "n": 0}, a DocApi over the store, a transaction open.
struct Fixture {
  test::ScratchDir dir;
  std::string db = dir / "store.db";
  std::unique_ptr<Store> store;
  std::unique_ptr<DocApi> api;
  const graft_db_api* t = DocApi::table();
  char err[512] = {0};

  Fixture() {
    test::seedItems(db, 3);
    store = test::openStore(db);
    api = std::make_unique<DocApi>(*store);
    BOOST_TEST_REQUIRE(store->begin().ok());
  }
  ~Fixture() {
    if (open) (void)store->rollback();
  }
  void commit() {
    BOOST_TEST_REQUIRE(store->commit().ok());
    open = false;
  }
  graft_db* h() { return api->handle(); }
  json::object get(const char* table, int64_t id) {
    const char* doc = nullptr;
    size_t len = 0;
    BOOST_TEST_REQUIRE(t->get(h(), table, id, &doc, &len, err, sizeof err) == GRAFT_DB_OK, err);
    return json::parse(std::string(doc, len)).as_object();
  }
  json::array query(const char* table, const char* spec) {
    const char* docs = nullptr;
    size_t len = 0;
    BOOST_TEST_REQUIRE(t->query(h(), table, spec, &docs, &len, err, sizeof err) == GRAFT_DB_OK,
                       err);
    return json::parse(std::string(docs, len)).as_array();
  }
  bool open = true;
};

BOOST_AUTO_TEST_SUITE(db_api)

BOOST_AUTO_TEST_CASE(the_table_says_its_size) {
  BOOST_TEST(DocApi::table()->struct_size == sizeof(graft_db_api));
}

BOOST_FIXTURE_TEST_CASE(get_returns_the_document_with_its_system_fields, Fixture) {
  const json::object doc = get("items", 2);
  BOOST_TEST(doc.at("_id").as_int64() == 2);
  BOOST_TEST(doc.at("_creationTime").is_double());
  BOOST_TEST(doc.at("k").as_int64() == 2);
  const char* out = nullptr;
  size_t len = 0;
  BOOST_TEST(t->get(h(), "items", 99, &out, &len, err, sizeof err) == GRAFT_DB_NOT_FOUND);
  BOOST_TEST(t->get(h(), "nothing", 1, &out, &len, err, sizeof err) == GRAFT_DB_NOT_FOUND);
  BOOST_TEST(api->counts().total() == 0);
}

BOOST_FIXTURE_TEST_CASE(each_write_is_counted_once_by_kind_and_table, Fixture) {
  int64_t id = 0;
  BOOST_TEST_REQUIRE(
      t->insert(h(), "others", R"({"from": 1})", &id, err, sizeof err) == GRAFT_DB_OK, err);
  BOOST_TEST(id == 1);
  BOOST_TEST_REQUIRE(
      t->patch(h(), "items", 1, R"({"$set": {"n": 5}})", err, sizeof err) == GRAFT_DB_OK, err);
  // A patch that changes nothing writes nothing.
  BOOST_TEST_REQUIRE(
      t->patch(h(), "items", 1, R"({"$set": {"n": 5}})", err, sizeof err) == GRAFT_DB_OK, err);
  BOOST_TEST_REQUIRE(
      t->replace(h(), "items", 2, R"({"replaced": true})", err, sizeof err) == GRAFT_DB_OK, err);
  BOOST_TEST_REQUIRE(t->remove(h(), "items", 3, err, sizeof err) == GRAFT_DB_OK, err);
  BOOST_TEST(t->remove(h(), "items", 3, err, sizeof err) == GRAFT_DB_NOT_FOUND);
  const WriteCounts& c = api->counts();
  BOOST_TEST(c.inserts == 1);
  BOOST_TEST(c.patches == 1);
  BOOST_TEST(c.replaces == 1);
  BOOST_TEST(c.deletes == 1);
  BOOST_TEST(c.total() == 4);
  BOOST_TEST(api->log().by_table.at("others").inserts == 1);
  BOOST_TEST(api->log().by_table.at("items").patches == 1);
  BOOST_TEST(api->log().by_table.at("items").deletes == 1);
  BOOST_TEST(api->log().by_table.size() == 2u);
  commit();
  const auto items = test::readTable(db, "items");
  BOOST_TEST_REQUIRE(items.size() == 2u);
  BOOST_TEST(items[0].at("n").as_int64() == 5);
  BOOST_TEST(items[1] ==
             (json::object{
                 {"_id", 2}, {"_creationTime", items[1].at("_creationTime")}, {"replaced", true}}));
  BOOST_TEST(test::readTable(db, "others").at(0).at("from").as_int64() == 1);
}

// Every write is part of the batch's transaction.
BOOST_FIXTURE_TEST_CASE(writes_roll_back_with_the_batch, Fixture) {
  int64_t id = 0;
  BOOST_TEST_REQUIRE(t->insert(h(), "items", R"({"k": 4})", &id, err, sizeof err) == GRAFT_DB_OK);
  BOOST_TEST_REQUIRE(t->remove(h(), "items", 1, err, sizeof err) == GRAFT_DB_OK);
  BOOST_TEST_REQUIRE(store->rollback().ok());
  open = false;
  BOOST_TEST(test::readTable(db, "items").size() == 3u);
  BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM items WHERE _id = 4") == "0");
}

BOOST_FIXTURE_TEST_CASE(query_by_field_after_and_limit, Fixture) {
  BOOST_TEST(query("items", R"({"eq": {"k": 2}})").size() == 1u);
  BOOST_TEST(query("items", R"({"eq": {"k": 2}})").at(0).at("_id").as_int64() == 2);
  BOOST_TEST(query("items", R"({"eq": {"n": 0}, "after": 1, "limit": 1})").at(0).at("_id") == 2);
  BOOST_TEST(query("items", nullptr).size() == 3u);
  BOOST_TEST(query("nothing", "{}").size() == 0u);
}

BOOST_FIXTURE_TEST_CASE(refusals_name_the_call_the_document_and_why, Fixture) {
  const char* out = nullptr;
  size_t len = 0;
  int64_t id = 0;
  struct Case {
    const char* name;
    std::function<int32_t()> call;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"insert into a reserved table",
       [&] { return t->insert(h(), "migration_state", "{}", &id, err, sizeof err); },
       "ctx.db.insert migration_state: table \"migration_state\" is reserved for graft (names "
       "starting with migration_, graft_ or sqlite_)"},
      {"insert into a bad name",
       [&] { return t->insert(h(), "no-dash", "{}", &id, err, sizeof err); },
       "ctx.db.insert no-dash: table \"no-dash\" is not a valid name (letters, digits and '_', not "
       "starting with a digit, at most 64)"},
      {"patch a missing document",
       [&] { return t->patch(h(), "items", 99, R"({"$set": {"n": 1}})", err, sizeof err); },
       "ctx.db.patch items/99: no such document"},
      {"replace a missing document",
       [&] { return t->replace(h(), "items", 99, "{}", err, sizeof err); },
       "ctx.db.replace items/99: no such document"},
      {"delete from a reserved table",
       [&] { return t->remove(h(), "graft_lease", 1, err, sizeof err); },
       "ctx.db.delete graft_lease/1: table \"graft_lease\" is reserved for graft (names starting "
       "with migration_, graft_ or sqlite_)"},
      {"query that is not an object",
       [&] { return t->query(h(), "items", "[1]", &out, &len, err, sizeof err); },
       "ctx.db.query items: the query is not a JSON object"},
      {"query with an unknown key",
       [&] { return t->query(h(), "items", R"({"where": 1})", &out, &len, err, sizeof err); },
       "ctx.db.query items: unknown or ill-typed key \"where\""},
      {"query with a mistyped limit",
       [&] { return t->query(h(), "items", R"({"limit": "2"})", &out, &len, err, sizeof err); },
       "ctx.db.query items: unknown or ill-typed key \"limit\""},
      {"index without a schema",
       [&] { return t->query(h(), "items", R"({"index": "by_k"})", &out, &len, err, sizeof err); },
       "ctx.db.query items withIndex: index \"by_k\" needs a schema that declares it, and none is "
       "pushed (graft schema push FILE)"},
      {"index limit not an integer",
       [&] {
         return t->query(h(), "items", R"({"index": "by_k", "limit": 1.5})", &out, &len, err,
                         sizeof err);
       },
       "ctx.db.query items withIndex: \"limit\" must be an integer"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      err[0] = '\0';
      BOOST_TEST(c.call() == GRAFT_DB_ERROR);
      BOOST_TEST(std::string(err) == c.message);
    }
  }
  BOOST_TEST(api->counts().total() == 0);
}

BOOST_FIXTURE_TEST_CASE(writes_of_system_fields_are_refused, Fixture) {
  int64_t id = 0;
  BOOST_TEST(t->insert(h(), "items", R"({"_id": 7})", &id, err, sizeof err) == GRAFT_DB_ERROR);
  BOOST_TEST(std::string(err).rfind("ctx.db.insert items: ", 0) == 0u, err);
  BOOST_TEST(t->patch(h(), "items", 1, R"({"$set": {"_id": 7}})", err, sizeof err) ==
             GRAFT_DB_ERROR);
  BOOST_TEST(std::string(err) ==
             "ctx.db.patch items/1: patch sets _id: _id and _creationTime belong to the store");
  BOOST_TEST(api->counts().total() == 0);
  BOOST_TEST(get("items", 1).at("_id").as_int64() == 1);
}

// migrateOne running outside the batch's transaction (a parallel step's
// compute phase) may not use ctx.db: every call fails and is noted.
BOOST_FIXTURE_TEST_CASE(calls_outside_the_transaction_fail_and_are_noted, Fixture) {
  api->setOutsideTransaction(true);
  const char* out = nullptr;
  size_t len = 0;
  int64_t id = 0;
  BOOST_TEST(!api->calledOutside());
  BOOST_TEST(t->get(h(), "items", 1, &out, &len, err, sizeof err) == GRAFT_DB_ERROR);
  BOOST_TEST(std::string(err) == "ctx.db.get: retried inside the transaction");
  BOOST_TEST(api->calledOutside());
  BOOST_TEST(t->insert(h(), "items", "{}", &id, err, sizeof err) == GRAFT_DB_ERROR);
  BOOST_TEST(std::string(err) == "ctx.db.insert: retried inside the transaction");
  BOOST_TEST(api->counts().total() == 0);
  api->setOutsideTransaction(false);
  BOOST_TEST(t->get(h(), "items", 1, &out, &len, err, sizeof err) == GRAFT_DB_OK);
}

// The plugin's buffer bounds the message: cut, and always terminated.
BOOST_FIXTURE_TEST_CASE(an_error_is_cut_to_the_callers_buffer, Fixture) {
  char small[12];
  std::memset(small, 'x', sizeof small);
  BOOST_TEST(t->replace(h(), "items", 99, "{}", small, sizeof small) == GRAFT_DB_ERROR);
  BOOST_TEST(std::string(small) == "ctx.db.repl");
  char none[1] = {'x'};
  BOOST_TEST(t->replace(h(), "items", 99, "{}", none, 0) == GRAFT_DB_ERROR);
  BOOST_TEST(none[0] == 'x');
}

// A dry run shows its first writes in full.
BOOST_FIXTURE_TEST_CASE(the_first_changes_are_kept_as_examples, Fixture) {
  std::vector<Change> examples;
  api->log().examples = &examples;
  api->log().limit = 2;
  BOOST_TEST_REQUIRE(t->patch(h(), "items", 1, R"({"$set": {"n": 5}})", err, sizeof err) ==
                     GRAFT_DB_OK);
  BOOST_TEST_REQUIRE(t->remove(h(), "items", 2, err, sizeof err) == GRAFT_DB_OK);
  BOOST_TEST_REQUIRE(t->remove(h(), "items", 3, err, sizeof err) == GRAFT_DB_OK);
  BOOST_TEST_REQUIRE(examples.size() == 2u);
  BOOST_TEST(examples[0].table == "items");
  BOOST_TEST(examples[0].id == 1);
  BOOST_TEST(json::parse(examples[0].before).at("n") == 0);
  BOOST_TEST(json::parse(examples[0].after).at("n") == 5);
  BOOST_TEST(json::parse(examples[0].after).at("_id") == 1);
  BOOST_TEST(examples[1].id == 2);
  BOOST_TEST(json::parse(examples[1].before).at("k") == 2);
  BOOST_TEST(examples[1].after == "");
  BOOST_TEST(api->counts().deletes == 2);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
