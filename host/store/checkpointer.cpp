#include "store/checkpointer.h"

#include <sqlite3.h>

namespace graft {

std::unique_ptr<WalCheckpointer> WalCheckpointer::start(const std::string& path) {
  // Two connections on two threads need a SQLite built thread-safe.
  if (!sqlite3_threadsafe()) return nullptr;
  sqlite3* db = nullptr;
  // A connection learns that the file is in WAL mode when it first reads
  // it; until then a checkpoint does nothing. The read waits out a moment
  // of SQLITE_BUSY (a WAL being recovered, say).
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
          SQLITE_OK ||
      sqlite3_busy_timeout(db, 1000) != SQLITE_OK ||
      sqlite3_exec(db, "PRAGMA schema_version", nullptr, nullptr, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return nullptr;
  }
  try {
    return std::unique_ptr<WalCheckpointer>(new WalCheckpointer(db));
  } catch (const std::exception&) {  // no thread to spare (EAGAIN), or no memory
    sqlite3_close(db);
    return nullptr;
  }
}

WalCheckpointer::WalCheckpointer(sqlite3* db) : db_(db), thread_([this] { run(); }) {}

WalCheckpointer::~WalCheckpointer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
  sqlite3_close(db_);
}

void WalCheckpointer::request() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_ || requested_) return;
    requested_ = true;
  }
  cv_.notify_all();
}

void WalCheckpointer::finish() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return !requested_ && !running_; });
}

void WalCheckpointer::run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return requested_ || stopping_; });
    if (stopping_) return;
    requested_ = false;
    running_ = true;
    lock.unlock();
    // Passive: it never waits for a lock, and copies what it can. A
    // failure (busy, or a full disk) leaves the WAL as it was; the owner's
    // next request tries again, and its own commits still checkpoint at
    // SQLite's threshold.
    (void)sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    lock.lock();
    running_ = false;
    cv_.notify_all();
  }
}

}  // namespace graft
