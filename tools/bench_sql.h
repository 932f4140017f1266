// bench_sql.h -- graft_bench's work on the SQLite file itself: the seeded
// store (made through graft's own SqliteStore, so the format is exactly
// graft's), the check that a contender did its job, and the contenders that
// are plain SQLite code rather than graft.
//
// The migration every contender performs: each user without a role gets
// "role": "member", i.e.
//   UPDATE users SET body = json_set(body, '$.role', 'member')
//   WHERE json_extract(body, '$.role') IS NULL
// which is what plugins/20260101_000001_users_default_role.cpp does (it
// skips a user that has the field; the seeded data never has a null role,
// so "has no role" and "role IS NULL" are the same users).
#ifndef GRAFT_TOOLS_BENCH_SQL_H_
#define GRAFT_TOOLS_BENCH_SQL_H_

#include <cstdint>
#include <functional>
#include <string>

namespace bench {

// The single statement of contender (b), and the per-batch form of (c).
extern const char* const kMigrationSql;

struct SeedInfo {
  int64_t docs = 0;
  int64_t without_role = 0;  // the users the migration must change
};

// Creates `db` with `docs` users of about 140 bytes (a fixed-seed generator:
// every run sees the same data; one user in ten already has a role) in one
// transaction, then checkpoints the WAL into the file so that copying the
// file copies the whole store. On error prints it and returns false.
bool seedUsers(const std::string& db, int64_t docs, SeedInfo* info);

// Removes the store file `db` with its -wal and -shm.
void removeStore(const std::string& db);
// Replaces `to` with a copy of the store file `from` (checkpointed: no
// -wal), then syncs, so that the copy's writeback does not slow the timed
// fsyncs of what runs next. On error prints it and returns false.
bool copyStore(const std::string& from, const std::string& to);

// Creates `db` with `docs` documents {"k": i} in table `items`.
bool seedItems(const std::string& db, int64_t docs);
// Creates `db` with `docs` documents in `table`, the i-th (from 1) with the
// body `make_body(i)`.
bool seedTable(const std::string& db, const std::string& table, int64_t docs,
               const std::function<std::string(int64_t)>& make_body);

struct Verdict {
  int64_t without_role = -1;  // users with no role left (must be 0)
  int64_t members = -1;       // users with role "member" (must be SeedInfo::without_role)
  bool ok(const SeedInfo& seed) const { return without_role == 0 && members == seed.without_role; }
};
Verdict verify(const std::string& db);

// Rows of migration_state whose status is completed; -1 on error.
int64_t completedMigrations(const std::string& db);

// The contenders that run in a child process of their own; each returns an
// exit code (0: done). Every connection sets busy_timeout 5000 and
// synchronous=FULL (graft commits its batches with NORMAL:
// doc/how-a-run-works.md, "Durability of batches").
int runSingleUpdate(const std::string& db);                   // (b) one statement
int runBatchedUpdate(const std::string& db, int batch_size);  // (c) per _id range
int runHandLoop(const std::string& db, int batch_size);       // (d) C++ and Boost.JSON

}  // namespace bench

#endif  // GRAFT_TOOLS_BENCH_SQL_H_
