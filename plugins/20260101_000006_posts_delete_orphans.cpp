// Pattern: delete orphaned documents found through another table -- posts
// whose author no longer exists. migrateOne deletes through ctx.db and
// returns no patch.
#include <graft/migration.hpp>

namespace json = boost::json;

static const auto migration = graft::defineMigration({
    .id = "20260101_000006_posts_delete_orphans",
    .description = "delete posts whose author was deleted",
    .up = {.table = "posts",
           .migrateOne = [](graft::Ctx& ctx, const json::object& post) -> graft::Result {
             const json::value* author = post.if_contains("authorId");
             if (author && author->is_int64() && !ctx.db.get("users", author->as_int64()))
               ctx.db.remove("posts", graft::idOf(post));
             return graft::skip;
           }},
});
GRAFT_EXPORT_MIGRATION(migration)
