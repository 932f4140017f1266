// Test plugin: a step that declares parallelize. Adds 1 to every item's "n"
// and records in "thread" which of the threads that ran migrateOne this one
// was (1, 2, ... in the order they first called it). Takes 50 us a
// document, so that every thread gets to work. Throws on the documents
// whose "k" is in the comma-separated list GRAFT_TEST_PARALLEL_FAIL.
#include <graft/migration.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <sstream>
#include <string>
#include <thread>

namespace json = boost::json;

namespace {

bool failsAt(std::int64_t k) {
  const char* list = std::getenv("GRAFT_TEST_PARALLEL_FAIL");
  if (!list) return false;
  std::istringstream in(list);
  std::string item;
  while (std::getline(in, item, ','))
    if (std::atoll(item.c_str()) == k) return true;
  return false;
}

std::int64_t threadOrdinal() {
  static std::atomic<std::int64_t> threads{0};
  thread_local const std::int64_t ordinal = ++threads;
  return ordinal;
}

}  // namespace

static const auto migration = graft::defineMigration({
    .id = "test_parallel",
    .description = "n += 1 on several threads",
    .up = {.table = "items",
           .migrateOne = [](graft::Ctx&, const json::object& doc) -> graft::Result {
             std::this_thread::sleep_for(std::chrono::microseconds(50));
             const std::int64_t k = doc.at("k").as_int64();
             if (failsAt(k)) throw std::runtime_error("cannot migrate k=" + std::to_string(k));
             return graft::Patch()
                 .set("n", doc.at("n").to_number<std::int64_t>() + 1)
                 .set("thread", threadOrdinal());
           },
           .batchSize = 100,
           .parallelize = true},
});
GRAFT_EXPORT_MIGRATION(migration)
