// Test plugin: n += 1 on every items document, in a step that says its
// table may not exist yet in some stores (tableMayBeAbsent).
#include <graft/migration.hpp>

namespace json = boost::json;

static const auto migration = graft::defineMigration({
    .id = "test_optional_table",
    .description = "n += 1 on every item, if there is an items table",
    .up = {.table = "items",
           .migrateOne = [](graft::Ctx&, const json::object& doc) -> graft::Result {
             return graft::Patch().set("n", doc.at("n").to_number<std::int64_t>() + 1);
           },
           .tableMayBeAbsent = true},
});
GRAFT_EXPORT_MIGRATION(migration)
