// graft_bench_small's range contenders (tools/bench_small.cpp): the drafts
// of a table get "flag": 1. Built twice: with GRAFT_BENCH_RANGE the step
// walks only the drafts, through the declared index by_status; without it,
// the step walks the whole table and skips every other document. Both write
// the same documents, so what differs is what the walk costs.
#include <graft/migration.hpp>

namespace json = boost::json;

#ifdef GRAFT_BENCH_RANGE
#define BENCH_ID "bench_range_index"
#else
#define BENCH_ID "bench_range_walk"
#endif

static const auto migration = graft::defineMigration({
    .id = BENCH_ID,
    .description = "flag every draft",
    .up =
        {
            .table = "items",
            .migrateOne = [](graft::Ctx&, const json::object& item) -> graft::Result {
              const json::value* status = item.if_contains("status");
              if (!status || *status != "draft") return graft::skip;
              return graft::Patch().set("flag", 1);
            },
#ifdef GRAFT_BENCH_RANGE
            .customRange = graft::IndexRange("by_status").eq("status", "draft"),
#endif
        },
});
GRAFT_EXPORT_MIGRATION(migration)
