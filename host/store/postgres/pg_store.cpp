#include "store/postgres/pg_store.h"

#include <unistd.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <map>

#include "base/clock.h"
#include "base/json_text.h"
#include "schema/schema.h"
#include "store/postgres/pg_json.h"
#include "store/postgres/pg_schema.h"
#include "store/schema_refusal.h"

namespace graft {
namespace {

std::string quotedName(std::string_view table) {
  // checkTableName() admits only [A-Za-z0-9_], so quoting never needs escaping.
  return "\"" + std::string(table) + "\"";
}

std::string number(int64_t n) { return std::to_string(n); }

PgParam optionalText(const std::string& text) { return text.empty() ? PgParam() : PgParam(text); }

std::string textOf(const PgResult& r, int row, int column) {
  return r.isNull(row, column) ? std::string() : std::string(r.text(row, column));
}

// The server's clock, in Unix ms: what a lease's heartbeat is measured by.
constexpr const char* kServerNowMs = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

int64_t localNowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

constexpr const char* kStateColumns =
    "id, checksum, status, direction, cursor, processed, changed, started_at, updated_at,"
    " completed_at, error, error_doc_id, run_id, logic_digest, cursor_key, total, out_of_order";

constexpr const char* kGraftTables =
    "CREATE TABLE IF NOT EXISTS graft_meta (key text PRIMARY KEY, value text NOT NULL);"
    "INSERT INTO graft_meta (key, value) VALUES ('format', '1') ON CONFLICT DO NOTHING;"
    "CREATE TABLE IF NOT EXISTS migration_state ("
    "  id text PRIMARY KEY, checksum text NOT NULL, logic_digest text, status text NOT NULL,"
    "  direction text NOT NULL DEFAULT 'up', cursor bigint NOT NULL DEFAULT 0,"
    "  processed bigint NOT NULL DEFAULT 0, changed bigint NOT NULL DEFAULT 0,"
    "  started_at text, updated_at text, completed_at text, error text,"
    "  error_doc_id bigint, run_id text, cursor_key text, total bigint NOT NULL DEFAULT 0,"
    "  out_of_order boolean NOT NULL DEFAULT false);"
    "CREATE TABLE IF NOT EXISTS migration_run ("
    "  run_id text PRIMARY KEY, status text NOT NULL, command text NOT NULL,"
    "  started_at text NOT NULL, ended_at text, migrations bigint NOT NULL DEFAULT 0,"
    "  processed bigint NOT NULL DEFAULT 0, changed bigint NOT NULL DEFAULT 0,"
    "  error text, host text, pid bigint, \"user\" text);"
    "CREATE TABLE IF NOT EXISTS graft_lease ("
    "  name text PRIMARY KEY CHECK (name = 'run'), run_id text NOT NULL, host text NOT NULL,"
    "  pid bigint NOT NULL, started_at text NOT NULL, heartbeat_ms bigint NOT NULL,"
    "  cancel_requested boolean NOT NULL DEFAULT false);";

// The SQLSTATE graft's schema checks raise (installChecks).
constexpr const char* kSchemaState = "GS001";

// Serializes the creation of graft's tables by several hosts at once: a
// lock for the transaction only (a pooler may hand the session to another).
constexpr const char* kCreationLock = "SELECT pg_advisory_xact_lock(7350411011)";

}  // namespace

PgStore::PgStore(std::unique_ptr<PgConn> conn, const StoreOptions& options)
    : conn_(std::move(conn)) {
  begin_sql_ = "BEGIN; SET LOCAL lock_timeout = '" + number(options.lock_wait_ms) + "ms'";
  lock_wait_ms_ = options.lock_wait_ms;
}

Result<std::unique_ptr<PgStore>> PgStore::open(const std::string& url,
                                               const StoreOptions& options) {
  auto conn = PgConn::connect(url);
  if (!conn.ok()) return conn.status();
  std::unique_ptr<PgStore> store(new PgStore(std::move(conn).value(), options));
  GRAFT_RETURN_IF_ERROR(store->initialize(options));
  return store;
}

void PgStore::setInTransaction(bool open) {
  in_transaction_ = open;
  conn_->setInTransaction(open);
}

Status PgStore::error(const std::string& what) const {
  return Status(Code::kStore, "database " + conn_->where() + ": " + what);
}

Status PgStore::initialize(const StoreOptions& options) {
  auto has_meta = hasTable("graft_meta");
  if (!has_meta.ok()) return has_meta.status();
  // As on SQLite: graft reads and writes only a database that is graft's
  // already, or could be, and checks that before it writes anything.
  GRAFT_RETURN_IF_ERROR(*has_meta ? checkFormat() : refuseForeignDatabase());
  if (options.read_only) return Status::Ok();
  return createGraftTables();
}

Status PgStore::checkFormat() {
  auto r = conn_->run("SELECT value FROM graft_meta WHERE key = 'format'", "read format");
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return Status::Ok();
  const int64_t format = r->int64(0, 0);
  if (format > kStoreFormatVersion)
    return error("store format " + number(format) + " is newer than this graft (" +
                 number(kStoreFormatVersion) + "): upgrade graft");
  return Status::Ok();
}

Status PgStore::refuseForeignDatabase() {
  auto r = conn_->run(
      "SELECT c.relname FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace"
      " AND c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY c.relname::text COLLATE \"C\"",
      "read schema");
  if (!r.ok()) return r.status();
  for (int i = 0; i < r->rows(); ++i) {
    const std::string table(r->text(i, 0));
    if (checkDocumentTable(table).ok()) continue;
    return error("not a graft store: it has no graft_meta table, and its table " +
                 jsonQuoted(table) +
                 " is not a graft document table (graft wrote nothing to it; check the database "
                 "URL: graft adds its own tables only to an empty schema or to one whose tables "
                 "are all document tables)");
  }
  return Status::Ok();
}

Status PgStore::createGraftTables() {
  bool complete = true;
  for (const char* table : {"graft_meta", "migration_state", "migration_run", "graft_lease"}) {
    auto exists = hasTable(table);
    if (!exists.ok()) return exists.status();
    complete = complete && *exists;
  }
  // Opening a store that has graft's tables writes nothing.
  if (complete) return Status::Ok();
  auto made = conn_->script(std::string("BEGIN;") + kCreationLock + ";" + kGraftTables + "COMMIT",
                            "create graft tables");
  if (!made.ok()) (void)conn_->script("ROLLBACK", "rollback");
  return made.status();
}

// ---------------------------------------------------------------------------
// Transactions.

Status PgStore::begin() { return beginWith(""); }

// The server writes the commit's WAL record without waiting for its flush;
// a later synchronous commit flushes it too, and the WAL replays in order.
Status PgStore::beginBatch() { return beginWith("; SET LOCAL synchronous_commit = off"); }

// One round trip: BEGIN, this store's SET LOCALs, and `more`.
Status PgStore::beginWith(const std::string& more) {
  auto r = conn_->readScript(
      begin_sql_ + (schema_checks_ ? "" : "; SET LOCAL graft.schema_checks = 'off'") + more,
      "begin transaction");
  if (!r.ok()) {
    (void)conn_->script("ROLLBACK", "rollback");
    return r.status();
  }
  setInTransaction(true);
  return Status::Ok();
}

Status PgStore::commit() {
  auto r = conn_->script("COMMIT", "commit");
  if (!r.ok()) return r.status();
  setInTransaction(false);
  // COMMIT of a transaction that an error ended says ROLLBACK, and succeeds.
  if (r->tag() != "COMMIT") {
    known_tables_.clear();
    return error(
        "commit: the server rolled the transaction back, nothing of it was written "
        "(an earlier statement of it failed)");
  }
  return Status::Ok();
}

Status PgStore::rollback() {
  known_tables_.clear();  // a table created inside the transaction is gone again
  lease_loaded_ = false;
  if (!in_transaction_) return Status::Ok();
  setInTransaction(false);
  // On a connection the server ended, the transaction is gone with it.
  if (conn_->lost()) return Status::Ok();
  return conn_->script("ROLLBACK", "rollback").status();
}

Result<int64_t> PgStore::othersCommitMark() {
  // The snapshot names the transactions in progress and the next to come:
  // any write committed since the last read changes it.
  auto r = conn_->read("SELECT hashtextextended(pg_current_snapshot()::text, 0)", {},
                       "read the server's snapshot");
  if (!r.ok()) return r.status();
  return r->int64(0, 0);
}

// ---------------------------------------------------------------------------
// Document tables.

Result<std::vector<std::string>> PgStore::tables() {
  auto r = conn_->run(
      "SELECT c.relname FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace"
      " AND c.relkind IN ('r', 'p') AND EXISTS (SELECT 1 FROM pg_attribute a WHERE"
      " a.attrelid = c.oid AND a.attname = 'body' AND NOT a.attisdropped)"
      " ORDER BY c.relname::text COLLATE \"C\"",
      "list tables");
  if (!r.ok()) return r.status();
  std::vector<std::string> names;
  for (int i = 0; i < r->rows(); ++i) {
    std::string name(r->text(i, 0));
    if (!isReservedTable(name)) names.push_back(std::move(name));
  }
  return names;
}

Result<bool> PgStore::hasTable(std::string_view table) {
  if (known_tables_.count(table)) return true;
  auto r = conn_->run(
      "SELECT 1 FROM pg_class WHERE relname = $1 AND relnamespace = current_schema()::regnamespace"
      " AND relkind IN ('r', 'p')",
      {std::string(table)}, "read schema");
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return false;
  if (checkTableName(table).ok()) GRAFT_RETURN_IF_ERROR(checkDocumentTable(table));
  known_tables_.emplace(table);
  return true;
}

Status PgStore::checkDocumentTable(std::string_view table) {
  auto r = conn_->run(
      "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a"
      " WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
      {quotedName(table)}, "read schema");
  if (!r.ok()) return r.status();
  bool id = false, creation = false, body = false;
  std::string listed;
  for (int i = 0; i < r->rows(); ++i) {
    const std::string_view name = r->text(i, 0), type = r->text(i, 1);
    id = id || (name == "_id" && type == "bigint");
    creation = creation || (name == "_creationTime" && type == "double precision");
    body = body || (name == "body" && type == "jsonb");
    listed += (listed.empty() ? "" : ", ") + std::string(name) + " " + std::string(type);
  }
  if (id && creation && body) return Status::Ok();
  return error("table " + jsonQuoted(table) + " is not a graft document table: its columns are (" +
               listed +
               "), a document table has _id bigint, \"_creationTime\" double precision and body "
               "jsonb (check the database URL and the table's name)");
}

Status PgStore::needTable(std::string_view table) {
  GRAFT_RETURN_IF_ERROR(checkTableName(table));
  auto exists = hasTable(table);
  if (!exists.ok()) return exists.status();
  if (!*exists)
    return Status(Code::kBadInput,
                  "table \"" + std::string(table) + "\" does not exist in " + conn_->where());
  return Status::Ok();
}

Status PgStore::createTable(std::string_view table) {
  GRAFT_RETURN_IF_ERROR(checkTableName(table));
  auto exists = hasTable(table);
  if (!exists.ok()) return exists.status();
  if (*exists) return Status::Ok();
  auto record = loadSchema();
  if (!record.ok()) return record.status();
  if (*record) {
    auto schema = parseSchema((*record)->text, "schema v" + std::to_string((*record)->version));
    if (schema.ok() && schema->validation && !schema->allow_unknown_tables && !schema->find(table))
      return Status(Code::kSchema,
                    "table \"" + std::string(table) + "\" is not in schema v" +
                        std::to_string((*record)->version) +
                        ", which refuses unknown tables (declare it, then graft schema push)");
  }
  return makeTable(table);
}

Status PgStore::makeTable(std::string_view table) {
  const std::string sql = "CREATE TABLE IF NOT EXISTS " + quotedName(table) +
                          " (_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
                          " \"_creationTime\" double precision NOT NULL"
                          " DEFAULT round(extract(epoch FROM clock_timestamp()) * 1000),"
                          " body jsonb NOT NULL CHECK (jsonb_typeof(body) = 'object'"
                          " AND NOT body ? '_id' AND NOT body ? '_creationTime'))";
  return conn_->script(sql, "create table " + std::string(table)).status();
}

Result<int64_t> PgStore::count(std::string_view table, int64_t after_id) {
  GRAFT_RETURN_IF_ERROR(needTable(table));
  auto r = conn_->read("SELECT count(*) FROM " + quotedName(table) + " WHERE _id > $1",
                       {number(after_id)}, "count " + std::string(table));
  if (!r.ok()) return r.status();
  return r->int64(0, 0);
}

Result<std::vector<Document>> PgStore::readDocuments(const std::string& sql,
                                                     const std::vector<PgParam>& params,
                                                     std::string_view what,
                                                     std::vector<std::string>* versions) {
  auto r = conn_->read(sql, params, what);
  if (!r.ok()) return r.status();
  std::vector<Document> docs;
  docs.reserve(static_cast<size_t>(r->rows()));
  if (versions) versions->clear();
  for (int i = 0; i < r->rows(); ++i) {
    docs.push_back(Document{r->int64(i, 0), r->float64(i, 1), bodyFromJsonb(r->text(i, 2)), {}});
    if (versions) versions->emplace_back(r->text(i, 3));
  }
  return docs;
}

Status PgStore::scan(std::string_view table, int64_t after_id, int64_t limit,
                     std::vector<Document>* out, int64_t upto_id) {
  GRAFT_RETURN_IF_ERROR(needTable(table));
  const std::string sql = "SELECT _id, \"_creationTime\", body, xmin::text FROM " +
                          quotedName(table) + " WHERE _id > $1 AND _id <= $2 ORDER BY _id LIMIT $3";
  const PgParam limit_param = limit < 0 ? PgParam() : PgParam(number(limit));
  std::vector<std::string> versions;
  auto docs = readDocuments(sql, {number(after_id), number(upto_id), limit_param},
                            "read documents of " + std::string(table), &versions);
  if (!docs.ok()) return docs.status();
  // A batch: a transaction that took an _id of this span before the read
  // and commits after it would be passed over by the cursor for good. Any
  // such one held its writes on the table when the read was done, and holds
  // them still or has ended: once each of those has ended, the span is read
  // again, and every _id up to its end is there or gone for good.
  if (limit >= 0 && !docs->empty()) {
    auto waited = waitForWriters(table);
    if (!waited.ok()) return waited.status();
    if (*waited) {
      docs = readDocuments(sql, {number(after_id), number(docs->back().id), limit_param},
                           "read documents of " + std::string(table), &versions);
      if (!docs.ok()) return docs.status();
    }
    // The row versions read, for writeSpan's compare-and-set.
    read_.table = std::string(table);
    read_.rows.clear();
    for (size_t i = 0; i < docs->size(); ++i)
      read_.rows.emplace((*docs)[i].id, ReadRow{std::move(versions[i]), (*docs)[i].body});
  }
  out->insert(out->end(), std::make_move_iterator(docs->begin()),
              std::make_move_iterator(docs->end()));
  return Status::Ok();
}

Result<bool> PgStore::waitForWriters(std::string_view table) {
  auto holders = conn_->read(
      "SELECT coalesce(array_agg(DISTINCT virtualtransaction::text), '{}') FROM pg_locks"
      " WHERE locktype = 'relation' AND relation = $1::regclass AND mode = 'RowExclusiveLock'"
      " AND granted AND pid <> pg_backend_pid()"
      " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
      {quotedName(table)}, "find the writers of " + std::string(table));
  if (!holders.ok()) return holders.status();
  const std::string list(holders->text(0, 0));
  if (list == "{}") return false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(lock_wait_ms_);
  for (;;) {
    auto left = conn_->read(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'virtualxid' AND virtualxid = ANY($1)",
        {list}, "wait for the writers of " + std::string(table));
    if (!left.ok()) return left.status();
    if (left->int64(0, 0) == 0) return true;
    if (std::chrono::steady_clock::now() >= deadline)
      return error("read documents of " + std::string(table) + ": a transaction that writes to " +
                   std::string(table) + " stayed open for " + number(lock_wait_ms_) +
                   " ms; graft waits for such transactions to end before its cursor passes "
                   "the _ids they may still commit (end that transaction, then run the command "
                   "again)");
    usleep(200);
  }
}

Status PgStore::forEach(std::string_view table, const std::function<bool(const Document&)>& fn) {
  GRAFT_RETURN_IF_ERROR(needTable(table));
  const std::string sql = "SELECT _id, \"_creationTime\", body FROM " + quotedName(table) +
                          " WHERE _id > $1 ORDER BY _id LIMIT 1000";
  int64_t after = 0;
  for (;;) {
    auto docs = readDocuments(sql, {number(after)}, "read documents of " + std::string(table));
    if (!docs.ok()) return docs.status();
    if (docs->empty()) return Status::Ok();
    for (const Document& doc : *docs)
      if (!fn(doc)) return Status::Ok();
    after = docs->back().id;
  }
}

Result<std::optional<Document>> PgStore::get(std::string_view table, int64_t id) {
  GRAFT_RETURN_IF_ERROR(checkTableName(table));
  auto exists = hasTable(table);
  if (!exists.ok()) return exists.status();
  if (!*exists) return std::optional<Document>();
  auto docs = readDocuments(
      "SELECT _id, \"_creationTime\", body FROM " + quotedName(table) + " WHERE _id = $1",
      {number(id)}, "read document");
  if (!docs.ok()) return docs.status();
  if (docs->empty()) return std::optional<Document>();
  return std::optional<Document>(std::move(docs->front()));
}

Status PgStore::query(std::string_view table, const QuerySpec& spec, std::vector<Document>* out) {
  GRAFT_RETURN_IF_ERROR(checkTableName(table));
  auto exists = hasTable(table);
  if (!exists.ok()) return exists.status();
  if (!*exists) return Status::Ok();
  std::string sql =
      "SELECT _id, \"_creationTime\", body FROM " + quotedName(table) + " WHERE _id > $1";
  std::vector<PgParam> params = {number(spec.after_id.value_or(0))};
  for (const auto& [field, value] : spec.equals) {
    if (field.find('"') != std::string::npos || field.find('\\') != std::string::npos)
      return Status(Code::kBadInput, "query on " + std::string(table) + ": field name \"" + field +
                                         "\" may not contain quotes or backslashes");
    auto text = bodyToJsonb(boost::json::serialize(value));
    if (!text.ok()) return text.status();
    params.push_back(field);
    const std::string key = "$" + number(static_cast<int64_t>(params.size()));
    params.push_back(*text);
    sql += " AND body -> " + key + " = $" + number(static_cast<int64_t>(params.size())) + "::jsonb";
    // jsonb's numbers are decimals, 1 = 1.0; graft's int64 and float64
    // differ, and a float64 is stored with a fraction (pg_json.h).
    if (value.is_number())
      sql += std::string(" AND ((body ->> ") + key +
             ") ~ '[.eE]') = " + (value.is_double() ? "true" : "false");
  }
  const PgParam limit = spec.limit < 0 ? PgParam() : PgParam(number(spec.limit));
  params.push_back(limit);
  sql += " ORDER BY _id LIMIT $" + number(static_cast<int64_t>(params.size()));
  auto docs = readDocuments(sql, params, "query " + std::string(table));
  if (!docs.ok()) return docs.status();
  out->insert(out->end(), std::make_move_iterator(docs->begin()),
              std::make_move_iterator(docs->end()));
  return Status::Ok();
}

Result<int64_t> PgStore::insert(std::string_view table, std::string_view body) {
  auto text = bodyToJsonb(body);
  if (!text.ok()) return text.status().prefixed("insert into " + std::string(table));
  GRAFT_RETURN_IF_ERROR(createTable(table));
  auto r = write("INSERT INTO " + quotedName(table) + " (body) VALUES ($1::jsonb) RETURNING _id",
                 {*text}, "insert into " + std::string(table), table, std::nullopt, body);
  if (!r.ok()) return r.status();
  return r->int64(0, 0);
}

Result<bool> PgStore::update(std::string_view table, int64_t id, std::string_view body) {
  const std::string what = "update " + std::string(table) + "/" + number(id);
  auto text = bodyToJsonb(body);
  if (!text.ok()) return text.status().prefixed(what);
  GRAFT_RETURN_IF_ERROR(needTable(table));
  auto r = write("UPDATE " + quotedName(table) + " SET body = $1::jsonb WHERE _id = $2",
                 {*text, number(id)}, what, table, id, body);
  if (!r.ok()) return r.status();
  return r->affected() == 1;
}

Result<bool> PgStore::remove(std::string_view table, int64_t id) {
  GRAFT_RETURN_IF_ERROR(checkTableName(table));
  auto exists = hasTable(table);
  if (!exists.ok()) return exists.status();
  if (!*exists) return false;
  auto r = conn_->run("DELETE FROM " + quotedName(table) + " WHERE _id = $1", {number(id)},
                      "delete " + std::string(table) + "/" + number(id));
  if (!r.ok()) return r.status();
  return r->affected() == 1;
}

// The span's rows are read FOR UPDATE: from then on no other client can
// change them until the batch commits, so comparing them here with what
// migrateOne saw is the compare-and-set, and one UPDATE writes the rest.
// When the batch is the one scan() last read, a row is compared by its
// version (xmin: every write of a row makes a new version): the bodies
// need not cross the wire again.
Result<int64_t> PgStore::writeSpan(std::string_view table, int64_t after_id,
                                   std::span<const SpanWrite> docs, std::vector<int64_t>* differs) {
  if (docs.empty()) return int64_t{0};
  GRAFT_RETURN_IF_ERROR(needTable(table));
  const std::string span =
      std::string(table) + " after _id " + number(after_id) + " up to " + number(docs.back().id);
  bool by_version = read_.table == table;
  for (size_t i = 0; by_version && i < docs.size(); ++i) {
    auto row = read_.rows.find(docs[i].id);
    by_version = row != read_.rows.end() && row->second.body == docs[i].seen;
  }
  auto rows =
      conn_->run(std::string("SELECT _id, ") + (by_version ? "xmin::text" : "body") + " FROM " +
                     quotedName(table) + " WHERE _id > $1 AND _id <= $2 ORDER BY _id FOR UPDATE",
                 {number(after_id), number(docs.back().id)}, "lock " + span);
  if (!rows.ok()) return rows.status();
  std::vector<std::string> ids, bodies;
  size_t next = 0;
  for (int i = 0; i < rows->rows(); ++i) {
    const int64_t id = rows->int64(i, 0);
    while (next < docs.size() && docs[next].id < id) ++next;
    const SpanWrite* doc = next < docs.size() && docs[next].id == id ? &docs[next] : nullptr;
    const bool same = doc && (by_version ? read_.rows.at(id).version == rows->text(i, 1)
                                         : bodyFromJsonb(rows->text(i, 1)) == doc->seen);
    if (!same) {
      differs->push_back(id);
      continue;
    }
    if (!doc->body) continue;
    auto text = bodyToJsonb(*doc->body);
    if (!text.ok()) return text.status().prefixed(std::string(table) + "/" + number(id));
    ids.push_back(number(id));
    bodies.push_back(std::move(text).value());
  }
  read_ = {};  // the versions are this batch's, and the batch is written
  if (ids.empty()) return int64_t{0};
  auto written = conn_->run("UPDATE " + quotedName(table) +
                                " AS t SET body = u.body FROM unnest($1::bigint[], $2::jsonb[])"
                                " AS u(id, body) WHERE t._id = u.id",
                            {pgArrayLiteral(ids), pgArrayLiteral(bodies)}, "update " + span);
  if (!written.ok() && conn_->lastState() == kSchemaState)
    return spanRefusal(table, docs, written.status().message());
  if (!written.ok()) return written.status();
  return written->affected();
}

// ---------------------------------------------------------------------------
// Migration state and history.

namespace {

Result<MigrationState> readState(const PgResult& r, int i) {
  MigrationState s;
  s.id = textOf(r, i, 0);
  s.file_sha256 = textOf(r, i, 1);
  const std::string status = textOf(r, i, 2), direction = textOf(r, i, 3);
  const auto known_status = parseStepStatus(status);
  if (!known_status) return unknownWord("migration_state", s.id, "status", status);
  const auto known_direction = parseDirection(direction);
  if (!known_direction) return unknownWord("migration_state", s.id, "direction", direction);
  s.status = *known_status;
  s.direction = *known_direction;
  s.cursor = r.int64(i, 4);
  s.processed = r.int64(i, 5);
  s.changed = r.int64(i, 6);
  s.started_at = textOf(r, i, 7);
  s.updated_at = textOf(r, i, 8);
  s.completed_at = textOf(r, i, 9);
  s.error = textOf(r, i, 10);
  if (!r.isNull(i, 11)) s.error_doc_id = r.int64(i, 11);
  s.run_id = textOf(r, i, 12);
  s.logic_digest = textOf(r, i, 13);
  s.cursor_key = textOf(r, i, 14);
  s.total = r.int64(i, 15);
  s.out_of_order = r.boolean(i, 16);
  return s;
}

}  // namespace

Result<std::optional<MigrationState>> PgStore::loadState(std::string_view id) {
  auto has = hasTable("migration_state");
  if (!has.ok()) return has.status();
  if (!*has) return std::optional<MigrationState>();
  auto r =
      conn_->run(std::string("SELECT ") + kStateColumns + " FROM migration_state WHERE id = $1",
                 {std::string(id)}, "read migration_state");
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return std::optional<MigrationState>();
  auto state = readState(*r, 0);
  if (!state.ok()) return state.status();
  return std::optional<MigrationState>(std::move(*state));
}

Result<std::vector<MigrationState>> PgStore::loadStates() {
  std::vector<MigrationState> states;
  auto has = hasTable("migration_state");
  if (!has.ok()) return has.status();
  if (!*has) return states;
  auto r = conn_->run(
      std::string("SELECT ") + kStateColumns + " FROM migration_state ORDER BY id COLLATE \"C\"",
      "read migration_state");
  if (!r.ok()) return r.status();
  for (int i = 0; i < r->rows(); ++i) {
    auto state = readState(*r, i);
    if (!state.ok()) return state.status();
    states.push_back(std::move(*state));
  }
  return states;
}

namespace {

// INSERT INTO `table` (`columns`) VALUES ($1, ..) ON CONFLICT (the first
// column) DO UPDATE SET every other column from the row to be inserted.
std::string upsertSql(const char* table, const std::string& columns) {
  std::vector<std::string> names;
  for (size_t start = 0; start < columns.size();) {
    size_t end = columns.find(',', start);
    if (end == std::string::npos) end = columns.size();
    std::string name = columns.substr(start, end - start);
    name.erase(0, name.find_first_not_of(' '));
    names.push_back(std::move(name));
    start = end + 1;
  }
  std::string values, set;
  for (size_t i = 0; i < names.size(); ++i) {
    values += (i ? ", $" : "$") + std::to_string(i + 1);
    if (i) set += (i > 1 ? ", " : "") + names[i] + " = EXCLUDED." + names[i];
  }
  return "INSERT INTO " + std::string(table) + " (" + columns + ") VALUES (" + values +
         ") ON CONFLICT (" + names[0] + ") DO UPDATE SET " + set;
}

}  // namespace

Status PgStore::saveState(const MigrationState& s) {
  static const std::string sql = upsertSql("migration_state", kStateColumns);
  return conn_
      ->run(sql,
            {s.id, s.file_sha256, std::string(stepStatusName(s.status)),
             std::string(directionName(s.direction)), number(s.cursor), number(s.processed),
             number(s.changed), optionalText(s.started_at), optionalText(s.updated_at),
             optionalText(s.completed_at), optionalText(s.error),
             s.error_doc_id ? PgParam(number(*s.error_doc_id)) : PgParam(), optionalText(s.run_id),
             optionalText(s.logic_digest), optionalText(s.cursor_key), number(s.total),
             std::string(s.out_of_order ? "true" : "false")},
            "write migration_state for " + s.id)
      .status();
}

Status PgStore::saveRun(const RunRecord& r) {
  static const std::string sql = upsertSql(
      "migration_run",
      "run_id, status, command, started_at, ended_at, migrations, processed, changed, error,"
      " host, pid, \"user\"");
  return conn_
      ->run(sql,
            {r.run_id, std::string(runStatusName(r.status)), r.command, r.started_at,
             optionalText(r.ended_at), number(r.migrations), number(r.processed), number(r.changed),
             optionalText(r.error), optionalText(r.host), number(r.pid), optionalText(r.user)},
            "write migration_run")
      .status();
}

Result<std::vector<RunRecord>> PgStore::loadRuns(int64_t limit) {
  std::vector<RunRecord> runs;
  auto has = hasTable("migration_run");
  if (!has.ok()) return has.status();
  if (!*has) return runs;
  auto r = conn_->run(
      "SELECT run_id, status, command, started_at, ended_at, migrations, processed, changed,"
      " error, host, pid, \"user\" FROM migration_run"
      " ORDER BY started_at COLLATE \"C\" DESC, run_id COLLATE \"C\" DESC LIMIT $1",
      {limit < 0 ? PgParam() : PgParam(number(limit))}, "read migration_run");
  if (!r.ok()) return r.status();
  for (int i = 0; i < r->rows(); ++i) {
    RunRecord run;
    run.run_id = textOf(*r, i, 0);
    const std::string status = textOf(*r, i, 1);
    const auto known = parseRunStatus(status);
    if (!known) return unknownWord("migration_run", run.run_id, "status", status);
    run.status = *known;
    run.command = textOf(*r, i, 2);
    run.started_at = textOf(*r, i, 3);
    run.ended_at = textOf(*r, i, 4);
    run.migrations = r->int64(i, 5);
    run.processed = r->int64(i, 6);
    run.changed = r->int64(i, 7);
    run.error = textOf(*r, i, 8);
    run.host = textOf(*r, i, 9);
    run.pid = r->int64(i, 10);
    run.user = textOf(*r, i, 11);
    runs.push_back(std::move(run));
  }
  return runs;
}

// ---------------------------------------------------------------------------
// The lease.

Result<std::optional<Lease>> PgStore::loadLease() {
  auto has = hasTable("graft_lease");
  if (!has.ok()) return has.status();
  if (!*has) return std::optional<Lease>();
  auto r = conn_->run(std::string("SELECT run_id, host, pid, started_at, heartbeat_ms,"
                                  " cancel_requested, ") +
                          kServerNowMs + " - heartbeat_ms FROM graft_lease WHERE name = 'run'",
                      "read graft_lease");
  if (!r.ok()) return r.status();
  lease_loaded_ = true;
  loaded_lease_.reset();
  if (r->rows() == 0) return std::optional<Lease>();
  Lease lease;
  lease.run_id = textOf(*r, 0, 0);
  lease.host = textOf(*r, 0, 1);
  lease.pid = r->int64(0, 2);
  lease.started_at = textOf(*r, 0, 3);
  // The heartbeat's age by the server's clock, on this host's clock.
  lease.heartbeat_ms = localNowMs() - r->int64(0, 6);
  lease.cancel_requested = r->boolean(0, 5);
  loaded_lease_ = lease.run_id;
  return std::optional<Lease>(std::move(lease));
}

// After loadLease(), a compare-and-set: the lease is taken only if it is
// still what was loaded (none, or the same run's), so that of two hosts
// that found it free or stale at once, one takes it and the other is told.
Status PgStore::saveLease(const Lease& lease) {
  std::vector<PgParam> params = {lease.run_id, lease.host, number(lease.pid), lease.started_at,
                                 std::string(lease.cancel_requested ? "true" : "false")};
  std::string sql =
      std::string(
          "INSERT INTO graft_lease (name, run_id, host, pid, started_at, heartbeat_ms,"
          " cancel_requested) VALUES ('run', $1, $2, $3, $4, ") +
      kServerNowMs + ", $5) ON CONFLICT (name) DO ";
  const bool compare = lease_loaded_;
  lease_loaded_ = false;
  if (compare && !loaded_lease_) {
    sql += "NOTHING";
  } else {
    sql +=
        "UPDATE SET run_id = EXCLUDED.run_id, host = EXCLUDED.host, pid = EXCLUDED.pid,"
        " started_at = EXCLUDED.started_at, heartbeat_ms = EXCLUDED.heartbeat_ms,"
        " cancel_requested = EXCLUDED.cancel_requested";
    if (compare) {
      params.push_back(*loaded_lease_);
      sql += " WHERE graft_lease.run_id = $6";
    }
  }
  auto r = conn_->run(sql, params, "write graft_lease");
  if (!r.ok()) return r.status();
  if (r->affected() == 0)
    return Status(Code::kBusy, "database " + conn_->where() +
                                   ": another graft took the lease at the same moment; wait for "
                                   "it, or stop it with graft cancel");
  return Status::Ok();
}

Status PgStore::deleteLease(const std::string& run_id) {
  return conn_->run("DELETE FROM graft_lease WHERE run_id = $1", {run_id}, "release graft_lease")
      .status();
}

Result<Store::Heartbeat> PgStore::heartbeat(const std::string& run_id, int64_t) {
  auto r = conn_->run(std::string("UPDATE graft_lease SET heartbeat_ms = ") + kServerNowMs +
                          " WHERE run_id = $1 RETURNING cancel_requested",
                      {run_id}, "heartbeat");
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return Heartbeat{false, false};
  return Heartbeat{true, r->boolean(0, 0)};
}

Result<bool> PgStore::requestCancel() {
  auto r = conn_->run("UPDATE graft_lease SET cancel_requested = true", "request cancel");
  if (!r.ok()) return r.status();
  return r->affected() > 0;
}

// ---------------------------------------------------------------------------
// Index ranges.
//
// SQLite orders an index field as json_extract() gives it: null and
// absent first, then numbers (true and false as 1 and 0) by value, then
// strings (and objects and arrays, as their text) by bytes. Here each field
// is that order's triple: (class 0/1/2, its number, its text COLLATE "C"),
// and a cursor's key the JSON array of each field's triple, its number as
// the server's exact decimal text: [[1,"1.5",""],[2,"0","ann"]].

namespace {

// The three columns of one field, named k<i>c, k<i>n, k<i>t.
std::string fieldTriple(const std::string& path, size_t i) {
  const std::vector<std::string> triple = pgIndexTriple(path);
  const std::string k = "k" + std::to_string(i);
  return triple[0] + " AS " + k + "c, " + triple[1] + " AS " + k + "n, " + triple[2] + " AS " + k +
         "t";
}

// A JSON value's triple, as parameters.
std::vector<PgParam> tripleOf(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      return {"0", "0", ""};
    case boost::json::kind::bool_:
      return {"1", v.get_bool() ? "1" : "0", ""};
    case boost::json::kind::string:
      return {"2", "0", std::string(v.get_string())};
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_:
      return {"1", boost::json::serialize(v), ""};
    default:
      return {"2", "0", boost::json::serialize(v)};
  }
}

// The query of a range: its terms and their parameters.
struct PgRangeQuery {
  std::string where;
  std::vector<PgParam> params;

