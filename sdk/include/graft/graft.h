/*
 * graft.h -- the binary boundary between the graft host and a migration plugin.
 *
 * This header is the whole contract. A plugin is a shared library that
 * exports one C function, graft_plugin_entry(), returning a pointer to a
 * static graft_plugin. Everything else crosses through the function pointers
 * declared here.
 *
 * Rules of the boundary (they let a plugin built with one compiler and
 * standard library run inside a host built with another):
 *   - only fixed-width integers, const char* (UTF-8), opaque pointers and
 *     function pointers cross it; no C++ type, no exception;
 *   - documents and patches cross as UTF-8 JSON text; each side parses with
 *     its own JSON library;
 *   - error text is written by the callee into a buffer owned by the caller
 *     (always NUL-terminated, truncated to the buffer's capacity).
 *
 * Plugin authors normally do not use this header directly: graft/migration.hpp
 * is a header-only C++ layer on top of it (defineMigration).
 *
 * Compatibility: the host refuses a plugin whose GRAFT_ABI_MAJOR differs from
 * its own, before reading anything but the first two fields of graft_plugin,
 * and one whose GRAFT_ABI_MINOR is newer than its own: such a plugin may
 * rely on a field this host would not read (a step that must not run
 * without its table, say). Within one major version, structs only grow at
 * the end (struct_size says how much the other side knows) and function
 * tables are appended to only, so a host runs plugins of every older minor.
 *
 * A plugin built with graft_add_migration also carries its id, ABI,
 * description, logic digest and whether it has a down step as JSON in an ELF
 * section, .graft_meta, which the host reads without loading the plugin (for
 * graft status, verify and sum). When it loads the plugin, the host refuses
 * it if graft_plugin says otherwise.
 */
#ifndef GRAFT_GRAFT_H_
#define GRAFT_GRAFT_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GRAFT_ABI_MAJOR 1
#define GRAFT_ABI_MINOR 4
/* abi_version packs major and minor: (major << 16) | minor. */
#define GRAFT_ABI_VERSION ((uint32_t)((GRAFT_ABI_MAJOR << 16) | GRAFT_ABI_MINOR))

/* The one symbol every plugin exports. */
#define GRAFT_ENTRY_SYMBOL "graft_plugin_entry"

#if defined(_WIN32)
#define GRAFT_PLUGIN_EXPORT __declspec(dllexport)
#else
#define GRAFT_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* How deep a document may nest: objects and arrays inside one another,
 * the document itself counting as 1. This is SQLite 3.40's JSON limit, so
 * it is also what a table's CHECK (json_valid) lets any client store; both
 * sides of the boundary parse documents up to this depth. */
#define GRAFT_MAX_JSON_DEPTH 2000

/* Return codes of migrate_one. */
#define GRAFT_SKIP 0   /* nothing to change for this document */
#define GRAFT_PATCH 1  /* *patch holds a patch to apply to this document */
#define GRAFT_ERROR -1 /* err holds the reason; the host rolls the batch back */

/* Return codes of the graft_db_api functions. */
#define GRAFT_DB_OK 0
#define GRAFT_DB_NOT_FOUND 1
#define GRAFT_DB_ERROR -1

#define GRAFT_UP 0
#define GRAFT_DOWN 1

/* graft_step.write_mode (since ABI 1.2). */
#define GRAFT_WRITE_NORMAL 0      /* writes are checked against the schema in force */
#define GRAFT_WRITE_SAFE_BYPASS 1 /* this step's writes skip schema validation, for speed */

/* Return codes of graft_step.verify_one (since ABI 1.2). */
#define GRAFT_VERIFY_HOLDS 1
#define GRAFT_VERIFY_FAILS 0

/*
 * Document operations the host offers to migrate_one, inside the batch's
 * transaction: what they write commits or rolls back with the batch.
 *
 * `db` is the opaque handle from graft_context. Tables named migration_*,
 * graft_* or sqlite_* are reserved: writes to them fail. Documents are JSON
 * objects; _id (int64) and _creationTime (float64, ms since the epoch) are
 * assigned by the store and can not be written.
 *
 * Strings returned through `out` pointers are owned by the host and stay
 * valid until the next call through this table with the same `db`.
 * On GRAFT_DB_ERROR, `err` (capacity `err_cap`) holds the reason.
 */
typedef struct graft_db graft_db;

typedef struct graft_db_api {
  uint32_t struct_size; /* sizeof(graft_db_api) as the host knows it */

  /* Fetches one document as a JSON object. GRAFT_DB_NOT_FOUND if absent. */
  int32_t (*get)(graft_db* db, const char* table, int64_t id, const char** doc, size_t* doc_len,
                 char* err, size_t err_cap);

  /* Runs a query and returns a JSON array of documents in _id order.
   * spec_json is a JSON object: {"eq": {"field": value, ...}, "after": id,
   * "limit": n}; every key is optional. Since ABI 1.2, "index": name reads
   * through a declared index of the schema in force (see graft_step.range_json
   * for "eq", "gt", "gte", "lt", "lte"), in (index key, _id) order. */
  int32_t (*query)(graft_db* db, const char* table, const char* spec_json, const char** docs,
                   size_t* docs_len, char* err, size_t err_cap);

  /* Inserts a JSON object into `table` (created if it does not exist) and
   * returns its new _id. */
  int32_t (*insert)(graft_db* db, const char* table, const char* doc_json, int64_t* new_id,
                    char* err, size_t err_cap);

  /* Applies a patch (see migrate_one) to a document. */
  int32_t (*patch)(graft_db* db, const char* table, int64_t id, const char* patch_json,
                   char* err, size_t err_cap);

  /* Replaces a document's fields, keeping its _id and _creationTime. */
  int32_t (*replace)(graft_db* db, const char* table, int64_t id, const char* doc_json,
                     char* err, size_t err_cap);

  /* Deletes a document. GRAFT_DB_NOT_FOUND if it did not exist. */
  int32_t (*remove)(graft_db* db, const char* table, int64_t id, char* err, size_t err_cap);
} graft_db_api;

