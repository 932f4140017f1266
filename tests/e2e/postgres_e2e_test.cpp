// The real graft binary against a real PostgreSQL server (the tests'
// private one, pg_harness.h), with real plugins: what a team whose
// documents live in PostgreSQL runs. The plugin files are the same ones
// the SQLite tests load, not rebuilt.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "pg_harness.h"

namespace graft {
namespace {

using test::PgClient;
using test::PgDatabase;
using test::ScratchDir;

// A table as `graft export` prints it, by _id, without _creationTime (the
// time each store took at import).
std::map<int64_t, boost::json::object> exported(const std::string& db, const std::string& table) {
  auto o = test::runGraft({"--db", db, "export", table});
  BOOST_REQUIRE_MESSAGE(o.exit_code == 0, o.err);
  std::map<int64_t, boost::json::object> docs;
  std::istringstream lines(o.out);
  std::string line;
  while (std::getline(lines, line)) {
    auto doc = boost::json::parse(line).as_object();
    doc.erase("_creationTime");
    docs[doc.at("_id").as_int64()] = doc;
  }
  return docs;
}

// Every field of every document the same, by JSON kind too: an int64 that
// came back a float64 (or the reverse) is a different document.
bool sameKinds(const boost::json::value& a, const boost::json::value& b) {
  if (a.kind() != b.kind()) return false;
  if (a.is_object()) {
    if (a.get_object().size() != b.get_object().size()) return false;
    for (const auto& m : a.get_object()) {
      const auto* other = b.get_object().if_contains(m.key());
      if (!other || !sameKinds(m.value(), *other)) return false;
    }
    return true;
  }
  if (a.is_array()) {
    if (a.get_array().size() != b.get_array().size()) return false;
    for (size_t i = 0; i < a.get_array().size(); ++i)
      if (!sameKinds(a.get_array()[i], b.get_array()[i])) return false;
    return true;
  }
  return a == b;
}

int64_t processedSoFar(const PgDatabase& db) {
  auto rows = db.sql("SELECT coalesce(sum(processed), 0) FROM migration_state");
  return rows.empty() ? 0 : std::stoll(rows[0]);
}

// The counter plugin in dir/plugins, and `n` items {"n":0} in a table
// graft made (import of nothing), as an application's SQL would add them.
void seedCounterItems(const ScratchDir& dir, const PgDatabase& pg, int n) {
  test::makePluginDir(dir, {test::testPlugin("counter")}, {"test_counter"});
  auto o = test::runGraft({"--db", pg.url(), "import", "items", "/dev/null"});
  BOOST_REQUIRE_MESSAGE(o.exit_code == 0, o.err);
  pg.sql("INSERT INTO items (body) SELECT '{\"n\":0}' FROM generate_series(1, " +
         std::to_string(n) + ")");
}

BOOST_AUTO_TEST_SUITE(postgres_e2e)

// The example plugins on the demo data, once on a SQLite file and once on
// PostgreSQL, with the demo's schemas pushed and enforced by the store:
// every document comes out the same, field by field and kind by kind.
BOOST_AUTO_TEST_CASE(the_examples_give_the_same_documents_on_both_backends) {
  ScratchDir dir;
  PgDatabase pg;
  const std::string sqlite = dir / "demo.db";
  const std::string command =
      std::string(GRAFT_MAKE_DEMO_DATA) + " " + dir.path() + " 300 > /dev/null";
  BOOST_REQUIRE(std::system(command.c_str()) == 0);
  for (const std::string& db : {sqlite, pg.url()}) {
    for (const char* table : {"teams", "users", "posts"}) {
      auto o = test::runGraft({"--db", db, "import", table, dir / (std::string(table) + ".jsonl")});
      BOOST_REQUIRE_MESSAGE(o.exit_code == 0, o.err);
    }
    // As examples_test: the final shape is refused before the migrations,
    // the schema that admits both shapes checks each of their writes.
    const std::string schemas = GRAFT_EXAMPLE_SCHEMA_DIR;
    auto o = test::runGraft({"--db", db, "schema", "push", schemas + "/final.json"});
    BOOST_TEST(o.exit_code == 9, o.err);
    o = test::runGraft({"--db", db, "schema", "push", schemas + "/during.json"});
    BOOST_REQUIRE_MESSAGE(o.exit_code == 0, o.err);
    o = test::runGraft(
        {"--db", db, "--plugins", GRAFT_EXAMPLE_PLUGIN_DIR, "up", "--quiet", "--batch-size", "37"});
    BOOST_REQUIRE_MESSAGE(o.exit_code == 0, o.err);
    o = test::runGraft({"--db", db, "schema", "push", schemas + "/final.json"});
    BOOST_TEST(o.exit_code == 0, o.err);
  }
  for (const char* table : {"teams", "users", "posts", "profiles"}) {
    BOOST_TEST_CONTEXT(table) {
      const auto on_sqlite = exported(sqlite, table);
      const auto on_pg = exported(pg.url(), table);
      BOOST_TEST(on_sqlite.size() == on_pg.size());
      BOOST_TEST(!on_sqlite.empty());
      for (const auto& [id, doc] : on_sqlite) {
        auto other = on_pg.find(id);
        BOOST_TEST_REQUIRE((other != on_pg.end()), "_id " << id << " missing");
        BOOST_TEST(sameKinds(doc, other->second),
                   boost::json::serialize(doc) << " vs " << boost::json::serialize(other->second));
      }
    }
  }
  // status reads the same state rows.
  auto o = test::runGraft({"--db", pg.url(), "--plugins", GRAFT_EXAMPLE_PLUGIN_DIR, "status"});
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(o.out.find("pending") == std::string::npos, o.out);
}

// A line jsonb can not keep is refused by import, naming the line, and
// nothing of the file is imported.
BOOST_AUTO_TEST_CASE(import_refuses_what_jsonb_can_not_keep_naming_the_line) {
  ScratchDir dir;
  PgDatabase pg;
  test::writeFile(dir / "items.jsonl", "{\"a\":1}\n{\"a\":\"x\\u0000y\"}\n");
  auto o = test::runGraft({"--db", pg.url(), "import", "items", dir / "items.jsonl"});
  BOOST_TEST(o.exit_code == 3);
  BOOST_TEST(o.err == "graft: import: " + dir / "items.jsonl" +
                          ":2: insert into items: a PostgreSQL store can not keep this document: "
                          "it holds the character U+0000 (\\u0000), which jsonb refuses; nothing "
                          "was imported\n");
  BOOST_TEST(pg.sql("SELECT count(*) FROM pg_tables WHERE tablename = 'items'") ==
             std::vector<std::string>{"0"});
}

// An application's transaction inserts a document and stays open while
// graft's cursor passes its _id (a higher one committed meanwhile); it
// commits a second later. graft waits for it before it passes that _id:
// the document is migrated, exactly once.
BOOST_AUTO_TEST_CASE(an_insert_that_commits_after_the_cursor_passed_its_id_is_migrated_once) {
  ScratchDir dir;
  PgDatabase pg;
  seedCounterItems(dir, pg, 1000);
  test::Outcome o;
  PgClient app(pg.url());
  app.sql("BEGIN; INSERT INTO items (body) VALUES ('{\"n\":0,\"late\":true}')");  // _id 1001
  pg.sql("INSERT INTO items (body) SELECT '{\"n\":0}' FROM generate_series(1, 1000)");
  std::thread committer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    app.sql("COMMIT");
  });
  o = test::runGraft(
      {"--db", pg.url(), "--plugins", dir / "plugins", "up", "--quiet", "--batch-size", "100"});
  committer.join();
  BOOST_REQUIRE_MESSAGE(o.exit_code == 0, o.err);
  BOOST_TEST(pg.sql("SELECT body->>'n' FROM items WHERE body ? 'late'") ==
             std::vector<std::string>{"1"});
  BOOST_TEST(pg.sql("SELECT count(*) FROM items WHERE body->>'n' = '1'") ==
             std::vector<std::string>{"2001"});
}