  std::string next(PgParam p) {
    params.push_back(std::move(p));
    return "$" + std::to_string(params.size());
  }
  // ROW(k<from>c, k<from>n, k<from>t, ..) <op> ROW(the triples of `values`[, id]).
  void compare(size_t from, const std::vector<std::vector<PgParam>>& values, const char* op,
               std::optional<int64_t> id) {
    std::string left, right;
    for (size_t i = 0; i < values.size(); ++i) {
      const std::string k = "k" + std::to_string(from + i);
      left += (left.empty() ? "" : ", ") + k + "c, " + k + "n, " + k + "t";
      right += (right.empty() ? "" : ", ") + next(values[i][0]) + "::int, " + next(values[i][1]) +
               "::numeric, " + next(values[i][2]) + "::text COLLATE \"C\"";
    }
    if (id) {
      left += std::string(left.empty() ? "" : ", ") + "_id";
      right += std::string(right.empty() ? "" : ", ") + next(std::to_string(*id)) + "::bigint";
    }
    where += " AND ROW(" + left + ") " + op + " ROW(" + right + ")";
  }
};

// A cursor's key back to its triples; a key this store did not write is
// an error that says what to do.
Result<std::vector<std::vector<PgParam>>> keyTriples(const Cursor& cursor, size_t fields) {
  std::vector<std::vector<PgParam>> triples;
  boost::system::error_code ec;
  const boost::json::value key = boost::json::parse(cursor.key, ec);
  if (!ec && key.is_array() && key.get_array().size() == fields) {
    for (const auto& t : key.get_array()) {
      if (!t.is_array() || t.get_array().size() != 3 || !t.get_array()[0].is_int64() ||
          !t.get_array()[1].is_string() || !t.get_array()[2].is_string())
        break;
      triples.push_back({std::to_string(t.get_array()[0].get_int64()),
                         std::string(t.get_array()[1].get_string()),
                         std::string(t.get_array()[2].get_string())});
    }
    if (triples.size() == fields) return triples;
  }
  return Status(Code::kStore, "range cursor key " + jsonQuoted(cursor.key) +
                                  " was not written by a PostgreSQL store for this range "
                                  "(run graft up --restart for this migration)");
}

}  // namespace

