// Test plugin: does what each probes document's "action" says, so tests can
// drive ctx.db and the patch rules from data. Actions:
//   insert_other   insert {"from": _id} into "others" and patch seen = true
//   write_reserved insert into migration_state (must fail)
//   patch_id       return a patch that sets _id (must fail)
//   query          set found = number of probes with action "query"
//   replace        replace the document with {"replaced": true}
//   delete_self    delete the document through ctx.db, return nothing
//   ctx            set migration, run, direction, dryRun from ctx
//   none           return nothing
#include <graft/migration.hpp>

namespace json = boost::json;

static graft::Result probe(graft::Ctx& ctx, const json::object& doc) {
  const std::int64_t id = graft::idOf(doc);
  const json::string& action = doc.at("action").as_string();
  if (action == "insert_other") {
    json::object other;
    other["from"] = id;
    ctx.db.insert("others", other);
    return graft::Patch().set("seen", true);
  }
  if (action == "write_reserved") {
    json::object row;
    row["id"] = "x";
    ctx.db.insert("migration_state", row);
    return graft::skip;
  }
  if (action == "patch_id") return graft::Patch().set("_id", 7);
  if (action == "query") {
    auto same = ctx.db.query("probes").eq("action", "query").collect();
    return graft::Patch().set("found", static_cast<std::int64_t>(same.size()));
  }
  if (action == "replace") {
    json::object replacement;
    replacement["replaced"] = true;
    replacement["action"] = "none";
    ctx.db.replace("probes", id, replacement);
    return graft::skip;
  }
  if (action == "delete_self") {
    ctx.db.remove("probes", id);
    return graft::skip;
  }
  if (action == "ctx") {
    return graft::Patch()
        .set("migration", json::string(ctx.migrationId))
        .set("run", json::string(ctx.runId))
        .set("direction", ctx.direction == graft::Direction::kUp ? "up" : "down")
        .set("dryRun", ctx.dryRun);
  }
  return graft::skip;
}

static const auto migration = graft::defineMigration({
    .id = "test_probe",
    .description = "drives ctx.db from data",
    .up = {.table = "probes", .migrateOne = probe},
});
GRAFT_EXPORT_MIGRATION(migration)
