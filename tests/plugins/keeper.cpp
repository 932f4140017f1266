// Test plugin: keeps a copy of every items document it is handed, in a
// static, against the SDK's advice, and reads the copies back in later
// calls: each document gets "first_k", the k of the first document it kept,
// and "kept_k_sum", the sum of the k of all it kept so far. The SDK builds
// documents in memory it reuses from call to call; these copies must stay
// valid anyway.
#include <graft/migration.hpp>

#include <vector>

namespace json = boost::json;

static std::vector<json::object> kept;

static const auto migration = graft::defineMigration({
    .id = "test_keeper",
    .description = "keeps copies of the documents it sees",
    .up = {.table = "items",
           .migrateOne = [](graft::Ctx&, const json::object& doc) -> graft::Result {
             kept.push_back(doc);  // a copy, in the memory of this call's document
             std::int64_t sum = 0;
             for (const json::object& earlier : kept) sum += earlier.at("k").as_int64();
             return graft::Patch()
                 .set("first_k", kept.front().at("k"))
                 .set("kept_k_sum", sum);
           }},
});
GRAFT_EXPORT_MIGRATION(migration)
