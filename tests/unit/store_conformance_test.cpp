// The Store contract (host/store/store.h), one set of cases run against
// every backend: each case runs once per entry of backends(), on a fresh
// store opened through openStore, as the host opens one. What only one
// backend does (its file, its SQL, its wording of a refused body) is tested
// beside it, in <backend>_store_test.cpp.
#include <boost/json.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "document/jsonl.h"
#include "harness.h"
#ifdef GRAFT_WITH_POSTGRESQL
#include "pg_harness.h"
#endif
#include "schema/schema.h"
#include "store/open_store.h"
#include "store/store.h"

namespace graft {
namespace {

// A new, empty store of one backend.
struct FreshStore {
  std::string url;    // what openStore opens it by
  std::string where;  // how the store's messages name it
  std::shared_ptr<void> keep;  // what the store lives in, if not the test's directory
};

struct Backend {
  std::string name;
  // It gives a body back byte for byte, not only meaning the same.
  bool keeps_bytes = false;
  // It keeps a lease's heartbeat on a clock of its own (a server's), and
  // gives it back on this host's: not the value it was handed.
  bool own_clock = false;
  // Index ranges and schemas: a backend that has not built them yet
  // refuses them in one line (kUsage), and its cases check that instead.
  bool ranges = true;
  bool schemas = true;
  // Makes the store; `dir` is the test's own, removed after it.
  std::function<FreshStore(const test::ScratchDir& dir)> fresh;
};

std::ostream& operator<<(std::ostream& out, const Backend& backend) { return out << backend.name; }

// Every backend this build has. A new one adds its entry here, and every
// case below runs on it.
std::vector<Backend> backends() {
  return {
      {"sqlite", true, false, true, true,
       [](const test::ScratchDir& dir) {
         const std::string path = dir / "store.db";
         return FreshStore{"sqlite:" + path, path, nullptr};
       }},
#ifdef GRAFT_WITH_POSTGRESQL
      {"postgresql", false, true, true, true,
       [](const test::ScratchDir&) {
         auto db = std::make_shared<test::PgDatabase>();
         return FreshStore{db->url(), db->where(), db};
       }},
#endif
  };
}

// The same JSON value, kinds and all: an int64 is not a float64 of the same
// value (1 and 1.0 differ), a float64's bits are its own (-0.0 is not 0.0),
// and an object's members are compared whatever their order.
bool sameMeaning(const boost::json::value& a, const boost::json::value& b) {
  using boost::json::kind;
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case kind::double_:
      return a.get_double() == b.get_double() &&
             std::signbit(a.get_double()) == std::signbit(b.get_double());
    case kind::object: {
      const auto &x = a.get_object(), &y = b.get_object();
      if (x.size() != y.size()) return false;
      for (const auto& member : x) {
        const auto* other = y.if_contains(member.key());
        if (!other || !sameMeaning(member.value(), *other)) return false;
      }
      return true;
    }
    case kind::array: {
      const auto &x = a.get_array(), &y = b.get_array();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (!sameMeaning(x[i], y[i])) return false;
      return true;
    }
    default:
      return a == b;
  }
}

// The store of one case, and another client of the same store.
struct Conformance {
  test::ScratchDir dir;
  FreshStore fresh;
  std::unique_ptr<Store> store;

