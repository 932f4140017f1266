// db_api.h -- the graft_db_api table: ctx.db for plugins, over a Store.
//
// One DocApi serves one migration step of one run. Its functions run inside
// the batch's transaction, never throw across the boundary, and count what
// they write (a dry run reports those counts).
#ifndef GRAFT_HOST_DB_API_H_
#define GRAFT_HOST_DB_API_H_

#include <graft/graft.h>

#include <cstdint>
#include <string>

#include "store.h"

namespace graft {

struct WriteCounts {
  int64_t inserts = 0, patches = 0, replaces = 0, deletes = 0;
  int64_t total() const { return inserts + patches + replaces + deletes; }
};

class DocApi {
 public:
  explicit DocApi(Store& store) : store_(store) {}

  graft_db* handle() { return reinterpret_cast<graft_db*>(this); }
  static const graft_db_api* table();
  static DocApi* from(graft_db* db) { return reinterpret_cast<DocApi*>(db); }

  Store& store() { return store_; }
  // Host-owned text handed to the plugin; valid until the next call.
  std::string& out() { return out_; }
  WriteCounts& counts() { return counts_; }

 private:
  Store& store_;
  std::string out_;
  WriteCounts counts_;
};

}  // namespace graft

#endif  // GRAFT_HOST_DB_API_H_
