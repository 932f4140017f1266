// store.h -- the document store the runner works against.
//
// The runner and the command line only see this interface, and open a
// store with openStore (open_store.h), so that another backend (PostgreSQL)
// can stand beside SQLite without touching them. The interface says what a
// run needs (a batch transaction that may defer durability, a
// compare-and-set write of a span, an opaque range cursor, a description of
// a range's plan); how a backend does it (WAL, pragmas, triggers) is its
// own. tests/unit/store_conformance_test.cpp holds every backend to it.
//
// Documents: JSON objects in named tables. Each has an _id (int64, assigned
// by the store, increasing, never reused) and a _creationTime (float64, ms
// since the Unix epoch). `body` is the document's JSON text without those two.
//
// Transactions: begin()/commit()/rollback() bracket one write transaction;
// every write made in between (documents and migration state) commits or
// rolls back together. That is the whole exactly-once mechanism of the runner.
//
// Thread-safety: a Store is used by one thread at a time.
#ifndef GRAFT_HOST_STORE_STORE_H_
#define GRAFT_HOST_STORE_STORE_H_

#include <boost/json/value.hpp>

#include <cstdint>
#include <climits>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace graft {

struct Schema;

// The version of the layout of graft's own tables (migration_state,
// migration_run, graft_lease, ...), which every backend keeps in its store.
// A store of a newer format is refused.
inline constexpr int kStoreFormatVersion = 1;

struct Document {
  int64_t id = 0;
  double creation_time = 0;
  std::string body;  // JSON object text, without _id and _creationTime
  // Read through a KeyRange only: where the document stands in the range's
  // order, after the range's equality prefix; the backend's own text (see
  // Cursor).
  std::string key;
};

// A range over a declared index (schema.h) of one table: documents whose
// fields[0..eq.size()) equal `eq`, and whose next field lies within
// lower/upper, visited in (index key, _id) order.
struct KeyRange {
  std::string index;                   // declared name, for messages
  std::vector<std::string> fields;     // the index's field paths
  std::vector<boost::json::value> eq;  // a prefix of fields; null matches null and absent
  struct Bound {
    boost::json::value value;
    bool inclusive = false;
  };
  std::optional<Bound> lower, upper;  // on fields[eq.size()], if any
};

// Where a walk over a table stands: after the document with this _id and,
// in index order, this key (Document::key). The default is the start.
// The key is opaque: the backend that read it owns its form, and the runner
// only keeps it (MigrationState::cursor_key) and hands it back, to the same
// KeyRange of the same store.
struct Cursor {
  int64_t id = 0;
  std::string key;  // "" in _id order
};

// One document of a batch read in _id order, for Store::writeSpan: its
// _id, its body as it was read, and the body to write (nullptr: none).
struct SpanWrite {
  int64_t id = 0;
  std::string_view seen;
  const std::string* body = nullptr;
};

// One recorded schema version (graft schema push).
struct SchemaRecord {
  int64_t version = 0;
  std::string pushed_at;  // ISO 8601 UTC
  std::string user;
  std::string text;       // the canonical schema JSON (schemaJson)
};

// The document as a plugin and `graft export` see it:
// {"_id":..,"_creationTime":..,<body's fields>}.
std::string documentJson(const Document& doc);

struct QuerySpec {
  // Top-level field equals a JSON value: same JSON type and value
  // (1 and 1.0 differ, as int64 and float64 do in a schema).
  std::vector<std::pair<std::string, boost::json::value>> equals;
  std::optional<int64_t> after_id;  // only _id > after_id
  int64_t limit = -1;               // < 0: no limit
};

// Where a migration stands (migration_state.status). Text only at the
// store's boundary and in output: stepStatusName, parseStepStatus.
enum class StepStatus { kPending, kRunning, kCompleted, kFailed, kCanceled, kRolledBack };

// Which step of a migration ran last (migration_state.direction).
enum class Direction { kUp, kDown };

// How a run stands or ended (migration_run.status and RunReport::status).
// kDriftBlocked and kAbandoned are only recorded: a run that drift blocks
// returns the finding, and an abandoned run is closed by the run after it.
enum class RunStatus {
  kRunning,
  kCompleted,
  kNoop,
  kFailed,
  kCanceled,
  kDryRun,
  kDriftBlocked,
  kAbandoned,
};

// The words the store keeps and output shows: "pending", "rolled_back";
// "up", "down"; "running", "dry_run", "drift_blocked".
const char* stepStatusName(StepStatus status);
const char* directionName(Direction direction);
const char* runStatusName(RunStatus status);
// The value a word names; none for a word this graft does not know.
std::optional<StepStatus> parseStepStatus(std::string_view text);
std::optional<Direction> parseDirection(std::string_view text);
std::optional<RunStatus> parseRunStatus(std::string_view text);
// A word this graft does not know, in a row of one of graft's own tables: a
// newer graft wrote it, or something else did. For every backend's reader.
Status unknownWord(std::string_view table, std::string_view row, std::string_view column,
                   std::string_view word);

