// Documents that another SQLite client wrote straight into a document table:
// invalid UTF-8 (json_valid() does not check it), bodies the table's CHECK
// would refuse but PRAGMA ignore_check_constraints lets through, and the
// big and deep documents the CHECK accepts. `graft up` and `graft export`
// either handle a document as it is or stop at it with one line naming the
// table, the _id and the stage, exit 3, and change nothing.
#include <boost/test/unit_test.hpp>

#include <sqlite3.h>

#include <algorithm>
#include <sstream>

#include "harness.h"
#include "base/json_text.h"

namespace graft {
namespace {

using test::Outcome;
using test::runGraft;
using test::ScratchDir;

// Inserts `body` as it is, through the sqlite3 C API, as another
// application would; with `bypass_check` after PRAGMA
// ignore_check_constraints. Returns SQLite's extended result code.
int insertRaw(const std::string& db, const std::string& body, bool bypass_check) {
  sqlite3* conn = nullptr;
  sqlite3_open(db.c_str(), &conn);
  if (bypass_check) sqlite3_exec(conn, "PRAGMA ignore_check_constraints = 1", nullptr, nullptr, nullptr);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(conn, "INSERT INTO items (body) VALUES (?)", -1, &stmt, nullptr);
  sqlite3_bind_text(stmt, 1, body.data(), static_cast<int>(body.size()), SQLITE_TRANSIENT);
  const int rc = sqlite3_step(stmt) == SQLITE_DONE ? SQLITE_OK : sqlite3_extended_errcode(conn);
  sqlite3_finalize(stmt);
  sqlite3_close(conn);
  return rc;
}

BOOST_AUTO_TEST_SUITE(hostile_documents)

BOOST_AUTO_TEST_CASE(a_document_graft_can_not_read_stops_up_and_export_and_changes_nothing) {
  struct Case {
    const char* name;
    std::string body;
    bool bypass_check;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"invalid UTF-8", "{\"k\":11,\"n\":0,\"name\":\"ab\xff\"}", false,
       "stored document is not valid JSON: invalid UTF-8 at byte 24"},
      {"not JSON", "{\"k\":11,\"n\":0", true,
       "stored document is not valid JSON: incomplete JSON at byte 13"},
      // json_valid() accepts it; Boost.JSON would read infinity and write
      // Infinity, which the CHECK refuses: the batch failed with exit 5.
      {"a number beyond float64", "{\"k\":11,\"n\":0,\"x\":1e400}", false,
       "stored document has a number beyond the range of a float64 (it ends before byte 23)"},
      {"not an object", "[{\"k\":11,\"n\":0}]", true, "stored document is not a JSON object"},
      {"an _id of its own", "{\"_id\":3,\"k\":11,\"n\":0}", true,
       "stored document has a field _id of its own (the store assigns _id and _creationTime)"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      ScratchDir dir;
      test::makePluginDir(dir, {test::testPlugin("counter")}, {"test_counter"});
      const std::string db = dir / "store.db";
      test::seedItems(db, 10);
      BOOST_TEST_REQUIRE(insertRaw(db, c.body, c.bypass_check) == SQLITE_OK);
      const std::string stored = test::sqlValue(db, "SELECT hex(body) FROM items WHERE _id = 11");

      // Batches of 4: 1-4 and 5-8 commit, the batch holding _id 11 stops.
      Outcome o = runGraft(test::graftArgs(dir, {"up", "-q", "--batch-size", "4"}));
      BOOST_TEST(o.exit_code == 3);
      BOOST_TEST(o.err == "graft: migration test_counter failed: read items/11: " + c.reason +
                              " (another client wrote it: repair or delete that row); the batch "
                              "was rolled back, the cursor stays at _id 8 (fix the cause, then "
                              "run graft up again to resume)\n");
      BOOST_TEST(o.out == "test_counter: failed, 8 documents visited, 8 patched\n");
      BOOST_TEST(test::sqlValue(db, "SELECT status || ' ' || cursor || ' ' || error_doc_id "
                                    "FROM migration_state") == "failed 8 11");
      BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM items WHERE _id <= 8 AND "
                                    "json_extract(body, '$.n') = 1") == "8");
      BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM items WHERE _id IN (9, 10) AND "
                                    "json_extract(body, '$.n') = 0") == "2");
      BOOST_TEST(test::sqlValue(db, "SELECT hex(body) FROM items WHERE _id = 11") == stored);
      BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM graft_lease") == "0");

      // export writes the documents before it, then stops at it.
      o = runGraft({"--db", db, "export", "items"});
      BOOST_TEST(o.exit_code == 3);
      BOOST_TEST(o.err == "graft: export items/11: " + c.reason +
                              " (another client wrote it: repair or delete that row)\n");
      BOOST_TEST(std::count(o.out.begin(), o.out.end(), '\n') == 10);

      // Repaired (here: deleted), the run resumes and finishes.
      sqlite3* conn = nullptr;
      sqlite3_open(db.c_str(), &conn);
      sqlite3_exec(conn, "DELETE FROM items WHERE _id = 11", nullptr, nullptr, nullptr);
      sqlite3_close(conn);
      o = runGraft(test::graftArgs(dir, {"up", "-q", "--batch-size", "4"}));
      BOOST_TEST(o.exit_code == 0, o.err);
      BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM items WHERE json_extract(body, '$.n') = 1") ==
                 "10");
    }
  }
}