Result<std::string> PgStore::rangeSql(std::string_view table, const KeyRange& range,
                                      const Cursor& after, const Cursor* upto,
                                      std::vector<PgParam>* params) {
  GRAFT_RETURN_IF_ERROR(needTable(table));
  if (range.eq.size() > range.fields.size())
    return Status(Code::kBadInput, "index " + range.index + ": more equalities than fields");
  std::string columns;
  for (size_t i = 0; i < range.fields.size(); ++i)
    columns += ", " + fieldTriple(range.fields[i], i);
  PgRangeQuery q;
  for (size_t i = 0; i < range.eq.size(); ++i) q.compare(i, {tripleOf(range.eq[i])}, "=", {});
  const size_t free = range.eq.size();
  const size_t keys = range.fields.size() - free;
  if (keys > 0 && (range.lower || range.upper))
    q.where += " AND k" + std::to_string(free) + "c <> 0";
  if (keys > 0 && range.lower)
    q.compare(free, {tripleOf(range.lower->value)}, range.lower->inclusive ? ">=" : ">", {});
  if (keys > 0 && range.upper)
    q.compare(free, {tripleOf(range.upper->value)}, range.upper->inclusive ? "<=" : "<", {});
  if (after.id != 0 || !after.key.empty()) {
    auto key = keyTriples(after, keys);
    if (!key.ok()) return key.status();
    q.compare(free, *key, ">", after.id);
  }
  if (upto) {
    auto key = keyTriples(*upto, keys);
    if (!key.ok()) return key.status();
    q.compare(free, *key, "<=", upto->id);
  }
  *params = std::move(q.params);
  return "SELECT * FROM (SELECT _id, \"_creationTime\", body" + columns + " FROM " +
         quotedName(table) + ") AS r WHERE true" + q.where;
}

