#include "store/sqlite_store.h"

#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <filesystem>
#include <tuple>

#include "base/clock.h"
#include "base/json_text.h"
#include "schema/schema.h"
#include "store/schema_refusal.h"

namespace graft {
namespace {

constexpr int kFormatVersion = kStoreFormatVersion;

std::string quotedName(std::string_view table) {
  // checkTableName() admits only [A-Za-z0-9_], so quoting never needs escaping.
  return "\"" + std::string(table) + "\"";
}

std::string columnText(sqlite3_stmt* stmt, int i) {
  const unsigned char* text = sqlite3_column_text(stmt, i);
  return text ? std::string(reinterpret_cast<const char*>(text),
                            static_cast<size_t>(sqlite3_column_bytes(stmt, i)))
              : std::string();
}

void bindText(sqlite3_stmt* stmt, int i, std::string_view text) {
  sqlite3_bind_text(stmt, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

// Binds `text` without copying it: for a statement stepped while `text`
// lives, whose every parameter is bound again before its next step.
void bindBorrowedText(sqlite3_stmt* stmt, int i, std::string_view text) {
  sqlite3_bind_text(stmt, i, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

void bindOptionalText(sqlite3_stmt* stmt, int i, const std::string& text) {
  if (text.empty()) {
    sqlite3_bind_null(stmt, i);
  } else {
    bindText(stmt, i, text);
  }
}

// Binds one JSON scalar so that `json_extract(body, path) = ?` compares like
// with like; the JSON type itself is compared separately.
void bindJsonScalar(sqlite3_stmt* stmt, int i, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::string:
      bindText(stmt, i, v.get_string());
      break;
    case boost::json::kind::int64:
      sqlite3_bind_int64(stmt, i, v.get_int64());
      break;
    case boost::json::kind::uint64:
      sqlite3_bind_double(stmt, i, static_cast<double>(v.get_uint64()));
      break;
    case boost::json::kind::double_:
      sqlite3_bind_double(stmt, i, v.get_double());
      break;
    default:
      bindText(stmt, i, boost::json::serialize(v));
      break;
  }
}

const char* jsonTypeName(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: return "null";
    case boost::json::kind::bool_: return v.get_bool() ? "true" : "false";
    case boost::json::kind::int64: return "integer";
    case boost::json::kind::uint64: return "integer";
    case boost::json::kind::double_: return "real";
    case boost::json::kind::string: return "text";
    case boost::json::kind::array: return "array";
    case boost::json::kind::object: return "object";
  }
  return "null";
}

// The store's busy handler: sqlite3_busy_timeout()'s sleeps grow to 100 ms,
// so graft would wait up to 1 ms after an application's write of 100 us, and
// longer and longer behind a series of them. Retrying every 100 us takes the
// lock back as soon as it is free, for as long as StoreOptions::lock_wait_ms.
int pollBusy(void* wait, int attempts) {
  auto* w = static_cast<SqliteStore::BusyWait*>(wait);
  const auto now = std::chrono::steady_clock::now();
  if (attempts == 0) w->started = now;
  if (now - w->started >= std::chrono::milliseconds(w->timeout_ms)) return 0;
  usleep(100);
  return 1;
}

// Resets a statement when it leaves scope: a statement left on a row keeps
// its read transaction open, which would pin the WAL and block checkpoints.
struct ResetOnExit {
  sqlite3_stmt* stmt;
  ~ResetOnExit() { sqlite3_reset(stmt); }
};

// writeSpan's SQL functions. Its UPDATE visits the span's rows in _id order:
// in one pass, or (when the table has triggers) a first pass that evaluates
// the WHERE clause and a second that sets the body. So each function finds
// its _id itself, starting where the last search ended.
const SpanWrite* findInSpan(std::span<const SpanWrite> docs, size_t* next, int64_t id) {
  size_t i = *next;
  if (i >= docs.size() || docs[i].id != id) {
    auto it = std::lower_bound(docs.begin(), docs.end(), id,
                               [](const SpanWrite& doc, int64_t key) { return doc.id < key; });
    if (it == docs.end() || it->id != id) return nullptr;
    i = static_cast<size_t>(it - docs.begin());
  }
  *next = i + 1;
  return &docs[i];
}

// graft_span_keep(_id, body): 1 when the row is the document as it was read
// and has a body to write; 0 otherwise, and a row that is not as it was read
// (changed, or not read at all) goes to the caller's `differs`.
void spanKeep(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto* span = static_cast<SqliteStore::SpanState*>(sqlite3_user_data(ctx));
  const int64_t id = sqlite3_value_int64(argv[0]);
  const SpanWrite* doc = findInSpan(span->docs, &span->next, id);
  bool same = false;
  if (doc && sqlite3_value_type(argv[1]) == SQLITE_TEXT) {
    const auto* text = static_cast<const char*>(static_cast<const void*>(sqlite3_value_text(argv[1])));
    const auto size = static_cast<size_t>(sqlite3_value_bytes(argv[1]));
    same = text && std::string_view(text, size) == doc->seen;
  }
  if (!same) {
    try {
      span->differs->push_back(id);
    } catch (const std::bad_alloc&) {
      sqlite3_result_error_nomem(ctx);
      return;
    }
  }
  sqlite3_result_int(ctx, same && doc->body ? 1 : 0);
}

// graft_span_body(_id): the body to write, for a row graft_span_keep kept.
// The text is the caller's and outlives the statement's step.
void spanBody(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto* span = static_cast<SqliteStore::SpanState*>(sqlite3_user_data(ctx));
  const int64_t id = sqlite3_value_int64(argv[0]);
  const SpanWrite* doc = findInSpan(span->docs, &span->next, id);
  if (!doc || !doc->body) {
    sqlite3_result_error(ctx, "graft_span_body: no body for this _id", -1);
    return;
  }
  span->last_written = id;
  sqlite3_result_text(ctx, doc->body->data(), static_cast<int>(doc->body->size()), SQLITE_STATIC);
}

}  // namespace

bool SqliteStore::NoCaseLess::operator()(std::string_view a, std::string_view b) const {
  return sqlite3_strnicmp(a.data(), b.data(), static_cast<int>(std::min(a.size(), b.size()))) < 0 ||
         (sqlite3_strnicmp(a.data(), b.data(), static_cast<int>(std::min(a.size(), b.size()))) == 0 &&
          a.size() < b.size());
}

namespace {

// "file:" and `path` with the characters a URI gives a meaning escaped, and
// immutable=1.
std::string immutableUri(const std::string& path) {
  // An absolute path gets an empty authority: "file:///x", not "file://x".
  std::string uri = path.rfind('/', 0) == 0 ? "file://" : "file:";
  char hex[4];
  for (unsigned char c : path) {
    if (c == '%' || c == '?' || c == '#' || c <= 0x20 || c >= 0x7f) {
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      uri += hex;
    } else {
      uri += static_cast<char>(c);
    }
  }
  return uri + "?immutable=1";
}

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path,
                                                       const StoreOptions& options) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Status(
        Code::kStore,
        "database " + path + ": is a directory, not a SQLite file (check the database path)");
  }
  if (!options.create && !std::filesystem::exists(path, ec)) {
    return Status(Code::kStore, "database " + path +
                                    ": does not exist (check --db, or create it with graft import)");
  }
  int flags = options.read_only ? SQLITE_OPEN_READONLY
                                : (SQLITE_OPEN_READWRITE | (options.create ? SQLITE_OPEN_CREATE : 0));
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<SqliteStore> store(new SqliteStore(path, db));
  if (rc != SQLITE_OK) return store->error(rc, "open");
  sqlite3_extended_result_codes(db, 1);
  if (options.read_only && !store->canRead() && !std::filesystem::exists(path + "-wal", ec)) {
    // A WAL store that was closed cleanly, in a directory this user can not
    // write: SQLite can not make the -shm file it reads WAL stores through.
    // No -wal file means no writer has anything uncommitted to the file, so
    // reading it as it is (immutable) reads what any reader would.
    store.reset();
    db = nullptr;
    rc = sqlite3_open_v2(immutableUri(path).c_str(), &db,
                         SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, nullptr);
    store.reset(new SqliteStore(path, db));
    if (rc != SQLITE_OK) return store->error(rc, "open");
    sqlite3_extended_result_codes(db, 1);
  }
  GRAFT_RETURN_IF_ERROR(store->initialize(options));
  return store;
}

bool SqliteStore::canRead() {
  return sqlite3_exec(db_, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr) ==
         SQLITE_OK;
}

SqliteStore::~SqliteStore() {
  checkpointer_.reset();  // before the last connection closes (it checkpoints)
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Status SqliteStore::error(int rc, const std::string& what) const {
  std::string message = "database " + path_ + ": " + what + ": " +
                        (db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
  // A write that found no room: SQLITE_FULL when the disk is full (ENOSPC)
  // or max_page_count is reached; SQLITE_IOERR_WRITE when the file reached
  // this process's file size limit (EFBIG). SQLite keeps no reliable errno
  // for the latter (the write failed on the WAL, and errno is gone by now),
  // so the limit and the files' sizes tell.
  const char* kNothingWritten = "run the command again; nothing of the failed transaction was written";
  if ((rc & 0xff) == SQLITE_FULL) out_of_space_ = true;
  if ((rc & 0xff) == SQLITE_IOERR && reachedFileSizeLimit()) {
    out_of_space_ = true;
    return Status(Code::kStore, message + " (" + reached_limit_file_ +
                                    " reached the file size limit of this process, ulimit -f: "
                                    "raise the limit, then " + kNothingWritten + ")");
  }
  switch (rc & 0xff) {
    case SQLITE_FULL:
      message += std::string(" (the disk or the database is full: free space, then ") +
                 kNothingWritten + ")";
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      message += " (another process held the database past the busy timeout: retry when it is done)";
      break;
    case SQLITE_READONLY:
      message += " (the file or its directory is read-only: check permissions)";
      break;
    case SQLITE_NOTADB:
      message += " (the file is not a SQLite database: check --db)";
      break;
    case SQLITE_CANTOPEN:
      message += " (check the path and permissions of the file and its directory)";
      break;
    case SQLITE_CORRUPT:
      message += " (the file is damaged: restore it from a backup)";
      break;
    default:
      break;
  }
  return Status(Code::kStore, message);
}

bool SqliteStore::reachedFileSizeLimit() const {
  struct rlimit limit {};
  if (getrlimit(RLIMIT_FSIZE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return false;
  // A write that crosses the limit still fills the file up to it.
  for (const char* suffix : {"-wal", "", "-journal"}) {
    struct stat st {};
    const std::string file = path_ + suffix;
    if (stat(file.c_str(), &st) == 0 && static_cast<rlim_t>(st.st_size) >= limit.rlim_cur) {
      reached_limit_file_ = file;
      return true;
    }
  }
  return false;
}

Status SqliteStore::exec(const char* sql, const char* what) {
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? Status::Ok() : error(rc, what);
}

Status SqliteStore::initialize(const StoreOptions& options) {
  busy_wait_.timeout_ms = options.lock_wait_ms;
  sqlite3_busy_handler(db_, pollBusy, &busy_wait_);
  // Reading the schema is the first access to the file: a file that is not
  // SQLite fails here, with SQLITE_NOTADB.
  auto has_meta = hasTable("graft_meta");
  if (!has_meta.ok()) return has_meta.status();
  if (*has_meta) GRAFT_RETURN_IF_ERROR(checkFormat());
  // graft reads and writes only a file that is graft's already, or could
  // be. Checked before anything is written, WAL mode included: graft once
  // created its tables in another application's file and only then failed,
  // and a status of it would have shown every migration pending.
  if (!*has_meta) GRAFT_RETURN_IF_ERROR(refuseForeignFile());
  if (options.read_only) return readStateColumns();
  GRAFT_RETURN_IF_ERROR(prepareForWriting());
  return createGraftTables();
}

Status SqliteStore::checkFormat() {
  auto stmt = prepare("SELECT value FROM graft_meta WHERE key = 'format'", "read format");
  if (!stmt.ok()) return stmt.status();
  ResetOnExit reset{*stmt};
  if (sqlite3_step(*stmt) == SQLITE_ROW) {
    int format = sqlite3_column_int(*stmt, 0);
    if (format > kFormatVersion)
      return Status(Code::kStore, "database " + path_ + ": store format " + std::to_string(format) +
                                      " is newer than this graft (" +
                                      std::to_string(kFormatVersion) + "): upgrade graft");
  }
  return Status::Ok();
}

Status SqliteStore::readStateColumns() {
  auto has_state = hasTable("migration_state");
  if (!has_state.ok()) return has_state.status();
  has_state_tables_ = *has_state;
  if (!has_state_tables_) return Status::Ok();
  auto has_key = hasColumn("migration_state", "cursor_key");
  if (!has_key.ok()) return has_key.status();
  has_cursor_key_ = *has_key;
  auto has_total = hasColumn("migration_state", "total");
  if (!has_total.ok()) return has_total.status();
  has_total_ = *has_total;
  auto has_out_of_order = hasColumn("migration_state", "out_of_order");
  if (!has_out_of_order.ok()) return has_out_of_order.status();
  has_out_of_order_ = *has_out_of_order;
  return Status::Ok();
}

Status SqliteStore::prepareForWriting() {
  // WAL lets readers and one writer work at once: the application keeps
  // using the file while a migration writes. FULL sync: a commit survives
  // power loss, not only a crash; beginBatch() relaxes that for batches.
  GRAFT_RETURN_IF_ERROR(exec("PRAGMA journal_mode=WAL", "enable WAL"));
  GRAFT_RETURN_IF_ERROR(exec("PRAGMA synchronous=FULL", "set synchronous"));
  sqlite3_wal_hook(db_, &SqliteStore::onWalCommit, this);
  // writeSpan's functions, on this connection only. DIRECTONLY: no trigger
  // or view another client wrote can call them.
  for (auto [name, args, fn] : {std::tuple{"graft_span_keep", 2, &spanKeep},
                                std::tuple{"graft_span_body", 1, &spanBody}}) {
    int rc = sqlite3_create_function_v2(db_, name, args, SQLITE_UTF8 | SQLITE_DIRECTONLY, &span_,
                                        fn, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return error(rc, "register writeSpan's functions");
  }
  return Status::Ok();
}

Status SqliteStore::createGraftTables() {
  // Opening a store that has graft's tables writes nothing: a second graft
  // (status, cancel, a refused up) must not queue for the write lock that a
  // running migration takes batch after batch.
  bool complete = true;
  for (const char* table : {"graft_meta", "migration_state", "migration_run", "graft_lease"}) {
    auto exists = hasTable(table);
    if (!exists.ok()) return exists.status();
    complete = complete && *exists;
  }
  if (complete) {
    has_state_tables_ = true;
    return addMissingStateColumns();
  }
  GRAFT_RETURN_IF_ERROR(
      exec("CREATE TABLE IF NOT EXISTS graft_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
           "INSERT OR IGNORE INTO graft_meta (key, value) VALUES ('format', '1');"
           "CREATE TABLE IF NOT EXISTS migration_state ("
           "  id TEXT PRIMARY KEY, checksum TEXT NOT NULL, logic_digest TEXT, status TEXT NOT NULL,"
           "  direction TEXT NOT NULL DEFAULT 'up', cursor INTEGER NOT NULL DEFAULT 0,"
           "  processed INTEGER NOT NULL DEFAULT 0, changed INTEGER NOT NULL DEFAULT 0,"
           "  started_at TEXT, updated_at TEXT, completed_at TEXT, error TEXT,"
           "  error_doc_id INTEGER, run_id TEXT, cursor_key TEXT, total INTEGER NOT NULL DEFAULT 0,"
           "  out_of_order INTEGER NOT NULL DEFAULT 0);"
           "CREATE TABLE IF NOT EXISTS migration_run ("
           "  run_id TEXT PRIMARY KEY, status TEXT NOT NULL, command TEXT NOT NULL,"
           "  started_at TEXT NOT NULL, ended_at TEXT, migrations INTEGER NOT NULL DEFAULT 0,"
           "  processed INTEGER NOT NULL DEFAULT 0, changed INTEGER NOT NULL DEFAULT 0,"
           "  error TEXT, host TEXT, pid INTEGER, user TEXT);"
           "CREATE TABLE IF NOT EXISTS graft_lease ("
           "  name TEXT PRIMARY KEY CHECK (name = 'run'), run_id TEXT NOT NULL, host TEXT NOT NULL,"
           "  pid INTEGER NOT NULL, started_at TEXT NOT NULL, heartbeat_ms INTEGER NOT NULL,"
           "  cancel_requested INTEGER NOT NULL DEFAULT 0);",
           "create graft tables"));
  has_state_tables_ = true;
  return addMissingStateColumns();
}

Result<std::vector<std::string>> SqliteStore::columnsOf(std::string_view table) {
  auto stmt = prepare("SELECT name FROM pragma_table_info(?) ORDER BY cid", "read schema");
  if (!stmt.ok()) return stmt.status();
  ResetOnExit reset{*stmt};
  bindText(*stmt, 1, table);
  std::vector<std::string> columns;
  int rc;
  while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW)
    columns.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(*stmt, 0)));
  if (rc != SQLITE_DONE) return error(rc, "read schema");
  return columns;
}

Status SqliteStore::checkDocumentTable(std::string_view table) {
  auto columns = columnsOf(table);
  if (!columns.ok()) return columns.status();
  auto has = [&](const char* name) {
    return std::find(columns->begin(), columns->end(), name) != columns->end();
  };
  if (has("_id") && has("_creationTime") && has("body")) return Status::Ok();
  std::string listed;
  for (const auto& c : *columns) listed += (listed.empty() ? "" : ", ") + c;
  return Status(Code::kStore, "database " + path_ + ": table " + jsonQuoted(table) +
                                  " is not a graft document table: its columns are (" + listed +
                                  "), a document table has _id, _creationTime and body (check "
                                  "the database path and the table's name)");
}

Status SqliteStore::refuseForeignFile() {
  auto stmt = prepare(
      "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE "
      "'sqlite\\_%' ESCAPE '\\' ORDER BY name",
      "read schema");
  if (!stmt.ok()) return stmt.status();
  std::vector<std::string> tables;
  {
    ResetOnExit reset{*stmt};
    int rc;
    while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW)
      tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(*stmt, 0)));
    if (rc != SQLITE_DONE) return error(rc, "read schema");
  }
  // An application may have made document tables in graft's format before
  // graft first opened the file (doc/store-format.md): those are fine.
  for (const auto& table : tables) {
    Status document = checkDocumentTable(table);
    if (document.ok()) continue;
    return Status(
        Code::kStore,
        "database " + path_ +
            ": not a graft store: it has no graft_meta table, and its "
            "table " +
            jsonQuoted(table) +
            " is not a graft document table (graft wrote "
            "nothing to it; check the database path: graft adds its own tables only to an "
            "empty file or to one whose tables are all document tables)");
  }
  return Status::Ok();
}

