// Test plugin: plays the application during a migration. While migrateOne
// runs on k = 5, it writes item k = 6 through its own SQLite connection (the
// file named by GRAFT_TEST_DB), as an application would between the moment
// graft reads a batch and the moment it applies it. Every item gets
// n = n + 1 and saw = the "app" field it was migrated with.
#include <graft/migration.hpp>

#include <sqlite3.h>

#include <cstdlib>

namespace json = boost::json;

static void appWrite() {
  const char* path = std::getenv("GRAFT_TEST_DB");
  if (!path) return;
  sqlite3* db = nullptr;
  sqlite3_open(path, &db);
  // No busy timeout: if graft held the write lock now, this would fail.
  int rc = sqlite3_exec(db,
                        "UPDATE items SET body = json_set(body, '$.app', 1) "
                        "WHERE json_extract(body, '$.k') = 6",
                        nullptr, nullptr, nullptr);
  sqlite3_close(db);
  if (rc != SQLITE_OK) throw graft::Error("the application could not write: database locked");
}

static const auto migration = graft::defineMigration({
    .id = "test_racer",
    .description = "n += 1, while an application writes",
    .up = {.table = "items",
           .migrateOne = [](graft::Ctx&, const json::object& doc) -> graft::Result {
             if (doc.at("k").as_int64() == 5) appWrite();
             const json::value* app = doc.if_contains("app");
             return graft::Patch()
                 .set("n", doc.at("n").as_int64() + 1)
                 .set("saw", app ? *app : json::value(nullptr));
           }},
});
GRAFT_EXPORT_MIGRATION(migration)
