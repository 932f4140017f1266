// Test plugin: sets every item's "n" to the string "oops", which a schema
// declaring n as int64 refuses. Built twice: test_write_normal (the default
// write mode: the write fails the batch) and, with GRAFT_TEST_BYPASS,
// test_write_bypass (writeMode safe_bypass: the write skips the checks).
#include <graft/migration.hpp>

namespace json = boost::json;

#ifdef GRAFT_TEST_BYPASS
#define TEST_ID "test_write_bypass"
#define TEST_MODE graft::WriteMode::kSafeBypass
#else
#define TEST_ID "test_write_normal"
#define TEST_MODE graft::WriteMode::kNormal
#endif

static const auto migration = graft::defineMigration({
    .id = TEST_ID,
    .description = "n = \"oops\"",
    .up = {.table = "items",
           .migrateOne = [](graft::Ctx&, const json::object&) -> graft::Result {
             return graft::Patch().set("n", "oops");
           },
           .writeMode = TEST_MODE},
});
GRAFT_EXPORT_MIGRATION(migration)