  void use(const Backend& backend) {
    fresh = backend.fresh(dir);
    keeps_bytes = backend.keeps_bytes;
    store = open();
  }
  bool keeps_bytes = false;
  // `read` means what `written` meant: the same text on a backend that
  // keeps bytes, the same JSON value (sameMeaning) on any.
  bool same(const std::string& read, const std::string& written) const;
  std::unique_ptr<Store> open() {
    auto opened = openStore(fresh.url, {.create = true});
    BOOST_TEST_REQUIRE(opened.ok(), opened.status().message());
    return std::move(opened).value();
  }
  // The store as the next process sees it.
  void reopen() {
    store.reset();
    store = open();
  }
};

bool Conformance::same(const std::string& read, const std::string& written) const {
  if (keeps_bytes) return read == written;
  return sameMeaning(boost::json::parse(read), boost::json::parse(written));
}

#define CONFORMANCE_CASE(name) \
  BOOST_DATA_TEST_CASE_F(Conformance, name, boost::unit_test::data::make(backends()), backend)

using test::idsOf;
using test::insertOk;

std::string bodyOf(Store& store, const std::string& table, int64_t id) {
  auto doc = store.get(table, id);
  BOOST_TEST_REQUIRE(doc.ok(), doc.status().message());
  BOOST_TEST_REQUIRE(doc->has_value());
  return (*doc)->body;
}

double nowMs() {
  using namespace std::chrono;
  return static_cast<double>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

BOOST_AUTO_TEST_SUITE(store_conformance)

// ---------------------------------------------------------------------------
// Documents

CONFORMANCE_CASE(a_new_store_has_no_tables) {
  use(backend);
  auto tables = store->tables();
  BOOST_TEST_REQUIRE(tables.ok(), tables.status().message());
  BOOST_TEST(tables->empty());
  BOOST_TEST(store->hasTable("people").value() == false);
}

CONFORMANCE_CASE(insert_get_update_remove) {
  use(backend);
  BOOST_TEST_REQUIRE(store->createTable("people").ok());
  BOOST_TEST_REQUIRE(store->createTable("people").ok());  // no-op: it exists
  BOOST_TEST(store->hasTable("people").value());

  const double before = nowMs();
  BOOST_TEST(insertOk(*store, "people", R"({"name":"ann"})") == 1);
  BOOST_TEST(insertOk(*store, "people", R"({"name":"bob"})") == 2);
  const double after = nowMs();

  auto ann = store->get("people", 1);
  BOOST_TEST_REQUIRE(ann.ok(), ann.status().message());
  BOOST_TEST_REQUIRE(ann->has_value());
  BOOST_TEST((*ann)->id == 1);
  BOOST_TEST((*ann)->body == R"({"name":"ann"})");
  // _creationTime is whole ms since the epoch, taken by the store at insert.
  BOOST_TEST((*ann)->creation_time >= before - 1000);
  BOOST_TEST((*ann)->creation_time <= after + 1000);
  BOOST_TEST((*ann)->creation_time == std::floor((*ann)->creation_time));

  auto updated = store->update("people", 1, R"({"name":"ann","age":3})");
  BOOST_TEST_REQUIRE(updated.ok(), updated.status().message());
  BOOST_TEST(*updated);
  auto again = store->get("people", 1);
  BOOST_TEST_REQUIRE(again.ok());
  BOOST_TEST_REQUIRE(again->has_value());
  BOOST_TEST(same((*again)->body, R"({"name":"ann","age":3})"), (*again)->body);
  BOOST_TEST((*again)->creation_time == (*ann)->creation_time);

  auto update_missing = store->update("people", 99, "{}");
  BOOST_TEST_REQUIRE(update_missing.ok());
  BOOST_TEST(!*update_missing);

  BOOST_TEST(store->remove("people", 2).value());
  BOOST_TEST(!store->remove("people", 2).value());
  auto gone = store->get("people", 2);
  BOOST_TEST_REQUIRE(gone.ok());
  BOOST_TEST(!gone->has_value());
}

// A body comes back meaning what it meant when it was written: graft and
// the plugins read it, and a store that changed a value's kind (1.0 as 1,
// a big integer as a float) would change documents that no migration
// touched. A backend that keeps bytes gives the text back as it was
// (key order, spacing); jsonb keeps only the meaning (pg_json.h).
CONFORMANCE_CASE(bodies_come_back_meaning_the_same) {
  use(backend);
  const std::vector<std::string> bodies = {
      R"({})",
      R"({ "b" : 1,  "a":[ 1.0, -0, 1e3, 12345678901234567890 ] })",
      R"({"f":[1.5e300,5e-324,-2.5E-3,1.7976931348623157e308,0.1,100.0,1E0]})",
      R"({"i":[-9223372036854775808,9223372036854775807,18446744073709551615]})",
      R"({"z":{"y":{"x":null}},"t":true,"f":false})",
      "{\"esc\":\"\\u00e9\\n\\\"\",\"raw\":\"\xc3\xa9\xe2\x82\xac\"}",
      "{\n\t\"lines\": \"a\"\n}",
      R"({"a":{"_id":1,"_creationTime":2}})",
  };
  for (const auto& body : bodies) {
    BOOST_TEST_CONTEXT(body) {
      const int64_t id = insertOk(*store, "docs", body);
      BOOST_TEST(same(bodyOf(*store, "docs", id), body), bodyOf(*store, "docs", id));
      const std::string changed =
          body.substr(0, body.size() - 1) + (body == "{}" ? "" : ",") + R"("k" : 2.50})";
      BOOST_TEST_REQUIRE(store->update("docs", id, changed).value());
      BOOST_TEST(same(bodyOf(*store, "docs", id), changed), bodyOf(*store, "docs", id));
    }
  }
  reopen();
  std::vector<Document> docs;
  BOOST_TEST_REQUIRE(store->scan("docs", 0, -1, &docs).ok());
  BOOST_TEST(docs.size() == bodies.size());
}

// The body of a document is a JSON object without the system fields.
CONFORMANCE_CASE(a_body_that_is_not_a_plain_object_is_refused) {
  use(backend);
  for (const char* body :
       {"[1]", R"("text")", "not json", R"({"_id":1})", R"({"a":1,"_creationTime":2})"}) {
    BOOST_TEST_CONTEXT(body) {
      auto id = store->insert("items", body);
      BOOST_TEST_REQUIRE(!id.ok());
      BOOST_TEST(id.status().code() == Code::kStore);
    }
  }
  BOOST_TEST(store->count("items", 0).value() == 0);
}

CONFORMANCE_CASE(insert_creates_the_table) {
  use(backend);
  BOOST_TEST(insertOk(*store, "fresh", "{}") == 1);
  BOOST_TEST(store->hasTable("fresh").value());
  BOOST_TEST(store->tables().value() == (std::vector<std::string>{"fresh"}));
}

CONFORMANCE_CASE(missing_tables) {
  use(backend);
  auto get = store->get("nope", 1);
  BOOST_TEST_REQUIRE(get.ok(), get.status().message());
  BOOST_TEST(!get->has_value());
  auto removed = store->remove("nope", 1);
  BOOST_TEST_REQUIRE(removed.ok(), removed.status().message());
  BOOST_TEST(!*removed);
  std::vector<Document> docs;
  BOOST_TEST_REQUIRE(store->query("nope", QuerySpec{}, &docs).ok());
  BOOST_TEST(docs.empty());

  const std::string message = "table \"nope\" does not exist in " + fresh.where;
  auto count = store->count("nope", 0);
  BOOST_TEST_REQUIRE(!count.ok());
  BOOST_TEST(count.status().code() == Code::kBadInput);
  BOOST_TEST(count.status().message() == message);
  Status scan = store->scan("nope", 0, 10, &docs);
  BOOST_TEST(scan.code() == Code::kBadInput);
  BOOST_TEST(scan.message() == message);
  auto update = store->update("nope", 1, "{}");
  BOOST_TEST_REQUIRE(!update.ok());
  BOOST_TEST(update.status().message() == message);
  BOOST_TEST(store->hasTable("nope").value() == false);
}

CONFORMANCE_CASE(reserved_tables_stay_graft_s) {
  use(backend);
  const std::string reserved =
      "\" is reserved for graft (names starting with migration_, graft_ or sqlite_)";
  Status create = store->createTable("graft_meta");
  BOOST_TEST(create.code() == Code::kBadInput);
  BOOST_TEST(create.message() == "table \"graft_meta" + reserved);
  auto insert = store->insert("migration_state", "{}");
  BOOST_TEST_REQUIRE(!insert.ok());
  BOOST_TEST(insert.status().message() == "table \"migration_state" + reserved);
  // Only document tables are listed, by name: not graft's own.
  BOOST_TEST_REQUIRE(store->createTable("zeta").ok());
  BOOST_TEST_REQUIRE(store->createTable("alpha").ok());
  BOOST_TEST(store->tables().value() == (std::vector<std::string>{"alpha", "zeta"}),
             boost::test_tools::per_element());
}

CONFORMANCE_CASE(ids_are_never_reused) {
  use(backend);
  for (int i = 0; i < 3; ++i) insertOk(*store, "items", "{}");
  BOOST_TEST(store->remove("items", 3).value());
  BOOST_TEST(insertOk(*store, "items", "{}") == 4);
  for (int64_t id : {1, 2, 4}) BOOST_TEST(store->remove("items", id).value());
  BOOST_TEST(store->count("items", 0).value() == 0);
  BOOST_TEST(insertOk(*store, "items", "{}") == 5);
  BOOST_TEST(store->remove("items", 5).value());
  reopen();
  BOOST_TEST(insertOk(*store, "items", "{}") == 6);
}

struct ScanCase {
  int64_t after_id;
  int64_t limit;
  int64_t upto_id;
  std::vector<int64_t> ids;
};

CONFORMANCE_CASE(scan_and_count_go_in_id_order) {
  use(backend);
  for (int k = 1; k <= 5; ++k) insertOk(*store, "items", R"({"k":)" + std::to_string(k) + "}");
  BOOST_TEST(store->remove("items", 3).value());
  const std::vector<ScanCase> cases = {
      {0, 2, INT64_MAX, {1, 2}}, {2, 10, INT64_MAX, {4, 5}}, {0, -1, INT64_MAX, {1, 2, 4, 5}},
      {4, 1, INT64_MAX, {5}},    {5, 10, INT64_MAX, {}},     {0, -1, 4, {1, 2, 4}},
      {1, 10, 3, {2}},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("after " << c.after_id << ", limit " << c.limit << ", upto " << c.upto_id) {
      std::vector<Document> docs;
      Status s = store->scan("items", c.after_id, c.limit, &docs, c.upto_id);
      BOOST_TEST_REQUIRE(s.ok(), s.message());
      BOOST_TEST(idsOf(docs) == c.ids, boost::test_tools::per_element());
      for (const auto& doc : docs)
        BOOST_TEST(doc.body == R"({"k":)" + std::to_string(doc.id) + "}");
    }
  }
  BOOST_TEST(store->count("items", 0).value() == 4);
  BOOST_TEST(store->count("items", 3).value() == 2);
  BOOST_TEST(store->count("items", 5).value() == 0);

  std::vector<int64_t> seen;
  Status s = store->forEach("items", [&](const Document& doc) {
    seen.push_back(doc.id);
    return doc.id < 2;
  });
  BOOST_TEST_REQUIRE(s.ok(), s.message());
  BOOST_TEST(seen == (std::vector<int64_t>{1, 2}), boost::test_tools::per_element());
}

struct QueryCase {
  const char* name;
  const char* equals;  // a JSON object: field -> value
  std::optional<int64_t> after_id;
  int64_t limit;
  std::vector<int64_t> ids;
};

CONFORMANCE_CASE(query_matches_json_type_and_value) {
  use(backend);
  insertOk(*store, "docs",
           R"({"name": "ann", "n": 1, "flag": true, "v": null, "o": {"x": 1, "y": [1, 2]}})");
  insertOk(*store, "docs", R"({"name":"bob","n":1.0,"flag":false,"o":{"x":2},"list":[1,2]})");
  insertOk(*store, "docs", R"({"name":"1","n":2,"v":0})");
  insertOk(*store, "docs", R"({"name":"ann","n":"1","flag":1})");
  const std::vector<QueryCase> cases = {
      {"string", R"({"name":"ann"})", {}, -1, {1, 4}},
      {"string that looks like a number", R"({"name":"1"})", {}, -1, {3}},
      {"int64 1 is not 1.0", R"({"n":1})", {}, -1, {1}},
      {"float64 1.0 is not 1", R"({"n":1.0})", {}, -1, {2}},
      {"string \"1\" is not 1", R"({"n":"1"})", {}, -1, {4}},
      {"true", R"({"flag":true})", {}, -1, {1}},
      {"false", R"({"flag":false})", {}, -1, {2}},
      {"1 is not true", R"({"flag":1})", {}, -1, {4}},
      {"null is not 0 nor missing", R"({"v":null})", {}, -1, {1}},
      {"nested object", R"({"o":{"x":1,"y":[1,2]}})", {}, -1, {1}},
      {"another nested object", R"({"o":{"x":2}})", {}, -1, {2}},
      {"array", R"({"list":[1,2]})", {}, -1, {2}},
      {"two fields", R"({"name":"ann","n":1})", {}, -1, {1}},
      {"no match", R"({"name":"cat"})", {}, -1, {}},
      {"no condition", R"({})", {}, -1, {1, 2, 3, 4}},
      {"after", R"({"name":"ann"})", 1, -1, {4}},
      {"limit", R"({"name":"ann"})", {}, 1, {1}},
      {"after and limit", R"({})", 1, 2, {2, 3}},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      const boost::json::value equals = boost::json::parse(c.equals);
      QuerySpec spec;
      for (const auto& [field, value] : equals.as_object())
        spec.equals.emplace_back(std::string(field), value);
      spec.after_id = c.after_id;
      spec.limit = c.limit;
      std::vector<Document> docs;
      Status s = store->query("docs", spec, &docs);
      BOOST_TEST_REQUIRE(s.ok(), s.message());
      BOOST_TEST(idsOf(docs) == c.ids, boost::test_tools::per_element());
    }
  }
}

CONFORMANCE_CASE(query_refuses_quotes_in_field_names) {
  use(backend);
  insertOk(*store, "docs", "{}");
  QuerySpec spec;
  spec.equals.emplace_back("a\"b", 1);
  std::vector<Document> docs;
  Status s = store->query("docs", spec, &docs);
  BOOST_TEST(s.code() == Code::kBadInput);
  BOOST_TEST(s.message() ==
             "query on docs: field name \"a\"b\" may not contain quotes or backslashes");
}

CONFORMANCE_CASE(document_json_of_a_stored_document_parses_back) {
  use(backend);
  insertOk(*store, "items", R"({"name":"ann","tags":["a","b"]})");
  auto doc = store->get("items", 1);
  BOOST_TEST_REQUIRE(doc.ok());
  BOOST_TEST_REQUIRE(doc->has_value());
  const boost::json::object parsed = boost::json::parse(documentJson(**doc)).as_object();
  BOOST_TEST(parsed.size() == 4u);
  BOOST_TEST(parsed.at("_id") == boost::json::value(1));
  BOOST_TEST(parsed.at("_creationTime").to_number<double>() == (*doc)->creation_time);
  BOOST_TEST(parsed.at("name") == boost::json::value("ann"));
  BOOST_TEST(parsed.at("tags") == boost::json::parse(R"(["a","b"])"));
}

// ---------------------------------------------------------------------------
// Transactions

CONFORMANCE_CASE(rollback_discards_every_write) {
  use(backend);
  BOOST_TEST_REQUIRE(store->createTable("items").ok());
  BOOST_TEST_REQUIRE(store->begin().ok());
  insertOk(*store, "items", R"({"a":1})");
  MigrationState state;
  state.id = "m1";
  state.file_sha256 = "c";
  state.status = StepStatus::kRunning;
  BOOST_TEST_REQUIRE(store->saveState(state).ok());
  RunRecord run;
  run.run_id = "r1";
  run.status = RunStatus::kRunning;
  run.command = "up";
  run.started_at = "2026-01-01T00:00:00Z";
  BOOST_TEST_REQUIRE(store->saveRun(run).ok());
  BOOST_TEST_REQUIRE(store->rollback().ok());

  BOOST_TEST(store->count("items", 0).value() == 0);
  BOOST_TEST(!store->loadState("m1").value().has_value());
  BOOST_TEST(store->loadRuns(10).value().empty());
  // The table is empty again; whether the rolled-back insert used up _id 1
  // is the backend's (a PostgreSQL sequence is not transactional).
  BOOST_TEST(insertOk(*store, "items", "{}") >= 1);
  BOOST_TEST(store->count("items", 0).value() == 1);
}

// A batch transaction commits like any other; only its durability may
// wait for a later commit, which a test can not see short of a power loss.
CONFORMANCE_CASE(commit_keeps_every_write_of_a_transaction_or_a_batch) {
  use(backend);
  for (bool batch : {false, true}) {
    BOOST_TEST_REQUIRE((batch ? store->beginBatch() : store->begin()).ok());
    insertOk(*store, "items", R"({"a":1})");
    MigrationState state;
    state.id = batch ? "m2" : "m1";
    state.file_sha256 = "c";
    state.status = StepStatus::kCompleted;
    BOOST_TEST_REQUIRE(store->saveState(state).ok());
    BOOST_TEST_REQUIRE(store->commit().ok());
    store->betweenBatches();
  }
  store->stopBackgroundWork();
  reopen();
  BOOST_TEST(store->count("items", 0).value() == 2);
  BOOST_TEST(store->loadState("m1").value().has_value());
  BOOST_TEST(store->loadState("m2").value().has_value());
}

// ---------------------------------------------------------------------------
// Spans: the compare-and-set write of a batch

// writeSpan writes the batch's new bodies in one pass over its span and
// names every document that is not as the batch read it.
CONFORMANCE_CASE(write_span_writes_what_is_unchanged_and_names_the_rest) {
  use(backend);
  for (int i = 1; i <= 8; ++i) insertOk(*store, "people", "{\"n\":" + std::to_string(i) + "}");
  // What a batch after _id 1 read: 2 to 7 (8 lies beyond it).
  std::vector<Document> read;
  BOOST_TEST_REQUIRE(store->scan("people", 1, 6, &read).ok());
  BOOST_TEST_REQUIRE(idsOf(read) == (std::vector<int64_t>{2, 3, 4, 5, 6, 7}));
  // Meanwhile another client changes 3 and 4 and deletes 5 and 6.
  {
    std::unique_ptr<Store> other = open();
    BOOST_TEST_REQUIRE(other->update("people", 3, R"({"n":30})").value());
    BOOST_TEST_REQUIRE(other->update("people", 4, R"({"n":40})").value());
    BOOST_TEST_REQUIRE(other->remove("people", 5).value());
    BOOST_TEST_REQUIRE(other->remove("people", 6).value());
  }
  const std::string two = R"({"n":2,"m":1})", three = R"({"n":3,"m":1})", five = R"({"n":5,"m":1})",
                    seven = R"({"n":7,"m":1})";
  // 4 had nothing to write; 6 neither, and is gone.
  const std::vector<SpanWrite> writes = {{2, read[0].body, &two},    {3, read[1].body, &three},
                                         {4, read[2].body, nullptr}, {5, read[3].body, &five},
                                         {6, read[4].body, nullptr}, {7, read[5].body, &seven}};
  std::vector<int64_t> differs = {99};  // appended to, not replaced
  BOOST_TEST_REQUIRE(store->begin().ok());
  auto written = store->writeSpan("people", 1, writes, &differs);
  BOOST_TEST_REQUIRE(written.ok(), written.status().message());
  BOOST_TEST_REQUIRE(store->commit().ok());
  BOOST_TEST(*written == 2);
  BOOST_TEST(differs == (std::vector<int64_t>{99, 3, 4}), boost::test_tools::per_element());
  std::vector<Document> now;
  BOOST_TEST_REQUIRE(store->scan("people", 0, -1, &now).ok());
  const std::vector<std::pair<int64_t, std::string>> expected = {
      {1, R"({"n":1})"},  {2, R"({"n":2,"m":1})"}, {3, R"({"n":30})"},
      {4, R"({"n":40})"}, {7, R"({"n":7,"m":1})"}, {8, R"({"n":8})"}};
  BOOST_TEST_REQUIRE(now.size() == expected.size());
  for (size_t i = 0; i < now.size(); ++i) {
    BOOST_TEST(now[i].id == expected[i].first);
    BOOST_TEST(same(now[i].body, expected[i].second), now[i].body);
  }
}

// A document of the span that the batch does not list is left as it is
// and named: the cursor moves past it, so the caller migrates it afresh.
CONFORMANCE_CASE(write_span_names_a_document_of_the_span_the_batch_does_not_list) {
  use(backend);
  for (int i = 1; i <= 4; ++i) insertOk(*store, "people", "{\"n\":" + std::to_string(i) + "}");
  std::vector<Document> read;
  BOOST_TEST_REQUIRE(store->scan("people", 0, -1, &read).ok());
  const std::string one = R"({"n":1,"m":1})", four = R"({"n":4,"m":1})";
  const std::vector<SpanWrite> writes = {{1, read[0].body, &one}, {4, read[3].body, &four}};
  std::vector<int64_t> differs;
  BOOST_TEST_REQUIRE(store->begin().ok());
  auto written = store->writeSpan("people", 0, writes, &differs);
  BOOST_TEST_REQUIRE(written.ok(), written.status().message());
  BOOST_TEST_REQUIRE(store->commit().ok());
  BOOST_TEST(*written == 2);
  BOOST_TEST(differs == (std::vector<int64_t>{2, 3}), boost::test_tools::per_element());
  BOOST_TEST(same(bodyOf(*store, "people", 1), one));
  BOOST_TEST(bodyOf(*store, "people", 2) == R"({"n":2})");
  BOOST_TEST(same(bodyOf(*store, "people", 4), four));
}

// The mark a range batch compares: another client's commit changes it.
// (That this store's own writes keep it is allowed, not required.)
CONFORMANCE_CASE(another_client_s_commit_changes_the_commit_mark) {
  use(backend);
  insertOk(*store, "items", "{}");
  auto before = store->othersCommitMark();
  BOOST_TEST_REQUIRE(before.ok(), before.status().message());
  {
    std::unique_ptr<Store> other = open();
    insertOk(*other, "items", "{}");
  }
  auto after = store->othersCommitMark();
  BOOST_TEST_REQUIRE(after.ok(), after.status().message());
  BOOST_TEST(*after != *before);
}

// ---------------------------------------------------------------------------
// Ranges over a declared index

// What a backend that has not built a feature yet answers: one line that
// says so, and nothing written.
void checkNotBuilt(const Status& refused) {
  BOOST_TEST(refused.code() == Code::kUsage);
  BOOST_TEST(refused.message().find(" is not built for ") != std::string::npos, refused.message());
}

// The bodies of range_walk's table; by (r, _id) within s = "d": absent and
// null first (2, 6), then numbers (5, 8, 7, 1, 9), then strings (4).
const std::vector<std::string> kRangeBodies = {R"({"s":"d","r":2})",   R"({"s":"d"})",
                                               R"({"s":"x","r":1})",   R"({"s":"d","r":"a"})",
                                               R"({"s":"d","r":1})",   R"({"s":"d","r":null})",
                                               R"({"s":"d","r":1.5})", R"({"s":"d","r":1})",
                                               R"({"s":"d","r":2})",   R"({"r":1})"};

KeyRange rangeOnSR() {
  KeyRange range;
  range.index = "by_s_r";
  range.fields = {"s", "r"};
  range.eq = {boost::json::value("d")};
  return range;
}

// All of a range, walked `step` documents at a time from the cursors the
// store hands out.
std::vector<int64_t> walk(Store& store, const KeyRange& range, int64_t step) {
  std::vector<int64_t> seen;
  Cursor cursor;
  for (;;) {
    std::vector<Document> batch;
    Status s = store.scanRange("t", range, cursor, step, &batch);
    BOOST_TEST_REQUIRE(s.ok(), s.message());
    if (batch.empty()) break;
    for (const auto& d : batch) seen.push_back(d.id);
    cursor = {batch.back().id, batch.back().key};
  }
  return seen;
}

// Every document of the range exactly once, in (key, _id) order, whatever
// the cursor lands on; null and absent first, then numbers, then strings.
CONFORMANCE_CASE(a_range_walks_key_then_id_across_nulls) {
  use(backend);
  std::vector<Document> none;
  if (!backend.ranges) return checkNotBuilt(store->scanRange("t", rangeOnSR(), {}, 1, &none));
  BOOST_TEST_REQUIRE(store->begin().ok());
  for (const auto& b : kRangeBodies) insertOk(*store, "t", b);
  BOOST_TEST_REQUIRE(store->commit().ok());
  const KeyRange range = rangeOnSR();
  const std::vector<int64_t> expected = {2, 6, 5, 8, 7, 1, 9, 4};
  for (int64_t step : {1, 2, 3, 100}) {
    BOOST_TEST_CONTEXT("step " << step) {
      BOOST_TEST(walk(*store, range, step) == expected, boost::test_tools::per_element());
    }
  }
  BOOST_TEST(store->countRange("t", range, Cursor{}).value() == 8);
  // A cursor from the store counts what is left after it.
  std::vector<Document> first;
  BOOST_TEST_REQUIRE(store->scanRange("t", range, Cursor{}, 3, &first).ok());
  BOOST_TEST(store->countRange("t", range, {first.back().id, first.back().key}).value() == 5);
  // The plan is for humans: all a backend owes is one line.
  auto plan = store->describeRangePlan("t", range);
  BOOST_TEST_REQUIRE(plan.ok(), plan.status().message());
  BOOST_TEST(!plan->empty());
  BOOST_TEST(plan->find('\n') == std::string::npos);
}

// Bounds on the field after the prefix, and the upper cursor a batch is
// read again up to.
CONFORMANCE_CASE(a_bounded_range_stops_at_its_bounds_and_at_an_upper_cursor) {
  use(backend);
  if (!backend.ranges) return checkNotBuilt(store->countRange("t", rangeOnSR(), {}).status());
  for (const auto& b : kRangeBodies) insertOk(*store, "t", b);
  KeyRange range = rangeOnSR();
  range.lower = KeyRange::Bound{boost::json::value(1), false};
  range.upper = KeyRange::Bound{boost::json::value(2), true};
  std::vector<Document> docs;
  BOOST_TEST_REQUIRE(store->scanRange("t", range, Cursor{}, -1, &docs).ok());
  BOOST_TEST_REQUIRE(idsOf(docs) == (std::vector<int64_t>{7, 1, 9}),
                     boost::test_tools::per_element());
  const Cursor upto{docs[1].id, docs[1].key};
  docs.clear();
  BOOST_TEST_REQUIRE(store->scanRange("t", range, Cursor{}, -1, &docs, &upto).ok());
  BOOST_TEST(idsOf(docs) == (std::vector<int64_t>{7, 1}), boost::test_tools::per_element());
  range.lower = KeyRange::Bound{boost::json::value(1), true};
  range.upper.reset();
  docs.clear();
  BOOST_TEST_REQUIRE(store->scanRange("t", range, Cursor{}, -1, &docs).ok());
  BOOST_TEST(idsOf(docs) == (std::vector<int64_t>{5, 8, 7, 1, 9, 4}),
             boost::test_tools::per_element());
}

// ---------------------------------------------------------------------------
// Migration state, run history and the lease

void checkSameState(const MigrationState& got, const MigrationState& want) {
  BOOST_TEST(got.id == want.id);
  BOOST_TEST(got.file_sha256 == want.file_sha256);
  BOOST_TEST(got.logic_digest == want.logic_digest);
  BOOST_TEST(got.status == want.status);
  BOOST_TEST(got.direction == want.direction);
  BOOST_TEST(got.cursor == want.cursor);
  BOOST_TEST(got.cursor_key == want.cursor_key);
  BOOST_TEST(got.processed == want.processed);
  BOOST_TEST(got.changed == want.changed);
  BOOST_TEST(got.total == want.total);
  BOOST_TEST(got.started_at == want.started_at);
  BOOST_TEST(got.updated_at == want.updated_at);
  BOOST_TEST(got.completed_at == want.completed_at);
  BOOST_TEST(got.error == want.error);
  BOOST_TEST(got.error_doc_id.has_value() == want.error_doc_id.has_value());
  if (got.error_doc_id && want.error_doc_id) BOOST_TEST(*got.error_doc_id == *want.error_doc_id);
  BOOST_TEST(got.run_id == want.run_id);
  BOOST_TEST(got.out_of_order == want.out_of_order);
}

CONFORMANCE_CASE(migration_state_round_trip) {
  use(backend);
  MigrationState full;
  full.id = "20260101_120000_add_role";
  full.file_sha256 = std::string(64, 'c');
  full.logic_digest = std::string(64, 'e');
  full.status = StepStatus::kFailed;
  full.direction = Direction::kDown;
  full.cursor = 300;
  full.cursor_key = "opaque \"key\" text";
  full.processed = 310;
  full.changed = 120;
  full.total = 1000;
  full.started_at = "2026-01-01T12:00:00Z";
  full.updated_at = "2026-01-01T12:00:05Z";
  full.completed_at = "2026-01-01T12:00:06Z";
  full.error = "migration failed at users/301: no email";
  full.error_doc_id = 301;
  full.run_id = "20260101T120000Z-42";
  full.out_of_order = true;
  // Saved second: nothing of `full` may leak into it.
  MigrationState minimal;
  minimal.id = "20260102_000000_backfill";
  minimal.file_sha256 = std::string(64, 'd');
  minimal.status = StepStatus::kPending;
  minimal.direction = Direction::kUp;
  BOOST_TEST_REQUIRE(store->saveState(full).ok());
  BOOST_TEST_REQUIRE(store->saveState(minimal).ok());

  reopen();
  auto loaded = store->loadState(full.id);
  BOOST_TEST_REQUIRE(loaded.ok(), loaded.status().message());
  BOOST_TEST_REQUIRE(loaded->has_value());
  checkSameState(**loaded, full);
  auto loaded_minimal = store->loadState(minimal.id);
  BOOST_TEST_REQUIRE(loaded_minimal.ok());
  BOOST_TEST_REQUIRE(loaded_minimal->has_value());
  checkSameState(**loaded_minimal, minimal);
  BOOST_TEST(!store->loadState("never_ran").value().has_value());

  // Saving again replaces the row.
  full.status = StepStatus::kCompleted;
  full.error.clear();
  full.error_doc_id.reset();
  BOOST_TEST_REQUIRE(store->saveState(full).ok());
  auto states = store->loadStates();
  BOOST_TEST_REQUIRE(states.ok(), states.status().message());
  BOOST_TEST_REQUIRE(states->size() == 2u);
  checkSameState((*states)[0], full);  // in id order
  checkSameState((*states)[1], minimal);
}

// Every status and direction this graft knows comes back as it was saved.
CONFORMANCE_CASE(every_state_and_run_status_round_trips) {
  use(backend);
  for (StepStatus status : {StepStatus::kPending, StepStatus::kRunning, StepStatus::kCompleted,
                            StepStatus::kFailed, StepStatus::kCanceled, StepStatus::kRolledBack}) {
    MigrationState state;
    state.id = std::string("m_") + stepStatusName(status);
    state.status = status;
    state.direction = status == StepStatus::kRolledBack ? Direction::kDown : Direction::kUp;
    BOOST_TEST_REQUIRE(store->saveState(state).ok());
    auto loaded = store->loadState(state.id);
    BOOST_TEST_REQUIRE((loaded.ok() && loaded->has_value()));
    BOOST_TEST((*loaded)->status == status);
    BOOST_TEST((*loaded)->direction == state.direction);
  }
  for (RunStatus status : {RunStatus::kRunning, RunStatus::kCompleted, RunStatus::kNoop,
                           RunStatus::kFailed, RunStatus::kCanceled, RunStatus::kDryRun,
                           RunStatus::kDriftBlocked, RunStatus::kAbandoned}) {
    RunRecord run;
    run.run_id = std::string("r_") + runStatusName(status);
    run.status = status;
    run.started_at = "2026-01-01T00:00:00Z";
    BOOST_TEST_REQUIRE(store->saveRun(run).ok());
  }
  auto runs = store->loadRuns(20);
  BOOST_TEST_REQUIRE(runs.ok(), runs.status().message());
  BOOST_TEST(runs->size() == 8u);
  for (const RunRecord& run : *runs)
    BOOST_TEST(run.run_id == std::string("r_") + runStatusName(run.status));
}

void checkSameRun(const RunRecord& got, const RunRecord& want) {
  BOOST_TEST(got.run_id == want.run_id);
  BOOST_TEST(got.status == want.status);
  BOOST_TEST(got.command == want.command);
  BOOST_TEST(got.started_at == want.started_at);
  BOOST_TEST(got.ended_at == want.ended_at);
  BOOST_TEST(got.migrations == want.migrations);
  BOOST_TEST(got.processed == want.processed);
  BOOST_TEST(got.changed == want.changed);
  BOOST_TEST(got.error == want.error);
  BOOST_TEST(got.host == want.host);
  BOOST_TEST(got.pid == want.pid);
  BOOST_TEST(got.user == want.user);
}

CONFORMANCE_CASE(runs_round_trip_newest_first) {
  use(backend);
  RunRecord first;
  first.run_id = "20260101T000000Z-1";
  first.status = RunStatus::kCompleted;
  first.command = "up";
  first.started_at = "2026-01-01T00:00:00Z";
  first.ended_at = "2026-01-01T00:01:00Z";
  first.migrations = 2;
  first.processed = 500;
  first.changed = 250;
  first.host = "builder";
  first.pid = 1;
  first.user = "ann";
  // Still running: no end, no counts, no host; those come back empty.
  RunRecord second;
  second.run_id = "20260102T000000Z-2";
  second.status = RunStatus::kRunning;
  second.command = "up --only x";
  second.started_at = "2026-01-02T00:00:00Z";
  RunRecord third = first;
  third.run_id = "20260103T000000Z-3";
  third.status = RunStatus::kFailed;
  third.started_at = "2026-01-03T00:00:00Z";
  third.ended_at = "2026-01-03T00:00:02Z";
  third.migrations = 0;
  third.error = "migration x failed";
  third.pid = 3;
  for (const auto* run : {&second, &third, &first}) BOOST_TEST_REQUIRE(store->saveRun(*run).ok());

  reopen();
  auto runs = store->loadRuns(10);
  BOOST_TEST_REQUIRE(runs.ok(), runs.status().message());
  BOOST_TEST_REQUIRE(runs->size() == 3u);
  checkSameRun((*runs)[0], third);
  checkSameRun((*runs)[1], second);
  checkSameRun((*runs)[2], first);
  auto latest = store->loadRuns(1);
  BOOST_TEST_REQUIRE(latest.ok());
  BOOST_TEST_REQUIRE(latest->size() == 1u);
  BOOST_TEST((*latest)[0].run_id == third.run_id);

  second.status = RunStatus::kCompleted;
  second.ended_at = "2026-01-02T00:00:09Z";
  BOOST_TEST_REQUIRE(store->saveRun(second).ok());
  auto replaced = store->loadRuns(10);
  BOOST_TEST_REQUIRE(replaced.ok());
  BOOST_TEST_REQUIRE(replaced->size() == 3u);
  checkSameRun((*replaced)[1], second);
}

CONFORMANCE_CASE(the_lease_row_is_held_beaten_canceled_and_given_back) {
  use(backend);
  BOOST_TEST(!store->loadLease().value().has_value());
  BOOST_TEST(!store->requestCancel().value());  // nobody to cancel

  const Lease lease{"run-1", "builder", 42, "2026-01-01T00:00:00Z", 1000, false};
  BOOST_TEST_REQUIRE(store->saveLease(lease).ok());
  auto loaded = store->loadLease();
  BOOST_TEST_REQUIRE(loaded.ok(), loaded.status().message());
  BOOST_TEST_REQUIRE(loaded->has_value());
  BOOST_TEST((*loaded)->run_id == "run-1");
  BOOST_TEST((*loaded)->host == "builder");
  BOOST_TEST((*loaded)->pid == 42);
  BOOST_TEST((*loaded)->started_at == "2026-01-01T00:00:00Z");
  // On its own clock, the backend took the time of the save.
  auto beatenAt = [&](int64_t handed) {
    return backend.own_clock
               ? std::abs(static_cast<double>(store->loadLease().value()->heartbeat_ms) - nowMs()) <
                     5000
               : store->loadLease().value()->heartbeat_ms == handed;
  };
  BOOST_TEST(beatenAt(1000));
  BOOST_TEST(!(*loaded)->cancel_requested);

  auto beat = store->heartbeat("run-1", 2000);
  BOOST_TEST_REQUIRE(beat.ok(), beat.status().message());
  BOOST_TEST(beat->held);
  BOOST_TEST(!beat->cancel_requested);
  BOOST_TEST(beatenAt(2000));
  // Another run's heartbeat finds it not held, and changes nothing.
  const int64_t beaten = store->loadLease().value()->heartbeat_ms;
  auto other_beat = store->heartbeat("run-2", 3000);
  BOOST_TEST_REQUIRE(other_beat.ok());
  BOOST_TEST(!other_beat->held);
  // (A clock of its own is read back through this host's: a few ms apart.)
  BOOST_TEST(std::abs(store->loadLease().value()->heartbeat_ms - beaten) <=
             (backend.own_clock ? 100 : 0));

  // A cancel asked for by another client reaches the holder's heartbeat.
  {
    std::unique_ptr<Store> other = open();
    BOOST_TEST(other->requestCancel().value());
  }
  beat = store->heartbeat("run-1", 4000);
  BOOST_TEST_REQUIRE(beat.ok());
  BOOST_TEST(beat->held);
  BOOST_TEST(beat->cancel_requested);

  // Only its holder gives it back; saving another replaces it.
  BOOST_TEST_REQUIRE(store->deleteLease("run-2").ok());
  BOOST_TEST(store->loadLease().value().has_value());
  BOOST_TEST_REQUIRE(
      store->saveLease({"run-3", "other", 7, "2026-01-02T00:00:00Z", 5, false}).ok());
  BOOST_TEST(store->loadLease().value()->run_id == "run-3");
  BOOST_TEST_REQUIRE(store->deleteLease("run-3").ok());
  BOOST_TEST(!store->loadLease().value().has_value());
}

// ---------------------------------------------------------------------------
// Schemas

const char kPeopleV1[] = R"({"graft_schema": 1, "tables": {
  "people": {"document": {"name": "string"}, "indexes": {"by_name": ["name"]}}}})";
