// Test plugin: n += 1 on every item, except that on the item whose k equals
// $GRAFT_TEST_CRASH_AT it does what $GRAFT_TEST_CRASH says: "segv" (writes
// through a null pointer), "abort", "exit" (exit(3)) or "hang" (never
// returns). $GRAFT_TEST_LOAD does the same in a constructor, when the
// library is loaded: "exit0" (exit(0)), "abort" or "hang". Without those
// variables it is an ordinary migration: the plugin "fixed" between two
// runs.
#include <graft/migration.hpp>

#include <csignal>
#include <cstdlib>
#include <string>
#include <thread>

namespace json = boost::json;

static void misbehave(const std::string& how) {
  if (how == "segv") std::raise(SIGSEGV);
  if (how == "abort") std::abort();
  if (how == "exit") std::exit(3);
  if (how == "hang") {
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

__attribute__((constructor)) static void misbehaveWhenLoaded() {
  const char* how = std::getenv("GRAFT_TEST_LOAD");
  if (!how) return;
  if (std::string(how) == "exit0") std::exit(0);
  misbehave(how);
}

static const auto migration = graft::defineMigration({
    .id = "test_crasher",
    .description = "n += 1, crashing on demand",
    .up = {.table = "items",
           .migrateOne = [](graft::Ctx&, const json::object& doc) -> graft::Result {
             const char* at = std::getenv("GRAFT_TEST_CRASH_AT");
             const char* how = std::getenv("GRAFT_TEST_CRASH");
             if (at && how && doc.at("k").as_int64() == std::atoll(at)) misbehave(how);
             return graft::Patch().set("n", doc.at("n").as_int64() + 1);
           },
           .batchSize = 10},
});
GRAFT_EXPORT_MIGRATION(migration)