Result<bool> SqliteStore::hasColumn(const char* table, const char* column) {
  auto stmt = prepare("SELECT 1 FROM pragma_table_info(?) WHERE name = ?", "read schema");
  if (!stmt.ok()) return stmt.status();
  ResetOnExit reset{*stmt};
  sqlite3_bind_text(*stmt, 1, table, -1, SQLITE_STATIC);
  sqlite3_bind_text(*stmt, 2, column, -1, SQLITE_STATIC);
  int rc = sqlite3_step(*stmt);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) return error(rc, "read schema");
  return false;
}

// Stores made before index ranges have no cursor_key, those made before
// progress was kept no total, and those made before reorders were caught
// no out_of_order; each is added once, on the first
// read-write open (an ALTER that older graft versions ignore).
Status SqliteStore::addMissingStateColumns() {
  auto add = [&](const char* column, const char* sql) -> Status {
    auto has = hasColumn("migration_state", column);
    if (!has.ok()) return has.status();
    if (*has) return Status::Ok();
    Status added = exec(sql, "upgrade migration_state");
    if (added.ok()) return added;
    // Another graft that opened the same store at once may have added it.
    auto now = hasColumn("migration_state", column);
    return now.ok() && *now ? Status::Ok() : added;
  };
  GRAFT_RETURN_IF_ERROR(
      add("cursor_key", "ALTER TABLE migration_state ADD COLUMN cursor_key TEXT"));
  has_cursor_key_ = true;
  GRAFT_RETURN_IF_ERROR(
      add("total", "ALTER TABLE migration_state ADD COLUMN total INTEGER NOT NULL DEFAULT 0"));
  has_total_ = true;
  GRAFT_RETURN_IF_ERROR(
      add("out_of_order",
          "ALTER TABLE migration_state ADD COLUMN out_of_order INTEGER NOT NULL DEFAULT 0"));
  has_out_of_order_ = true;
  return Status::Ok();
}