const char kPeopleV2[] = R"({"graft_schema": 1, "tables": {
  "people": {"document": {"name": "string", "age": {"optional": "int64"}}}}})";

Schema schemaOf(const std::string& text) {
  auto schema = parseSchema(text, "s.json");
  BOOST_TEST_REQUIRE(schema.ok(), schema.status().message());
  return std::move(schema).value();
}

Status install(Store& store, const char* text) {
  const Schema schema = schemaOf(text);
  return inTransaction(store,
                       [&] { return store.installSchema(schema, schemaJson(schema), "ann"); });
}

CONFORMANCE_CASE(an_installed_schema_is_recorded_in_versions) {
  use(backend);
  if (!backend.schemas) return checkNotBuilt(install(*store, kPeopleV1));
  BOOST_TEST(!store->loadSchema().value().has_value());
  BOOST_TEST(store->loadSchemaHistory().value().empty());
  BOOST_TEST_REQUIRE(install(*store, kPeopleV1).ok());
  BOOST_TEST_REQUIRE(install(*store, kPeopleV2).ok());
  reopen();
  auto in_force = store->loadSchema();
  BOOST_TEST_REQUIRE(in_force.ok(), in_force.status().message());
  BOOST_TEST_REQUIRE(in_force->has_value());
  BOOST_TEST((*in_force)->version == 2);
  BOOST_TEST((*in_force)->user == "ann");
  BOOST_TEST((*in_force)->text == schemaJson(schemaOf(kPeopleV2)));
  BOOST_TEST(!(*in_force)->pushed_at.empty());
  auto history = store->loadSchemaHistory();
  BOOST_TEST_REQUIRE(history.ok());
  BOOST_TEST_REQUIRE(history->size() == 2u);
  BOOST_TEST((*history)[0].version == 2);  // newest first
  BOOST_TEST((*history)[1].version == 1);
  BOOST_TEST((*history)[1].text == schemaJson(schemaOf(kPeopleV1)));
}

