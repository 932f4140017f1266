// bench_app.h -- the application during a benchmark: a separate process with
// its own SQLite connection (busy_timeout 5000 ms, like graft's) that makes
// single-document write transactions at a steady rate, alternately inserting
// a user in the new shape (it already has a role, as new application code
// would write it) and patching an existing user's lastSeen with json_set.
// Each transaction's latency is measured from its first call to its commit;
// a transaction that fails (SQLITE_BUSY past the timeout, typically) counts
// as an error.
#ifndef GRAFT_TOOLS_BENCH_APP_H_
#define GRAFT_TOOLS_BENCH_APP_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace bench {

struct AppOptions {
  std::string db;
  std::string result_file;             // where the writer leaves its latencies
  int64_t interval_us = 2000;          // one transaction every interval
  int64_t max_id = 1;                  // patches pick an _id in [1, max_id]
  std::string synchronous = "NORMAL";  // the application's PRAGMA synchronous
  // 0: sqlite3_busy_timeout(5000), whose retries back off from 1 ms to
  // 100 ms apart. Else a busy handler that retries every busy_poll_us, for
  // at most 5000 ms: what an application can do on its own side.
  int64_t busy_poll_us = 0;
};

struct AppStats {
  int64_t ops = 0;  // transactions attempted
  int64_t errors = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  std::string first_error;
  bool ok = false;  // false when the writer itself could not run
};

class AppWriter {
 public:
  // Forks the writer and returns once its connection is open and ready.
  // REQUIRES: no SQLite connection open in this process.
  bool start(const AppOptions& options);
  // Stops the writer (SIGTERM, it finishes its transaction) and collects it.
  AppStats stop();

 private:
  AppOptions options_;
  pid_t pid_ = -1;
};

}  // namespace bench

#endif  // GRAFT_TOOLS_BENCH_APP_H_
