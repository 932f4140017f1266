// The PostgreSQL store's own behaviour, beside the contract every backend
// keeps (store_conformance_test.cpp): what jsonb makes of a body, what it
// can not keep, the server's messages, and _ids that commit out of order.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "pg_harness.h"
#include "schema/schema.h"
#include "schema_cases.h"
#include "store/open_store.h"
#include "store/postgres/pg_conn.h"
#include "store/postgres/pg_json.h"
#include "store/postgres/pg_schema.h"
#include "store/store.h"

namespace graft {
namespace {

std::unique_ptr<Store> openPg(const test::PgDatabase& db, StoreOptions options = {.create = true}) {
  auto store = openStore(db.url(), options);
  BOOST_TEST_REQUIRE(store.ok(), store.status().message());
  return std::move(store).value();
}

BOOST_AUTO_TEST_SUITE(pg_store)

// What graft hands the server: a float64 as a plain decimal with a
// fraction, which jsonb keeps as it is; integers and strings untouched.
BOOST_AUTO_TEST_CASE(a_float64_is_written_as_a_decimal_jsonb_keeps) {
  BOOST_TEST(bodyToJsonb(R"({"a":1E0,"b":1.5e3,"c":-2.5E-3,"d":7,"e":"1e3"})").value() ==
             R"({"a":1.0,"b":1500.0,"c":-0.0025,"d":7,"e":"1e3"})");
  BOOST_TEST(bodyToJsonb(R"({"a":12345678901234567890,"b":-0,"c":0.1})").value() ==
             R"({"a":12345678901234567890,"b":-0,"c":0.1})");
  BOOST_TEST(bodyToJsonb(R"([5e-324])").value() == "[0." + std::string(323, '0') + "5]");
}

// What graft makes of what the server returns: a number with a fraction in
// its shortest form, which reads back as the same float64.
BOOST_AUTO_TEST_CASE(a_decimal_read_back_is_the_shortest_float64) {
  BOOST_TEST(bodyFromJsonb(R"({"a": 1.0, "b": 1500.0, "c": -0.0025, "d": 7, "e": "1.50 ,"})") ==
             R"({"a":1.0,"b":1500.0,"c":-0.0025,"d":7,"e":"1.50 ,"})");
  BOOST_TEST(bodyFromJsonb("[15" + std::string(299, '0') + ".0]") == "[1.5e+300]");
  BOOST_TEST(bodyFromJsonb("[0." + std::string(323, '0') + "5]") == "[5e-324]");
}

BOOST_AUTO_TEST_CASE(what_jsonb_can_not_keep_is_refused_in_one_line) {
  BOOST_TEST(bodyToJsonb(R"({"a":"x\u0000y"})").status().message() ==
             "a PostgreSQL store can not keep this document: it holds the character U+0000 "
             "(\\u0000), which jsonb refuses");
  BOOST_TEST(bodyToJsonb(R"({"a":1,"a":2})").status().message() ==
             "a PostgreSQL store can not keep this document: an object in it has the key \"a\" "
             "twice, and jsonb keeps only the last");
  BOOST_TEST(bodyToJsonb(R"({"a":-0.0})").status().message() ==
             "a PostgreSQL store can not keep this document: its number -0.0 is a negative zero, "
             "which jsonb reads back as 0.0");
  BOOST_TEST(bodyToJsonb(R"({"a":1e400})").status().message() ==
             "a PostgreSQL store can not keep this document: its number 1e400 is beyond float64");
  // An escaped backslash before u0000 is no U+0000.
  BOOST_TEST(bodyToJsonb(R"({"a":"\\u0000"})").ok());
}

// The same refusal through the store, before the server sees the body.
BOOST_AUTO_TEST_CASE(the_store_refuses_before_the_server_sees_it) {
  test::PgDatabase db;
  auto store = openPg(db);
  auto id = store->insert("items", R"({"a":"\u0000"})");
  BOOST_TEST(id.status().code() == Code::kBadInput);
  BOOST_TEST(id.status().message() ==
             "insert into items: a PostgreSQL store can not keep this document: it holds the "
             "character U+0000 (\\u0000), which jsonb refuses");
  BOOST_TEST(store->hasTable("items").value() == false);
}

// What an application reads with SQL is the document: jsonb, its float64
// with a fraction.
BOOST_AUTO_TEST_CASE(the_application_reads_jsonb) {
  test::PgDatabase db;
  auto store = openPg(db);
  test::insertOk(*store, "items", R"({"n":1E0,"big":2e20,"s":"x"})");
  BOOST_TEST(db.sql("SELECT body::text FROM items") ==
             std::vector<std::string>{R"({"n": 1.0, "s": "x", "big": 200000000000000000000.0})"});
  BOOST_TEST(db.sql("SELECT jsonb_typeof(body->'n') FROM items") ==
             std::vector<std::string>{"number"});
}

BOOST_AUTO_TEST_CASE(a_database_with_other_tables_is_refused_and_left_alone) {
  test::PgDatabase db;
  db.sql("CREATE TABLE orders (id int PRIMARY KEY, total numeric)");
  auto store = openStore(db.url(), {.create = true});
  BOOST_TEST_REQUIRE(!store.ok());
  BOOST_TEST(store.status().code() == Code::kStore);
  BOOST_TEST(store.status().message() ==
             "database " + db.where() +
                 ": not a graft store: it has no graft_meta table, and its table \"orders\" is not "
                 "a graft document table (graft wrote nothing to it; check the database URL: "
                 "graft adds its own tables only to an empty schema or to one whose tables are "
                 "all document tables)");
  BOOST_TEST(db.sql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") ==
             std::vector<std::string>{"1"});
}

BOOST_AUTO_TEST_CASE(a_server_that_is_not_there_is_one_line) {
  auto store = openStore("postgresql:///nodb?host=/nonexistent-dir&port=5999", {.create = true});
  BOOST_TEST_REQUIRE(!store.ok());
  BOOST_TEST(store.status().code() == Code::kStore);
  BOOST_TEST(store.status().message() ==
             "database nodb at /nonexistent-dir:5999: cannot connect: connection to server on "
             "socket \"/nonexistent-dir/.s.PGSQL.5999\" failed: No such file or directory Is the "
             "server running locally and accepting connections on that socket? (check the URL, "
             "that the server runs and lets this user in)");
}

// The server ends graft's connection (a restart, a failover, an
// administrator) inside a transaction: the commit fails in one line that
// says nothing of it was written, and nothing was.
BOOST_AUTO_TEST_CASE(a_server_that_goes_away_is_one_line_and_loses_nothing) {
  test::PgDatabase db;
  auto store = openPg(db);
  test::insertOk(*store, "items", R"({"n":1})");
  BOOST_TEST_REQUIRE(store->begin().ok());
  BOOST_TEST_REQUIRE(store->update("items", 1, R"({"n":2})").value());
  db.sql(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
      "current_database() AND pid <> pg_backend_pid()");
  Status committed = store->commit();
  BOOST_TEST(committed.code() == Code::kStore);
  BOOST_TEST(committed.message().starts_with("database " + db.where() + ": commit: "),
             committed.message());
  BOOST_TEST(committed.message().ends_with(
                 " (the connection to the server was lost or refused: nothing of the open "
                 "transaction was written; run the command again when the server is back)"),
             committed.message());
  BOOST_TEST(committed.message().find('\n') == std::string::npos);
  BOOST_TEST(db.sql("SELECT body->>'n' FROM items") == std::vector<std::string>{"1"});
  // Once the caller has rolled back, the store connects again by itself.
  BOOST_TEST_REQUIRE(store->rollback().ok());
  BOOST_TEST(store->count("items", 0).value() == 1);
}

// A batch that scan() read is compared by row version: an application's
// write between the read and writeSpan, even one that leaves the body as it
// was, makes the row differ; the rest are written.
BOOST_AUTO_TEST_CASE(write_span_compares_a_scanned_batch_by_row_version) {
  test::PgDatabase db;
  auto store = openPg(db);
  for (int i = 1; i <= 4; ++i) test::insertOk(*store, "items", "{\"n\":" + std::to_string(i) + "}");
  std::vector<Document> batch;
  BOOST_TEST_REQUIRE(store->scan("items", 0, 10, &batch).ok());
  BOOST_TEST_REQUIRE(batch.size() == 4u);
  db.sql(R"(UPDATE items SET body = '{"n":20}' WHERE _id = 2)");
  db.sql("UPDATE items SET body = body WHERE _id = 3");
  const std::string next = R"({"n":0})";
  std::vector<SpanWrite> writes;
  for (const auto& doc : batch) writes.push_back({doc.id, doc.body, &next});
  std::vector<int64_t> differs;
  BOOST_TEST_REQUIRE(store->begin().ok());
  auto written = store->writeSpan("items", 0, writes, &differs);
  BOOST_TEST_REQUIRE(written.ok(), written.status().message());
  BOOST_TEST_REQUIRE(store->commit().ok());
  BOOST_TEST(*written == 2);
  BOOST_TEST(differs == (std::vector<int64_t>{2, 3}), boost::test_tools::per_element());
  BOOST_TEST(
      db.sql("SELECT body::text FROM items ORDER BY _id") ==
          (std::vector<std::string>{R"({"n": 0})", R"({"n": 20})", R"({"n": 3})", R"({"n": 0})"}),
      boost::test_tools::per_element());
}

// An application's transaction takes _id 2 and stays open while _id 3
// commits: a batch read now sees 1 and 3. The store waits for that
// transaction before it hands the batch out, and reads the span again: 2
// is in it, and a cursor at 3 passes nothing.
BOOST_AUTO_TEST_CASE(an_id_that_commits_after_a_higher_one_is_in_the_batch) {
  test::PgDatabase db;
  auto store = openPg(db);
  test::insertOk(*store, "items", R"({"n":1})");
  test::PgClient app(db.url());
  app.sql(R"(BEGIN; INSERT INTO items (body) VALUES ('{"n":2}'))");
  db.sql(R"(INSERT INTO items (body) VALUES ('{"n":3}'))");
  std::thread committer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    app.sql("COMMIT");
  });
  std::vector<Document> batch;
  const auto started = std::chrono::steady_clock::now();
  Status scanned = store->scan("items", 0, 100, &batch);
  const auto waited = std::chrono::steady_clock::now() - started;
  committer.join();
  BOOST_TEST_REQUIRE(scanned.ok(), scanned.message());
  BOOST_TEST(test::idsOf(batch) == (std::vector<int64_t>{1, 2, 3}));
  BOOST_TEST(waited >= std::chrono::milliseconds(250));
}