// SIGKILL at random instants while an application inserts and patches
// documents: after the last resume every document is migrated exactly
// once, and every write the application committed is there.
BOOST_AUTO_TEST_CASE(sigkills_with_an_application_writing_lose_nothing) {
  ScratchDir dir;
  PgDatabase pg;
  const int n = 30000;
  seedCounterItems(dir, pg, n);
  test::Outcome o;
  // The application: an insert or a patch of field "a" just ahead of the
  // cursor, each in its own transaction, remembered once committed.
  std::atomic<bool> stop{false};
  std::map<int64_t, int64_t> patched;  // _id -> the last "a" committed
  std::vector<int64_t> inserted;
  std::thread writer([&] {
    PgClient conn(pg.url());
    std::mt19937 rng(7);
    for (int64_t seq = 1; !stop; ++seq) {
      auto cursor = conn.sql("SELECT coalesce(max(cursor), 0) FROM migration_state");
      const int64_t target =
          std::min<int64_t>(n, std::stoll(cursor.empty() ? "0" : cursor[0]) + 1 + rng() % 128);
      if (seq % 3 == 0) {
        auto id =
            conn.sql("INSERT INTO items (body) VALUES ('{\"n\":0,\"app\":" + std::to_string(seq) +
                     "}') RETURNING _id");
        inserted.push_back(std::stoll(id[0]));
      } else {
        conn.sql("UPDATE items SET body = jsonb_set(body, '{a}', '" + std::to_string(seq) +
                 "') WHERE _id = " + std::to_string(target));
        patched[target] = seq;
      }
      usleep(1000);
    }
  });
  const std::vector<std::string> up = {"--db", pg.url(),  "--plugins",    dir / "plugins",
                                       "up",   "--quiet", "--batch-size", "64"};
  std::mt19937 rng(4242);
  std::uniform_int_distribution<int> extra_us(0, 30000);
  int kills = 0;
  for (int attempt = 0; attempt < 100 && kills < 10; ++attempt) {
    const int64_t before = processedSoFar(pg);
    pid_t pid = test::startGraft(up, dir / "out", dir / "err");
    for (int i = 0; i < 2000 && processedSoFar(pg) <= before; ++i) usleep(2000);
    std::this_thread::sleep_for(std::chrono::microseconds(extra_us(rng)));
    kill(pid, SIGKILL);
    auto killed = test::waitGraft(pid, dir / "out", dir / "err");
    if (killed.signal == SIGKILL)
      ++kills;
    else
      BOOST_REQUIRE_MESSAGE(killed.exit_code == 0, killed.err);
  }
  o = test::runGraft(up);
  stop = true;
  writer.join();
  BOOST_REQUIRE_MESSAGE(o.exit_code == 0, o.err);
  BOOST_TEST(kills >= 5);
  // Every _id up to the final cursor migrated once; after it, only what
  // the application inserted once the migration had completed.
  BOOST_TEST(pg.sql("SELECT count(*) FROM items WHERE body->>'n' = '0' AND _id <= "
                    "(SELECT cursor FROM migration_state)") == std::vector<std::string>{"0"});
  BOOST_TEST(pg.sql("SELECT count(*) FROM items WHERE body->>'n' = '0' AND NOT body ? 'app'") ==
             std::vector<std::string>{"0"});
  BOOST_TEST(pg.sql("SELECT count(*) FROM items WHERE body->>'n' NOT IN ('0', '1')") ==
             std::vector<std::string>{"0"});
  for (const auto& [id, a] : patched) {
    const auto now = pg.sql("SELECT body->>'a' FROM items WHERE _id = " + std::to_string(id));
    BOOST_TEST(now == std::vector<std::string>{std::to_string(a)}, "_id " << id);
  }
  BOOST_TEST(pg.sql("SELECT count(*) FROM items WHERE body ? 'app'") ==
             std::vector<std::string>{std::to_string(inserted.size())});
}

