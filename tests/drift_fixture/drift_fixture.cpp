// Test migration for drift_e2e_test: sets "v" on every item. The test edits
// the value to change the migration's logic. It throws on the item whose "k"
// equals $GRAFT_TEST_FAIL_AT, to leave the migration partly run.
#include <graft/migration.hpp>

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace json = boost::json;

static const auto migration = graft::defineMigration({
    .id = "drift_fixture",
    .description = "v = 1 on every item",
    .up = {.table = "items",
           .migrateOne = [](graft::Ctx&, const json::object& doc) -> graft::Result {
             const char* fail_at = std::getenv("GRAFT_TEST_FAIL_AT");
             if (fail_at && doc.at("k").as_int64() == std::atoll(fail_at))
               throw std::runtime_error("cannot migrate k=" + std::string(fail_at));
             return graft::Patch().set("v", 1);
           },
           .batchSize = 10},
});
GRAFT_EXPORT_MIGRATION(migration)
