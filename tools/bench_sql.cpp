#include "bench_sql.h"

#include <errno.h>
#include <sqlite3.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <vector>

#include "store/sqlite_store.h"

namespace bench {

void removeStore(const std::string& db) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((db + suffix).c_str());
}

bool copyStore(const std::string& from, const std::string& to) {
  removeStore(to);
  std::error_code ec;
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing, ec);
  if (ec)
    std::fprintf(stderr, "%s: copy %s to %s: %s\n", program_invocation_short_name, from.c_str(),
                 to.c_str(), ec.message().c_str());
  sync();
  return !ec;
}

const char* const kMigrationSql =
    "UPDATE users SET body = json_set(body, '$.role', 'member') "
    "WHERE json_extract(body, '$.role') IS NULL";

namespace {

// A fixed-seed generator: the same data on every machine.
struct Lcg {
  uint64_t state;
  uint64_t below(uint64_t n) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (state >> 33) % n;
  }
};

const char* const kPlans[] = {"free", "pro", "team"};
const char* const kCountries[] = {"DE", "FR", "US", "JP", "BR", "IN", "NG", "SE"};

// About 140 bytes: {"name":"User 123456","email":"user123456@example.com",
// "plan":"pro","teamId":4821,"country":"DE","score":734,"newsletter":false,
// "signupYear":2021}, and in one user of ten "role":"admin".
std::string userBody(int64_t i, Lcg& rng, bool* has_role) {
  const std::string n = std::to_string(i);
  std::string body = "{\"name\":\"User " + n + "\",\"email\":\"user" + n + "@example.com\"";
  body += ",\"plan\":\"";
  body += kPlans[rng.below(3)];
  body += "\",\"teamId\":" + std::to_string(1 + rng.below(5000));
  body += ",\"country\":\"";
  body += kCountries[rng.below(8)];
  body += "\",\"score\":" + std::to_string(rng.below(1000));
  body += rng.below(2) ? ",\"newsletter\":true" : ",\"newsletter\":false";
  body += ",\"signupYear\":" + std::to_string(2015 + rng.below(11));
  *has_role = i % 10 == 0;
  if (*has_role) body += ",\"role\":\"admin\"";
  body += "}";
  return body;
}

bool fail(const graft::Status& s) {
  std::fprintf(stderr, "graft_bench: %s\n", s.message().c_str());
  return false;
}

// Seeds `table` through graft's store, one transaction, then moves the WAL
// into the file.
template <class MakeBody>
bool seed(const std::string& db, const std::string& table, int64_t docs, MakeBody make_body) {
  std::remove(db.c_str());
  std::remove((db + "-wal").c_str());
  std::remove((db + "-shm").c_str());
  graft::StoreOptions options;
  options.create = true;
  auto store = graft::SqliteStore::open(db, options);
  if (!store.ok()) return fail(store.status());
  graft::Status s = (*store)->createTable(table);
  if (s.ok()) s = (*store)->begin();
  for (int64_t i = 1; s.ok() && i <= docs; ++i) {
    auto id = (*store)->insert(table, make_body(i));
    if (!id.ok()) s = id.status();
  }
  if (s.ok()) s = (*store)->commit();
  if (!s.ok()) return fail(s);
  const int rc = sqlite3_wal_checkpoint_v2((*store)->handle(), nullptr, SQLITE_CHECKPOINT_TRUNCATE,
                                           nullptr, nullptr);
  if (rc != SQLITE_OK) {
    std::fprintf(stderr, "graft_bench: checkpoint %s: %s\n", db.c_str(), sqlite3_errstr(rc));
    return false;
  }
  return true;
}

struct Closer {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Connection = std::unique_ptr<sqlite3, Closer>;

// A connection set up as graft's is: busy_timeout 5000, synchronous=FULL.
Connection openLikeGraft(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "graft_bench: open %s: %s\n", path.c_str(), sqlite3_errmsg(db));
    sqlite3_close_v2(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_exec(db, "PRAGMA synchronous=FULL", nullptr, nullptr, nullptr);
  return Connection(db);
}

int sqlError(sqlite3* db, const char* what) {
  std::fprintf(stderr, "graft_bench: %s: %s\n", what, sqlite3_errmsg(db));
  return 1;
}

struct Statement {
  sqlite3_stmt* stmt = nullptr;
  Statement(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr); }
  ~Statement() { sqlite3_finalize(stmt); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
};

}  // namespace

bool seedUsers(const std::string& db, int64_t docs, SeedInfo* info) {
  Lcg rng{42};
  *info = SeedInfo{docs, 0};
  return seed(db, "users", docs, [&](int64_t i) {
    bool has_role = false;
    std::string body = userBody(i, rng, &has_role);
    if (!has_role) ++info->without_role;
    return body;
  });
}

bool seedItems(const std::string& db, int64_t docs) {
  return seed(db, "items", docs, [](int64_t i) { return "{\"k\":" + std::to_string(i) + "}"; });
}

bool seedTable(const std::string& db, const std::string& table, int64_t docs,
               const std::function<std::string(int64_t)>& make_body) {
  return seed(db, table, docs, make_body);
}

