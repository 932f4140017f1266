#include "run/batch_strategy.h"

#include <algorithm>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "base/json_text.h"
#include "schema/schema.h"
#include "schema/schema_check.h"

namespace graft {

void BatchOutcome::clear() {
  docs.clear();
  changed = 0;
  in_transaction = false;
  needs_ctx_db = false;
}

namespace {

// The part both lock-free strategies share: the batch is read, and
// migrateOne runs on it, outside any transaction.
class ComputedBatch {
 public:
  ComputedBatch(DocumentMigrator& migrator, ComputePool* pool) : migrator_(migrator), pool_(pool) {}

  // Reads and migrates the batch after `after`, on the threads of the pool
  // when there is one. Leaves in out->docs what was read, in patches() what
  // migrateOne said and in bodies() the new bodies (empty: nothing to
  // write). Sets out->needs_ctx_db (and returns ok) when the step needs
  // ctx.db.
  Status compute(const Cursor& after, uint32_t size, BatchOutcome* out) {
    GRAFT_RETURN_IF_ERROR(migrator_.read(after, size, nullptr, &out->docs));
    const std::vector<Document>& docs = out->docs;
    patches_.assign(docs.size(), std::nullopt);
    bodies_.assign(docs.size(), std::nullopt);
    // The first failure stops the batch: no document after it starts; the
    // batch fails with the failure of the lowest _id, as it would on one
    // thread. Documents other threads took before the failure was seen may
    // have been given to migrateOne too: outside any transaction, with
    // nothing written.
    std::vector<Failure> failures;
    std::mutex failures_mu;
    checked_.resize(pool_ ? pool_->threads() : 1);
    auto computeAt = [&](unsigned thread, size_t i) {
      if (migrator_.api().calledOutside()) return false;
      Status s = migrator_.compute(docs[i], &checked_[thread], &patches_[i], &bodies_[i]);
      if (s.ok()) return true;
      std::lock_guard<std::mutex> lock(failures_mu);
      failures.push_back({i, std::move(s)});
      return false;
    };
    migrator_.api().setOutsideTransaction(true);
    if (pool_) {
      pool_->run(docs.size(), computeAt);
    } else {
      for (size_t i = 0; i < docs.size(); ++i)
        if (!computeAt(0, i)) break;
    }
    migrator_.api().setOutsideTransaction(false);
    if (migrator_.api().calledOutside()) {
      out->needs_ctx_db = true;
      return Status::Ok();
    }
    return firstFailure(docs, &failures);
  }

  // A dry run: applies the patches in memory only, to count and show them.
  // Nothing is read again and nothing is written.
  Status preview(BatchOutcome* out) {
    for (size_t i = 0; i < out->docs.size(); ++i) {
      if (patches_[i])
        GRAFT_RETURN_IF_ERROR(migrator_.preview(out->docs[i], *patches_[i], &out->changed));
    }
    return Status::Ok();
  }

  const std::vector<std::optional<std::string>>& patches() const { return patches_; }
  const std::vector<std::optional<std::string>>& bodies() const { return bodies_; }

 private:
  struct Failure {
    size_t index;
    Status status;
  };

  Status firstFailure(const std::vector<Document>& docs, std::vector<Failure>* failures) {
    if (failures->empty()) return Status::Ok();
    auto first =
        std::min_element(failures->begin(), failures->end(),
                         [](const Failure& a, const Failure& b) { return a.index < b.index; });
    migrator_.failAt(docs[first->index].id);
    return std::move(first->status);
  }

  DocumentMigrator& migrator_;
  ComputePool* const pool_;
  std::vector<std::optional<std::string>> patches_;
  std::vector<std::optional<std::string>> bodies_;
  // One per thread, kept from one document to the next for its buffer.
  std::vector<CheckedBody> checked_;
};

// Lock-free, in _id order: under the lock, the batch's span of the table is
// written in one pass that compares each document with what migrateOne saw
// (a compare-and-set): a document changed meanwhile, or put into the span
// under an _id of its own, is migrated again as it is now; one deleted
// meanwhile is skipped.
class LockFreeSpanBatches : public BatchStrategy {
 public:
  LockFreeSpanBatches(DocumentMigrator& migrator, ComputePool* pool)
      : migrator_(migrator), computed_(migrator, pool) {}

  Status run(const Cursor& after, uint32_t size, const TakeLock& lock, BatchOutcome* out) override {
    GRAFT_RETURN_IF_ERROR(computed_.compute(after, size, out));
    if (out->needs_ctx_db) return Status::Ok();
    // Nothing to write, so no transaction at all.
    if (migrator_.dryRun()) return computed_.preview(out);
    GRAFT_RETURN_IF_ERROR(lock());
    out->in_transaction = true;
    if (out->docs.empty()) return Status::Ok();
    return writeSpan(after.id, out);
  }

 private:
  Status writeSpan(int64_t after_id, BatchOutcome* out) {
    const std::vector<Document>& docs = out->docs;
    const auto& bodies = computed_.bodies();
    span_.clear();
    for (size_t i = 0; i < docs.size(); ++i)
      span_.push_back({docs[i].id, docs[i].body, bodies[i] ? &*bodies[i] : nullptr});
    differs_.clear();
    Store& store = migrator_.store();
    auto written = store.writeSpan(migrator_.table(), after_id, span_, &differs_);
    if (!written.ok()) {
      if (written.status().code() == Code::kSchema) migrator_.failAt(firstRefused(docs));
      return written.status();
    }
    out->changed += *written;
    for (int64_t id : differs_) {
      auto now = store.get(migrator_.table(), id);
      if (!now.ok()) return now.status();
      if (*now) GRAFT_RETURN_IF_ERROR(migrator_.migrate(**now, &out->changed));
    }
    return Status::Ok();
  }