// Deliberate: whatever the table's CHECK accepts, graft migrates and exports
// as it is: 16 MB, and nesting up to SQLite's limit of 2000 levels (Boost.JSON
// alone would stop at 32). One level more, the CHECK refuses the insert.
BOOST_AUTO_TEST_CASE(big_and_deep_documents_migrate_and_export_unchanged) {
  ScratchDir dir;
  test::makePluginDir(dir, {test::testPlugin("counter")}, {"test_counter"});
  const std::string db = dir / "store.db";
  test::seedItems(db, 3);
  const std::string blob(16 << 20, 'x');
  auto nested = [](size_t levels) {  // an array `levels` deep
    return std::string(levels, '[') + std::string(levels, ']');
  };
  // The document is one level, "deep" holds the rest.
  const std::string deepest = nested(kMaxJsonDepth - 1);
  BOOST_TEST_REQUIRE(insertRaw(db, "{\"k\":4,\"n\":0,\"blob\":\"" + blob + "\"}", false) == SQLITE_OK);
  BOOST_TEST_REQUIRE(insertRaw(db, "{\"k\":5,\"n\":0,\"deep\":" + nested(99) + "}", false) == SQLITE_OK);
  BOOST_TEST_REQUIRE(insertRaw(db, "{\"k\":6,\"n\":0,\"deep\":" + deepest + "}", false) == SQLITE_OK);
  BOOST_TEST(insertRaw(db, "{\"k\":7,\"n\":0,\"deep\":" + nested(kMaxJsonDepth) + "}", false) ==
             SQLITE_CONSTRAINT_CHECK);

  Outcome o = runGraft(test::graftArgs(dir, {"up", "-q", "--batch-size", "2"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(o.out == "test_counter: completed, 6 documents visited, 6 patched\n");
  BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM items WHERE json_extract(body, '$.n') = 1") == "6");
  BOOST_TEST(test::sqlValue(db, "SELECT json_extract(body, '$.blob') = '" + blob + "' FROM items "
                                "WHERE _id = 4") == "1");
  BOOST_TEST(test::sqlValue(db, "SELECT json_extract(body, '$.deep') FROM items WHERE _id = 6") ==
             deepest);

  o = runGraft({"--db", db, "export", "items"});
  BOOST_TEST(o.exit_code == 0, o.err);
  std::istringstream lines(o.out);
  std::vector<std::string> line(7);
  for (int i = 1; i <= 6; ++i) std::getline(lines, line[i]);
  BOOST_TEST(line[4].find(",\"k\":4,\"n\":1,\"blob\":\"" + blob + "\"}") != std::string::npos);
  BOOST_TEST(line[5].find(",\"k\":5,\"n\":1,\"deep\":" + nested(99) + "}") != std::string::npos);
  BOOST_TEST(line[6].find(",\"k\":6,\"n\":1,\"deep\":" + deepest + "}") != std::string::npos);

  // And back in: import parses to the same depth.
  test::writeFile(dir / "deep.jsonl", "{\"deep\":" + deepest + "}\n");
  o = runGraft({"--db", db, "import", "copies", dir / "deep.jsonl"});
  BOOST_TEST(o.exit_code == 0, o.err);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
