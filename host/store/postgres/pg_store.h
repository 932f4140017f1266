// pg_store.h -- the Store on a PostgreSQL database, through libpq.
//
// Layout (documented for the application in the README, "PostgreSQL"),
// in the connection's current schema:
//   one table per document table:
//     CREATE TABLE "<name>" (_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
//                            "_creationTime" double precision NOT NULL DEFAULT <now, whole ms>,
//                            body jsonb NOT NULL CHECK (<an object without _id or
//                                 _creationTime>))
//   A sequence never hands a value out twice, so an _id is never reused.
//   migration_state, migration_run, graft_meta, graft_lease: as on SQLite
//   (sqlite_store.h), the same columns in PostgreSQL's types.
// A body is jsonb: pg_json.h says what graft writes and reads so that it
// means the same after a round trip.
//
// How it meets the Store's contract:
//   transactions: BEGIN with SET LOCAL lock_timeout (StoreOptions::lock_wait_ms);
//     nothing is set for the session, so a pooler in transaction mode works;
//   beginBatch: SET LOCAL synchronous_commit = off (the server's WAL keeps
//     commits in order, and the next synchronous commit flushes the earlier);
//   ids that commit out of order: a sequence hands _ids out in order, but
//     a transaction that took a lower one may commit after one that took a
//     higher; a batch read in _id order would pass it for good. So scan()
//     waits, after its read, for the transactions that then held writes on
//     the table (as CREATE INDEX CONCURRENTLY does) and reads the span
//     again if there were any;
//   writeSpan: the span's rows read FOR UPDATE and compared with what was
//     read, then one UPDATE of the unchanged ones;
//   othersCommitMark: a hash of the server's snapshot (pg_current_snapshot);
//   the lease: its heartbeat is the server's clock (clock_timestamp()),
//     so hosts whose clocks disagree agree on its age; taking it is a
//     compare-and-set on its row.
#ifndef GRAFT_HOST_STORE_POSTGRES_PG_STORE_H_
#define GRAFT_HOST_STORE_POSTGRES_PG_STORE_H_

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/postgres/pg_conn.h"
#include "store/store.h"

namespace graft {

class PgStore : public Store {
 public:
  // Errors are kStore: "database <db> at <host>:<port>: <what> (<hint>)".
  // Outside host/store/ a store is opened with openStore (open_store.h).
  static Result<std::unique_ptr<PgStore>> open(const std::string& url, const StoreOptions& options);

  Status begin() override;
  Status commit() override;
  Status rollback() override;
  Status beginBatch() override;
  void betweenBatches() override {}
  void stopBackgroundWork() override {}
  Result<int64_t> othersCommitMark() override;
  WriteLocking writeLocking() const override { return WriteLocking::kRows; }

  Result<std::vector<std::string>> tables() override;
  Result<bool> hasTable(std::string_view table) override;
  Status createTable(std::string_view table) override;
  Result<int64_t> count(std::string_view table, int64_t after_id) override;
  Status scan(std::string_view table, int64_t after_id, int64_t limit, std::vector<Document>* out,
              int64_t upto_id = INT64_MAX) override;
  Status forEach(std::string_view table, const std::function<bool(const Document&)>& fn) override;
  Status scanRange(std::string_view table, const KeyRange& range, const Cursor& after,
                   int64_t limit, std::vector<Document>* out,
                   const Cursor* upto = nullptr) override;
  Result<int64_t> countRange(std::string_view table, const KeyRange& range,
                             const Cursor& after) override;
  Result<std::string> describeRangePlan(std::string_view table, const KeyRange& range) override;
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

  Result<std::optional<SchemaRecord>> loadSchema() override;
  Result<std::vector<SchemaRecord>> loadSchemaHistory() override;
  Status installSchema(const Schema& schema, const std::string& text,
                       const std::string& user) override;
  Status setSchemaChecks(bool on) override;
  Status setBodyChecks(bool) override { return Status::Ok(); }  // the CHECK always runs

 private:
  PgStore(std::unique_ptr<PgConn> conn, const StoreOptions& options);
  Status initialize(const StoreOptions& options);
  Status beginWith(const std::string& more);
  void setInTransaction(bool open);
  Status checkFormat();
  Status refuseForeignDatabase();
  Status createGraftTables();
  Status checkDocumentTable(std::string_view table);
  Status needTable(std::string_view table);
  Status makeTable(std::string_view table);
  // The documents `sql` selects (_id, _creationTime, body), and with
  // `versions` each row's fourth column, its xmin.
  Result<std::vector<Document>> readDocuments(const std::string& sql,
                                              const std::vector<PgParam>& params,
                                              std::string_view what,
                                              std::vector<std::string>* versions = nullptr);
  // Waits until the transactions that hold writes on `table` now have
  // ended; says whether there were any.
  Result<bool> waitForWriters(std::string_view table);
  Status error(const std::string& what) const;
  // The SELECT of a range's documents with their key columns (pg_store.cpp,
  // "Index ranges"), and its order.
  Result<std::string> rangeSql(std::string_view table, const KeyRange& range, const Cursor& after,
                               const Cursor* upto, std::vector<PgParam>* params);
  static std::string rangeOrder(const KeyRange& range);
  Result<std::vector<SchemaRecord>> readSchemas(int64_t limit);
  Status installIndexes(const Schema& schema);
  Status installChecks(const Schema& schema, int64_t version);
  // A document write: in a transaction of its own when the schema's checks
  // are off and none is open (they are switched off per transaction), and
  // a refusal by the schema's checks as schemaRefusal's message.
  Result<PgResult> write(const std::string& sql, const std::vector<PgParam>& params,
                         const std::string& what, std::string_view table, std::optional<int64_t> id,
                         std::string_view body);
  Status spanRefusal(std::string_view table, std::span<const SpanWrite> docs,
                     const std::string& says);

  std::unique_ptr<PgConn> conn_;
  std::string begin_sql_;
  int lock_wait_ms_ = 0;
  bool in_transaction_ = false;
  bool schema_checks_ = true;
  std::set<std::string, std::less<>> known_tables_;
  // What loadLease() found, for saveLease's compare-and-set: none, or the
  // run that held it.
  std::optional<std::string> loaded_lease_;
  bool lease_loaded_ = false;
  // The batch scan() read last: each row's version (xmin) and body.
  struct ReadRow {
    std::string version;
    std::string body;
  };
  struct {
    std::string table;
    std::unordered_map<int64_t, ReadRow> rows;
  } read_;
};

}  // namespace graft

#endif  // GRAFT_HOST_STORE_POSTGRES_PG_STORE_H_