std::string PgStore::rangeOrder(const KeyRange& range) {
  std::string order = " ORDER BY ";
  for (size_t i = range.eq.size(); i < range.fields.size(); ++i) {
    const std::string k = "k" + std::to_string(i);
    order += k + "c, " + k + "n, " + k + "t, ";
  }
  return order + "_id";
}

Status PgStore::scanRange(std::string_view table, const KeyRange& range, const Cursor& after,
                          int64_t limit, std::vector<Document>* out, const Cursor* upto) {
  std::vector<PgParam> params;
  auto select = rangeSql(table, range, after, upto, &params);
  if (!select.ok()) return select.status();
  params.push_back(limit < 0 ? PgParam() : PgParam(number(limit)));
  const std::string sql =
      *select + rangeOrder(range) + " LIMIT $" + number(static_cast<int64_t>(params.size()));
  auto r = conn_->run(sql, params, "read index range of " + std::string(table));
  if (!r.ok()) return r.status();
  // As scan(): a writer that was open at the read may still commit into
  // the range before the cursor; wait for it and read again.
  if (limit >= 0 && r->rows() > 0) {
    auto waited = waitForWriters(table);
    if (!waited.ok()) return waited.status();
    if (*waited) r = conn_->run(sql, params, "read index range of " + std::string(table));
    if (!r.ok()) return r.status();
  }
  for (int i = 0; i < r->rows(); ++i) {
    boost::json::array key;
    for (size_t field = range.eq.size(); field < range.fields.size(); ++field) {
      const int col = 3 + 3 * static_cast<int>(field);  // after _id, _creationTime, body
      key.push_back(boost::json::array{r->int64(i, col), std::string(r->text(i, col + 1)),
                                       std::string(r->text(i, col + 2))});
    }
    out->push_back(Document{r->int64(i, 0), r->float64(i, 1), bodyFromJsonb(r->text(i, 2)),
                            boost::json::serialize(key)});
  }
  return Status::Ok();
}