// Two hosts' `graft up` on one store: the lease lets one run and the other
// exits 7 naming it, as on SQLite; `graft cancel` from a third stops the
// run after a batch (exit 6), and the next `up` finishes it, each
// document migrated once.
BOOST_AUTO_TEST_CASE(one_run_at_a_time_cancel_and_resume) {
  ScratchDir dir;
  PgDatabase pg;
  seedCounterItems(dir, pg, 5000);
  test::Outcome o;
  const std::vector<std::string> up = {"--db",       pg.url(),  "--plugins",    dir / "plugins",
                                       "up",         "--quiet", "--batch-size", "10",
                                       "--pause-ms", "20"};
  pid_t first = test::startGraft(up, dir / "out1", dir / "err1");
  for (int i = 0; i < 2500 && processedSoFar(pg) == 0; ++i) usleep(2000);
  BOOST_REQUIRE(processedSoFar(pg) > 0);
  auto second = test::runGraft(up);
  BOOST_TEST(second.exit_code == 7);
  BOOST_TEST(
      second.err.find("graft: already running (pid " + std::to_string(first) + " on host ") == 0u,
      second.err);
  auto cancel = test::runGraft({"--db", pg.url(), "cancel"});
  BOOST_TEST(cancel.exit_code == 0, cancel.err);
  auto stopped = test::waitGraft(first, dir / "out1", dir / "err1");
  BOOST_TEST(stopped.exit_code == 6, stopped.err);
  BOOST_TEST(processedSoFar(pg) < 5000);
  o = test::runGraft(up);
  BOOST_TEST_REQUIRE(o.exit_code == 0, o.err);
  BOOST_TEST(pg.sql("SELECT count(*) FROM items WHERE body->>'n' = '1'") ==
             std::vector<std::string>{"5000"});
  BOOST_TEST(pg.sql("SELECT status FROM migration_state") == std::vector<std::string>{"completed"});
}