Verdict verify(const std::string& path) {
  Verdict v;
  Connection db = openLikeGraft(path);
  if (!db) return v;
  Statement count(db.get(),
                  "SELECT sum(json_extract(body, '$.role') IS NULL),"
                  " sum(json_extract(body, '$.role') = 'member') FROM users");
  if (count.stmt && sqlite3_step(count.stmt) == SQLITE_ROW) {
    v.without_role = sqlite3_column_int64(count.stmt, 0);
    v.members = sqlite3_column_int64(count.stmt, 1);
  } else {
    sqlError(db.get(), "verify");
  }
  return v;
}

int64_t completedMigrations(const std::string& path) {
  Connection db = openLikeGraft(path);
  if (!db) return -1;
  Statement count(db.get(), "SELECT count(*) FROM migration_state WHERE status = 'completed'");
  if (!count.stmt || sqlite3_step(count.stmt) != SQLITE_ROW) return sqlError(db.get(), "count"), -1;
  return sqlite3_column_int64(count.stmt, 0);
}

int runSingleUpdate(const std::string& path) {
  Connection db = openLikeGraft(path);
  if (!db) return 1;
  if (sqlite3_exec(db.get(), kMigrationSql, nullptr, nullptr, nullptr) != SQLITE_OK)
    return sqlError(db.get(), "single UPDATE");
  return 0;
}

int runBatchedUpdate(const std::string& path, int batch_size) {
  Connection db = openLikeGraft(path);
  if (!db) return 1;
  // The batch is the next `batch_size` _ids after the cursor, whatever gaps
  // or new documents the application made.
  Statement last(db.get(),
                 "SELECT max(_id) FROM (SELECT _id FROM users WHERE _id > ? ORDER BY _id LIMIT ?)");
  Statement update(db.get(), (std::string(kMigrationSql) + " AND _id > ? AND _id <= ?").c_str());
  if (!last.stmt || !update.stmt) return sqlError(db.get(), "prepare");
  for (int64_t cursor = 0;;) {
    if (sqlite3_exec(db.get(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
      return sqlError(db.get(), "begin");
    sqlite3_bind_int64(last.stmt, 1, cursor);
    sqlite3_bind_int(last.stmt, 2, batch_size);
    if (sqlite3_step(last.stmt) != SQLITE_ROW) return sqlError(db.get(), "next batch");
    const bool done = sqlite3_column_type(last.stmt, 0) == SQLITE_NULL;
    const int64_t upto = sqlite3_column_int64(last.stmt, 0);
    sqlite3_reset(last.stmt);
    if (!done) {
      sqlite3_bind_int64(update.stmt, 1, cursor);
      sqlite3_bind_int64(update.stmt, 2, upto);
      if (sqlite3_step(update.stmt) != SQLITE_DONE) return sqlError(db.get(), "batched UPDATE");
      sqlite3_reset(update.stmt);
    }
    if (sqlite3_exec(db.get(), "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
      return sqlError(db.get(), "commit");
    if (done) return 0;
    cursor = upto;
  }
}

int runHandLoop(const std::string& path, int batch_size) {
  Connection db = openLikeGraft(path);
  if (!db) return 1;
  Statement read(db.get(), "SELECT _id, body FROM users WHERE _id > ? ORDER BY _id LIMIT ?");
  Statement write(db.get(), "UPDATE users SET body = ? WHERE _id = ?");
  if (!read.stmt || !write.stmt) return sqlError(db.get(), "prepare");
  std::string text;
  for (int64_t cursor = 0;;) {
    if (sqlite3_exec(db.get(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
      return sqlError(db.get(), "begin");
    sqlite3_bind_int64(read.stmt, 1, cursor);
    sqlite3_bind_int(read.stmt, 2, batch_size);
    int rows = 0;
    int rc;
    while ((rc = sqlite3_step(read.stmt)) == SQLITE_ROW) {
      ++rows;
      cursor = sqlite3_column_int64(read.stmt, 0);
      const char* body = reinterpret_cast<const char*>(sqlite3_column_text(read.stmt, 1));
      boost::json::value parsed =
          boost::json::parse({body, static_cast<size_t>(sqlite3_column_bytes(read.stmt, 1))});
      boost::json::object& user = parsed.as_object();
      const boost::json::value* role = user.if_contains("role");
      if (role && !role->is_null()) continue;
      user["role"] = "member";
      text = boost::json::serialize(user);
      sqlite3_bind_text(write.stmt, 1, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
      sqlite3_bind_int64(write.stmt, 2, cursor);
      if (sqlite3_step(write.stmt) != SQLITE_DONE) return sqlError(db.get(), "hand loop UPDATE");
      sqlite3_reset(write.stmt);
    }
    sqlite3_reset(read.stmt);
    if (rc != SQLITE_DONE) return sqlError(db.get(), "hand loop SELECT");
    if (sqlite3_exec(db.get(), "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
      return sqlError(db.get(), "commit");
    if (rows < batch_size) return 0;
  }
}

}  // namespace bench
