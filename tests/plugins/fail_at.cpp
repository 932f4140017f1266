// Test plugin: marks items done, but throws on the document whose "k" equals
// the environment variable GRAFT_TEST_FAIL_AT (when set) -- a migration with
// a bug that is fixed between two runs.
#include <graft/migration.hpp>

#include <cstdlib>
#include <string>

namespace json = boost::json;

static const auto migration = graft::defineMigration({
    .id = "test_fail_at",
    .description = "done = true, failing at k = $GRAFT_TEST_FAIL_AT",
    .up = {.table = "items",
           .migrateOne = [](graft::Ctx&, const json::object& doc) -> graft::Result {
             const char* fail_at = std::getenv("GRAFT_TEST_FAIL_AT");
             if (fail_at && doc.at("k").as_int64() == std::atoll(fail_at))
               throw std::runtime_error("cannot migrate k=" + std::string(fail_at));
             return graft::Patch().set("done", true);
           },
           .batchSize = 10},
});
GRAFT_EXPORT_MIGRATION(migration)