// One row of migration_state.
struct MigrationState {
  std::string id;
  // The SHA-256 of the plugin file it last ran with (the `checksum` column,
  // named before graft called it file_sha256 everywhere else).
  std::string file_sha256;
  std::string logic_digest;  // the plugin's logic digest when it last ran, "" if none
  StepStatus status = StepStatus::kPending;
  Direction direction = Direction::kUp;
  int64_t cursor = 0;     // last _id processed; 0 before the first batch
  std::string cursor_key;  // with a customRange: that document's index key
  int64_t processed = 0;  // documents visited
  int64_t changed = 0;    // documents patched
  // processed + the documents left when the latest run of it started: what
  // progress is measured against (documents inserted later are not in it).
  // 0 when unknown (written by a graft before this field).
  int64_t total = 0;
  std::string started_at, updated_at, completed_at;  // ISO 8601 UTC, "" if none
  std::string error;
  std::optional<int64_t> error_doc_id;
  std::string run_id;
  // Its up pass began while a migration after it in the manifest was
  // applied already (let through as out of order): that it was applied
  // later than that one is no reorder of the manifest.
  bool out_of_order = false;
};

// One row of migration_run.
struct RunRecord {
  std::string run_id;
  RunStatus status = RunStatus::kRunning;
  std::string command;
  std::string started_at, ended_at;
  int64_t migrations = 0;  // migrations finished in this run
  int64_t processed = 0;
  int64_t changed = 0;
  std::string error;
  std::string host;
  int64_t pid = 0;
  std::string user;  // who ran it: the OS user name
};

// The row that says who is running migrations on this store (at most one).
struct Lease {
  std::string run_id;
  std::string host;
  int64_t pid = 0;
  std::string started_at;
  int64_t heartbeat_ms = 0;  // Unix ms of the holder's last heartbeat
  bool cancel_requested = false;
};

// How to open a store, whatever its backend (open_store.h).
struct StoreOptions {
  bool create = false;     // create the store if it does not exist
  bool read_only = false;  // open without writing anything (status, export)
  // How long a write waits for another client's lock before it fails.
  int lock_wait_ms = 5000;
};

class Store {
 public:
  virtual ~Store() = default;

  // Write transactions. REQUIRES: no transaction open for begin(); one open
  // for commit() and rollback().
  virtual Status begin() = 0;
  virtual Status commit() = 0;
  virtual Status rollback() = 0;
  // Begins like begin(), but the commit of this transaction may defer its
  // durability to a later one: a crash of the process loses nothing, a power
  // loss may undo this commit together with every later one (never a part
  // of one, never an earlier one without the later ones). The next commit of
  // a begin() transaction makes it durable too. For the runner's batches.
  virtual Status beginBatch() = 0;
  // The runner calls it between two batches, outside any transaction: the
  // write lock is free until the next one, so the backend may do its
  // upkeep now (SQLite: a WAL checkpoint). Best effort, cheap when there is
  // nothing to do, possibly handed to a thread of the store's own.
  virtual void betweenBatches() = 0;
  // Returns once no thread of the store's own runs any more (work it only
  // had planned is dropped; betweenBatches() starts again when needed). The
  // runner calls it when a run ends: an application that embeds the host
  // may fork after up().
  virtual void stopBackgroundWork() = 0;
  // An opaque mark of the writes other clients have committed: two equal
  // marks mean no other client (connection, process) committed a write
  // between the two reads. This store's own commits need not change it. A
  // backend that can not tell returns a new mark each time, which is always
  // correct (the runner then reads a range batch again) and only slower.
  virtual Result<int64_t> othersCommitMark() = 0;
  // What a write transaction locks, for the pacer (run/pacer.h): the whole
  // store, with waiting writers that poll for it (SQLite), or only the rows
  // it writes, with waiters queued and woken (PostgreSQL).
  enum class WriteLocking { kWholeStore, kRows };
  virtual WriteLocking writeLocking() const = 0;

  // Document tables.
  virtual Result<std::vector<std::string>> tables() = 0;
  virtual Result<bool> hasTable(std::string_view table) = 0;
  virtual Status createTable(std::string_view table) = 0;  // no-op if it exists
  virtual Result<int64_t> count(std::string_view table, int64_t after_id) = 0;

