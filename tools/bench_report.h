// bench_report.h -- what graft_bench measured, printed as Markdown tables
// (pasteable into doc/performance.md) and as one JSON object, with each
// target of doc/performance.md read against the numbers. Targets are reported,
// never enforced: a missed target does not change the exit code.
#ifndef GRAFT_TOOLS_BENCH_REPORT_H_
#define GRAFT_TOOLS_BENCH_REPORT_H_

#include <boost/json/object.hpp>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "bench_app.h"
#include "bench_process.h"
#include "bench_sql.h"

namespace bench {

struct Machine {
  int nproc = 0;
  std::string cpu, memory, disk, sqlite, load_before, load_after;
};

struct ContenderResult {
  std::string key;      // JSON name: graft_up, sql_update, ...
  std::string name;     // table name
  std::string skipped;  // why it did not run; "" when it ran
  ChildResult child;
  AppStats app;
  Verdict verdict;
  bool verified = false;  // exit 0 and every user got the field
  double docsPerSecond(int64_t docs) const {
    return verified && child.wall_s > 0 ? static_cast<double>(docs) / child.wall_s : 0;
  }
};

// graft up alone (no application writer) at docs/10 and at docs.
struct MemoryRun {
  int64_t docs = 0;
  ChildResult child;
  bool verified = false;
};

// The expensive-migrateOne contender on one thread and with parallelize,
// twice each, in the order one thread, parallelize, parallelize, one thread,
// so that a machine that gets busier or quieter meanwhile weighs on both.
struct ExpensivePair {
  ContenderResult one_thread[2], parallel[2];
  bool ran() const { return !one_thread[0].key.empty(); }
  bool verified() const {
    return one_thread[0].verified && one_thread[1].verified && parallel[0].verified &&
           parallel[1].verified;
  }
  // Wall time with parallelize over wall time on one thread, both runs
  // added; 0 unless all four did the migration.
  double parallelOverOneThread() const;
};

// The expensive-migrateOne contenders, on a store of their own: on the
// machine as it was, and beside `load_processes` CPU-bound processes.
struct ExpensiveRuns {
  int64_t docs = 0;        // 0: not run
  int load_processes = 0;  // 0: the loaded pair did not run
  ExpensivePair quiet, loaded;
};

struct NoopResult {
  int count = 0;  // 0: not run
  std::string error;
  double build_s = 0;
  ChildResult status_pending, up, status_done;
};

struct Report {
  Machine machine;
  int64_t docs = 0;
  SeedInfo seed;
  double seed_s = 0;
  int64_t seed_bytes = 0;
  double interval_ms = 0;
  std::string app_synchronous;
  std::string app_busy;  // how the application waits for the write lock
  double idle_s = 0;
  AppStats idle;  // the application alone, no migration
  std::vector<ContenderResult> contenders;
  ExpensiveRuns expensive;
  MemoryRun memory_small, memory_large;
  NoopResult noop;
  std::string command;  // how this run was started
};

void printReport(const Report& report, std::FILE* out);
boost::json::object reportJson(const Report& report);

}  // namespace bench

#endif  // GRAFT_TOOLS_BENCH_REPORT_H_