Result<sqlite3_stmt*> SqliteStore::prepare(const std::string& sql, const char* what) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) {
    sqlite3_reset(it->second);
    sqlite3_clear_bindings(it->second);
    return it->second;
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return error(rc, what);
  statements_.emplace(sql, stmt);
  return stmt;
}

Status SqliteStore::begin() { return exec("BEGIN IMMEDIATE", "begin transaction"); }
Status SqliteStore::commit() {
  Status committed = exec("COMMIT", "commit");
  // A failed COMMIT leaves the transaction open, for a rollback.
  if (!committed.ok() && !sqlite3_get_autocommit(db_)) return committed;
  Status reset = endLazyTransaction();
  return committed.ok() ? reset : committed;
}

// graft's connection checkpoints as SQLite's default does (at 1000 WAL
// frames, in the commit that reaches them), and between batches from
// kBatchCheckpointFrames on, on a thread of its own (checkpointer.h). Why:
// whichever connection commits past 1000 frames runs the checkpoint, with
// its fsyncs, inside its own write; when that is the application's, its
// write waits for those fsyncs. Checkpointing early keeps the WAL below that
// for everyone else, and on another thread it costs the migration nothing.
constexpr int kAutoCheckpointFrames = 1000;
constexpr int kBatchCheckpointFrames = 256;

int SqliteStore::onWalCommit(void* store, sqlite3* db, const char* name, int frames) {
  auto* self = static_cast<SqliteStore*>(store);
  self->wal_frames_ = frames;
  if (frames >= kAutoCheckpointFrames) {
    (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    self->wal_frames_ = 0;
  }
  return SQLITE_OK;
}

// A checkpoint is due once kBatchCheckpointFrames were added to the WAL
// since the last one was asked for, not after every commit past that
// length: the WAL starts over from its first frame only when a write begins
// after a checkpoint copied all of it, which commits that follow each other
// closely (a run through many small migrations) rarely see, and each
// checkpoint costs two fsyncs.
void SqliteStore::betweenBatches() {
  if (wal_frames_ < checkpoint_asked_at_) checkpoint_asked_at_ = 0;  // the WAL started over
  if (wal_frames_ - checkpoint_asked_at_ < kBatchCheckpointFrames) return;
  if (!checkpointer_ && !checkpointer_unavailable_) {
    checkpointer_ = WalCheckpointer::start(path_);
    checkpointer_unavailable_ = !checkpointer_;
  }
  // Best effort: a checkpoint that can not finish now (busy) is retried
  // once the WAL has grown by as much again.
  if (checkpointer_) {
    checkpointer_->request();
    checkpoint_asked_at_ = wal_frames_;
  } else if (sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                       nullptr) == SQLITE_OK) {
    checkpoint_asked_at_ = wal_frames_;
  }
}

void SqliteStore::finishCheckpoint() {
  if (checkpointer_) checkpointer_->finish();
}

void SqliteStore::stopBackgroundWork() { checkpointer_.reset(); }

// In WAL mode, synchronous=NORMAL commits without syncing the WAL; the WAL
// is synced before each checkpoint and by the next FULL commit. A WAL is
// replayed after a power loss frame by frame up to the first frame whose
// running checksum fails, so what survives is always a prefix of the
// commits: a lost commit takes every later one with it. That is the
// contract of Store::beginBatch(). SQLite refuses to change the level
// inside a transaction, so it is set before BEGIN and reset after the end.
Status SqliteStore::beginBatch() {
  GRAFT_RETURN_IF_ERROR(exec("PRAGMA synchronous=NORMAL", "set synchronous"));
  lazy_transaction_ = true;
  Status begun = begin();
  if (!begun.ok()) (void)endLazyTransaction();
  return begun;
}

Status SqliteStore::endLazyTransaction() {
  if (!lazy_transaction_) return Status::Ok();
  lazy_transaction_ = false;
  return exec("PRAGMA synchronous=FULL", "set synchronous");
}

Result<int64_t> SqliteStore::othersCommitMark() {
  auto stmt = prepare("PRAGMA data_version", "read data_version");
  if (!stmt.ok()) return stmt.status();
  ResetOnExit reset{*stmt};
  int rc = sqlite3_step(*stmt);
  if (rc != SQLITE_ROW) return error(rc, "read data_version");
  return static_cast<int64_t>(sqlite3_column_int64(*stmt, 0));
}

