// sqlite_store.h -- the Store on one SQLite file.
//
// On-disk format (documented for other SQLite clients in doc/store-format.md):
//   one table per document table:
//     CREATE TABLE "<name>" (_id INTEGER PRIMARY KEY AUTOINCREMENT,
//                            _creationTime REAL NOT NULL DEFAULT <now, whole ms>,
//                            body TEXT NOT NULL CHECK (<a JSON object
//                                 without _id or _creationTime>))
//   AUTOINCREMENT is what keeps an _id from ever being reused.
//   migration_state, migration_run: the runner's state and history;
//   graft_meta: key/value, "format" = the on-disk format version;
//   graft_lease: at most one row, the run that holds the store.
// The connection runs in WAL mode with a busy timeout, so an application can
// read and write the file while a migration runs.
//
// How it meets the Store's contract:
//   beginBatch: synchronous=NORMAL until the transaction ends (the WAL is
//     synced by the next FULL commit or checkpoint);
//   betweenBatches: a WAL checkpoint, on a thread and connection of its
//     own, once the WAL is past a threshold; stopBackgroundWork ends that
//     thread;
//   othersCommitMark: PRAGMA data_version;
//   setSchemaChecks: the graft_schema_* triggers, switched for this
//     connection (SQLITE_DBCONFIG_ENABLE_TRIGGER);
//   setBodyChecks: the table's CHECK, through ignore_check_constraints, set
//     before the next write of a body;
//   a range's key (Cursor::key): the document's index fields after the
//     equality prefix, as a JSON array;
//   describeRangePlan: EXPLAIN QUERY PLAN of a resumed batch's SELECT.
#ifndef GRAFT_HOST_STORE_SQLITE_STORE_H_
#define GRAFT_HOST_STORE_SQLITE_STORE_H_

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>

#include "store/checkpointer.h"
#include "store/store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace graft {