// A transaction that stays open past the lock wait fails the batch, in one
// line that says what to do; nothing is passed over.
BOOST_AUTO_TEST_CASE(a_writer_that_stays_open_fails_the_read_in_one_line) {
  test::PgDatabase db;
  auto store = openPg(db, {.create = true, .lock_wait_ms = 200});
  test::insertOk(*store, "items", R"({"n":1})");
  test::PgClient app(db.url());
  app.sql(R"(BEGIN; INSERT INTO items (body) VALUES ('{"n":2}'))");
  std::vector<Document> batch;
  Status scanned = store->scan("items", 0, 100, &batch);
  BOOST_TEST(scanned.code() == Code::kStore);
  BOOST_TEST(scanned.message() ==
             "database " + db.where() +
                 ": read documents of items: a transaction that writes to items stayed open for "
                 "200 ms; graft waits for such transactions to end before its cursor passes the "
                 "_ids they may still commit (end that transaction, then run the command again)");
  app.sql("ROLLBACK");
}

// The PostgreSQL form of the validators gives the C++ validator's verdict
// on every case of schema_test's table, for the body as graft stores it
// (pg_json.h): the whole-document check and the trigger's checks alike.
BOOST_AUTO_TEST_CASE(the_jsonb_validators_agree_with_the_cpp_ones) {
  test::PgDatabase db;
  test::PgClient conn(db.url());
  for (const auto& c : test::schemaSemanticsCases()) {
    BOOST_TEST_CONTEXT(c.fields << " / " << c.document) {
      auto document =
          parseValidator(boost::json::parse("{\"object\": " + std::string(c.fields) + "}"), "test");
      BOOST_TEST_REQUIRE(document.ok(), document.status().message());
      auto stored = bodyToJsonb(c.document);
      if (!stored.ok()) continue;  // a body the store refuses never meets a check
      const std::string body = pgLiteral(*stored) + "::jsonb";
      const bool valid = c.reason.empty();
      BOOST_TEST(conn.sql("SELECT " + pgCheckDocument(*document, body)) ==
                     std::vector<std::string>{valid ? "t" : "f"},
                 "pgCheckDocument disagrees (C++: " << (valid ? "ok" : c.reason) << ")");
      TableSchema table;
      table.name = "t";
      table.document = *document;
      std::string all = "true";
      for (const auto& [check, message] : pgFieldChecks(table, body))
        all += " AND coalesce(" + check + ", false)";
      BOOST_TEST(conn.sql("SELECT " + all) == std::vector<std::string>{valid ? "t" : "f"},
                 "pgFieldChecks disagree (C++: " << (valid ? "ok" : c.reason) << ")");
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
