// checkpointer.h -- copies a WAL into its database on a thread of its own.
//
// Why: a migration's writes go to the WAL, and its pages must be copied
// into the database file (a checkpoint, with two fsyncs) to keep the WAL
// short. Done between batches on the migration's thread, it stopped the
// migration for the copy and both fsyncs: it neither computed nor wrote
// meanwhile (figures: doc/performance.md). A checkpoint needs no write
// lock, so this thread does it with a connection of its own while the
// migration goes on. SQLite lets a checkpoint run beside readers and a
// writer: it copies only frames that every reader is past, and the writer
// goes on appending to the WAL meanwhile.
//
// Thread-safety: request(), finish() and the destructor are called from one
// thread, the one that owns the store.
#ifndef GRAFT_HOST_STORE_CHECKPOINTER_H_
#define GRAFT_HOST_STORE_CHECKPOINTER_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

struct sqlite3;

namespace graft {

class WalCheckpointer {
 public:
  // Opens its connection to `path` and starts its thread; nullptr if either
  // fails (the caller then checkpoints on its own connection).
  static std::unique_ptr<WalCheckpointer> start(const std::string& path);
  // Lets a checkpoint that runs finish, then stops.
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Starts a passive checkpoint, unless one is running: then nothing (the
  // next request after it comes soon enough).
  void request();
  // Returns once no checkpoint runs, requested or running.
  void finish();

 private:
  explicit WalCheckpointer(sqlite3* db);
  void run();

  sqlite3* db_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool requested_ = false;  // under mu_
  bool running_ = false;    // under mu_
  bool stopping_ = false;   // under mu_
  std::thread thread_;      // last: starts once the rest is set
};

}  // namespace graft

#endif  // GRAFT_HOST_STORE_CHECKPOINTER_H_