Status SqliteStore::rollback() {
  // A table created inside the transaction is gone again.
  known_tables_.clear();
  body_writer_ = {};
  span_.table.clear();
  // After some errors (SQLITE_FULL among them) SQLite has already rolled the
  // transaction back; a second rollback would only fail.
  Status rolled_back =
      sqlite3_get_autocommit(db_) ? Status::Ok() : exec("ROLLBACK", "rollback");
  if (out_of_space_) {
    // The WAL holds the store's newest pages, and on a full disk (or at the
    // file size limit) it is also what has no room left for the next
    // transaction: the one that records the failure. A checkpoint moves its
    // pages into the database file, over pages that are already there
    // unless documents grew, and TRUNCATE gives its space back, so the next
    // write starts at the beginning of an empty WAL. Best effort: an
    // application's open read transaction can keep it from completing.
    out_of_space_ = false;
    finishCheckpoint();  // TRUNCATE can not run beside another checkpoint
    (void)sqlite3_exec(db_, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
  }
  Status reset = endLazyTransaction();
  return rolled_back.ok() ? reset : rolled_back;
}

Result<std::vector<std::string>> SqliteStore::tables() {
  auto stmt = prepare(
      "SELECT m.name FROM sqlite_master AS m WHERE m.type = 'table' AND EXISTS "
      "(SELECT 1 FROM pragma_table_info(m.name) AS c WHERE c.name = 'body') ORDER BY m.name",
      "list tables");
  if (!stmt.ok()) return stmt.status();
  std::vector<std::string> names;
  int rc;
  while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
    std::string name = columnText(*stmt, 0);
    if (!isReservedTable(name)) names.push_back(std::move(name));
  }
  if (rc != SQLITE_DONE) return error(rc, "list tables");
  return names;
}

Result<bool> SqliteStore::hasTable(std::string_view table) {
  if (known_tables_.count(table)) return true;
  // SQLite's table names ignore case, so must the lookup.
  auto stmt = prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE",
                      "read schema");
  if (!stmt.ok()) return stmt.status();
  ResetOnExit reset{*stmt};
  bindText(*stmt, 1, table);
  int rc = sqlite3_step(*stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return error(rc, "read schema");
  if (rc == SQLITE_DONE) return false;
  sqlite3_reset(*stmt);
  // A table graft reads documents from must have a document table's
  // columns; one of another layout is the wrong table or the wrong file.
  if (checkTableName(table).ok()) GRAFT_RETURN_IF_ERROR(checkDocumentTable(table));
  known_tables_.emplace(table);
  return true;
}

Status SqliteStore::needTable(std::string_view table) {
  GRAFT_RETURN_IF_ERROR(checkTableName(table));
  auto exists = hasTable(table);
  if (!exists.ok()) return exists.status();
  if (!*exists)
    return Status(Code::kBadInput, "table \"" + std::string(table) + "\" does not exist in " + path_);
  return Status::Ok();
}

Status SqliteStore::createTable(std::string_view table) {
  GRAFT_RETURN_IF_ERROR(checkTableName(table));
  auto exists = hasTable(table);
  if (!exists.ok()) return exists.status();
  if (*exists) return Status::Ok();
  auto record = loadSchema();
  if (!record.ok()) return record.status();
  if (*record) {
    auto schema = parseSchema((*record)->text, "schema v" + std::to_string((*record)->version));
    if (schema.ok() && schema->validation && !schema->allow_unknown_tables &&
        !schema->find(table))
      return Status(Code::kSchema,
                    "table \"" + std::string(table) + "\" is not in schema v" +
                        std::to_string((*record)->version) +
                        ", which refuses unknown tables (declare it, then graft schema push)");
  }
  return makeTable(table);
}

Status SqliteStore::makeTable(std::string_view table) {
  const std::string sql =
      "CREATE TABLE " + quotedName(table) +
      " (_id INTEGER PRIMARY KEY AUTOINCREMENT,"
      " _creationTime REAL NOT NULL DEFAULT (round((julianday('now') - 2440587.5) * 86400000.0)),"
      " body TEXT NOT NULL CHECK (json_valid(body) AND json_type(body) = 'object'"
      " AND json_type(body, '$._id') IS NULL AND json_type(body, '$._creationTime') IS NULL))";
  return exec(sql.c_str(), ("create table " + std::string(table)).c_str());
}

Result<int64_t> SqliteStore::count(std::string_view table, int64_t after_id) {
  GRAFT_RETURN_IF_ERROR(needTable(table));
  auto stmt = prepare("SELECT count(*) FROM " + quotedName(table) + " WHERE _id > ?", "count");
  if (!stmt.ok()) return stmt.status();
  ResetOnExit reset{*stmt};
  sqlite3_bind_int64(*stmt, 1, after_id);
  int rc = sqlite3_step(*stmt);
  if (rc != SQLITE_ROW) return error(rc, "count " + std::string(table));
  return static_cast<int64_t>(sqlite3_column_int64(*stmt, 0));
}

Status SqliteStore::readDocuments(sqlite3_stmt* stmt, std::vector<Document>* out, const char* what) {
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    out->push_back(Document{sqlite3_column_int64(stmt, 0), sqlite3_column_double(stmt, 1),
                            columnText(stmt, 2), {}});
  }
  return rc == SQLITE_DONE ? Status::Ok() : error(rc, what);
}

Status SqliteStore::scan(std::string_view table, int64_t after_id, int64_t limit,
                         std::vector<Document>* out, int64_t upto_id) {
  GRAFT_RETURN_IF_ERROR(needTable(table));
  auto stmt = prepare("SELECT _id, _creationTime, body FROM " + quotedName(table) +
                          " WHERE _id > ? AND _id <= ? ORDER BY _id LIMIT ?",
                      "read documents");
  if (!stmt.ok()) return stmt.status();
  sqlite3_bind_int64(*stmt, 1, after_id);
  sqlite3_bind_int64(*stmt, 2, upto_id);
  sqlite3_bind_int64(*stmt, 3, limit);
  return readDocuments(*stmt, out, "read documents");
}

Status SqliteStore::forEach(std::string_view table,
                            const std::function<bool(const Document&)>& fn) {
  GRAFT_RETURN_IF_ERROR(needTable(table));
  auto stmt = prepare("SELECT _id, _creationTime, body FROM " + quotedName(table) + " ORDER BY _id",
                      "read documents");
  if (!stmt.ok()) return stmt.status();
  ResetOnExit reset{*stmt};
  int rc;
  while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
    Document doc{sqlite3_column_int64(*stmt, 0), sqlite3_column_double(*stmt, 1),
                 columnText(*stmt, 2), {}};
    if (!fn(doc)) break;
  }
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? Status::Ok() : error(rc, "read documents");
}

Result<std::optional<Document>> SqliteStore::get(std::string_view table, int64_t id) {
  GRAFT_RETURN_IF_ERROR(checkTableName(table));
  auto exists = hasTable(table);
  if (!exists.ok()) return exists.status();
  if (!*exists) return std::optional<Document>();
  auto stmt = prepare("SELECT _id, _creationTime, body FROM " + quotedName(table) + " WHERE _id = ?",
                      "read document");
  if (!stmt.ok()) return stmt.status();
  sqlite3_bind_int64(*stmt, 1, id);
  std::vector<Document> docs;
  GRAFT_RETURN_IF_ERROR(readDocuments(*stmt, &docs, "read document"));
  if (docs.empty()) return std::optional<Document>();
  return std::optional<Document>(std::move(docs.front()));
}

Status SqliteStore::query(std::string_view table, const QuerySpec& spec,
                          std::vector<Document>* out) {
  GRAFT_RETURN_IF_ERROR(checkTableName(table));
  auto exists = hasTable(table);
  if (!exists.ok()) return exists.status();
  if (!*exists) return Status::Ok();
  std::string sql = "SELECT _id, _creationTime, body FROM " + quotedName(table) + " WHERE _id > ?";
  for (const auto& [field, value] : spec.equals) {
    if (field.find('"') != std::string::npos || field.find('\\') != std::string::npos)
      return Status(Code::kBadInput, "query on " + std::string(table) + ": field name \"" + field +
                                         "\" may not contain quotes or backslashes");
    const std::string path = "'$.\"" + field + "\"'";
    sql += " AND json_type(body, " + path + ") = ?";
    bool scalar_type_says_all = value.is_null() || value.is_bool();
    if (!scalar_type_says_all) {
      sql += value.is_structured() ? " AND json(json_extract(body, " + path + ")) = json(?)"
                                   : " AND json_extract(body, " + path + ") = ?";
    }
  }
  sql += " ORDER BY _id LIMIT ?";
  auto stmt = prepare(sql, "query");
  if (!stmt.ok()) return stmt.status();
  int i = 1;
  sqlite3_bind_int64(*stmt, i++, spec.after_id.value_or(0));
  for (const auto& [field, value] : spec.equals) {
    sqlite3_bind_text(*stmt, i++, jsonTypeName(value), -1, SQLITE_STATIC);
    if (!value.is_null() && !value.is_bool()) bindJsonScalar(*stmt, i++, value);
  }
  sqlite3_bind_int64(*stmt, i, spec.limit);
  return readDocuments(*stmt, out, "query");
}

