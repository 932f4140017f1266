// Tests for host/store/checkpointer.cpp: the thread that copies a store's
// WAL into its database file while the migration goes on writing.
#include "store/checkpointer.h"

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include <boost/test/unit_test.hpp>

#include "harness.h"
#include "store/sqlite_store.h"

namespace graft {
namespace {

namespace fs = std::filesystem;

// A store kept open (so that its WAL stays), written in batches of 4 KB
// documents: about two WAL frames each, fewer than SQLite's own threshold.
struct Fixture {
  test::ScratchDir dir;
  std::string db = dir / "store.db";
  std::unique_ptr<SqliteStore> store = test::openStore(db);
  const std::string big = "{\"x\":\"" + std::string(4000, 'a') + "\"}";

  Fixture() { BOOST_TEST_REQUIRE(store->createTable("items").ok()); }
  void batch(int docs) {
    BOOST_TEST_REQUIRE(store->beginBatch().ok());
    for (int i = 0; i < docs; ++i) BOOST_TEST_REQUIRE(store->insert("items", big).ok());
    BOOST_TEST_REQUIRE(store->commit().ok());
  }
  uintmax_t dbSize() const { return fs::file_size(db); }
  uintmax_t walSize() const { return fs::exists(db + "-wal") ? fs::file_size(db + "-wal") : 0; }
};

BOOST_AUTO_TEST_SUITE(checkpointer)

BOOST_FIXTURE_TEST_CASE(a_request_copies_the_wal_into_the_database, Fixture) {
  const uintmax_t small = dbSize();
  batch(300);
  BOOST_TEST_REQUIRE(dbSize() == small);  // all of it in the WAL
  BOOST_TEST(walSize() >= 300u * 4000u);
  auto checkpointer = WalCheckpointer::start(db);
  BOOST_TEST_REQUIRE(checkpointer != nullptr);
  checkpointer->request();
  checkpointer->finish();
  BOOST_TEST(dbSize() >= small + 300u * 4000u);
  BOOST_TEST(store->count("items", 0).value() == 300);
}

// The writer goes on appending while the copy runs, and later requests
// copy what came later.
BOOST_FIXTURE_TEST_CASE(the_store_writes_on_while_it_copies, Fixture) {
  auto checkpointer = WalCheckpointer::start(db);
  BOOST_TEST_REQUIRE(checkpointer != nullptr);
  const uintmax_t small = dbSize();
  for (int round = 0; round < 20; ++round) {
    batch(20);
    checkpointer->request();  // a request while one runs is dropped
    checkpointer->request();
  }
  checkpointer->finish();
  checkpointer->request();
  checkpointer->finish();
  BOOST_TEST(dbSize() >= small + 400u * 4000u);
  BOOST_TEST(store->count("items", 0).value() == 400);
  BOOST_TEST(test::sqlValue(db, "PRAGMA integrity_check") == "ok");
}

BOOST_FIXTURE_TEST_CASE(finish_returns_at_once_when_nothing_was_requested, Fixture) {
  auto checkpointer = WalCheckpointer::start(db);
  BOOST_TEST_REQUIRE(checkpointer != nullptr);
  checkpointer->finish();
  checkpointer->finish();
}

// Stopping lets a running copy finish and closes its connection: the
// store's own close is then the last, which checkpoints and removes the
// WAL file.
BOOST_FIXTURE_TEST_CASE(stopping_finishes_the_copy_and_closes_its_connection, Fixture) {
  batch(300);
  {
    auto checkpointer = WalCheckpointer::start(db);
    BOOST_TEST_REQUIRE(checkpointer != nullptr);
    checkpointer->request();
  }
  store.reset();
  BOOST_TEST(!fs::exists(db + "-wal"));
  BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM items") == "300");
  BOOST_TEST(test::sqlValue(db, "PRAGMA integrity_check") == "ok");
}

// Then the caller checkpoints on its own connection.
BOOST_AUTO_TEST_CASE(start_gives_nothing_when_it_can_not_open_the_store) {
  test::ScratchDir dir;
  BOOST_TEST(WalCheckpointer::start(dir / "missing.db") == nullptr);
  BOOST_TEST(!fs::exists(dir / "missing.db"));
  test::writeFile(dir / "notes.db", std::string(4096, 'n'));
  BOOST_TEST(WalCheckpointer::start(dir / "notes.db") == nullptr);
  BOOST_TEST(test::readBytes(dir / "notes.db") == std::string(4096, 'n'));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
