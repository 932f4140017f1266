// Tests for host/store/sqlite_store.cpp, on real SQLite files, each test in a
// fresh directory. store.cpp's helpers have store_test.cpp.
#include "store/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/store.h"
#include "harness.h"

namespace graft {
namespace {

using test::ScratchDir;

// A writable store on <fresh dir>/graft.db.
struct StoreFixture {
  ScratchDir dir;
  std::string path = dir.file("graft.db");
  std::unique_ptr<SqliteStore> store = test::openStore(path);

  void reopen() {
    store.reset();
    store = test::openStore(path);
  }
};

std::vector<int64_t> idsOf(const std::vector<Document>& docs) {
  std::vector<int64_t> ids;
  for (const auto& doc : docs) ids.push_back(doc.id);
  return ids;
}

int64_t insertOk(Store& store, const std::string& table, const std::string& body) {
  auto id = store.insert(table, body);
  BOOST_TEST_REQUIRE(id.ok(), id.status().message());
  return *id;
}

// One value of a SQL query run on the connection, as text ("" for NULL).
std::string sqlValue(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  BOOST_TEST_REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK,
                     sqlite3_errmsg(db));
  std::string value;
  if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0))
    value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  sqlite3_finalize(stmt);
  return value;
}

// Inserts `body` with plain SQL, past the store's own checks; returns the
// (extended) SQLite result code.
int rawInsert(sqlite3* db, const std::string& table, const char* body) {
  sqlite3_stmt* stmt = nullptr;
  const std::string sql = "INSERT INTO \"" + table + "\" (body) VALUES (?)";
  BOOST_TEST_REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK,
                     sqlite3_errmsg(db));
  if (body) sqlite3_bind_text(stmt, 1, body, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step(stmt);
  sqlite3_finalize(stmt);
  return rc == SQLITE_DONE ? SQLITE_OK : sqlite3_extended_errcode(db);
}