Result<int64_t> SqliteStore::insert(std::string_view table, std::string_view body) {
  GRAFT_RETURN_IF_ERROR(applyBodyChecks());
  GRAFT_RETURN_IF_ERROR(createTable(table));
  auto stmt = prepare("INSERT INTO " + quotedName(table) + " (body) VALUES (?)", "insert");
  if (!stmt.ok()) return stmt.status();
  bindText(*stmt, 1, body);
  int rc = sqlite3_step(*stmt);
  if (rc == SQLITE_CONSTRAINT_TRIGGER) return schemaRefusal(table, std::nullopt, body);
  if (rc != SQLITE_DONE) return error(rc, "insert into " + std::string(table));
  return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
}

Result<sqlite3_stmt*> SqliteStore::bodyWriter(std::string_view table) {
  if (body_writer_.table != table) {
    GRAFT_RETURN_IF_ERROR(needTable(table));
    auto stmt = prepare("UPDATE " + quotedName(table) + " SET body = ? WHERE _id = ?", "update");
    if (!stmt.ok()) return stmt.status();
    body_writer_ = BodyWriter{std::string(table), *stmt};
  }
  sqlite3_reset(body_writer_.update);
  return body_writer_.update;
}

Result<bool> SqliteStore::update(std::string_view table, int64_t id, std::string_view body) {
  GRAFT_RETURN_IF_ERROR(applyBodyChecks());
  auto stmt = bodyWriter(table);
  if (!stmt.ok()) return stmt.status();
  bindBorrowedText(*stmt, 1, body);
  sqlite3_bind_int64(*stmt, 2, id);
  int rc = sqlite3_step(*stmt);
  if (rc == SQLITE_CONSTRAINT_TRIGGER) return schemaRefusal(table, id, body);
  if (rc != SQLITE_DONE)
    return error(rc, "update " + std::string(table) + "/" + std::to_string(id));
  return sqlite3_changes(db_) == 1;
}

// One UPDATE over the span instead of one per document: it walks the
// table's b-tree once, as a single UPDATE of many rows does, where a
// statement per document seeks from the root each time, under the write
// lock (figures: doc/performance.md). The comparison with what was read is the
// compare-and-set of the lock-free strategy (see run/batch_strategy.h).
Result<int64_t> SqliteStore::writeSpan(std::string_view table, int64_t after_id,
                                       std::span<const SpanWrite> docs,
                                       std::vector<int64_t>* differs) {
  if (docs.empty()) return int64_t{0};
  GRAFT_RETURN_IF_ERROR(applyBodyChecks());
  if (span_.table != table) {
    GRAFT_RETURN_IF_ERROR(needTable(table));
    auto stmt = prepare("UPDATE " + quotedName(table) +
                            " SET body = graft_span_body(_id)"
                            " WHERE _id > ?1 AND _id <= ?2 AND graft_span_keep(_id, body)",
                        "update");
    if (!stmt.ok()) return stmt.status();
    span_.table = std::string(table);
    span_.update = *stmt;
  }
  sqlite3_stmt* stmt = span_.update;
  ResetOnExit reset{stmt};
  sqlite3_bind_int64(stmt, 1, after_id);
  sqlite3_bind_int64(stmt, 2, docs.back().id);
  const size_t differs_before = differs->size();
  span_.docs = docs;
  span_.next = 0;
  span_.differs = differs;
  span_.last_written = 0;
  const int rc = sqlite3_step(stmt);
  span_.docs = {};
  span_.differs = nullptr;
  if (rc == SQLITE_DONE) return static_cast<int64_t>(sqlite3_changes(db_));
  // The statement is undone whole; so is what it said differs.
  differs->resize(differs_before);
  const std::string span = std::string(table) + " after _id " + std::to_string(after_id) +
                           " up to " + std::to_string(docs.back().id);
  if (rc == SQLITE_CONSTRAINT_TRIGGER) {
    size_t start = 0;
    const SpanWrite* refused = findInSpan(docs, &start, span_.last_written);
    if (refused && refused->body) return schemaRefusal(table, refused->id, *refused->body);
  }
  return error(rc, "update " + span);
}

Result<bool> SqliteStore::remove(std::string_view table, int64_t id) {
  GRAFT_RETURN_IF_ERROR(checkTableName(table));
  auto exists = hasTable(table);
  if (!exists.ok()) return exists.status();
  if (!*exists) return false;
  auto stmt = prepare("DELETE FROM " + quotedName(table) + " WHERE _id = ?", "delete");
  if (!stmt.ok()) return stmt.status();
  sqlite3_bind_int64(*stmt, 1, id);
  int rc = sqlite3_step(*stmt);
  if (rc != SQLITE_DONE)
    return error(rc, "delete " + std::string(table) + "/" + std::to_string(id));
  return sqlite3_changes(db_) == 1;
}

namespace {

constexpr const char* kStateColumns =
    "id, checksum, status, direction, cursor, processed, changed, started_at, updated_at,"
    " completed_at, error, error_doc_id, run_id, logic_digest, cursor_key, total, out_of_order";

Result<MigrationState> readState(sqlite3_stmt* stmt) {
  MigrationState s;
  s.id = columnText(stmt, 0);
  s.file_sha256 = columnText(stmt, 1);
  const std::string status = columnText(stmt, 2), direction = columnText(stmt, 3);
  const auto known_status = parseStepStatus(status);
  if (!known_status) return unknownWord("migration_state", s.id, "status", status);
  const auto known_direction = parseDirection(direction);
  if (!known_direction) return unknownWord("migration_state", s.id, "direction", direction);
  s.status = *known_status;
  s.direction = *known_direction;
  s.cursor = sqlite3_column_int64(stmt, 4);
  s.processed = sqlite3_column_int64(stmt, 5);
  s.changed = sqlite3_column_int64(stmt, 6);
  s.started_at = columnText(stmt, 7);
  s.updated_at = columnText(stmt, 8);
  s.completed_at = columnText(stmt, 9);
  s.error = columnText(stmt, 10);
  if (sqlite3_column_type(stmt, 11) != SQLITE_NULL) s.error_doc_id = sqlite3_column_int64(stmt, 11);
  s.run_id = columnText(stmt, 12);
  s.logic_digest = columnText(stmt, 13);
  s.cursor_key = columnText(stmt, 14);
  s.total = sqlite3_column_int64(stmt, 15);
  s.out_of_order = sqlite3_column_int64(stmt, 16) != 0;
  return s;
}

}  // namespace

// A store opened read-only may predate cursor_key, total or out_of_order.
std::string SqliteStore::stateColumns() const {
  if (has_cursor_key_ && has_total_ && has_out_of_order_) return kStateColumns;
  return std::string(
             "id, checksum, status, direction, cursor, processed, changed, started_at, updated_at,"
             " completed_at, error, error_doc_id, run_id, logic_digest, ") +
         (has_cursor_key_ ? "cursor_key" : "NULL") + ", " + (has_total_ ? "total" : "0") + ", " +
         (has_out_of_order_ ? "out_of_order" : "0");
}

Result<std::optional<MigrationState>> SqliteStore::loadState(std::string_view id) {
  if (!has_state_tables_) return std::optional<MigrationState>();
  auto stmt = prepare("SELECT " + stateColumns() + " FROM migration_state WHERE id = ?",
                      "read migration_state");
  if (!stmt.ok()) return stmt.status();
  ResetOnExit reset{*stmt};
  bindText(*stmt, 1, id);
  int rc = sqlite3_step(*stmt);
  if (rc == SQLITE_ROW) {
    auto state = readState(*stmt);
    if (!state.ok()) return state.status();
    return std::optional<MigrationState>(std::move(*state));
  }
  if (rc != SQLITE_DONE) return error(rc, "read migration_state");
  return std::optional<MigrationState>();
}

