// document_migrator.h -- migrateOne on one document of a step, and its patch.
//
// What every batch strategy (batch_strategy.h) does to a single document:
// read the step's table in the order the step walks it, call the plugin's
// migrateOne on a document, turn the patch it returns into the new body and
// write it. It also remembers the document a batch failed on, which the step
// records with the failure (MigrationState::error_doc_id).
//
// Thread-safety: compute() may run on several threads at once (a step that
// parallelizes); every other call is made by the step's own thread.
#ifndef GRAFT_HOST_RUN_DOCUMENT_MIGRATOR_H_
#define GRAFT_HOST_RUN_DOCUMENT_MIGRATOR_H_

#include <graft/graft.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "document/body_scan.h"
#include "run/db_api.h"
#include "run/runner.h"
#include "store/store.h"

namespace graft {

class DocumentMigrator {
 public:
  // `range`: the step walks only that index range, in (key, _id) order;
  // nullptr: the whole table in _id order. A dry run counts each patch in
  // report->writes_by_table. All of them must outlive the migrator.
  DocumentMigrator(Store& store, const graft_step& step, const KeyRange* range,
                   const graft_context& ctx, DocApi& api, bool dry_run,
                   std::atomic<int64_t>* current_document, MigrationReport* report);

  Store& store() const { return store_; }
  DocApi& api() const { return api_; }
  const std::string& table() const { return table_; }
  const KeyRange* range() const { return range_; }
  bool dryRun() const { return dry_run_; }

  // The _id of the document the batch failed on; 0 when none is known.
  int64_t failedAt() const { return failed_at_; }
  void failAt(int64_t id) { failed_at_ = id; }

  // Up to `limit` documents after `after` (and not after `*upto`), in the
  // order this step walks its table.
  Status read(const Cursor& after, int64_t limit, const Cursor* upto,
              std::vector<Document>* out) const;

  // Inside the transaction: migrateOne on `doc`, then its patch.
  Status migrate(const Document& doc, int64_t* changed);

  // Outside any transaction: migrateOne on `doc` and, for a patch that
  // changes it, the new body (not for a dry run, which previews its
  // patches instead). The new body is computed here, outside the lock, so
  // that the lock is held only to write it. Leaves in `*checked` the
  // document's body, checked, and its members. Safe to call on several
  // threads at once.
  Status compute(const Document& doc, CheckedBody* checked, std::optional<std::string>* patch,
                 std::optional<std::string>* body) const;

  // Inside the transaction: applies `patch` to `doc` and writes the new
  // body. `reread`: migrateOne wrote through ctx.db, so this very document
  // may have changed and is read again first.
  Status apply(const Document& doc, const std::string& patch, bool reread, int64_t* changed);

  // A dry run's lock-free batch, which has no transaction to write into:
  // applies `patch` to `doc` in memory only, to count and show it.
  Status preview(const Document& doc, const std::string& patch, int64_t* changed);

 private:
  Status call(const Document& doc, CheckedBody* checked, std::optional<std::string>* patch) const;
  Status patched(const Document& doc, const CheckedBody& checked, const std::string& patch,
                 std::optional<std::string>* body) const;
  Status checkBuilt(const Document& doc, const std::string& body) const;
  Status patchedBody(const Document& doc, const Document& current, const std::string& patch,
                     std::optional<std::string>* body);
  void noteDryRunWrite(const Document& doc, const Document& current, const std::string& body);
  std::string where(const Document& doc) const;

  Store& store_;
  const graft_step& step_;
  const KeyRange* const range_;
  const graft_context& ctx_;
  DocApi& api_;
  const std::string table_;
  const bool dry_run_;
  std::atomic<int64_t>* const current_document_;
  MigrationReport* const report_;
  int64_t failed_at_ = 0;
};

}  // namespace graft

#endif  // GRAFT_HOST_RUN_DOCUMENT_MIGRATOR_H_