  // Up to `limit` documents with after_id < _id <= upto_id, in _id order.
  virtual Status scan(std::string_view table, int64_t after_id, int64_t limit,
                      std::vector<Document>* out, int64_t upto_id = INT64_MAX) = 0;
  // Calls `fn` for each document in _id order until it returns false.
  virtual Status forEach(std::string_view table,
                         const std::function<bool(const Document&)>& fn) = 0;
  // The same over a KeyRange, in (key, _id) order: up to `limit` documents
  // after `after` and not after `*upto` (when given), each with its key.
  virtual Status scanRange(std::string_view table, const KeyRange& range, const Cursor& after,
                           int64_t limit, std::vector<Document>* out,
                           const Cursor* upto = nullptr) = 0;
  virtual Result<int64_t> countRange(std::string_view table, const KeyRange& range,
                                     const Cursor& after) = 0;
  // How the store walks the range, for humans (a dry run shows it): one
  // line in the backend's own words, such as its query plan.
  virtual Result<std::string> describeRangePlan(std::string_view table, const KeyRange& range) = 0;
  virtual Result<std::optional<Document>> get(std::string_view table, int64_t id) = 0;
  virtual Status query(std::string_view table, const QuerySpec& spec,
                       std::vector<Document>* out) = 0;
  virtual Result<int64_t> insert(std::string_view table, std::string_view body) = 0;
  // Sets the body of an existing document; false if there is none.
  virtual Result<bool> update(std::string_view table, int64_t id, std::string_view body) = 0;
  virtual Result<bool> remove(std::string_view table, int64_t id) = 0;
  // Writes a batch read in _id order back in one pass over the span it
  // covers: after_id < _id <= docs.back().id. REQUIRES: `docs` non-empty, in
  // increasing _id order, within the span. A document whose body is still
  // `seen` gets `body` (if it has one); every other document now in the
  // span -- changed since it was read, or not in `docs` at all -- is left as
  // it is and its _id added to `*differs`, in _id order. A document of
  // `docs` that is gone is skipped. Returns how many documents were written.
  virtual Result<int64_t> writeSpan(std::string_view table, int64_t after_id,
                                    std::span<const SpanWrite> docs,
                                    std::vector<int64_t>* differs) = 0;

  // Migration state and history.
  virtual Result<std::optional<MigrationState>> loadState(std::string_view id) = 0;
  virtual Result<std::vector<MigrationState>> loadStates() = 0;
  virtual Status saveState(const MigrationState& state) = 0;
  virtual Status saveRun(const RunRecord& run) = 0;  // insert or replace
  virtual Result<std::vector<RunRecord>> loadRuns(int64_t limit) = 0;

  // The run lease (see lease.h for the policy). saveLease inserts or
  // replaces; deleteLease removes it only if `run_id` still holds it.
  virtual Result<std::optional<Lease>> loadLease() = 0;
  virtual Status saveLease(const Lease& lease) = 0;
  virtual Status deleteLease(const std::string& run_id) = 0;
  // Sets heartbeat_ms if `run_id` holds the lease, and says whether it still
  // does and whether someone asked it to cancel.
  struct Heartbeat {
    bool held = false;
    bool cancel_requested = false;
  };
  virtual Result<Heartbeat> heartbeat(const std::string& run_id, int64_t now_ms) = 0;
  // Marks the current lease canceled; false when no run holds it.
  virtual Result<bool> requestCancel() = 0;

  // Schemas (schema.h). The one in force is the newest version.
  virtual Result<std::optional<SchemaRecord>> loadSchema() = 0;
  virtual Result<std::vector<SchemaRecord>> loadSchemaHistory() = 0;
  // Inside a transaction: records `schema` (canonical text `text`) as the
  // next version and makes the store enforce it from then on, for every
  // client: checks on each write of a declared table when validation is on,
  // the indexes behind its declared indexes (a previous version's that it no
  // longer declares are dropped). The caller has checked the data first.
  virtual Status installSchema(const Schema& schema, const std::string& text,
                               const std::string& user) = 0;
  // Off: this store's writes skip the schema's checks (write mode
  // safe_bypass) until it is turned on again; they must, a backend can not
  // decline. Other clients are unaffected.
  virtual Status setSchemaChecks(bool on) = 0;
  // Off: the caller vouches that each body this store writes is a JSON
  // object without _id or _creationTime, until it is turned on again, and
  // the store may skip its own check of that (the schema's checks still
  // run); a backend that can not skip it checks anyway. For a migration
  // pass, whose bodies graft builds from checked parts and checks itself
  // (see the runner): checking each again costs time under the write lock.
  virtual Status setBodyChecks(bool on) = 0;
};

// Runs `body` (which writes through `store` and returns a Status) in a
// transaction of its own: committed if it returns ok, rolled back if not.
template <class F>
Status inTransaction(Store& store, F&& body) {
  GRAFT_RETURN_IF_ERROR(store.begin());
  Status s = body();
  if (!s.ok()) {
    (void)store.rollback();
    return s;
  }
  return store.commit();
}

// True for names graft keeps for itself: migration_*, graft_*, sqlite_*.
bool isReservedTable(std::string_view table);
// Reserved names fail, and so does anything but [A-Za-z_][A-Za-z0-9_]{0,63};
// the message names the table and says why.
Status checkTableName(std::string_view table);

}  // namespace graft

#endif  // GRAFT_HOST_STORE_STORE_H_