Result<std::vector<MigrationState>> SqliteStore::loadStates() {
  std::vector<MigrationState> states;
  if (!has_state_tables_) return states;
  auto stmt = prepare("SELECT " + stateColumns() + " FROM migration_state ORDER BY id",
                      "read migration_state");
  if (!stmt.ok()) return stmt.status();
  int rc;
  while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
    auto state = readState(*stmt);
    if (!state.ok()) return state.status();
    states.push_back(std::move(*state));
  }
  if (rc != SQLITE_DONE) return error(rc, "read migration_state");
  return states;
}

Status SqliteStore::saveState(const MigrationState& s) {
  auto stmt = prepare(std::string("INSERT OR REPLACE INTO migration_state (") + kStateColumns +
                          ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      "write migration_state");
  if (!stmt.ok()) return stmt.status();
  bindText(*stmt, 1, s.id);
  bindText(*stmt, 2, s.file_sha256);
  bindText(*stmt, 3, stepStatusName(s.status));
  bindText(*stmt, 4, directionName(s.direction));
  sqlite3_bind_int64(*stmt, 5, s.cursor);
  sqlite3_bind_int64(*stmt, 6, s.processed);
  sqlite3_bind_int64(*stmt, 7, s.changed);
  bindOptionalText(*stmt, 8, s.started_at);
  bindOptionalText(*stmt, 9, s.updated_at);
  bindOptionalText(*stmt, 10, s.completed_at);
  bindOptionalText(*stmt, 11, s.error);
  if (s.error_doc_id) sqlite3_bind_int64(*stmt, 12, *s.error_doc_id);
  bindOptionalText(*stmt, 13, s.run_id);
  bindOptionalText(*stmt, 14, s.logic_digest);
  bindOptionalText(*stmt, 15, s.cursor_key);
  sqlite3_bind_int64(*stmt, 16, s.total);
  sqlite3_bind_int64(*stmt, 17, s.out_of_order ? 1 : 0);
  int rc = sqlite3_step(*stmt);
  return rc == SQLITE_DONE ? Status::Ok() : error(rc, "write migration_state for " + s.id);
}

Status SqliteStore::saveRun(const RunRecord& r) {
  auto stmt = prepare(
      "INSERT OR REPLACE INTO migration_run (run_id, status, command, started_at, ended_at,"
      " migrations, processed, changed, error, host, pid, user)"
      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      "write migration_run");
  if (!stmt.ok()) return stmt.status();
  bindText(*stmt, 1, r.run_id);
  bindText(*stmt, 2, runStatusName(r.status));
  bindText(*stmt, 3, r.command);
  bindText(*stmt, 4, r.started_at);
  bindOptionalText(*stmt, 5, r.ended_at);
  sqlite3_bind_int64(*stmt, 6, r.migrations);
  sqlite3_bind_int64(*stmt, 7, r.processed);
  sqlite3_bind_int64(*stmt, 8, r.changed);
  bindOptionalText(*stmt, 9, r.error);
  bindOptionalText(*stmt, 10, r.host);
  sqlite3_bind_int64(*stmt, 11, r.pid);
  bindOptionalText(*stmt, 12, r.user);
  int rc = sqlite3_step(*stmt);
  return rc == SQLITE_DONE ? Status::Ok() : error(rc, "write migration_run");
}

Result<std::vector<RunRecord>> SqliteStore::loadRuns(int64_t limit) {
  std::vector<RunRecord> runs;
  if (!has_state_tables_) return runs;
  auto stmt = prepare(
      "SELECT run_id, status, command, started_at, ended_at, migrations, processed, changed,"
      " error, host, pid, user FROM migration_run ORDER BY started_at DESC, run_id DESC LIMIT ?",
      "read migration_run");
  if (!stmt.ok()) return stmt.status();
  sqlite3_bind_int64(*stmt, 1, limit);
  int rc;
  while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
    RunRecord r;
    r.run_id = columnText(*stmt, 0);
    const std::string status = columnText(*stmt, 1);
    const auto known = parseRunStatus(status);
    if (!known) return unknownWord("migration_run", r.run_id, "status", status);
    r.status = *known;
    r.command = columnText(*stmt, 2);
    r.started_at = columnText(*stmt, 3);
    r.ended_at = columnText(*stmt, 4);
    r.migrations = sqlite3_column_int64(*stmt, 5);
    r.processed = sqlite3_column_int64(*stmt, 6);
    r.changed = sqlite3_column_int64(*stmt, 7);
    r.error = columnText(*stmt, 8);
    r.host = columnText(*stmt, 9);
    r.pid = sqlite3_column_int64(*stmt, 10);
    r.user = columnText(*stmt, 11);
    runs.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return error(rc, "read migration_run");
  return runs;
}

Result<std::optional<Lease>> SqliteStore::loadLease() {
  auto has = hasTable("graft_lease");
  if (!has.ok()) return has.status();
  if (!*has) return std::optional<Lease>();
  auto stmt = prepare(
      "SELECT run_id, host, pid, started_at, heartbeat_ms, cancel_requested FROM graft_lease",
      "read graft_lease");
  if (!stmt.ok()) return stmt.status();
  ResetOnExit reset{*stmt};
  int rc = sqlite3_step(*stmt);
  if (rc == SQLITE_DONE) return std::optional<Lease>();
  if (rc != SQLITE_ROW) return error(rc, "read graft_lease");
  Lease lease;
  lease.run_id = columnText(*stmt, 0);
  lease.host = columnText(*stmt, 1);
  lease.pid = sqlite3_column_int64(*stmt, 2);
  lease.started_at = columnText(*stmt, 3);
  lease.heartbeat_ms = sqlite3_column_int64(*stmt, 4);
  lease.cancel_requested = sqlite3_column_int(*stmt, 5) != 0;
  return std::optional<Lease>(std::move(lease));
}

Status SqliteStore::saveLease(const Lease& lease) {
  auto stmt = prepare(
      "INSERT OR REPLACE INTO graft_lease (name, run_id, host, pid, started_at, heartbeat_ms,"
      " cancel_requested) VALUES ('run', ?, ?, ?, ?, ?, ?)",
      "write graft_lease");
  if (!stmt.ok()) return stmt.status();
  bindText(*stmt, 1, lease.run_id);
  bindText(*stmt, 2, lease.host);
  sqlite3_bind_int64(*stmt, 3, lease.pid);
  bindText(*stmt, 4, lease.started_at);
  sqlite3_bind_int64(*stmt, 5, lease.heartbeat_ms);
  sqlite3_bind_int(*stmt, 6, lease.cancel_requested ? 1 : 0);
  int rc = sqlite3_step(*stmt);
  return rc == SQLITE_DONE ? Status::Ok() : error(rc, "write graft_lease");
}

Status SqliteStore::deleteLease(const std::string& run_id) {
  auto stmt = prepare("DELETE FROM graft_lease WHERE run_id = ?", "release graft_lease");
  if (!stmt.ok()) return stmt.status();
  bindText(*stmt, 1, run_id);
  int rc = sqlite3_step(*stmt);
  return rc == SQLITE_DONE ? Status::Ok() : error(rc, "release graft_lease");
}

Result<Store::Heartbeat> SqliteStore::heartbeat(const std::string& run_id, int64_t now_ms) {
  auto stmt = prepare(
      "UPDATE graft_lease SET heartbeat_ms = ? WHERE run_id = ? RETURNING cancel_requested",
      "heartbeat");
  if (!stmt.ok()) return stmt.status();
  ResetOnExit reset{*stmt};
  sqlite3_bind_int64(*stmt, 1, now_ms);
  bindText(*stmt, 2, run_id);
  int rc = sqlite3_step(*stmt);
  if (rc == SQLITE_DONE) return Heartbeat{false, false};
  if (rc != SQLITE_ROW) return error(rc, "heartbeat");
  return Heartbeat{true, sqlite3_column_int(*stmt, 0) != 0};
}

Result<bool> SqliteStore::requestCancel() {
  auto stmt = prepare("UPDATE graft_lease SET cancel_requested = 1", "request cancel");
  if (!stmt.ok()) return stmt.status();
  int rc = sqlite3_step(*stmt);
  if (rc != SQLITE_DONE) return error(rc, "request cancel");
  return sqlite3_changes(db_) > 0;
}

// ---------------------------------------------------------------------------
// Index ranges.

namespace {

// Binds a JSON scalar the way json_extract() returns it: true/false as 1/0.
void bindKeyValue(sqlite3_stmt* stmt, int i, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      sqlite3_bind_null(stmt, i);
      break;
    case boost::json::kind::bool_:
      sqlite3_bind_int(stmt, i, v.get_bool() ? 1 : 0);
      break;
    default:
      bindJsonScalar(stmt, i, v);
      break;
  }
}