double nowMs() {
  using namespace std::chrono;
  return static_cast<double>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

BOOST_AUTO_TEST_SUITE(sqlite_store)

BOOST_AUTO_TEST_CASE(open_missing_file_without_create) {
  ScratchDir dir;
  const std::string path = dir.file("missing.db");
  auto store = SqliteStore::open(path, StoreOptions{});
  BOOST_TEST_REQUIRE(!store.ok());
  BOOST_TEST(store.status().code() == Code::kStore);
  BOOST_TEST(store.status().message() ==
             "database " + path + ": does not exist (check --db, or create it with graft import)");
  BOOST_TEST(!std::filesystem::exists(path));
}

BOOST_AUTO_TEST_CASE(open_a_file_that_is_not_sqlite) {
  ScratchDir dir;
  const std::string path = dir.file("notes.db");
  const std::string text =
      "These are my notes, not a database.\n"
      "They are long enough to fill more than the hundred bytes of a SQLite header.\n";
  test::writeFile(path, text);
  auto store = SqliteStore::open(path, StoreOptions{});
  BOOST_TEST_REQUIRE(!store.ok());
  BOOST_TEST(store.status().code() == Code::kStore);
  BOOST_TEST(store.status().message() ==
             "database " + path +
                 ": read schema: file is not a database (the file is not a SQLite database: "
                 "check --db)");
  BOOST_TEST(test::readBytes(path) == text);
}

BOOST_FIXTURE_TEST_CASE(new_store_is_empty_and_in_wal_mode, StoreFixture) {
  auto tables = store->tables();
  BOOST_TEST_REQUIRE(tables.ok(), tables.status().message());
  BOOST_TEST(tables->empty());
  BOOST_TEST(sqlValue(store->handle(), "PRAGMA journal_mode") == "wal");
  BOOST_TEST(sqlValue(store->handle(), "SELECT value FROM graft_meta WHERE key = 'format'") == "1");
  // WAL is a property of the file: a second connection sees it too.
  sqlite3* other = nullptr;
  BOOST_TEST_REQUIRE(sqlite3_open_v2(path.c_str(), &other, SQLITE_OPEN_READONLY, nullptr) ==
                     SQLITE_OK);
  BOOST_TEST(sqlValue(other, "PRAGMA journal_mode") == "wal");
  sqlite3_close_v2(other);
}

BOOST_FIXTURE_TEST_CASE(newer_store_format_is_refused, StoreFixture) {
  BOOST_TEST_REQUIRE(sqlite3_exec(store->handle(),
                                  "UPDATE graft_meta SET value = '2' WHERE key = 'format'", nullptr,
                                  nullptr, nullptr) == SQLITE_OK);
  store.reset();
  auto reopened = SqliteStore::open(path, StoreOptions{});
  BOOST_TEST_REQUIRE(!reopened.ok());
  BOOST_TEST(reopened.status().code() == Code::kStore);
  BOOST_TEST(reopened.status().message() ==
             "database " + path + ": store format 2 is newer than this graft (1): upgrade graft");
}

BOOST_FIXTURE_TEST_CASE(insert_get_update_remove, StoreFixture) {
  BOOST_TEST_REQUIRE(store->createTable("people").ok());
  auto has = store->hasTable("people");
  BOOST_TEST_REQUIRE(has.ok());
  BOOST_TEST(*has);

  const double before = nowMs();
  BOOST_TEST(insertOk(*store, "people", R"({"name":"ann"})") == 1);
  BOOST_TEST(insertOk(*store, "people", R"({"name":"bob"})") == 2);
  const double after = nowMs();

  auto ann = store->get("people", 1);
  BOOST_TEST_REQUIRE(ann.ok(), ann.status().message());
  BOOST_TEST_REQUIRE(ann->has_value());
  BOOST_TEST((*ann)->id == 1);
  BOOST_TEST((*ann)->body == R"({"name":"ann"})");
  // _creationTime is whole ms since the epoch, taken by SQLite at insert.
  BOOST_TEST((*ann)->creation_time >= before - 1000);
  BOOST_TEST((*ann)->creation_time <= after + 1000);
  BOOST_TEST((*ann)->creation_time == std::floor((*ann)->creation_time));

  auto updated = store->update("people", 1, R"({"name":"ann","age":3})");
  BOOST_TEST_REQUIRE(updated.ok(), updated.status().message());
  BOOST_TEST(*updated);
  auto again = store->get("people", 1);
  BOOST_TEST_REQUIRE(again.ok());
  BOOST_TEST_REQUIRE(again->has_value());
  BOOST_TEST((*again)->body == R"({"name":"ann","age":3})");
  BOOST_TEST((*again)->creation_time == (*ann)->creation_time);

  auto update_missing = store->update("people", 99, "{}");
  BOOST_TEST_REQUIRE(update_missing.ok());
  BOOST_TEST(!*update_missing);

  auto removed = store->remove("people", 2);
  BOOST_TEST_REQUIRE(removed.ok());
  BOOST_TEST(*removed);
  auto removed_twice = store->remove("people", 2);
  BOOST_TEST_REQUIRE(removed_twice.ok());
  BOOST_TEST(!*removed_twice);
  auto gone = store->get("people", 2);
  BOOST_TEST_REQUIRE(gone.ok());
  BOOST_TEST(!gone->has_value());
}

// writeSpan writes the batch's new bodies in one pass over its span and
// names every document that is not as the batch read it.
BOOST_FIXTURE_TEST_CASE(write_span_writes_what_is_unchanged_and_names_the_rest, StoreFixture) {
  for (int i = 1; i <= 8; ++i) insertOk(*store, "people", "{\"n\":" + std::to_string(i) + "}");
  // What a batch after _id 1 read: 2 to 7 (8 lies beyond it).
  std::vector<Document> read;
  BOOST_TEST_REQUIRE(store->scan("people", 1, 6, &read).ok());
  BOOST_TEST_REQUIRE(idsOf(read) == (std::vector<int64_t>{2, 3, 4, 5, 6, 7}));
  // Meanwhile another client changes 3 and 4 and deletes 5 and 6.
  sqlite3* db = store->handle();
  BOOST_TEST_REQUIRE(sqlite3_exec(db,
                                  "UPDATE people SET body = '{\"n\":30}' WHERE _id = 3;"
                                  "UPDATE people SET body = '{\"n\":40}' WHERE _id = 4;"
                                  "DELETE FROM people WHERE _id IN (5, 6);",
                                  nullptr, nullptr, nullptr) == SQLITE_OK);
  const std::string two = R"({"n":2,"m":1})", three = R"({"n":3,"m":1})", five = R"({"n":5,"m":1})",
                    seven = R"({"n":7,"m":1})";
  // 4 had nothing to write; 6 neither, and is gone.
  const std::vector<SpanWrite> writes = {{2, read[0].body, &two},   {3, read[1].body, &three},
                                         {4, read[2].body, nullptr}, {5, read[3].body, &five},
                                         {6, read[4].body, nullptr}, {7, read[5].body, &seven}};
  std::vector<int64_t> differs = {99};  // appended to, not replaced
  BOOST_TEST_REQUIRE(store->begin().ok());
  auto written = store->writeSpan("people", 1, writes, &differs);
  BOOST_TEST_REQUIRE(written.ok(), written.status().message());
  BOOST_TEST_REQUIRE(store->commit().ok());
  BOOST_TEST(*written == 2);
  BOOST_TEST(differs == (std::vector<int64_t>{99, 3, 4}));
  std::vector<Document> now;
  BOOST_TEST_REQUIRE(store->scan("people", 0, -1, &now).ok());
  std::vector<std::string> bodies;
  for (const auto& doc : now) bodies.push_back(std::to_string(doc.id) + " " + doc.body);
  BOOST_TEST(bodies == (std::vector<std::string>{"1 {\"n\":1}", "2 {\"n\":2,\"m\":1}",
                                                 "3 {\"n\":30}", "4 {\"n\":40}",
                                                 "7 {\"n\":7,\"m\":1}", "8 {\"n\":8}"}),
             boost::test_tools::per_element());
}

// A document put into a span the batch read, under an _id the batch did
// not see, is named too: the cursor moves past it.
BOOST_FIXTURE_TEST_CASE(write_span_names_a_document_the_batch_did_not_read, StoreFixture) {
  for (int i = 1; i <= 4; ++i) insertOk(*store, "people", "{\"n\":" + std::to_string(i) + "}");
  BOOST_TEST_REQUIRE(store->remove("people", 3).value());
  std::vector<Document> read;
  BOOST_TEST_REQUIRE(store->scan("people", 0, -1, &read).ok());
  BOOST_TEST_REQUIRE(idsOf(read) == (std::vector<int64_t>{1, 2, 4}));
  BOOST_TEST_REQUIRE(sqlite3_exec(store->handle(),
                                  "INSERT INTO people (_id, body) VALUES (3, '{\"n\":33}')",
                                  nullptr, nullptr, nullptr) == SQLITE_OK);
  const std::string one = R"({"n":1,"m":1})";
  const std::vector<SpanWrite> writes = {
      {1, read[0].body, &one}, {2, read[1].body, nullptr}, {4, read[2].body, nullptr}};
  std::vector<int64_t> differs;
  BOOST_TEST_REQUIRE(store->begin().ok());
  auto written = store->writeSpan("people", 0, writes, &differs);
  BOOST_TEST_REQUIRE(written.ok(), written.status().message());
  BOOST_TEST_REQUIRE(store->commit().ok());
  BOOST_TEST(*written == 1);
  BOOST_TEST(differs == (std::vector<int64_t>{3}));
  BOOST_TEST(store->get("people", 1).value()->body == one);
  BOOST_TEST(store->get("people", 3).value()->body == R"({"n":33})");
}

BOOST_FIXTURE_TEST_CASE(insert_creates_the_table, StoreFixture) {
  BOOST_TEST(insertOk(*store, "fresh", "{}") == 1);
  auto has = store->hasTable("fresh");
  BOOST_TEST_REQUIRE(has.ok());
  BOOST_TEST(*has);
}

BOOST_FIXTURE_TEST_CASE(missing_tables, StoreFixture) {
  auto get = store->get("nope", 1);
  BOOST_TEST_REQUIRE(get.ok(), get.status().message());
  BOOST_TEST(!get->has_value());
  auto removed = store->remove("nope", 1);
  BOOST_TEST_REQUIRE(removed.ok(), removed.status().message());
  BOOST_TEST(!*removed);
  std::vector<Document> docs;
  BOOST_TEST_REQUIRE(store->query("nope", QuerySpec{}, &docs).ok());
  BOOST_TEST(docs.empty());

  const std::string message = "table \"nope\" does not exist in " + path;
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

struct ScanCase {
  int64_t after_id;
  int64_t limit;
  std::vector<int64_t> ids;
};

BOOST_FIXTURE_TEST_CASE(scan_and_count, StoreFixture) {
  for (int k = 1; k <= 5; ++k) insertOk(*store, "items", R"({"k":)" + std::to_string(k) + "}");
  const std::vector<ScanCase> cases = {
      {0, 2, {1, 2}}, {2, 10, {3, 4, 5}}, {0, -1, {1, 2, 3, 4, 5}}, {4, 1, {5}}, {5, 10, {}},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("after " << c.after_id << ", limit " << c.limit) {
      std::vector<Document> docs;
      Status s = store->scan("items", c.after_id, c.limit, &docs);
      BOOST_TEST_REQUIRE(s.ok(), s.message());
      BOOST_TEST(idsOf(docs) == c.ids, boost::test_tools::per_element());
      for (const auto& doc : docs)
        BOOST_TEST(doc.body == R"({"k":)" + std::to_string(doc.id) + "}");
    }
  }
  BOOST_TEST(store->count("items", 0).value() == 5);
  BOOST_TEST(store->count("items", 3).value() == 2);
  BOOST_TEST(store->count("items", 5).value() == 0);
}

BOOST_FIXTURE_TEST_CASE(for_each_goes_in_id_order_and_stops_on_false, StoreFixture) {
  for (int k = 1; k <= 5; ++k) insertOk(*store, "items", "{}");
  std::vector<int64_t> seen;
  Status s = store->forEach("items", [&](const Document& doc) {
    seen.push_back(doc.id);
    return doc.id < 3;
  });
  BOOST_TEST_REQUIRE(s.ok(), s.message());
  const std::vector<int64_t> expected = {1, 2, 3};
  BOOST_TEST(seen == expected, boost::test_tools::per_element());
}

struct QueryCase {
  const char* name;
  const char* equals;  // a JSON object: field -> value
  std::optional<int64_t> after_id;
  int64_t limit;
  std::vector<int64_t> ids;
};

BOOST_FIXTURE_TEST_CASE(query_matches_json_type_and_value, StoreFixture) {
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

BOOST_FIXTURE_TEST_CASE(query_refuses_quotes_in_field_names, StoreFixture) {
  insertOk(*store, "docs", "{}");
  QuerySpec spec;
  spec.equals.emplace_back("a\"b", 1);
  std::vector<Document> docs;
  Status s = store->query("docs", spec, &docs);
  BOOST_TEST(s.code() == Code::kBadInput);
  BOOST_TEST(s.message() ==
             "query on docs: field name \"a\"b\" may not contain quotes or backslashes");
}

BOOST_FIXTURE_TEST_CASE(ids_are_never_reused, StoreFixture) {
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

BOOST_FIXTURE_TEST_CASE(insert_of_a_non_object_fails_with_the_check, StoreFixture) {
  auto id = store->insert("items", "[1]");
  BOOST_TEST_REQUIRE(!id.ok());
  BOOST_TEST(id.status().code() == Code::kStore);
  BOOST_TEST(id.status().message() ==
             "database " + path +
                 ": insert into items: CHECK constraint failed: json_valid(body) AND "
                 "json_type(body) = 'object' AND json_type(body, '$._id') IS NULL AND "
                 "json_type(body, '$._creationTime') IS NULL");
}

// A migration pass switches the CHECK off on graft's own connection only
// (it checks its bodies itself); other connections keep it.
BOOST_FIXTURE_TEST_CASE(body_checks_switch_off_for_this_connection_only, StoreFixture) {
  BOOST_TEST_REQUIRE(store->createTable("items").ok());
  BOOST_TEST_REQUIRE(store->setBodyChecks(false).ok());
  auto id = store->insert("items", "[1]");
  BOOST_TEST(id.ok(), id.status().message());
  sqlite3* raw = nullptr;
  BOOST_TEST_REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
  BOOST_TEST(sqlite3_exec(raw, "INSERT INTO items (body) VALUES ('[2]')", nullptr, nullptr,
                          nullptr) == SQLITE_CONSTRAINT);
  sqlite3_close(raw);
  BOOST_TEST_REQUIRE(store->setBodyChecks(true).ok());
  id = store->insert("items", "[3]");
  BOOST_TEST_REQUIRE(!id.ok());
  BOOST_TEST(id.status().message().find("CHECK constraint failed") != std::string::npos,
             id.status().message());
}

// Between batches, once the WAL holds 256 frames or more, graft copies it
// into the database file itself (on a thread and connection of its own),
// instead of leaving the checkpoint at 1,000 frames to whichever write
// reaches them.
BOOST_FIXTURE_TEST_CASE(checkpoint_if_due_copies_a_long_wal_into_the_database, StoreFixture) {
  BOOST_TEST_REQUIRE(store->createTable("items").ok());
  const std::string big = "{\"x\":\"" + std::string(4000, 'a') + "\"}";
  auto batch = [&](int docs) {
    BOOST_TEST_REQUIRE(store->beginBatch().ok());
    for (int i = 0; i < docs; ++i) insertOk(*store, "items", big);
    BOOST_TEST_REQUIRE(store->commit().ok());
  };
  batch(10);  // about 20 frames: not due
  store->betweenBatches();
  store->finishCheckpoint();
  const auto small_db = std::filesystem::file_size(path);
  batch(300);  // about 600 frames, 1.2 MB, all in the WAL
  BOOST_TEST(std::filesystem::file_size(path) == small_db);
  store->betweenBatches();
  // The checkpoint runs beside this connection: it can write meanwhile.
  batch(10);
  store->finishCheckpoint();
  BOOST_TEST(std::filesystem::file_size(path) >= small_db + 300 * 4000);
}

struct RawBody {
  const char* body;  // nullptr: SQL NULL
  int rc;
};

// Other SQLite clients write to the same file: the table itself keeps bodies
// to JSON objects without system fields.
BOOST_FIXTURE_TEST_CASE(table_check_refuses_bad_bodies_from_plain_sql, StoreFixture) {
  BOOST_TEST_REQUIRE(store->createTable("items").ok());
  const std::vector<RawBody> cases = {
      {R"({"a":{"_id":1}})", SQLITE_OK},
      {R"([1])", SQLITE_CONSTRAINT_CHECK},
      {R"("text")", SQLITE_CONSTRAINT_CHECK},
      {"not json", SQLITE_CONSTRAINT_CHECK},
      {R"({"_id":1})", SQLITE_CONSTRAINT_CHECK},
      {R"({"a":1,"_creationTime":2})", SQLITE_CONSTRAINT_CHECK},
      {R"({"_id":null})", SQLITE_CONSTRAINT_CHECK},
      {nullptr, SQLITE_CONSTRAINT_NOTNULL},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("body " << (c.body ? c.body : "NULL")) {
      BOOST_TEST(rawInsert(store->handle(), "items", c.body) == c.rc);
    }
  }
  BOOST_TEST(store->count("items", 0).value() == 1);
}

BOOST_FIXTURE_TEST_CASE(store_keeps_reserved_tables_to_itself, StoreFixture) {
  Status create = store->createTable("graft_meta");
  BOOST_TEST(create.code() == Code::kBadInput);
  BOOST_TEST(create.message() ==
             "table \"graft_meta\" is reserved for graft (names starting with migration_, graft_ "
             "or sqlite_)");
  auto insert = store->insert("migration_state", "{}");
  BOOST_TEST_REQUIRE(!insert.ok());
  BOOST_TEST(insert.status().message() ==
             "table \"migration_state\" is reserved for graft (names starting with migration_, "
             "graft_ or sqlite_)");

  BOOST_TEST_REQUIRE(store->createTable("zeta").ok());
  BOOST_TEST_REQUIRE(store->createTable("alpha").ok());
  BOOST_TEST_REQUIRE(sqlite3_exec(store->handle(), "CREATE TABLE plain (x INTEGER)", nullptr,
                                  nullptr, nullptr) == SQLITE_OK);
  // Only document tables are listed, by name: neither graft's own nor a
  // table without a body column.
  auto tables = store->tables();
  BOOST_TEST_REQUIRE(tables.ok(), tables.status().message());
  BOOST_TEST(*tables == (std::vector<std::string>{"alpha", "zeta"}), boost::test_tools::per_element());
}

void checkSameState(const MigrationState& got, const MigrationState& want) {
  BOOST_TEST(got.id == want.id);
  BOOST_TEST(got.file_sha256 == want.file_sha256);
  BOOST_TEST(got.status == want.status);
  BOOST_TEST(got.direction == want.direction);
  BOOST_TEST(got.cursor == want.cursor);
  BOOST_TEST(got.processed == want.processed);
  BOOST_TEST(got.changed == want.changed);
  BOOST_TEST(got.started_at == want.started_at);
  BOOST_TEST(got.updated_at == want.updated_at);
  BOOST_TEST(got.completed_at == want.completed_at);
  BOOST_TEST(got.error == want.error);
  BOOST_TEST(got.error_doc_id.has_value() == want.error_doc_id.has_value());
  if (got.error_doc_id && want.error_doc_id) BOOST_TEST(*got.error_doc_id == *want.error_doc_id);
  BOOST_TEST(got.run_id == want.run_id);
}

BOOST_FIXTURE_TEST_CASE(migration_state_round_trip, StoreFixture) {
  MigrationState full;
  full.id = "20260101_120000_add_role";
  full.file_sha256 = std::string(64, 'c');
  full.status = StepStatus::kFailed;
  full.direction = Direction::kDown;
  full.cursor = 300;
  full.processed = 310;
  full.changed = 120;
  full.started_at = "2026-01-01T12:00:00Z";
  full.updated_at = "2026-01-01T12:00:05Z";
  full.completed_at = "2026-01-01T12:00:06Z";
  full.error = "migration failed at users/301: no email";
  full.error_doc_id = 301;
  full.run_id = "20260101T120000Z-42";
  // Saved second, through the same cached statement: nothing of `full` may
  // leak into it.
  MigrationState minimal;
  minimal.id = "20260102_000000_backfill";
  minimal.file_sha256 = std::string(64, 'd');
  minimal.status = StepStatus::kPending;
  BOOST_TEST_REQUIRE(store->saveState(full).ok());
  BOOST_TEST_REQUIRE(store->saveState(minimal).ok());

  reopen();
  auto loaded = store->loadState(full.id);
  BOOST_TEST_REQUIRE(loaded.ok(), loaded.status().message());
  BOOST_TEST_REQUIRE(loaded->has_value());
  checkSameState(**loaded, full);

  MigrationState minimal_as_stored = minimal;
  minimal_as_stored.direction = Direction::kUp;  // the default
  auto loaded_minimal = store->loadState(minimal.id);
  BOOST_TEST_REQUIRE(loaded_minimal.ok());
  BOOST_TEST_REQUIRE(loaded_minimal->has_value());
  checkSameState(**loaded_minimal, minimal_as_stored);

  auto unknown = store->loadState("never_ran");
  BOOST_TEST_REQUIRE(unknown.ok());
  BOOST_TEST(!unknown->has_value());

  // Saving again replaces the row.
  full.status = StepStatus::kCompleted;
  full.error.clear();
  full.error_doc_id.reset();
  BOOST_TEST_REQUIRE(store->saveState(full).ok());
  auto states = store->loadStates();
  BOOST_TEST_REQUIRE(states.ok(), states.status().message());
  BOOST_TEST_REQUIRE(states->size() == 2u);
  checkSameState((*states)[0], full);  // in id order
  checkSameState((*states)[1], minimal_as_stored);
}

// Every status and direction word round-trips, and a word this graft does
// not know (a newer graft's, or a hand edit) is an error naming the row,
// never a state taken for another.
BOOST_FIXTURE_TEST_CASE(state_and_run_words_round_trip_and_unknown_ones_are_refused, StoreFixture) {
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
  BOOST_TEST_REQUIRE(runs.ok());
  BOOST_TEST(runs->size() == 8u);
  for (const RunRecord& run : *runs)
    BOOST_TEST(run.run_id == std::string("r_") + runStatusName(run.status));

  BOOST_TEST_REQUIRE(
      sqlite3_exec(store->handle(),
                   "UPDATE migration_state SET status = 'paused' WHERE id = 'm_failed';"
                   "UPDATE migration_state SET direction = 'sideways' WHERE id = 'm_pending';"
                   "UPDATE migration_run SET status = 'exploded' WHERE run_id = 'r_noop'",
                   nullptr, nullptr, nullptr) == SQLITE_OK);
  auto paused = store->loadState("m_failed");
  BOOST_TEST(paused.status().code() == Code::kStore);
  BOOST_TEST(paused.status().message() ==
             "migration_state row \"m_failed\" has status \"paused\", which this graft does not "
             "know (written by a newer graft? run that one, or fix the row)");
  auto states = store->loadStates();
  BOOST_TEST(states.status().message() ==
             "migration_state row \"m_failed\" has status \"paused\", which this graft does not "
             "know (written by a newer graft? run that one, or fix the row)");
  BOOST_TEST(store->loadState("m_pending").status().message() ==
             "migration_state row \"m_pending\" has direction \"sideways\", which this graft does "
             "not know (written by a newer graft? run that one, or fix the row)");
  BOOST_TEST(store->loadRuns(20).status().message() ==
             "migration_run row \"r_noop\" has status \"exploded\", which this graft does not "
             "know (written by a newer graft? run that one, or fix the row)");
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
}

BOOST_FIXTURE_TEST_CASE(runs_round_trip_newest_first, StoreFixture) {
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

BOOST_FIXTURE_TEST_CASE(rollback_discards_every_write, StoreFixture) {
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
  // The rolled-back insert did not use up _id 1.
  BOOST_TEST(insertOk(*store, "items", "{}") == 1);
}

BOOST_FIXTURE_TEST_CASE(commit_keeps_every_write, StoreFixture) {
  BOOST_TEST_REQUIRE(store->begin().ok());
  insertOk(*store, "items", R"({"a":1})");
  MigrationState state;
  state.id = "m1";
  state.file_sha256 = "c";
  state.status = StepStatus::kCompleted;
  BOOST_TEST_REQUIRE(store->saveState(state).ok());
  BOOST_TEST_REQUIRE(store->commit().ok());

  reopen();
  BOOST_TEST(store->count("items", 0).value() == 1);
  BOOST_TEST(store->loadState("m1").value().has_value());
}

BOOST_FIXTURE_TEST_CASE(document_json_of_a_stored_document_parses_back, StoreFixture) {
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

// An index walk in small steps: every document of the range exactly once,
// in SQLite's order (NULL and absent first, then numbers, then strings),
// ties broken by _id, whatever the cursor lands on.
BOOST_FIXTURE_TEST_CASE(scan_range_walks_key_then_id_across_nulls, StoreFixture) {
  const std::vector<std::string> bodies = {
      R"({"s":"d","r":2})",  R"({"s":"d"})",       R"({"s":"x","r":1})", R"({"s":"d","r":"a"})",
      R"({"s":"d","r":1})",  R"({"s":"d","r":null})", R"({"s":"d","r":1.5})", R"({"s":"d","r":1})",
      R"({"s":"d","r":2})",  R"({"r":1})"};
  BOOST_REQUIRE(store->begin().ok());
  for (const auto& b : bodies) BOOST_REQUIRE(store->insert("t", b).ok());
  BOOST_REQUIRE(store->commit().ok());
  KeyRange range;
  range.index = "by_s_r";
  range.fields = {"s", "r"};
  range.eq = {boost::json::value("d")};
  // NULL keys (2: absent, 6: null) first, then 1 (5, 8), 1.5, 2 (1, 9), "a".
  const std::vector<int64_t> expected = {2, 6, 5, 8, 7, 1, 9, 4};
  for (int64_t step : {1, 2, 3, 100}) {
    BOOST_TEST_CONTEXT("step " << step) {
      std::vector<int64_t> seen;
      Cursor cursor;
      for (;;) {
        std::vector<Document> batch;
        BOOST_REQUIRE(store->scanRange("t", range, cursor, step, &batch).ok());
        if (batch.empty()) break;
        for (const auto& d : batch) seen.push_back(d.id);
        cursor = {batch.back().id, batch.back().key};
      }
      BOOST_TEST(seen == expected, boost::test_tools::per_element());
      auto left = store->countRange("t", range, Cursor{});
      BOOST_REQUIRE(left.ok());
      BOOST_TEST(*left == 8);
    }
  }
  // A bounded range and the upper cursor bound used to re-read a batch.
  range.lower = KeyRange::Bound{boost::json::value(1), false};
  range.upper = KeyRange::Bound{boost::json::value(2), true};
  std::vector<Document> docs;
  BOOST_REQUIRE(store->scanRange("t", range, Cursor{}, -1, &docs).ok());
  BOOST_TEST(idsOf(docs) == (std::vector<int64_t>{7, 1, 9}), boost::test_tools::per_element());
  docs.clear();
  const Cursor upto{1, "[2]"};
  BOOST_REQUIRE(store->scanRange("t", range, Cursor{}, -1, &docs, &upto).ok());
  BOOST_TEST(idsOf(docs) == (std::vector<int64_t>{7, 1}), boost::test_tools::per_element());
  // A cursor whose key does not fit the index is a clear error.
  docs.clear();
  Status bad = store->scanRange("t", range, Cursor{3, "[1,2]"}, 5, &docs);
  BOOST_TEST(bad.message() ==
             "cursor key [1,2] does not fit the index (1 key fields); run graft up --restart for "
             "this migration");
}

// A store written by a graft from before index ranges and progress totals
// lacks migration_state's cursor_key and total columns: a read-only open
// reads it as it is, and the first read-write open adds both.
BOOST_AUTO_TEST_CASE(state_columns_missing_from_an_older_store_are_added_once) {
  ScratchDir dir;
  const std::string path = dir.file("old.db");
  sqlite3* raw = nullptr;
  BOOST_TEST_REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
  BOOST_TEST_REQUIRE(
      sqlite3_exec(
          raw,
          "PRAGMA journal_mode=WAL;"
          "CREATE TABLE graft_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
          "INSERT INTO graft_meta VALUES ('format', '1');"
          "CREATE TABLE migration_state (id TEXT PRIMARY KEY, checksum TEXT NOT NULL,"
          " logic_digest TEXT, status TEXT NOT NULL, direction TEXT NOT NULL DEFAULT 'up',"
          " cursor INTEGER NOT NULL DEFAULT 0, processed INTEGER NOT NULL DEFAULT 0,"
          " changed INTEGER NOT NULL DEFAULT 0, started_at TEXT, updated_at TEXT,"
          " completed_at TEXT, error TEXT, error_doc_id INTEGER, run_id TEXT);"
          "CREATE TABLE migration_run (run_id TEXT PRIMARY KEY, status TEXT NOT NULL,"
          " command TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT,"
          " migrations INTEGER NOT NULL DEFAULT 0, processed INTEGER NOT NULL DEFAULT 0,"
          " changed INTEGER NOT NULL DEFAULT 0, error TEXT, host TEXT, pid INTEGER, user TEXT);"
          "CREATE TABLE graft_lease (name TEXT PRIMARY KEY CHECK (name = 'run'),"
          " run_id TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL,"
          " started_at TEXT NOT NULL, heartbeat_ms INTEGER NOT NULL,"
          " cancel_requested INTEGER NOT NULL DEFAULT 0);"
          "INSERT INTO migration_state (id, checksum, status, cursor, processed)"
          " VALUES ('m1', 'abc', 'running', 40, 40);",
          nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(raw);

  StoreOptions read_only;
  read_only.read_only = true;
  {
    auto old = SqliteStore::open(path, read_only);
    BOOST_TEST_REQUIRE(old.ok(), old.status().message());
    auto states = (*old)->loadStates();
    BOOST_TEST_REQUIRE(states.ok(), states.status().message());
    BOOST_TEST_REQUIRE(states->size() == 1u);
    BOOST_TEST((*states)[0].processed == 40);
    BOOST_TEST((*states)[0].total == 0);
    BOOST_TEST((*states)[0].cursor_key.empty());
  }
  auto store = test::openStore(path);
  auto state = store->loadState("m1");
  BOOST_TEST_REQUIRE(state.ok(), state.status().message());
  BOOST_TEST_REQUIRE(state->has_value());
  MigrationState updated = **state;
  updated.total = 100;
  updated.cursor_key = "[3]";
  BOOST_TEST_REQUIRE(store->saveState(updated).ok());
  store.reset();
  auto reopened = SqliteStore::open(path, read_only);
  BOOST_TEST_REQUIRE(reopened.ok(), reopened.status().message());
  state = (*reopened)->loadState("m1");
  BOOST_TEST_REQUIRE(state.ok(), state.status().message());
  BOOST_TEST_REQUIRE(state->has_value());
  BOOST_TEST((*state)->total == 100);
  BOOST_TEST((*state)->cursor_key == "[3]");
  BOOST_TEST((*state)->processed == 40);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
