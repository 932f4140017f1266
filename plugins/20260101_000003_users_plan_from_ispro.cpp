// Pattern: change a field's type -- boolean isPro becomes the enum plan
// ("free" | "pro"). Reversible: down turns plan back into isPro.
#include <graft/migration.hpp>

namespace json = boost::json;

static const auto migration = graft::defineMigration({
    .id = "20260101_000003_users_plan_from_ispro",
    .description = "replace the boolean isPro with plan: \"free\" or \"pro\"",
    .up = {.table = "users",
           .migrateOne = [](graft::Ctx&, const json::object& user) -> graft::Result {
             const json::value* isPro = user.if_contains("isPro");
             if (!isPro) return graft::skip;  // already migrated, or written by new code
             if (!isPro->is_bool())
               throw graft::Error("isPro is " + json::serialize(*isPro) + ", expected a boolean");
             return graft::Patch().set("plan", isPro->get_bool() ? "pro" : "free").unset("isPro");
           }},
    .down = graft::Step{.table = "users",
                        .migrateOne = [](graft::Ctx&, const json::object& user) -> graft::Result {
                          const json::value* plan = user.if_contains("plan");
                          if (!plan) return graft::skip;
                          return graft::Patch().set("isPro", *plan == "pro").unset("plan");
                        }},
});
GRAFT_EXPORT_MIGRATION(migration)