// One column of an index key as JSON, the inverse of bindKeyValue for what
// json_extract() can return.
boost::json::value keyValue(sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_INTEGER:
      return static_cast<int64_t>(sqlite3_column_int64(stmt, i));
    case SQLITE_FLOAT:
      return sqlite3_column_double(stmt, i);
    case SQLITE_NULL:
      return nullptr;
    default:
      return boost::json::value(boost::json::string(columnText(stmt, i)));
  }
}

}  // namespace

// The WHERE clause of a range walk. Order is (key columns, _id) with SQLite's
// NULL-first ordering, so "after the cursor" is spelled out column by column
// (a row-value comparison would drop NULL keys); the redundant `c1 >= v1`
// lets the planner seek instead of filtering from the start of the range.
struct SqliteStore::RangeQuery {
  std::string where;
  std::vector<boost::json::value> binds;

  void term(const std::string& sql) { where += " AND " + sql; }

  static Result<std::vector<boost::json::value>> keyOf(const Cursor& c, size_t columns) {
    std::vector<boost::json::value> key;
    if (c.key.empty() && columns == 0) return key;
    auto parsed = parseJson(c.key.empty() ? "[]" : c.key, "cursor key");
    if (!parsed.ok() || !parsed->is_array() || parsed->get_array().size() != columns)
      return Status(Code::kStore, "cursor key " + c.key + " does not fit the index (" +
                                      std::to_string(columns) +
                                      " key fields); run graft up --restart for this migration");
    for (auto& v : parsed->get_array()) key.push_back(v);
    return key;
  }

  std::string after(const std::vector<std::string>& cols, const std::vector<boost::json::value>& key,
                    int64_t id, size_t i) {
    if (i == cols.size()) {
      binds.emplace_back(id);
      return "_id > ?";
    }
    std::string gt;
    if (key[i].is_null()) {
      gt = cols[i] + " IS NOT NULL";
    } else {
      gt = cols[i] + " > ?";
      binds.push_back(key[i]);
    }
    std::string s = "(" + gt + " OR (" + cols[i] + " IS ?";
    binds.push_back(key[i]);
    return s + " AND " + after(cols, key, id, i + 1) + "))";
  }

  std::string upto(const std::vector<std::string>& cols, const std::vector<boost::json::value>& key,
                   int64_t id, size_t i) {
    if (i == cols.size()) {
      binds.emplace_back(id);
      return "_id <= ?";
    }
    std::string lt;
    if (key[i].is_null()) {
      lt = "0";
    } else {
      lt = "(" + cols[i] + " < ? OR " + cols[i] + " IS NULL)";
      binds.push_back(key[i]);
    }
    std::string s = "(" + lt + " OR (" + cols[i] + " IS ?";
    binds.push_back(key[i]);
    return s + " AND " + upto(cols, key, id, i + 1) + "))";
  }
};

Result<sqlite3_stmt*> SqliteStore::prepareRange(std::string_view table, const KeyRange& range,
                                                const Cursor& after, const Cursor* upto,
                                                int64_t limit, const char* head, bool ordered) {
  GRAFT_RETURN_IF_ERROR(needTable(table));
  if (range.eq.size() > range.fields.size())
    return Status(Code::kBadInput, "index " + range.index + ": more equalities than fields");
  std::vector<std::string> exprs;
  for (const auto& f : range.fields) exprs.push_back(indexFieldExpr(f));
  const std::vector<std::string> cols(exprs.begin() + static_cast<long>(range.eq.size()), exprs.end());

  RangeQuery q;
  for (size_t i = 0; i < range.eq.size(); ++i) {
    q.term(exprs[i] + " IS ?");
    q.binds.push_back(range.eq[i]);
  }
  if (!cols.empty() && range.lower) {
    q.term(cols[0] + (range.lower->inclusive ? " >= ?" : " > ?"));
    q.binds.push_back(range.lower->value);
  }
  if (!cols.empty() && range.upper) {
    q.term(cols[0] + (range.upper->inclusive ? " <= ?" : " < ?"));
    q.binds.push_back(range.upper->value);
  }
  if (after.id != 0 || !after.key.empty()) {
    auto key = RangeQuery::keyOf(after, cols.size());
    if (!key.ok()) return key.status();
    if (!cols.empty() && !(*key)[0].is_null()) {
      q.term(cols[0] + " >= ?");
      q.binds.push_back((*key)[0]);
    }
    q.term(q.after(cols, *key, after.id, 0));
  }
  if (upto) {
    auto key = RangeQuery::keyOf(*upto, cols.size());
    if (!key.ok()) return key.status();
    q.term(q.upto(cols, *key, upto->id, 0));
  }
  std::string sql = std::string(head);
  if (ordered)
    for (const auto& c : cols) sql += ", " + c;
  sql += " FROM " + quotedName(table) + " WHERE 1" + q.where;
  if (ordered) {
    sql += " ORDER BY ";
    for (const auto& c : cols) sql += c + ", ";
    sql += "_id LIMIT ?";
  }
  auto stmt = prepare(sql, "read index range");
  if (!stmt.ok()) return stmt.status();
  int i = 1;
  for (const auto& v : q.binds) bindKeyValue(*stmt, i++, v);
  if (ordered) sqlite3_bind_int64(*stmt, i, limit);
  return stmt;
}

Status SqliteStore::scanRange(std::string_view table, const KeyRange& range, const Cursor& after,
                              int64_t limit, std::vector<Document>* out, const Cursor* upto) {
  auto stmt =
      prepareRange(table, range, after, upto, limit, "SELECT _id, _creationTime, body", true);
  if (!stmt.ok()) return stmt.status();
  const int key_columns = static_cast<int>(range.fields.size() - range.eq.size());
  int rc;
  while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
    boost::json::array key;
    for (int c = 0; c < key_columns; ++c) key.push_back(keyValue(*stmt, 3 + c));
    out->push_back(Document{sqlite3_column_int64(*stmt, 0), sqlite3_column_double(*stmt, 1),
                            columnText(*stmt, 2), boost::json::serialize(key)});
  }
  return rc == SQLITE_DONE ? Status::Ok() : error(rc, "read index range of " + std::string(table));
}

Result<int64_t> SqliteStore::countRange(std::string_view table, const KeyRange& range,
                                        const Cursor& after) {
  auto stmt = prepareRange(table, range, after, nullptr, -1, "SELECT count(*)", false);
  if (!stmt.ok()) return stmt.status();
  ResetOnExit reset{*stmt};
  int rc = sqlite3_step(*stmt);
  if (rc != SQLITE_ROW) return error(rc, "count index range of " + std::string(table));
  return static_cast<int64_t>(sqlite3_column_int64(*stmt, 0));
}

Result<std::string> SqliteStore::describeRangePlan(std::string_view table, const KeyRange& range) {
  // The plan of a resumed batch: the cursor terms are part of it.
  Cursor somewhere{1, ""};
  if (range.fields.size() > range.eq.size()) {
    boost::json::array key;
    for (size_t i = range.eq.size(); i < range.fields.size(); ++i) key.emplace_back("");
    somewhere.key = boost::json::serialize(key);
  }
  auto stmt = prepareRange(table, range, somewhere, nullptr, 1,
                           "EXPLAIN QUERY PLAN SELECT _id, _creationTime, body", true);
  if (!stmt.ok()) return stmt.status();
  std::string plan;
  int rc;
  while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
    if (!plan.empty()) plan += "; ";
    plan += columnText(*stmt, 3);
  }
  if (rc != SQLITE_DONE) return error(rc, "explain index range of " + std::string(table));
  return plan;
}

// ---------------------------------------------------------------------------
// Schemas.

namespace {

std::string indexName(std::string_view table, std::string_view index) {
  return "graft_ix_" + std::string(table) + "_" + std::string(index);
}

// The CREATE INDEX of `index`, named `name`, on `table`.
std::string indexSql(const std::string& name, const std::string& table, const IndexDef& index) {
  std::string sql = "CREATE INDEX " + quotedName(name) + " ON " + quotedName(table) + " (";
  for (size_t i = 0; i < index.fields.size(); ++i)
    sql += (i ? ", " : "") + indexFieldExpr(index.fields[i]);
  sql += ")";
  return sql;
}

}  // namespace

// The schema in force is asked for on every ctx.db withIndex call: it reads
// one row, not every version's text.
Result<std::optional<SchemaRecord>> SqliteStore::loadSchema() {
  auto newest = readSchemas(1);
  if (!newest.ok()) return newest.status();
  if (newest->empty()) return std::optional<SchemaRecord>();
  return std::optional<SchemaRecord>(std::move(newest->front()));
}