  // The first document of the batch whose new body the schema in force
  // refuses, by the C++ form of the validators the store's checks run
  // (the two agree: see schema.h): the store refused the span's write as a
  // whole. 0 when none is found.
  int64_t firstRefused(const std::vector<Document>& docs) const {
    const std::string& table = migrator_.table();
    auto schema = loadSchemaInForce(migrator_.store());
    if (!schema.ok() || !*schema) return 0;
    const TableSchema* declared = (*schema)->schema.find(table);
    if (!declared) return 0;
    const auto& bodies = computed_.bodies();
    for (size_t i = 0; i < docs.size(); ++i) {
      if (!bodies[i]) continue;
      auto parsed = parseJson(*bodies[i], table);
      if (parsed.ok() && parsed->is_object() &&
          validateDocument(declared->document, parsed->get_object()))
        return docs[i].id;
    }
    return 0;
  }

  DocumentMigrator& migrator_;
  ComputedBatch computed_;
  // writeSpan's arguments and what it found, kept for their capacity.
  std::vector<SpanWrite> span_;
  std::vector<int64_t> differs_;
};

// Lock-free, in index order: documents can also have moved into the
// batch's span of the range, so unless no other connection wrote since the
// batch was read, that span is read again under the lock.
class LockFreeRangeBatches : public BatchStrategy {
 public:
  LockFreeRangeBatches(DocumentMigrator& migrator, ComputePool* pool)
      : migrator_(migrator), computed_(migrator, pool) {}

  Status run(const Cursor& after, uint32_t size, const TakeLock& lock, BatchOutcome* out) override {
    auto mark = migrator_.store().othersCommitMark();
    if (!mark.ok()) return mark.status();
    const int64_t read_mark = *mark;
    GRAFT_RETURN_IF_ERROR(computed_.compute(after, size, out));
    if (out->needs_ctx_db) return Status::Ok();
    // Nothing to write, so no transaction at all.
    if (migrator_.dryRun()) return computed_.preview(out);
    GRAFT_RETURN_IF_ERROR(lock());
    out->in_transaction = true;
    if (out->docs.empty()) return Status::Ok();
    mark = migrator_.store().othersCommitMark();
    if (!mark.ok()) return mark.status();
    if (*mark != read_mark) return reapply(after, out);
    return writeComputed(out);
  }

 private:
  // Nobody else wrote since the batch was read: its new bodies are written
  // as they are.
  Status writeComputed(BatchOutcome* out) {
    const std::vector<Document>& docs = out->docs;
    const auto& bodies = computed_.bodies();
    for (size_t i = 0; i < docs.size(); ++i) {
      if (!bodies[i]) continue;
      auto written = migrator_.store().update(migrator_.table(), docs[i].id, *bodies[i]);
      if (!written.ok()) {
        migrator_.failAt(docs[i].id);
        return written.status();
      }
      if (*written) ++out->changed;
    }
    return Status::Ok();
  }

  // What lies between the cursor and the batch's last (key, _id) now is
  // what the cursor moves past, so that is what gets migrated: unchanged
  // documents with their computed patch, the others (changed, or moved into
  // the span) afresh.
  Status reapply(const Cursor& after, BatchOutcome* out) {
    const std::vector<Document>& docs = out->docs;
    const auto& patches = computed_.patches();
    std::vector<Document> now;
    const Cursor last{docs.back().id, docs.back().key};
    GRAFT_RETURN_IF_ERROR(migrator_.read(after, -1, &last, &now));
    std::unordered_map<int64_t, size_t> computed;
    for (size_t j = 0; j < docs.size(); ++j) computed.emplace(docs[j].id, j);
    for (const Document& current : now) {
      auto it = computed.find(current.id);
      if (it != computed.end() && docs[it->second].body == current.body) {
        if (patches[it->second])
          GRAFT_RETURN_IF_ERROR(
              migrator_.apply(current, *patches[it->second], false, &out->changed));
        continue;
      }
      GRAFT_RETURN_IF_ERROR(migrator_.migrate(current, &out->changed));
    }
    return Status::Ok();
  }

  DocumentMigrator& migrator_;
  ComputedBatch computed_;
};

// Locked: the batch is read and every document migrated inside the
// transaction, where ctx.db may be used.
class LockedBatches : public BatchStrategy {
 public:
  explicit LockedBatches(DocumentMigrator& migrator) : migrator_(migrator) {}

  Status run(const Cursor& after, uint32_t size, const TakeLock& lock, BatchOutcome* out) override {
    GRAFT_RETURN_IF_ERROR(lock());
    out->in_transaction = true;
    GRAFT_RETURN_IF_ERROR(migrator_.read(after, size, nullptr, &out->docs));
    for (const Document& doc : out->docs)
      GRAFT_RETURN_IF_ERROR(migrator_.migrate(doc, &out->changed));
    return Status::Ok();
  }

 private:
  DocumentMigrator& migrator_;
};

}  // namespace

std::unique_ptr<BatchStrategy> lockFreeSpanBatches(DocumentMigrator& migrator, ComputePool* pool) {
  return std::make_unique<LockFreeSpanBatches>(migrator, pool);
}

std::unique_ptr<BatchStrategy> lockFreeRangeBatches(DocumentMigrator& migrator, ComputePool* pool) {
  return std::make_unique<LockFreeRangeBatches>(migrator, pool);
}

std::unique_ptr<BatchStrategy> lockedBatches(DocumentMigrator& migrator) {
  return std::make_unique<LockedBatches>(migrator);
}

}  // namespace graft