// The store itself refuses a write the schema in force does not allow,
// from every client, naming the document and the field; safe_bypass turns
// that off for one client only.
CONFORMANCE_CASE(the_schema_in_force_refuses_writes_unless_bypassed) {
  use(backend);
  if (!backend.schemas) return checkNotBuilt(install(*store, kPeopleV1));
  insertOk(*store, "people", R"({"name":"ann"})");
  BOOST_TEST_REQUIRE(install(*store, kPeopleV1).ok());

  auto refused = store->insert("people", R"({"name":5})");
  BOOST_TEST_REQUIRE(!refused.ok());
  BOOST_TEST(refused.status().code() == Code::kSchema);
  BOOST_TEST(refused.status().message() ==
             "schema v1 refuses a new document in people: field \"name\": expected string, got 5");
  auto update = store->update("people", 1, R"({"nick":"a"})");
  BOOST_TEST_REQUIRE(!update.ok());
  BOOST_TEST(update.status().code() == Code::kSchema);
  BOOST_TEST(update.status().message() ==
             "schema v1 refuses people/1: missing required field \"name\"");
  std::unique_ptr<Store> other = open();
  BOOST_TEST(other->insert("people", R"({"name":5})").status().code() == Code::kSchema);

  BOOST_TEST_REQUIRE(store->setSchemaChecks(false).ok());
  BOOST_TEST(store->insert("people", R"({"name":5})").ok());
  BOOST_TEST(other->insert("people", R"({"name":6})").status().code() == Code::kSchema);
  BOOST_TEST_REQUIRE(store->setSchemaChecks(true).ok());
  BOOST_TEST(store->insert("people", R"({"name":7})").status().code() == Code::kSchema);
  BOOST_TEST(store->count("people", 0).value() == 2);
}

