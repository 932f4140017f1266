// Test plugin: adds 1 to every items document's "n". Run exactly once over a
// table whose documents start at n = 0, every document ends at n = 1: a
// skipped batch leaves a 0, a repeated one leaves a 2.
//
// graft.h promises that migrateOne never runs on two threads at once (the
// runner migrates the next batch on a second thread): an entry while another
// is in progress fails the run.
#include <graft/migration.hpp>

#include <atomic>

namespace json = boost::json;

namespace {

std::atomic<int> inside{0};

struct OneAtATime {
  OneAtATime() {
    if (inside.fetch_add(1) != 0) {
      inside.fetch_sub(1);
      throw graft::Error("migrateOne entered on two threads at once");
    }
  }
  ~OneAtATime() { inside.fetch_sub(1); }
  OneAtATime(const OneAtATime&) = delete;
  OneAtATime& operator=(const OneAtATime&) = delete;
};

}  // namespace

static const auto migration = graft::defineMigration({
    .id = "test_counter",
    .description = "n += 1 on every item",
    .up = {.table = "items",
           .migrateOne = [](graft::Ctx&, const json::object& doc) -> graft::Result {
             OneAtATime guard;
             const json::value* n = doc.if_contains("n");
             return graft::Patch().set("n", (n ? n->to_number<std::int64_t>() : 0) + 1);
           }},
    .down = graft::Step{.table = "items",
                        .migrateOne = [](graft::Ctx&, const json::object& doc) -> graft::Result {
                          OneAtATime guard;
                          return graft::Patch().set("n", doc.at("n").to_number<std::int64_t>() - 1);
                        }},
});
GRAFT_EXPORT_MIGRATION(migration)
