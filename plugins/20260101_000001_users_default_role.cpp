// Pattern: set a default for a new field (the guides' "add a required field":
// deploy the field as optional, backfill it, then make it required).
#include <graft/migration.hpp>

namespace json = boost::json;

static const auto migration = graft::defineMigration({
    .id = "20260101_000001_users_default_role",
    .description = "give every user without a role the role \"member\"",
    .up = {.table = "users",
           .migrateOne = [](graft::Ctx&, const json::object& user) -> graft::Result {
             if (user.contains("role")) return graft::skip;
             return graft::Patch().set("role", "member");
           }},
});
GRAFT_EXPORT_MIGRATION(migration)