// Trusting bodies never lets the schema's checks lapse.
CONFORMANCE_CASE(body_checks_off_keeps_the_schema_checks) {
  use(backend);
  if (!backend.schemas) return checkNotBuilt(install(*store, kPeopleV1));
  BOOST_TEST_REQUIRE(install(*store, kPeopleV1).ok());
  BOOST_TEST_REQUIRE(store->setBodyChecks(false).ok());
  BOOST_TEST(store->insert("people", R"({"name":5})").status().code() == Code::kSchema);
  BOOST_TEST(store->insert("people", R"({"name":"bob"})").ok());
  BOOST_TEST_REQUIRE(store->setBodyChecks(true).ok());
  BOOST_TEST(!store->insert("people", "[1]").ok());
}

// ---------------------------------------------------------------------------
// Import and export

CONFORMANCE_CASE(export_gives_back_what_import_took) {
  use(backend);
  const std::string lines =
      "{\"name\": \"ann\", \"n\": 1.0}\n"
      "\n"
      "{\"name\":\"bob\",\"tags\":[\"a\",{\"b\":12345678901234567890}]}\n";
  std::istringstream in(lines);
  int64_t imported = 0;
  Status s = importJsonLines(*store, "people", in, "people.jsonl", &imported);
  BOOST_TEST_REQUIRE(s.ok(), s.message());
  BOOST_TEST(imported == 2);
  BOOST_TEST(same(bodyOf(*store, "people", 1), R"({"name": "ann", "n": 1.0})"));

  // Each line is the document as a plugin sees it: _id and _creationTime,
  // then the body's own text.
  std::ostringstream out;
  BOOST_TEST_REQUIRE(exportJsonLines(*store, "people", out).ok());
  std::istringstream exported(out.str());
  const std::vector<std::string> bodies = {
      R"("name": "ann", "n": 1.0})", R"("name":"bob","tags":["a",{"b":12345678901234567890}]})"};
  std::string line;
  for (size_t i = 0; i < bodies.size(); ++i) {
    BOOST_TEST_REQUIRE(static_cast<bool>(std::getline(exported, line)));
    const std::string head = "{\"_id\":" + std::to_string(i + 1) + ",\"_creationTime\":";
    BOOST_TEST(line.substr(0, head.size()) == head);
    if (keeps_bytes) BOOST_TEST(line.ends_with("," + bodies[i]), line);
    BOOST_TEST(boost::json::parse(line).as_object().size() == 4u);
  }
  BOOST_TEST(!std::getline(exported, line));

  // A failed import writes nothing.
  std::istringstream bad("{\"name\":\"cy\"}\n[1]\n");
  BOOST_TEST(importJsonLines(*store, "people", bad, "bad.jsonl", &imported).code() ==
             Code::kBadInput);
  BOOST_TEST(store->count("people", 0).value() == 2);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
