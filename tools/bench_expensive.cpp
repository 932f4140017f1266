// The benchmark's expensive-migrateOne contenders: the role migration of
// plugins/20260101_000001_users_default_role.cpp with a migrateOne that
// first does a fixed amount of CPU work for every user (as one that hashes,
// parses or recomputes a field would), so that computing a batch, not
// writing it, bounds the run. Built twice: on one thread and, with
// GRAFT_BENCH_PARALLEL, declared parallelize, so that the benchmark compares
// the two on a quiet machine and on one whose cores are all taken.
#include <graft/migration.hpp>

#include <cstdint>
#include <string_view>

namespace json = boost::json;

#ifdef GRAFT_BENCH_PARALLEL
#define BENCH_ID "20260101_000001_users_default_role_expensive_parallel"
#define BENCH_PARALLEL true
#else
#define BENCH_ID "20260101_000001_users_default_role_expensive"
#define BENCH_PARALLEL false
#endif

namespace {

// A chain of dependent multiplications seeded by the user's email: the same
// work for every user, which the compiler can neither fold nor vectorize.
constexpr int kRounds = 26000;

std::uint64_t burn(std::string_view seed) {
  std::uint64_t h = 1469598103934665603ULL;
  for (char c : seed) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  for (int i = 0; i < kRounds; ++i)
    h = (h ^ (h >> 29)) * 6364136223846793005ULL + 1442695040888963407ULL;
  return h;
}

}  // namespace

static const auto migration = graft::defineMigration({
    .id = BENCH_ID,
    .description = "give every user without a role the role \"member\", after some CPU work",
    .up = {.table = "users",
           .migrateOne = [](graft::Ctx&, const json::object& user) -> graft::Result {
             const json::value* email = user.if_contains("email");
             std::uint64_t h = burn(email && email->is_string() ? email->get_string() : "");
             // The work is kept: its result is an input of this empty asm.
             __asm__ volatile("" : : "r"(h));
             if (user.contains("role")) return graft::skip;
             return graft::Patch().set("role", "member");
           },
           .parallelize = BENCH_PARALLEL},
});
GRAFT_EXPORT_MIGRATION(migration)