Result<int64_t> PgStore::countRange(std::string_view table, const KeyRange& range,
                                    const Cursor& after) {
  std::vector<PgParam> params;
  auto select = rangeSql(table, range, after, nullptr, &params);
  if (!select.ok()) return select.status();
  auto r = conn_->run("SELECT count(*) FROM (" + *select + ") AS c", params,
                      "count index range of " + std::string(table));
  if (!r.ok()) return r.status();
  return r->int64(0, 0);
}

Result<std::string> PgStore::describeRangePlan(std::string_view table, const KeyRange& range) {
  std::vector<PgParam> params;
  auto select = rangeSql(table, range, Cursor{}, nullptr, &params);
  if (!select.ok()) return select.status();
  // EXPLAIN takes no parameters: the plan of the query with them written in.
  std::string sql = *select + rangeOrder(range) + " LIMIT 1";
  for (size_t i = params.size(); i > 0; --i) {
    const std::string name = "$" + std::to_string(i);
    const std::string value = params[i - 1] ? pgLiteral(*params[i - 1]) : "NULL";
    for (size_t at = sql.find(name); at != std::string::npos;
         at = sql.find(name, at + value.size()))
      sql.replace(at, name.size(), value);
  }
  auto r = conn_->run("EXPLAIN " + sql, "explain index range of " + std::string(table));
  if (!r.ok()) return r.status();
  std::string plan;
  for (int i = 0; i < r->rows(); ++i) {
    std::string line(r->text(i, 0));
    line.erase(0, line.find_first_not_of(" ->"));
    plan += (plan.empty() ? "" : "; ") + line;
  }
  return plan;
}