// The server ends graft's connection mid-run (a restart, a failover), five
// times: between two transactions graft connects again and goes on; inside
// one the batch fails, graft records it and exits 5 saying why, and the
// next `up` resumes at the last committed batch. Each document is migrated
// once.
BOOST_AUTO_TEST_CASE(a_server_that_drops_the_connection_mid_run_loses_nothing) {
  ScratchDir dir;
  PgDatabase pg;
  seedCounterItems(dir, pg, 5000);
  test::Outcome o;
  const std::vector<std::string> up = {"--db",       pg.url(),  "--plugins",    dir / "plugins",
                                       "up",         "--quiet", "--batch-size", "10",
                                       "--pause-ms", "5"};
  int failed_runs = 0, drops = 0;
  while (processedSoFar(pg) < 5000 && failed_runs < 10) {
    pid_t pid = test::startGraft(up, dir / "out", dir / "err");
    for (; drops < 5; ++drops) {
      const int64_t before = processedSoFar(pg);
      for (int i = 0; i < 2500 && processedSoFar(pg) <= before + 100; ++i) usleep(2000);
      siginfo_t exited{};  // WNOWAIT: waitGraft still reaps it
      waitid(P_PID, static_cast<id_t>(pid), &exited, WEXITED | WNOHANG | WNOWAIT);
      if (processedSoFar(pg) >= 5000 || exited.si_pid != 0) break;
      pg.sql(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
          "current_database() AND pid <> pg_backend_pid()");
    }
    auto dropped = test::waitGraft(pid, dir / "out", dir / "err");
    if (dropped.exit_code != 0) {
      ++failed_runs;
      BOOST_TEST(dropped.exit_code == 5, dropped.err);
      BOOST_TEST(
          dropped.err.find("the connection to the server was lost or refused") != std::string::npos,
          dropped.err);
    }
  }
  BOOST_TEST(drops == 5);
  BOOST_TEST_MESSAGE("runs that the dropped connection failed: " << failed_runs);
  o = test::runGraft(up);
  BOOST_TEST_REQUIRE(o.exit_code == 0, o.err);
  BOOST_TEST(pg.sql("SELECT count(*) FROM items WHERE body->>'n' = '1'") ==
             std::vector<std::string>{"5000"});
}

// A customRange migration through a declared index, as schema_e2e's on
// SQLite: 10,000 items, 1% in the range, visited once each in batches of 7,
// and the dry run shows the server walking the schema's index.
BOOST_AUTO_TEST_CASE(custom_range_visits_only_the_range_through_the_index) {
  ScratchDir dir;
  PgDatabase pg;
  test::writeFile(dir / "schema.json", R"({"graft_schema": 1, "tables": {"items": {
    "document": {"k": "int64", "status": "string", "rank": {"optional": "int64"},
                 "visits": {"optional": "int64"}},
    "indexes": {"by_status_and_rank": ["status", "rank"]}}}})");
  auto o = test::runGraft({"--db", pg.url(), "schema", "push", dir / "schema.json"});
  BOOST_REQUIRE_MESSAGE(o.exit_code == 0, o.err);
  // In the range: every 100th (ranks 3 to 7, repeating); drafts below it or
  // without a rank, and the rest published or archived.
  pg.sql(
      "INSERT INTO items (body) SELECT CASE WHEN i % 100 = 0 THEN jsonb_build_object('k', i, "
      "'status', 'draft', 'rank', 3 + (i / 100) % 5) WHEN i % 200 = 1 THEN jsonb_build_object("
      "'k', i, 'status', 'draft', 'rank', 2) WHEN i % 100 = 1 THEN jsonb_build_object('k', i, "
      "'status', 'draft') ELSE jsonb_build_object('k', i, 'status', CASE WHEN i % 2 = 1 THEN "
      "'published' ELSE 'archived' END, 'rank', i % 10) END FROM generate_series(1, 10000) AS i");
  pg.sql("ANALYZE items");
  test::makePluginDir(dir, {test::testPlugin("range_visit")}, {"test_range_visit"});
  const std::vector<std::string> base = {"--db", pg.url(), "--plugins", dir / "plugins"};
  auto args = [&](std::vector<std::string> rest) {
    std::vector<std::string> all = base;
    all.insert(all.end(), rest.begin(), rest.end());
    return all;
  };
  o = test::runGraft(args({"up", "--dry-run"}));
  BOOST_TEST(o.exit_code == 0, o.err);
  BOOST_TEST(
      o.out.find("test_range_visit: would change 100 of 100 documents\n") != std::string::npos,
      o.out);
  BOOST_TEST(o.out.find("using graft_ix_items_by_status_and_rank on items") != std::string::npos,
             o.out);
  o = test::runGraft(args({"up", "-q"}));
  BOOST_TEST_REQUIRE(o.exit_code == 0, o.err);
  BOOST_TEST(pg.sql("SELECT processed FROM migration_state") == std::vector<std::string>{"100"});
  BOOST_TEST(pg.sql("SELECT count(*) FROM items WHERE body->'visits' = '1'") ==
             std::vector<std::string>{"100"});
  BOOST_TEST(pg.sql("SELECT count(*) FROM items WHERE body ? 'visits' AND NOT ("
                    "body->>'status' = 'draft' AND (body->>'rank')::int >= 3 AND "
                    "body->'visits' = '1')") == std::vector<std::string>{"0"});
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
