// bench_process.h -- graft_bench's child processes: each contender runs in a
// process of its own, so that its wall time, CPU time and peak resident
// memory (wait4's rusage) are its own, and so that the application's writer
// is a separate SQLite connection in a separate process, as in production.
#ifndef GRAFT_TOOLS_BENCH_PROCESS_H_
#define GRAFT_TOOLS_BENCH_PROCESS_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace bench {

struct ChildResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  double wall_s = 0;  // from the fork to the end of the child
  double cpu_s = 0;   // user + system
  int64_t max_rss_kb = 0;
  int64_t wal_peak_bytes = 0;  // largest size of <db>-wal seen while it ran
  int64_t wal_end_bytes = 0;   // size of <db>-wal when it had exited
};

// Runs `body` in a forked child whose exit code is its return value.
// REQUIRES: no SQLite connection open in this process (a connection must not
// cross a fork).
pid_t forkFunction(const std::function<int()>& body);

// Runs `argv` (argv[0] looked up in PATH) with stdout and stderr appended to
// `log_file`.
pid_t forkProgram(const std::vector<std::string>& argv, const std::string& log_file);

// Waits for `pid`, sampling the size of `wal_file` every few milliseconds.
// `started_ns` is monotonicNs() taken just before the fork.
ChildResult waitSampling(pid_t pid, int64_t started_ns, const std::string& wal_file);

// CLOCK_MONOTONIC in nanoseconds.
int64_t monotonicNs();

// Size of a file, 0 if it does not exist.
int64_t fileSize(const std::string& path);

// The cores this process may run on (its affinity mask), at least 1.
int usableCores();

// Background processes that each keep one core busy (a loop with no system
// calls, at normal priority), so that a contender runs on a machine with no
// idle core. Each one ends by itself after `limit_s` seconds, and dies with
// graft_bench; stop() (and the destructor) kills and reaps them all.
class CpuLoad {
 public:
  CpuLoad() = default;
  ~CpuLoad() { stop(); }
  CpuLoad(const CpuLoad&) = delete;
  CpuLoad& operator=(const CpuLoad&) = delete;

  // Starts `processes` of them; false (with none left running) if a fork
  // failed.
  bool start(int processes, unsigned limit_s);
  void stop();

 private:
  std::vector<pid_t> pids_;
};

}  // namespace bench

#endif  // GRAFT_TOOLS_BENCH_PROCESS_H_