// ---------------------------------------------------------------------------
// Schemas.

Result<std::optional<SchemaRecord>> PgStore::loadSchema() {
  auto newest = readSchemas(1);
  if (!newest.ok()) return newest.status();
  if (newest->empty()) return std::optional<SchemaRecord>();
  return std::optional<SchemaRecord>(std::move(newest->front()));
}

Result<std::vector<SchemaRecord>> PgStore::loadSchemaHistory() { return readSchemas(-1); }

Result<std::vector<SchemaRecord>> PgStore::readSchemas(int64_t limit) {
  std::vector<SchemaRecord> records;
  auto has = hasTable("graft_schema");
  if (!has.ok()) return has.status();
  if (!*has) return records;
  auto r = conn_->run(
      "SELECT version, pushed_at, \"user\", text FROM graft_schema ORDER BY version DESC LIMIT $1",
      {limit < 0 ? PgParam() : PgParam(number(limit))}, "read graft_schema");
  if (!r.ok()) return r.status();
  for (int i = 0; i < r->rows(); ++i)
    records.push_back({r->int64(i, 0), textOf(*r, i, 1), textOf(*r, i, 2), textOf(*r, i, 3)});
  return records;
}

// What a previous version installed goes first: every graft_schema_*
// function (its trigger with it) and every graft_ix_* index whose
// definition changed (an unchanged one stays, so that a push does not
// rebuild every index of a large table; its definition is kept as the
// index's comment).
Status PgStore::installSchema(const Schema& schema, const std::string& text,
                              const std::string& user) {
  GRAFT_RETURN_IF_ERROR(
      conn_
          ->script("CREATE TABLE IF NOT EXISTS graft_schema (version bigint PRIMARY KEY,"
                   " pushed_at text NOT NULL, \"user\" text, text text NOT NULL)",
                   "create graft_schema")
          .status());
  known_tables_.clear();
  auto current = loadSchema();
  if (!current.ok()) return current.status();
  const int64_t version = *current ? (*current)->version + 1 : 1;
  auto old = conn_->run(
      "SELECT p.proname FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace"
      " AND p.proname LIKE 'graft\\_schema\\_%'",
      "read schema objects");
  if (!old.ok()) return old.status();
  for (int i = 0; i < old->rows(); ++i)
    GRAFT_RETURN_IF_ERROR(
        conn_
            ->script("DROP FUNCTION " + quotedName(old->text(i, 0)) + "() CASCADE",
                     "drop schema check")
            .status());
  GRAFT_RETURN_IF_ERROR(installIndexes(schema));
  if (schema.validation) GRAFT_RETURN_IF_ERROR(installChecks(schema, version));
  return conn_
      ->run(
          "INSERT INTO graft_schema (version, pushed_at, \"user\", text)"
          " VALUES ($1, $2, $3, $4)",
          {number(version), utcNow(), optionalText(user), text}, "write graft_schema")
      .status();
}

