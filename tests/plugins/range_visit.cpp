// Test plugin: a customRange migration. It walks only the items whose
// status is "draft" and whose rank is at least 3, through the declared index
// by_status_and_rank, and adds 1 to each visited item's "visits": a document
// outside the range that is visited, or one visited twice, shows.
#include <graft/migration.hpp>

namespace json = boost::json;

static const auto migration = graft::defineMigration({
    .id = "test_range_visit",
    .description = "visits += 1 on draft items with rank >= 3",
    .up = {.table = "items",
           .migrateOne = [](graft::Ctx&, const json::object& doc) -> graft::Result {
             const json::value* visits = doc.if_contains("visits");
             return graft::Patch().set("visits",
                                       (visits ? visits->to_number<std::int64_t>() : 0) + 1);
           },
           .batchSize = 7,
           .customRange = graft::IndexRange("by_status_and_rank").eq("status", "draft").gte("rank", 3)},
});
GRAFT_EXPORT_MIGRATION(migration)