class SqliteStore final : public Store {
 public:
  // Errors are kStore: "database <path>: <what> (<hint>)". Outside
  // host/store/ a store is opened with openStore (open_store.h).
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path,
                                                   const StoreOptions& options);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  const std::string& path() const { return path_; }
  // What the store's busy handler keeps between its calls.
  struct BusyWait {
    int timeout_ms = 0;
    std::chrono::steady_clock::time_point started;
  };
  // What writeSpan's statement shows its two SQL functions, graft_span_keep
  // and graft_span_body, while it steps (see sqlite_store.cpp).
  struct SpanState {
    std::string table;
    sqlite3_stmt* update = nullptr;
    std::span<const SpanWrite> docs;
    size_t next = 0;  // where the search for the next _id starts
    std::vector<int64_t>* differs = nullptr;
    int64_t last_written = 0;  // the _id graft_span_body gave a body last
  };
  sqlite3* handle() { return db_; }  // for tests and tools

  Status begin() override;
  Status commit() override;
  // After a write that found no room (disk full, file size limit), also
  // checkpoints and truncates the WAL, so that there is room to record the
  // failure.
  Status rollback() override;
  Status beginBatch() override;
  // Checkpoints the WAL when this connection's last commit left it past a
  // threshold; on a thread and connection of its own (see sqlite_store.cpp).
  void betweenBatches() override;
  // Stops the checkpoint thread once a checkpoint it is running has
  // finished (one only requested is dropped: the next commit past the
  // threshold checkpoints).
  void stopBackgroundWork() override;
  // Returns once a checkpoint betweenBatches() started has ended.
  void finishCheckpoint();
  Result<int64_t> othersCommitMark() override;
  WriteLocking writeLocking() const override { return WriteLocking::kWholeStore; }

  Result<std::vector<std::string>> tables() override;
  Result<bool> hasTable(std::string_view table) override;
  Status createTable(std::string_view table) override;
  Result<int64_t> count(std::string_view table, int64_t after_id) override;

  Status scan(std::string_view table, int64_t after_id, int64_t limit,
              std::vector<Document>* out, int64_t upto_id = INT64_MAX) override;
  Status forEach(std::string_view table, const std::function<bool(const Document&)>& fn) override;
  Result<std::optional<Document>> get(std::string_view table, int64_t id) override;
  Status query(std::string_view table, const QuerySpec& spec, std::vector<Document>* out) override;
  Result<int64_t> insert(std::string_view table, std::string_view body) override;
  Result<bool> update(std::string_view table, int64_t id, std::string_view body) override;
  Result<bool> remove(std::string_view table, int64_t id) override;
  Result<int64_t> writeSpan(std::string_view table, int64_t after_id,
                            std::span<const SpanWrite> docs,
                            std::vector<int64_t>* differs) override;

  Result<std::optional<MigrationState>> loadState(std::string_view id) override;
  Result<std::vector<MigrationState>> loadStates() override;
  Status saveState(const MigrationState& state) override;
  Status saveRun(const RunRecord& run) override;
  Result<std::vector<RunRecord>> loadRuns(int64_t limit) override;

  Result<std::optional<Lease>> loadLease() override;
  Status saveLease(const Lease& lease) override;
  Status deleteLease(const std::string& run_id) override;
  Result<Heartbeat> heartbeat(const std::string& run_id, int64_t now_ms) override;
  Result<bool> requestCancel() override;

  Status scanRange(std::string_view table, const KeyRange& range, const Cursor& after,
                   int64_t limit, std::vector<Document>* out,
                   const Cursor* upto = nullptr) override;
  Result<int64_t> countRange(std::string_view table, const KeyRange& range,
                             const Cursor& after) override;
  Result<std::string> describeRangePlan(std::string_view table, const KeyRange& range) override;

  Result<std::optional<SchemaRecord>> loadSchema() override;
  Result<std::vector<SchemaRecord>> loadSchemaHistory() override;
  Status installSchema(const Schema& schema, const std::string& text,
                       const std::string& user) override;
  Status setSchemaChecks(bool on) override;
  Status setBodyChecks(bool on) override;

 private:
  SqliteStore(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}

  Status initialize(const StoreOptions& options);
  // The phases of initialize().
  // kStore when graft_meta names a newer store format than this graft's.
  Status checkFormat();
  // For a read-only connection: which of graft's tables and columns the
  // store has (an older graft's store may lack some).
  Status readStateColumns();
  // WAL, the sync level and writeSpan's SQL functions.
  Status prepareForWriting();
  // Graft's tables, created when one is missing, and the columns an older
  // graft's store lacks.
  Status createGraftTables();
  // Whether the connection can read the schema (the file's first read).
  bool canRead();
  // Recorded schema versions, newest first; limit < 0: all.
  Result<std::vector<SchemaRecord>> readSchemas(int64_t limit);
  // The phases of installSchema().
  // The graft_schema_* triggers and graft_ix_* indexes (name -> sql) the
  // version in force installed.
  Status readSchemaObjects(std::vector<std::string>* triggers,
                           std::unordered_map<std::string, std::string>* indexes);
  // Each declared table and its indexes, keeping an index of `old_indexes`
  // whose definition is unchanged and dropping the rest of them.
  Status installIndexes(const Schema& schema,
                        const std::unordered_map<std::string, std::string>& old_indexes);
  // The triggers that refuse what schema `version` does not allow.
  Status installChecks(const Schema& schema, int64_t version);
  Status recordSchema(int64_t version, const std::string& text, const std::string& user);
  // CREATE TABLE with the document table's columns. REQUIRES: absent.
  Status makeTable(std::string_view table);
  Result<bool> hasColumn(const char* table, const char* column);
  Result<std::vector<std::string>> columnsOf(std::string_view table);
  // kStore unless `table` has the columns of a document table.
  Status checkDocumentTable(std::string_view table);
  // kStore when a file without graft_meta holds a table that is not a
  // document table: another application's database.
  Status refuseForeignFile();
  Status addMissingStateColumns();
  std::string stateColumns() const;
  // A write the schema's triggers refused, as a kSchema naming the
  // document, the field and (from the C++ validator) the reason.
  Status schemaRefusal(std::string_view table, std::optional<int64_t> id, std::string_view body);
  // The SELECT and its bindings for a KeyRange walk (see scanRange).
  struct RangeQuery;
  Result<sqlite3_stmt*> prepareRange(std::string_view table, const KeyRange& range,
                                     const Cursor& after, const Cursor* upto, int64_t limit,
                                     const char* head, bool ordered);
  // Sets ignore_check_constraints as setBodyChecks() last asked, if it
  // is not so already (see sqlite_store.cpp).
  Status applyBodyChecks();
  Status exec(const char* sql, const char* what);
  Status endLazyTransaction();
  static int onWalCommit(void* store, sqlite3* db, const char* name, int frames);
  // A cached prepared statement, reset and with bindings cleared.
  Result<sqlite3_stmt*> prepare(const std::string& sql, const char* what);
  Status error(int rc, const std::string& what) const;
  // True when one of the store's files (the database, its WAL, its journal)
  // is as large as RLIMIT_FSIZE allows; remembers which in reached_limit_file_.
  bool reachedFileSizeLimit() const;
  Status needTable(std::string_view table);
  // The statement update() runs for `table`, reset. Looked up once per
  // table: a pass writes one document at a time, under the write lock, and
  // composing and hashing the SQL text each time made every write longer
  // (figures: doc/performance.md).
  Result<sqlite3_stmt*> bodyWriter(std::string_view table);
  Status readDocuments(sqlite3_stmt* stmt, std::vector<Document>* out, const char* what);

  std::string path_;
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
  // Tables known to exist; names compared without case, as SQLite does.
  struct NoCaseLess {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const;
  };
  std::set<std::string, NoCaseLess> known_tables_;
  // bodyWriter's statement for the table it was asked for last (owned by
  // statements_).
  struct BodyWriter {
    std::string table;
    sqlite3_stmt* update = nullptr;
  } body_writer_;
  // writeSpan's statement for the table it was asked for last (owned by
  // statements_), and what its SQL functions see while it steps.
  SpanState span_;
  bool has_state_tables_ = false;
  bool has_cursor_key_ = false;
  bool has_total_ = false;
  bool has_out_of_order_ = false;
  // Set by error() when a write found no room; rollback() then checkpoints.
  mutable bool out_of_space_ = false;
  mutable std::string reached_limit_file_;
  BusyWait busy_wait_;
  int wal_frames_ = 0;  // frames in the WAL after this connection's last commit
  int checkpoint_asked_at_ = 0;     // wal_frames_ when betweenBatches() last checkpointed
  bool body_checks_wanted_ = true;  // as setBodyChecks() last asked
  bool body_checks_on_ = true;      // as ignore_check_constraints now is
  bool lazy_transaction_ = false;  // opened by beginBatch(): synchronous is NORMAL until it ends
  // Started by the first betweenBatches() that is due.
  std::unique_ptr<WalCheckpointer> checkpointer_;
  bool checkpointer_unavailable_ = false;  // its connection could not open
};

}  // namespace graft

#endif  // GRAFT_HOST_STORE_SQLITE_STORE_H_
