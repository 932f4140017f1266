// Test plugin: adds 1 to every items document's "n". Run exactly once over a
// table whose documents start at n = 0, every document ends at n = 1: a
// skipped batch leaves a 0, a repeated one leaves a 2.
#include <graft/migration.hpp>

namespace json = boost::json;

static const auto migration = graft::defineMigration({
    .id = "test_counter",
    .description = "n += 1 on every item",
    .up = {.table = "items",
           .migrateOne = [](graft::Ctx&, const json::object& doc) -> graft::Result {
             // Built on a variable; most other test plugins build theirs on a
             // temporary: the SDK's Patch::set works both ways.
             const json::value* n = doc.if_contains("n");
             graft::Patch patch;
             patch.set("n", (n ? n->to_number<std::int64_t>() : 0) + 1);
             return patch;
           }},
    .down = graft::Step{.table = "items",
                        .migrateOne = [](graft::Ctx&, const json::object& doc) -> graft::Result {
                          return graft::Patch().set("n", doc.at("n").to_number<std::int64_t>() - 1);
                        }},
});
GRAFT_EXPORT_MIGRATION(migration)
