// Pattern: split a nested object into its own table. Each user's embedded
// profile becomes a document in "profiles" and the user keeps its _id as
// profileId. The insert and the patch commit in the same batch transaction,
// so a user is never left with neither, or with both.
#include <graft/migration.hpp>

namespace json = boost::json;

static const auto migration = graft::defineMigration({
    .id = "20260101_000005_users_split_profile",
    .description = "move users.profile into the profiles table",
    .up = {.table = "users",
           .migrateOne = [](graft::Ctx& ctx, const json::object& user) -> graft::Result {
             const json::value* profile = user.if_contains("profile");
             if (!profile) return graft::skip;
             json::object moved = profile->as_object();
             moved["userId"] = graft::idOf(user);
             const std::int64_t profileId = ctx.db.insert("profiles", moved);
             return graft::Patch().set("profileId", profileId).unset("profile");
           }},
    .down = graft::Step{
        .table = "users",
        .migrateOne = [](graft::Ctx& ctx, const json::object& user) -> graft::Result {
          const json::value* profileId = user.if_contains("profileId");
          if (!profileId) return graft::skip;
          auto profile = ctx.db.get("profiles", profileId->as_int64());
          if (!profile) throw graft::Error("profile " + json::serialize(*profileId) + " is gone");
          ctx.db.remove("profiles", profileId->as_int64());
          profile->erase("_id");
          profile->erase("_creationTime");
          profile->erase("userId");
          return graft::Patch().set("profile", std::move(*profile)).unset("profileId");
        }},
});
GRAFT_EXPORT_MIGRATION(migration)
