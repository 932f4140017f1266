// Test plugin: gives every person without a role the role "member", except
// the ones marked {"skipMe": true}, and declares what must hold afterwards:
// every person has a role, member or admin. The marked ones make the
// verification fail.
#include <graft/migration.hpp>

namespace json = boost::json;

static const auto migration = graft::defineMigration({
    .id = "test_verify_role",
    .description = "role = member where missing, verified",
    .up = {.table = "people",
           .migrateOne = [](graft::Ctx&, const json::object& doc) -> graft::Result {
             if (doc.contains("role") || doc.contains("skipMe")) return graft::skip;
             return graft::Patch().set("role", "member");
           },
           .verify = graft::Verify{
               .validator = R"({"role": {"union": [{"literal": "member"}, {"literal": "admin"}]}})",
               .check = [](const json::object& doc) { return !doc.contains("banned"); }}},
});
GRAFT_EXPORT_MIGRATION(migration)
