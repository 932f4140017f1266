// Pattern: remove a deprecated field once no code reads it any more.
// Irreversible on purpose: the values are gone, so there is no down step.
#include <graft/migration.hpp>

namespace json = boost::json;

static const auto migration = graft::defineMigration({
    .id = "20260101_000002_users_remove_legacy_nickname",
    .description = "drop the unused legacyNickname field from users",
    .up = {.table = "users",
           .migrateOne = [](graft::Ctx&, const json::object& user) -> graft::Result {
             if (!user.contains("legacyNickname")) return graft::skip;
             return graft::Patch().unset("legacyNickname");
           }},
});
GRAFT_EXPORT_MIGRATION(migration)
