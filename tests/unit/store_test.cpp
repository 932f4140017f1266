// Tests for host/store/store.cpp and the helpers of store.h: table names,
// the document as plugins and exports see it, and inTransaction.
#include "store/store.h"

#include <memory>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "harness.h"

namespace graft {
namespace {

// A store with items/1 {"k": 1}, and what inTransaction's body saw.
struct Fixture {
  test::ScratchDir dir;
  std::string db = dir / "store.db";
  std::unique_ptr<Store> store;
  int calls = 0;

  Fixture() {
    test::seedItems(db, 1);
    store = test::openStore(db);
  }
  std::string count() { return test::sqlValue(db, "SELECT count(*) FROM items"); }
};

BOOST_AUTO_TEST_SUITE(store)

struct NameCase {
  std::string name;
  bool valid;     // checkTableName accepts it
  bool reserved;  // isReservedTable
};

BOOST_AUTO_TEST_CASE(table_names) {
  const std::string invalid =
      "\" is not a valid name (letters, digits and '_', not starting "
      "with a digit, at most 64)";
  const std::string reserved =
      "\" is reserved for graft (names starting with migration_, graft_ or sqlite_)";
  const std::vector<NameCase> cases = {
      {"people", true, false},
      {"_x", true, false},
      {"A1_b", true, false},
      {std::string(64, 'a'), true, false},
      {"migrations", true, false},
      {"graft", true, false},
      {"", false, false},
      {"1abc", false, false},
      {"has space", false, false},
      {"a-b", false, false},
      {"quo\"te", false, false},
      {std::string(65, 'a'), false, false},
      {"migration_state", false, true},
      {"Migration_x", false, true},
      {"graft_meta", false, true},
      {"GRAFT_x", false, true},
      {"sqlite_master", false, true},
      {"sqlite_sequence", false, true},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("table \"" << c.name << "\"") {
      BOOST_TEST(isReservedTable(c.name) == c.reserved);
      Status s = checkTableName(c.name);
      BOOST_TEST(s.ok() == c.valid);
      if (!c.valid) {
        BOOST_TEST(s.code() == Code::kBadInput);
        BOOST_TEST(s.message() == "table \"" + c.name + (c.reserved ? reserved : invalid));
      }
    }
  }
}

struct JsonCase {
  Document doc;
  std::string json;
};

BOOST_AUTO_TEST_CASE(document_json) {
  const std::vector<JsonCase> cases = {
      {{1, 1732300000123.5, R"({"a":1})", {}},
       R"({"_id":1,"_creationTime":1732300000123.5,"a":1})"},
      {{1, 1732300000123.5, "{}", {}}, R"({"_id":1,"_creationTime":1732300000123.5})"},
      {{2, 1732300000123.25, " { \n } ", {}}, R"({"_id":2,"_creationTime":1732300000123.25})"},
      // The body's members are spliced in as they are written.
      {{3, 1732300000123.5, R"( {"a": 1, "b": [2]})", {}},
       R"({"_id":3,"_creationTime":1732300000123.5,"a": 1, "b": [2]})"},
      {{9007199254740993, 0.5, R"({"z":null})", {}},
       R"({"_id":9007199254740993,"_creationTime":0.5,"z":null})"},
      // _creationTime is a float64: a whole number keeps ".0", or a parser
      // would read an int64.
      {{4, 1732300000123.0, R"({"a":1})", {}},
       R"({"_id":4,"_creationTime":1732300000123.0,"a":1})"},
      {{5, 0, "{}", {}}, R"({"_id":5,"_creationTime":0.0})"},
      {{6, 1e300, "{}", {}}, R"({"_id":6,"_creationTime":1e+300})"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("body " << c.doc.body) { BOOST_TEST(documentJson(c.doc) == c.json); }
  }
}

BOOST_FIXTURE_TEST_CASE(in_transaction_commits_what_an_ok_body_wrote, Fixture) {
  Status s = inTransaction(*store, [&] {
    ++calls;
    return store->insert("items", R"({"k": 2})").status();
  });
  BOOST_TEST_REQUIRE(s.ok(), s.message());
  BOOST_TEST(calls == 1);
  BOOST_TEST(count() == "2");
  // No transaction is left open: the next one begins.
  BOOST_TEST(store->begin().ok());
  BOOST_TEST(store->rollback().ok());
}

BOOST_FIXTURE_TEST_CASE(in_transaction_rolls_back_and_returns_a_failing_bodys_status, Fixture) {
  Status s = inTransaction(*store, [&]() -> Status {
    ++calls;
    GRAFT_RETURN_IF_ERROR(store->insert("items", R"({"k": 2})").status());
    GRAFT_RETURN_IF_ERROR(store->remove("items", 1).status());
    return Status(Code::kSchema, "field \"k\" must be int64");
  });
  BOOST_TEST(calls == 1);
  BOOST_TEST(s.code() == Code::kSchema);
  BOOST_TEST(s.message() == "field \"k\" must be int64");
  BOOST_TEST(count() == "1");
  BOOST_TEST(test::readTable(db, "items").at(0).at("k").as_int64() == 1);
  BOOST_TEST(store->begin().ok());
  BOOST_TEST(store->rollback().ok());
}

// A transaction that can not begin runs nothing.
BOOST_FIXTURE_TEST_CASE(in_transaction_runs_no_body_when_begin_fails, Fixture) {
  BOOST_TEST_REQUIRE(store->begin().ok());
  Status s = inTransaction(*store, [&] {
    ++calls;
    return Status::Ok();
  });
  BOOST_TEST(!s.ok());
  BOOST_TEST(s.code() == Code::kStore);
  BOOST_TEST(calls == 0);
  // The transaction that was open is still the caller's.
  BOOST_TEST(store->insert("items", R"({"k": 3})").ok());
  BOOST_TEST(store->rollback().ok());
  BOOST_TEST(count() == "1");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