Status PgStore::installIndexes(const Schema& schema) {
  auto old = conn_->run(
      "SELECT c.relname, coalesce(obj_description(c.oid, 'pg_class'), '') FROM pg_class c"
      " WHERE c.relkind = 'i' AND c.relnamespace = current_schema()::regnamespace"
      " AND c.relname LIKE 'graft\\_ix\\_%'",
      "read schema indexes");
  if (!old.ok()) return old.status();
  std::map<std::string, std::string> existing;  // name -> its CREATE INDEX
  for (int i = 0; i < old->rows(); ++i) existing[textOf(*old, i, 0)] = textOf(*old, i, 1);
  std::set<std::string> keep;
  for (const TableSchema& table : schema.tables) {
    auto exists = hasTable(table.name);
    if (!exists.ok()) return exists.status();
    if (!*exists) GRAFT_RETURN_IF_ERROR(makeTable(table.name));
    for (const IndexDef& index : table.indexes) {
      const std::string name = "graft_ix_" + table.name + "_" + index.name;
      std::string sql = "CREATE INDEX " + quotedName(name) + " ON " + quotedName(table.name) + " (";
      for (const auto& field : index.fields)
        for (const auto& expr : pgIndexTriple(field)) sql += expr + ", ";
      sql += "_id)";
      keep.insert(name);
      auto found = existing.find(name);
      if (found != existing.end() && found->second == sql) continue;
      if (found != existing.end())
        GRAFT_RETURN_IF_ERROR(
            conn_->script("DROP INDEX " + quotedName(name), "drop index").status());
      GRAFT_RETURN_IF_ERROR(
          conn_
              ->script(sql + "; COMMENT ON INDEX " + quotedName(name) + " IS " + pgLiteral(sql),
                       "create index " + name)
              .status());
    }
  }
  for (const auto& [name, sql] : existing) {
    if (!keep.count(name))
      GRAFT_RETURN_IF_ERROR(conn_->script("DROP INDEX " + quotedName(name), "drop index").status());
  }
  return Status::Ok();
}

