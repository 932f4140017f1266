// Pattern: rename a field. Apps read both names while it runs
// (post.body ?? post.text), then the old name goes.
#include <graft/migration.hpp>

namespace json = boost::json;

static graft::Result rename(const json::object& doc, const char* from, const char* to) {
  const json::value* value = doc.if_contains(from);
  if (!value) return graft::skip;
  return graft::Patch().set(to, *value).unset(from);
}

static const auto migration = graft::defineMigration({
    .id = "20260101_000004_posts_rename_text_to_body",
    .description = "rename posts.text to posts.body",
    .up = {.table = "posts",
           .migrateOne = [](graft::Ctx&, const json::object& post) -> graft::Result {
             return rename(post, "text", "body");
           }},
    .down = graft::Step{.table = "posts",
                        .migrateOne = [](graft::Ctx&, const json::object& post) -> graft::Result {
                          return rename(post, "body", "text");
                        }},
});
GRAFT_EXPORT_MIGRATION(migration)
