// Tests for host/store/sqlite_store.cpp, on real SQLite files, each test in a
// fresh directory: what only the SQLite backend does (its file, its SQL,
// other SQLite clients beside it). The Store contract every backend meets
// is store_conformance_test.cpp's; store.cpp's helpers have store_test.cpp.
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

using test::idsOf;
using test::insertOk;

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
BOOST_FIXTURE_TEST_CASE(between_batches_a_long_wal_is_copied_into_the_database, StoreFixture) {
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

// Once a checkpoint was asked for, the next is due when the WAL has grown
// by 256 frames again, not after each batch while the WAL is that long:
// a WAL that is not copied in full (here a reader holds it) is not started
// over, and a run through many small migrations would checkpoint, with its
// fsyncs, after every batch.
BOOST_FIXTURE_TEST_CASE(between_batches_a_checkpoint_is_due_once_the_wal_grew_by_256_frames,
                        StoreFixture) {
  BOOST_TEST_REQUIRE(store->createTable("items").ok());
  const std::string big = "{\"x\":\"" + std::string(4000, 'a') + "\"}";
  auto batch = [&](int docs) {
    BOOST_TEST_REQUIRE(store->beginBatch().ok());
    for (int i = 0; i < docs; ++i) insertOk(*store, "items", big);
    BOOST_TEST_REQUIRE(store->commit().ok());
    store->betweenBatches();
    store->finishCheckpoint();
  };
  batch(1);
  // A reader keeps its snapshot: the checkpoint can copy nothing after it.
  sqlite3* reader = nullptr;
  BOOST_TEST_REQUIRE(sqlite3_open(path.c_str(), &reader) == SQLITE_OK);
  BOOST_TEST_REQUIRE(sqlite3_exec(reader, "BEGIN", nullptr, nullptr, nullptr) == SQLITE_OK);
  BOOST_TEST(sqlValue(reader, "SELECT count(*) FROM items") == "1");
  batch(300);  // about 300 frames (a page a document): a checkpoint is asked
               // for, and copies only what the reader's snapshot holds
  const auto partly = std::filesystem::file_size(path);
  BOOST_TEST_REQUIRE(sqlite3_exec(reader, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(reader);
  batch(20);  // about 20 frames more: none is due
  BOOST_TEST(std::filesystem::file_size(path) == partly);
  batch(280);  // 300 frames since it was asked for: due, and it copies them all
  BOOST_TEST(std::filesystem::file_size(path) >= partly + 590 * 4000);
}

// Switching the body checks compiles the connection's statements again
// (the pragma expires them all), so a switch waits for the next write of a
// body: a migration that writes nothing switches them off and on for free.
BOOST_FIXTURE_TEST_CASE(body_checks_switch_when_a_body_is_next_written, StoreFixture) {
  BOOST_TEST_REQUIRE(store->createTable("items").ok());
  insertOk(*store, "items", R"({"a":1})");
  auto recompiled = [&] {
    int n = 0;
    for (sqlite3_stmt* stmt = sqlite3_next_stmt(store->handle(), nullptr); stmt;
         stmt = sqlite3_next_stmt(store->handle(), stmt))
      n += sqlite3_stmt_status(stmt, SQLITE_STMTSTATUS_REPREPARE, 0);
    return n;
  };
  BOOST_TEST_REQUIRE(store->count("items", 0).value() == 1);
  const int before = recompiled();
  BOOST_TEST_REQUIRE(store->setBodyChecks(false).ok());
  BOOST_TEST_REQUIRE(store->setBodyChecks(true).ok());
  BOOST_TEST(store->count("items", 0).value() == 1);
  BOOST_TEST(recompiled() == before);
  // Off, then a write: the bodies this store writes skip the CHECK.
  BOOST_TEST_REQUIRE(store->setBodyChecks(false).ok());
  BOOST_TEST(store->insert("items", "[1]").ok());
  BOOST_TEST(store->count("items", 0).value() == 2);
  BOOST_TEST(recompiled() > before);
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

// Another application's table in the same file is not a document table.
BOOST_FIXTURE_TEST_CASE(tables_lists_document_tables_only, StoreFixture) {
  BOOST_TEST_REQUIRE(store->createTable("zeta").ok());
  BOOST_TEST_REQUIRE(sqlite3_exec(store->handle(), "CREATE TABLE plain (x INTEGER)", nullptr,
                                  nullptr, nullptr) == SQLITE_OK);
  auto tables = store->tables();
  BOOST_TEST_REQUIRE(tables.ok(), tables.status().message());
  BOOST_TEST(*tables == (std::vector<std::string>{"zeta"}), boost::test_tools::per_element());
}

// The mark is PRAGMA data_version: this connection's own commits leave it
// as it was, so a range batch is read again only for another client's.
BOOST_FIXTURE_TEST_CASE(own_commits_keep_the_commit_mark, StoreFixture) {
  insertOk(*store, "items", "{}");
  const int64_t before = store->othersCommitMark().value();
  insertOk(*store, "items", "{}");
  BOOST_TEST_REQUIRE(store->beginBatch().ok());
  insertOk(*store, "items", "{}");
  BOOST_TEST_REQUIRE(store->commit().ok());
  BOOST_TEST(store->othersCommitMark().value() == before);
  BOOST_TEST_REQUIRE(sqlite3_exec(test::openStore(path)->handle(),
                                  "INSERT INTO items (body) VALUES ('{}')", nullptr, nullptr,
                                  nullptr) == SQLITE_OK);
  BOOST_TEST(store->othersCommitMark().value() != before);
}

// A status or direction word this graft does not know (a newer graft's,
// or a hand edit) is an error naming the row, never a state taken for
// another. (That every word it knows round-trips is store_conformance's.)
BOOST_FIXTURE_TEST_CASE(unknown_state_and_run_words_are_refused, StoreFixture) {
  for (const char* id : {"m_failed", "m_pending"}) {
    MigrationState state;
    state.id = id;
    BOOST_TEST_REQUIRE(store->saveState(state).ok());
  }
  RunRecord run;
  run.run_id = "r_noop";
  run.status = RunStatus::kNoop;
  run.started_at = "2026-01-01T00:00:00Z";
  BOOST_TEST_REQUIRE(store->saveRun(run).ok());
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

// A range's key is the document's index fields after the equality prefix,
// as a JSON array; one that does not fit the index is a clear error.
BOOST_FIXTURE_TEST_CASE(range_keys_are_json_arrays_of_the_fields_after_the_prefix, StoreFixture) {
  insertOk(*store, "t", R"({"s":"d","r":1})");
  insertOk(*store, "t", R"({"s":"d"})");
  KeyRange range;
  range.index = "by_s_r";
  range.fields = {"s", "r"};
  range.eq = {boost::json::value("d")};
  std::vector<Document> docs;
  BOOST_REQUIRE(store->scanRange("t", range, Cursor{}, -1, &docs).ok());
  BOOST_TEST_REQUIRE(idsOf(docs) == (std::vector<int64_t>{2, 1}), boost::test_tools::per_element());
  BOOST_TEST(docs[0].key == "[null]");
  BOOST_TEST(docs[1].key == "[1]");
  auto plan = store->describeRangePlan("t", range);
  BOOST_TEST_REQUIRE(plan.ok(), plan.status().message());
  BOOST_TEST(plan->rfind("SCAN t", 0) == 0u, *plan);
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
