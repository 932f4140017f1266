// Test plugin: looks each item's owner up by name through the declared index
// owners.by_name (ctx.db.query(...).withIndex) and stores its _id.
#include <graft/migration.hpp>

namespace json = boost::json;

static const auto migration = graft::defineMigration({
    .id = "test_with_index",
    .description = "ownerId from owner name, through an index",
    .up = {.table = "items",
           .migrateOne = [](graft::Ctx& ctx, const json::object& doc) -> graft::Result {
             auto owner = ctx.db.query("owners")
                              .withIndex(graft::IndexRange("by_name").eq("name", doc.at("owner")))
                              .first();
             if (!owner) return graft::Patch().set("ownerId", nullptr);
             return graft::Patch().set("ownerId", graft::idOf(*owner));
           }},
});
GRAFT_EXPORT_MIGRATION(migration)
