// Test plugin: a counter whose constructor, which runs the moment the
// library is loaded and before any graft code is called, appends a line to
// the file $GRAFT_TEST_MARKER. It proves which commands load plugins:
// status, verify and sum must leave no marker, up must leave one.
#include <graft/migration.hpp>

#include <cstdio>
#include <cstdlib>

namespace json = boost::json;

__attribute__((constructor)) static void markLoaded() {
  const char* path = std::getenv("GRAFT_TEST_MARKER");
  if (!path) return;
  if (FILE* file = std::fopen(path, "a")) {
    std::fputs("constructor ran\n", file);
    std::fclose(file);
  }
}

static const auto migration = graft::defineMigration({
    .id = "test_marker",
    .description = "n += 1, and a constructor that leaves a marker file",
    .up = {.table = "items",
           .migrateOne = [](graft::Ctx&, const json::object& doc) -> graft::Result {
             const json::value* n = doc.if_contains("n");
             return graft::Patch().set("n", (n ? n->to_number<std::int64_t>() : 0) + 1);
           }},
});
GRAFT_EXPORT_MIGRATION(migration)