namespace {

// A trigger function that raises kSchemaState with the first check's
// message that NEW.body fails; a transaction that set graft.schema_checks
// to off (setSchemaChecks) skips them.
std::string triggerFunction(const std::string& name,
                            const std::vector<std::pair<std::string, std::string>>& checks) {
  std::string body;
  for (const auto& [check, message] : checks)
    body += "  IF NOT coalesce(" + check + ", false) THEN RAISE EXCEPTION USING ERRCODE = '" +
            kSchemaState + "', MESSAGE = " + pgLiteral(message) + "; END IF;\n";
  return "CREATE FUNCTION \"" + name +
         "\"() RETURNS trigger LANGUAGE plpgsql AS $graft$\nBEGIN\n"
         "  IF current_setting('graft.schema_checks', true) = 'off' THEN RETURN NEW; END IF;\n" +
         body + "  RETURN NEW;\nEND\n$graft$";
}

}  // namespace

Status PgStore::installChecks(const Schema& schema, int64_t version) {
  const std::string prefix = "schema v" + std::to_string(version) + ": ";
  auto install = [&](const std::string& table,
                     const std::vector<std::pair<std::string, std::string>>& checks) {
    const std::string name = "graft_schema_" + table;
    return conn_
        ->script(triggerFunction(name, checks) + "; CREATE TRIGGER " + quotedName(name) +
                     " BEFORE INSERT OR UPDATE OF body ON " + quotedName(table) +
                     " FOR EACH ROW EXECUTE FUNCTION " + quotedName(name) + "()",
                 "create schema check for " + table)
        .status();
  };
  for (const TableSchema& table : schema.tables) {
    auto checks = pgFieldChecks(table, "NEW.body");
    for (auto& check : checks) check.second = prefix + check.second;
    GRAFT_RETURN_IF_ERROR(install(table.name, checks));
  }
  if (schema.allow_unknown_tables) return Status::Ok();
  auto names = tables();
  if (!names.ok()) return names.status();
  for (const auto& name : *names) {
    if (schema.find(name)) continue;
    GRAFT_RETURN_IF_ERROR(
        install(name, {{"false", prefix + "table \"" + name +
                                     "\" is not in the schema, which refuses unknown tables"}}));
  }
  return Status::Ok();
}

// The span's UPDATE was refused as a whole: the message names the first
// document of it whose new body the schema's C++ validator refuses (the
// two agree: pg_schema.h), else the first one written.
Status PgStore::spanRefusal(std::string_view table, std::span<const SpanWrite> docs,
                            const std::string& says) {
  const size_t at = says.find("schema v");
  const std::string check_says = at == std::string::npos ? says : says.substr(at);
  auto record = loadSchema();
  const TableSchema* declared = nullptr;
  std::optional<Schema> schema;
  if (record.ok() && *record) {
    auto parsed = parseSchema((*record)->text, "schema");
    if (parsed.ok()) schema = std::move(parsed).value();
    if (schema) declared = schema->find(table);
  }
  const SpanWrite* first = nullptr;
  for (const SpanWrite& doc : docs) {
    if (!doc.body) continue;
    if (!first) first = &doc;
    auto body = parseJson(*doc.body, std::string(table));
    if (declared && body.ok() && body->is_object() &&
        validateDocument(declared->document, body->get_object()))
      return schemaRefusal(*this, table, doc.id, *doc.body, check_says);
  }
  return schemaRefusal(*this, table, first ? std::optional<int64_t>(first->id) : std::nullopt,
                       first ? std::string_view(*first->body) : std::string_view(), check_says);
}

// Off: each transaction of this store sets graft.schema_checks to off for
// itself (SET LOCAL), and a write made outside one gets one of its own.
Status PgStore::setSchemaChecks(bool on) {
  schema_checks_ = on;
  return Status::Ok();
}

Result<PgResult> PgStore::write(const std::string& sql, const std::vector<PgParam>& params,
                                const std::string& what, std::string_view table,
                                std::optional<int64_t> id, std::string_view body) {
  const bool own = !in_transaction_ && !schema_checks_;
  if (own) GRAFT_RETURN_IF_ERROR(begin());
  auto r = conn_->run(sql, params, what);
  if (!r.ok()) {
    const bool refused = conn_->lastState() == kSchemaState;
    const std::string says = r.status().message();
    if (own) (void)rollback();
    if (!refused) return r.status();
    const size_t at = says.find("schema v");
    return schemaRefusal(*this, table, id, body, at == std::string::npos ? says : says.substr(at));
  }
  if (own) GRAFT_RETURN_IF_ERROR(commit());
  return r;
}

}  // namespace graft
