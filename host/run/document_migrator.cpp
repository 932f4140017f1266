#include "run/document_migrator.h"

#include <utility>

#include "base/json_text.h"
#include "document/patch.h"

namespace graft {

DocumentMigrator::DocumentMigrator(Store& store, const graft_step& step, const KeyRange* range,
                                   const graft_context& ctx, DocApi& api, bool dry_run,
                                   std::atomic<int64_t>* current_document, MigrationReport* report)
    : store_(store),
      step_(step),
      range_(range),
      ctx_(ctx),
      api_(api),
      table_(step.table),
      dry_run_(dry_run),
      current_document_(current_document),
      report_(report) {}

Status DocumentMigrator::read(const Cursor& after, int64_t limit, const Cursor* upto,
                              std::vector<Document>* out) const {
  if (range_) return store_.scanRange(table_, *range_, after, limit, out, upto);
  return store_.scan(table_, after.id, limit, out, upto ? upto->id : INT64_MAX);
}

Status DocumentMigrator::migrate(const Document& doc, int64_t* changed) {
  std::optional<std::string> patch;
  const int64_t writes_before = api_.counts().total();
  CheckedBody checked;
  Status called = call(doc, &checked, &patch);
  if (!called.ok()) {
    failed_at_ = doc.id;
    return called;
  }
  if (!patch) return Status::Ok();
  return apply(doc, *patch, api_.counts().total() != writes_before, changed);
}

Status DocumentMigrator::compute(const Document& doc, CheckedBody* checked,
                                 std::optional<std::string>* patch,
                                 std::optional<std::string>* body) const {
  GRAFT_RETURN_IF_ERROR(call(doc, checked, patch));
  if (!*patch || dry_run_ || api_.calledOutside()) return Status::Ok();
  return patched(doc, *checked, **patch, body);
}

Status DocumentMigrator::apply(const Document& doc, const std::string& patch, bool reread,
                               int64_t* changed) {
  Document current = doc;
  if (reread) {
    auto again = store_.get(table_, doc.id);
    if (!again.ok()) return again.status();
    if (!*again) {
      failed_at_ = doc.id;
      return Status(Code::kMigrationFailed, "patch returned for " + where(doc) +
                                                ": the document was deleted by migrateOne itself");
    }
    current = **again;
  }
  std::optional<std::string> body;
  GRAFT_RETURN_IF_ERROR(patchedBody(doc, current, patch, &body));
  if (!body) return Status::Ok();
  ++*changed;
  if (dry_run_) noteDryRunWrite(doc, current, *body);
  auto updated = store_.update(table_, doc.id, *body);
  if (updated.ok()) return Status::Ok();
  failed_at_ = doc.id;
  return updated.status();
}

Status DocumentMigrator::preview(const Document& doc, const std::string& patch, int64_t* changed) {
  std::optional<std::string> body;
  GRAFT_RETURN_IF_ERROR(patchedBody(doc, doc, patch, &body));
  if (!body) return Status::Ok();
  ++*changed;
  noteDryRunWrite(doc, doc, *body);
  return Status::Ok();
}

// Calls migrateOne; `*patch` is the patch text, or empty for "skip".
Status DocumentMigrator::call(const Document& doc, CheckedBody* checked,
                              std::optional<std::string>* patch) const {
  // graft writes only bodies that pass this check; another client may
  // not have. Such a document stops the run here, before a plugin sees
  // it or documentJson() splices a body that is not an object.
  Status valid = checkDocumentBody(doc.body, checked);
  if (!valid.ok()) {
    return Status(Code::kBadInput, "read " + where(doc) + ": " + valid.message() +
                                       " (another client wrote it: repair or delete that row)");
  }
  const std::string text = documentJson(doc);
  const char* out = nullptr;
  size_t out_len = 0;
  char err[1024];
  err[0] = '\0';
  if (current_document_) current_document_->store(doc.id, std::memory_order_relaxed);
  const int32_t rc =
      step_.migrate_one(&ctx_, text.data(), text.size(), &out, &out_len, err, sizeof err);
  if (current_document_) current_document_->store(0, std::memory_order_relaxed);
  if (rc == GRAFT_SKIP) return Status::Ok();
  if (rc == GRAFT_PATCH) {
    patch->emplace(out, out_len);
    return Status::Ok();
  }
  // A ctx.db call refused outside the transaction surfaces as an error;
  // the batch is redone inside one, so it is not this document's fault.
  if (rc == GRAFT_ERROR && api_.outsideTransaction() && api_.calledOutside()) return Status::Ok();
  if (rc == GRAFT_ERROR) {
    return Status(Code::kMigrationFailed,
                  "migrateOne failed on " + where(doc) + ": " + (err[0] ? err : "no reason given"));
  }
  return Status(Code::kMigrationFailed, "migrateOne returned " + std::to_string(rc) + " on " +
                                            where(doc) +
                                            " (expected GRAFT_SKIP, GRAFT_PATCH or GRAFT_ERROR)");
}

// The body `patch` makes of `doc`: empty when it changes nothing. Right
// after call(doc), with the members its check found.
Status DocumentMigrator::patched(const Document& doc, const CheckedBody& checked,
                                 const std::string& patch, std::optional<std::string>* body) const {
  auto result = applyPatch(checked, patch);
  if (!result.ok()) {
    return Status(Code::kMigrationFailed,
                  "patch returned for " + where(doc) + ": " + result.status().message());
  }
  if (!result->changed) return Status::Ok();
  GRAFT_RETURN_IF_ERROR(checkBuilt(doc, result->body));
  *body = std::move(result->body);
  return Status::Ok();
}

// A lock-free step writes without the table's CHECK (Store::setBodyChecks):
// each new body is applyPatch's, which passes the check by construction,
// and a debug build checks it here again, before the lock (checkMadeBody).
// Nothing is written when one fails.
Status DocumentMigrator::checkBuilt(const Document& doc, const std::string& body) const {
  Status valid = checkMadeBody(body);
  if (valid.ok()) return valid;
  return Status(valid.code(), "patch returned for " + where(doc) + ": " + valid.message());
}

// The body `patch` makes of `current`, the document `doc` is now: empty
// when it changes nothing. Checked again: a body read again has not been,
// and this is the path of the slower strategies (locked, range, dry run),
// which do not keep the members of each document call() checked.
Status DocumentMigrator::patchedBody(const Document& doc, const Document& current,
                                     const std::string& patch, std::optional<std::string>* body) {
  auto result = applyPatch(current.body, patch);
  if (!result.ok()) {
    failed_at_ = doc.id;
    return Status(Code::kMigrationFailed,
                  "patch returned for " + where(doc) + ": " + result.status().message());
  }
  if (!result->changed) return Status::Ok();
  if (Status built = checkBuilt(doc, result->body); !built.ok()) {
    failed_at_ = doc.id;
    return built;
  }
  *body = std::move(result->body);
  return Status::Ok();
}

// A dry run counts the patch by table and keeps it as an example while it
// wants more.
void DocumentMigrator::noteDryRunWrite(const Document& doc, const Document& current,
                                       const std::string& body) {
  ++report_->writes_by_table[table_].patches;
  if (api_.log().wantsExample())
    api_.log().example({table_, doc.id, documentJson(current),
                        documentJson({doc.id, doc.creation_time, body, {}})});
}

std::string DocumentMigrator::where(const Document& doc) const {
  return table_ + "/" + std::to_string(doc.id);
}

}  // namespace graft