Result<std::vector<SchemaRecord>> SqliteStore::loadSchemaHistory() { return readSchemas(-1); }

Result<std::vector<SchemaRecord>> SqliteStore::readSchemas(int64_t limit) {
  std::vector<SchemaRecord> records;
  auto has = hasTable("graft_schema");
  if (!has.ok()) return has.status();
  if (!*has) return records;
  auto stmt = prepare(
      "SELECT version, pushed_at, user, text FROM graft_schema ORDER BY version DESC LIMIT ?",
      "read graft_schema");
  if (!stmt.ok()) return stmt.status();
  sqlite3_bind_int64(*stmt, 1, limit);
  int rc;
  while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
    records.push_back({sqlite3_column_int64(*stmt, 0), columnText(*stmt, 1), columnText(*stmt, 2),
                       columnText(*stmt, 3)});
  }
  if (rc != SQLITE_DONE) return error(rc, "read graft_schema");
  return records;
}

Status SqliteStore::installSchema(const Schema& schema, const std::string& text,
                                  const std::string& user) {
  GRAFT_RETURN_IF_ERROR(exec(
      "CREATE TABLE IF NOT EXISTS graft_schema (version INTEGER PRIMARY KEY,"
      " pushed_at TEXT NOT NULL, user TEXT, text TEXT NOT NULL)",
      "create graft_schema"));
  known_tables_.clear();
  auto current = loadSchema();
  if (!current.ok()) return current.status();
  const int64_t version = *current ? (*current)->version + 1 : 1;

  // What the previous version installed: graft_schema_* triggers and
  // graft_ix_* indexes. Triggers always go (their messages name the
  // version); an index stays when its definition is unchanged, so pushing a
  // schema does not rebuild every index of a large table.
  std::vector<std::string> old_triggers;
  std::unordered_map<std::string, std::string> old_indexes;  // name -> sql
  GRAFT_RETURN_IF_ERROR(readSchemaObjects(&old_triggers, &old_indexes));
  for (const auto& name : old_triggers)
    GRAFT_RETURN_IF_ERROR(exec(("DROP TRIGGER " + quotedName(name)).c_str(), "drop schema trigger"));
  GRAFT_RETURN_IF_ERROR(installIndexes(schema, old_indexes));
  if (schema.validation) GRAFT_RETURN_IF_ERROR(installChecks(schema, version));
  return recordSchema(version, text, user);
}

Status SqliteStore::readSchemaObjects(std::vector<std::string>* triggers,
                                      std::unordered_map<std::string, std::string>* indexes) {
  auto stmt = prepare(
      "SELECT type, name, sql FROM sqlite_master WHERE (type = 'trigger' AND name LIKE "
      "'graft\\_schema\\_%' ESCAPE '\\') OR (type = 'index' AND name LIKE 'graft\\_ix\\_%' "
      "ESCAPE '\\')",
      "read schema objects");
  if (!stmt.ok()) return stmt.status();
  int rc;
  while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
    if (columnText(*stmt, 0) == "trigger")
      triggers->push_back(columnText(*stmt, 1));
    else
      (*indexes)[columnText(*stmt, 1)] = columnText(*stmt, 2);
  }
  if (rc != SQLITE_DONE) return error(rc, "read schema objects");
  return Status::Ok();
}

Status SqliteStore::installIndexes(
    const Schema& schema, const std::unordered_map<std::string, std::string>& old_indexes) {
  std::set<std::string> keep;
  for (const TableSchema& table : schema.tables) {
    // Not createTable(): the version in force may refuse a table this one declares.
    auto exists = hasTable(table.name);
    if (!exists.ok()) return exists.status();
    if (!*exists) GRAFT_RETURN_IF_ERROR(makeTable(table.name));
    for (const IndexDef& index : table.indexes) {
      const std::string name = indexName(table.name, index.name);
      const std::string sql = indexSql(name, table.name, index);
      auto old = old_indexes.find(name);
      if (old != old_indexes.end() && old->second == sql) {
        keep.insert(name);
        continue;
      }
      if (old != old_indexes.end())
        GRAFT_RETURN_IF_ERROR(exec(("DROP INDEX " + quotedName(name)).c_str(), "drop index"));
      GRAFT_RETURN_IF_ERROR(exec(sql.c_str(), ("create index " + name).c_str()));
      keep.insert(name);
    }
  }
  for (const auto& [name, sql] : old_indexes) {
    if (!keep.count(name))
      GRAFT_RETURN_IF_ERROR(exec(("DROP INDEX " + quotedName(name)).c_str(), "drop index"));
  }
  return Status::Ok();
}

Status SqliteStore::installChecks(const Schema& schema, int64_t version) {
  const std::string prefix = "schema v" + std::to_string(version) + ": ";
  auto trigger = [&](const std::string& table, const char* event, const std::string& body) {
    const std::string name = std::string("graft_schema_") + table + "_" +
                             (std::string(event) == "INSERT" ? "insert" : "update");
    const std::string sql = "CREATE TRIGGER " + quotedName(name) + " BEFORE " + event +
                            (std::string(event) == "INSERT" ? "" : " OF body") + " ON " +
                            quotedName(table) + " BEGIN " + body + " END";
    return exec(sql.c_str(), ("create trigger " + name).c_str());
  };
  for (const TableSchema& table : schema.tables) {
    std::string body;
    for (const auto& [check, message] : sqlFieldChecks(table, "NEW.body"))
      body += "SELECT RAISE(ABORT, " + sqlStringLiteral(prefix + message) + ") WHERE NOT (" +
              check + ");";
    if (body.empty()) continue;
    GRAFT_RETURN_IF_ERROR(trigger(table.name, "INSERT", body));
    GRAFT_RETURN_IF_ERROR(trigger(table.name, "UPDATE", body));
  }
  if (schema.allow_unknown_tables) return Status::Ok();
  auto names = tables();
  if (!names.ok()) return names.status();
  for (const auto& name : *names) {
    if (schema.find(name)) continue;
    const std::string body =
        "SELECT RAISE(ABORT, " +
        sqlStringLiteral(prefix + "table \"" + name +
                         "\" is not in the schema, which refuses unknown tables") +
        ");";
    GRAFT_RETURN_IF_ERROR(trigger(name, "INSERT", body));
    GRAFT_RETURN_IF_ERROR(trigger(name, "UPDATE", body));
  }
  return Status::Ok();
}

Status SqliteStore::recordSchema(int64_t version, const std::string& text,
                                 const std::string& user) {
  auto stmt = prepare("INSERT INTO graft_schema (version, pushed_at, user, text) VALUES (?, ?, ?, ?)",
                      "write graft_schema");
  if (!stmt.ok()) return stmt.status();
  sqlite3_bind_int64(*stmt, 1, version);
  bindText(*stmt, 2, utcNow());
  bindOptionalText(*stmt, 3, user);
  bindText(*stmt, 4, text);
  int rc = sqlite3_step(*stmt);
  return rc == SQLITE_DONE ? Status::Ok() : error(rc, "write graft_schema");
}

Status SqliteStore::setSchemaChecks(bool on) {
  int now = -1;
  int rc = sqlite3_db_config(db_, SQLITE_DBCONFIG_ENABLE_TRIGGER, on ? 1 : 0, &now);
  if (rc != SQLITE_OK) return error(rc, "switch schema checks");
  return Status::Ok();
}

// The pragma expires every prepared statement of this connection: each is
// compiled again, with or without the CHECK, when next used. So it runs only
// before a body is written, and only when the setting asked for differs from
// the one in force: a step that writes nothing (a run through many
// migrations that change nothing switches them off and on for each)
// compiles nothing again.
Status SqliteStore::setBodyChecks(bool on) {
  body_checks_wanted_ = on;
  return Status::Ok();
}

Status SqliteStore::applyBodyChecks() {
  if (body_checks_on_ == body_checks_wanted_) return Status::Ok();
  GRAFT_RETURN_IF_ERROR(exec(body_checks_wanted_ ? "PRAGMA ignore_check_constraints=OFF"
                                                 : "PRAGMA ignore_check_constraints=ON",
                             "switch body checks"));
  body_checks_on_ = body_checks_wanted_;
  return Status::Ok();
}

Status SqliteStore::schemaRefusal(std::string_view table, std::optional<int64_t> id,
                                  std::string_view body) {
  return graft::schemaRefusal(*this, table, id, body, sqlite3_errmsg(db_));
}

}  // namespace graft
