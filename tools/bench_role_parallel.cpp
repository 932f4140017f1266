// The benchmark's second graft contender: the example plugin
// plugins/20260101_000001_users_default_role.cpp with parallelize on, so
// that a batch computes on every core. The same migrateOne; a file and an id
// of its own, so that the example stays as a team would first write it.
#include <graft/migration.hpp>

namespace json = boost::json;

static const auto migration = graft::defineMigration({
    .id = "20260101_000001_users_default_role_parallel",
    .description = "give every user without a role the role \"member\"",
    .up = {.table = "users",
           .migrateOne = [](graft::Ctx&, const json::object& user) -> graft::Result {
             if (user.contains("role")) return graft::skip;
             return graft::Patch().set("role", "member");
           },
           .parallelize = true},
});
GRAFT_EXPORT_MIGRATION(migration)