/* What migrate_one knows about the call. Owned by the host; valid for the
 * duration of the call only. */
typedef struct graft_context {
  uint32_t struct_size;
  const char* migration_id;
  const char* run_id;
  int32_t direction; /* GRAFT_UP or GRAFT_DOWN */
  int32_t dry_run;   /* nonzero: every write will be rolled back */
  graft_db* db;
  const graft_db_api* db_api;
} graft_context;

/*
 * Called once per document, in the order the step walks its table: outside
 * any transaction, or inside the batch's once the step has used ctx.db; and
 * again for a document another client changed before the batch was written.
 *
 * doc/doc_len: the document as a JSON object, with _id and _creationTime.
 * On GRAFT_PATCH, *patch and *patch_len give a JSON object
 *   {"$set": {field: value, ...}, "$unset": [field, ...]}
 * (both keys optional; top-level fields only; null is a value, not a removal).
 * The patch text is owned by the plugin and must stay valid until the next
 * call to migrate_one on the same thread.
 * On GRAFT_ERROR, err holds a one-line reason. The function must not throw.
 */
typedef int32_t (*graft_migrate_one_fn)(const graft_context* ctx, const char* doc, size_t doc_len,
                                        const char** patch, size_t* patch_len, char* err,
                                        size_t err_cap);

/*
 * Says whether one document (JSON object text with _id and _creationTime) is
 * in the state the migration promises: GRAFT_VERIFY_HOLDS, GRAFT_VERIFY_FAILS
 * (err may say why), or GRAFT_ERROR. Reads only; runs outside transactions.
 */
typedef int32_t (*graft_verify_one_fn)(const char* doc, size_t doc_len, char* err,
                                       size_t err_cap);

/* One direction of a migration: the table it walks and what it does. */
typedef struct graft_step {
  uint32_t struct_size;
  const char* table;
  uint32_t batch_size; /* 0: the host's default */
  graft_migrate_one_fn migrate_one;
  /* Since ABI 1.2 (read only when struct_size covers them). */
  uint32_t write_mode; /* GRAFT_WRITE_NORMAL or GRAFT_WRITE_SAFE_BYPASS */
  /* NULL: every document, in _id order. Else a JSON object naming a declared
   * index of the schema in force and a range over it:
   *   {"index": "by_status_and_rank", "eq": {"status": "draft"},
   *    "gte": {"rank": 3}, "lt": {"rank": 9}}
   * "eq" covers a prefix of the index's fields; "gt"/"gte" and "lt"/"lte" bound
   * the next one. Only matching documents are visited, in (index key, _id)
   * order. */
  const char* range_json;
  /* What must hold when the step is done (either, both or neither may be
   * set): a validator in schema-file syntax every document of `table` must
   * match, and a per-document predicate. */
  const char* verify_json;
  graft_verify_one_fn verify_one;
  /* Since ABI 1.3. Nonzero: migrate_one may be called on several threads at
   * once, each on other documents of the batch, so that a batch computes on
   * several cores (Convex's `parallelize`). Only for a migrate_one that
   * shares no state between calls and does not use ctx.db (a step that does
   * runs on one thread, inside the transaction, whatever this says). The
   * patches are applied in _id order all the same. */
  uint32_t parallelize;
  /* Since ABI 1.4. Nonzero: a store without `table` is an empty table, and
   * the step completes having visited nothing. Zero: the host refuses to run
   * the step over a table that does not exist (a misspelt table would
   * otherwise be recorded as migrated), unless the schema in force declares
   * the table or the store holds no document table at all. */
  uint32_t table_may_be_absent;
} graft_step;

typedef struct graft_plugin {
  uint32_t abi_version; /* GRAFT_ABI_VERSION the plugin was built with */
  uint32_t struct_size; /* sizeof(graft_plugin) as the plugin knows it */
  const char* id;          /* unique migration id, e.g. "20260101_120000_add_role" */
  const char* description; /* one line for humans; may be empty, never NULL */
  const graft_step* up;    /* never NULL */
  const graft_step* down;  /* NULL when the migration is irreversible */
  /* Since ABI 1.1 (read only when struct_size covers it): the logic digest
   * embedded at build time by graft_add_migration, "v1:sha256:<hex>" over the
   * migration's normalised sources, id and ABI major; NULL when the plugin
   * was built without it (the host then calls it "unverifiable"). */
  const char* logic_digest;
} graft_plugin;

/* The entry point. Returns a pointer to static storage that lives as long as
 * the library is loaded. Must not fail, allocate per call or throw. */
typedef const graft_plugin* (*graft_plugin_entry_fn)(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* GRAFT_GRAFT_H_ */
