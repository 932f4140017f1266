// db_api.h -- the graft_db_api table: ctx.db for plugins, over a Store.
//
// One DocApi serves one migration step of one run. Its functions run inside
// the batch's transaction, never throw across the boundary, and count what
// they write (a dry run reports those counts).
#ifndef GRAFT_HOST_RUN_DB_API_H_
#define GRAFT_HOST_RUN_DB_API_H_

#include <graft/graft.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "schema/schema_check.h"
#include "store/store.h"

namespace graft {

struct WriteCounts {
  int64_t inserts = 0, patches = 0, replaces = 0, deletes = 0;
  int64_t total() const { return inserts + patches + replaces + deletes; }
};

// One write, as a dry run shows it: before/after are JSON documents, ""
// for none (an insert has no before, a delete no after).
struct Change {
  std::string table;
  int64_t id = 0;
  std::string before, after;
};

// Where a DocApi (and the runner) note what was written: totals by table,
// and the first `limit` changes in full when `examples` is set.
struct WriteLog {
  std::map<std::string, WriteCounts> by_table;
  std::vector<Change>* examples = nullptr;
  size_t limit = 0;

  bool wantsExample() const { return examples && examples->size() < limit; }
  void example(Change change) {
    if (wantsExample()) examples->push_back(std::move(change));
  }
};

class DocApi {
 public:
  explicit DocApi(Store& store) : store_(store) {}

  graft_db* handle() { return reinterpret_cast<graft_db*>(this); }
  static const graft_db_api* table();
  static DocApi* from(graft_db* db) { return reinterpret_cast<DocApi*>(db); }

  Store& store() { return store_; }
  // The schema in force (nullptr: none), parsed once per version: withIndex
  // asks for it on every call, and a push may come between two batches.
  Result<const Schema*> schemaInForce();
  // Host-owned text handed to the plugin; valid until the next call.
  std::string& out() { return out_; }
  WriteCounts& counts() { return counts_; }
  WriteLog& log() { return log_; }

  // While set, every call fails at once and is noted: migrateOne is running
  // outside the batch's transaction, where ctx.db may not be used. The
  // runner then redoes the batch inside the transaction. Set and cleared
  // while no migrateOne runs; what it notes may come from several threads
  // at once (a step that parallelizes).
  void setOutsideTransaction(bool outside) { outside_ = outside; }
  bool outsideTransaction() const { return outside_; }
  bool calledOutside() const { return called_outside_.load(std::memory_order_relaxed); }
  void noteCalledOutside() { called_outside_.store(true, std::memory_order_relaxed); }

 private:
  Store& store_;
  std::string out_;
  WriteCounts counts_;
  WriteLog log_;
  bool outside_ = false;
  std::atomic<bool> called_outside_{false};
  std::optional<SchemaInForce> schema_;
};

}  // namespace graft

#endif  // GRAFT_HOST_RUN_DB_API_H_
