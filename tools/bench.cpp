// graft_bench -- how fast graft migrates, what it costs the application that
// keeps writing meanwhile, and how it scales (doc/performance.md).
//
//   graft_bench [--docs N] [--json FILE] [--noop K] [--work DIR] ...
//
// tools/bench builds and runs it. It seeds one store of N users in graft's
// format, then runs each contender on a fresh copy of it, in a process of
// its own, while another process plays the application:
//   (a) graft up, the real binary with plugins/20260101_000001_users_default_role
//   (a2) the same migration with parallelize on (tools/bench_role_parallel.cpp)
//   (b) one SQL UPDATE, (c) the same UPDATE per batch of 256 _ids,
//   (d) a hand-written C++ loop (Boost.JSON, batches of 256),
//   (e) sqlite-utils convert, when it is installed.
// After each, every user must have the field, or the contender counts as
// failed. Then, on a store of its own (--expensive-docs), the same migration
// with a migrateOne that does a fixed amount of CPU work per user
// (tools/bench_expensive.cpp), on one thread and with parallelize (twice
// each), first on the machine as it is and then beside one CPU-bound
// process per core (--load-processes): parallelize must not make a run
// slower when its threads get no CPU. Then graft up alone at N/10 and N
// (peak memory, WAL), and graft status / graft up over K no-op plugins
// built at run time.
//
// Exit code: 0 when every contender ran and did the migration, 1 when one
// failed, 2 on bad usage. Targets are reported, not enforced.
#include <sqlite3.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bench_app.h"
#include "bench_plugins.h"
#include "bench_process.h"
#include "bench_report.h"
#include "bench_sql.h"

namespace fs = std::filesystem;

namespace bench {
namespace {

constexpr const char* kRoleMigration = "20260101_000001_users_default_role";
// The same migration with parallelize on (tools/bench_role_parallel.cpp).
constexpr const char* kRoleParallelMigration = "20260101_000001_users_default_role_parallel";
// The expensive-migrateOne contenders (tools/bench_expensive.cpp).
constexpr const char* kExpensiveMigration = "20260101_000001_users_default_role_expensive";
constexpr const char* kExpensiveParallelMigration =
    "20260101_000001_users_default_role_expensive_parallel";
// The background load ends by itself after this long, should a contender
// take longer than any run should.
constexpr unsigned kLoadLimitS = 600;
constexpr int kBatchSize = 256;

struct Options {
  int64_t docs = 1000000;
  int64_t expensive_docs = 10000;  // 0: no expensive-migrateOne contenders
  int load_processes = -1;         // -1: one per usable core; 0: no loaded runs
  std::string json_file;
  std::string work = GRAFT_BENCH_WORK;
  int noop = 1000;
  double interval_ms = 2;
  std::string app_synchronous = "NORMAL";
  int64_t app_busy_poll_us = 0;
  std::string graft = GRAFT_BINARY;
  std::string make_store;  // only seed this file, for profiling one contender by hand
};

void note(const std::string& text) { std::fprintf(stderr, "graft_bench: %s\n", text.c_str()); }

std::string firstLine(const std::string& path, const std::string& prefix) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
  return "";
}

std::string trim(std::string s) {
  s.erase(0, s.find_first_not_of(" \t:"));
  s.erase(s.find_last_not_of(" \t\n") + 1);
  return s;
}

std::string loadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

// The device and file system under `dir`, and whether the kernel calls it
// rotational.
std::string diskOf(const std::string& dir) {
  std::error_code ec;
  const std::string path = fs::canonical(dir, ec).string();
  std::ifstream mounts("/proc/mounts");
  std::string device, mount_point, type, rest, best_device, best_type;
  size_t best = 0;
  while (mounts >> device >> mount_point >> type && std::getline(mounts, rest)) {
    if (path.rfind(mount_point, 0) == 0 && mount_point.size() >= best) {
      best = mount_point.size();
      best_device = device;
      best_type = type;
    }
  }
  std::string rotational = "?";
  std::ifstream flag("/sys/block/" + fs::path(best_device).filename().string() +
                     "/queue/rotational");
  flag >> rotational;
  return best_device + " (" + best_type + ", rotational=" + rotational + ")";
}

Machine describeMachine(const std::string& work) {
  Machine m;
  m.nproc = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  m.cpu = trim(firstLine("/proc/cpuinfo", "model name"));
  const double kb = std::atof(trim(firstLine("/proc/meminfo", "MemTotal")).c_str());
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GiB", kb / 1048576.0);
  m.memory = buf;
  m.disk = diskOf(work);
  m.sqlite = sqlite3_libversion();
  m.load_before = loadAverage();
  return m;
}

// A plugin directory holding only `plugin`, the role migration `id`.
bool makeRolePluginDir(const std::string& dir, const char* plugin, const std::string& id) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  fs::copy_file(plugin, dir + "/" + id + ".so", ec);
  if (ec) {
    note(std::string("copy ") + plugin + ": " + ec.message());
    return false;
  }
  return writeManifest(dir, {id});
}

class Bench {
 public:
  explicit Bench(const Options& o) : o_(o) {}

  int run(Report* report);

 private:
  std::string path(const std::string& name) const { return o_.work + "/" + name; }
  std::vector<std::string> graftArgs(const std::string& db, const std::string& plugins,
                                     std::vector<std::string> command) const {
    std::vector<std::string> args = {o_.graft, "--db", db, "--plugins", plugins};
    args.insert(args.end(), command.begin(), command.end());
    return args;
  }
  AppOptions appOptions(const std::string& db, int64_t docs) const {
    return {db,   path("app-result.bin"), static_cast<int64_t>(o_.interval_ms * 1000),
            docs, o_.app_synchronous,     o_.app_busy_poll_us};
  }
  // A fresh copy of the store `seed_db` (whose users `seed` describes) for
  // each run; `load_processes` CPU-bound processes beside it while it runs.
  struct Seed {
    std::string db;
    SeedInfo info;
  };
  ContenderResult contender(const std::string& key, const std::string& name,
                            const std::function<pid_t(const std::string&)>& start) {
    return contender(key, name, start, {path("seed.db"), seed_}, 0);
  }
  ContenderResult contender(const std::string& key, const std::string& name,
                            const std::function<pid_t(const std::string&)>& start, const Seed& seed,
                            int load_processes);
  void expensiveRuns(ExpensiveRuns* runs);
  MemoryRun graftAlone(const std::string& seed_db, const SeedInfo& seed);
  void noopPlugins(NoopResult* result);

  Options o_;
  SeedInfo seed_;
};

ContenderResult Bench::contender(const std::string& key, const std::string& name,
                                 const std::function<pid_t(const std::string&)>& start,
                                 const Seed& seed, int load_processes) {
  ContenderResult r;
  r.key = key;
  r.name = name;
  note("contender: " + name);
  const std::string db = path("run.db");
  if (!copyStore(seed.db, db)) return r;
  CpuLoad load;
  if (load_processes > 0 && !load.start(load_processes, kLoadLimitS)) return r;
  AppWriter app;
  if (!app.start(appOptions(db, seed.info.docs))) note("the application writer did not start");
  const int64_t started = monotonicNs();
  r.child = waitSampling(start(db), started, db + "-wal");
  load.stop();
  r.app = app.stop();
  r.verdict = verify(db);
  r.verified = r.child.exit_code == 0 && r.verdict.ok(seed.info);
  if (!r.verified) {
    note(name + " FAILED: exit " + std::to_string(r.child.exit_code) + ", users without a role " +
         std::to_string(r.verdict.without_role) + ", members " + std::to_string(r.verdict.members) +
         " (expected " + std::to_string(seed.info.without_role) + "); see the logs in " + o_.work);
  }
  removeStore(db);
  return r;
}

// The expensive migrateOne on one thread and with parallelize, on the
// machine as it is and then loaded.
void Bench::expensiveRuns(ExpensiveRuns* runs) {
  runs->docs = o_.expensive_docs;
  runs->load_processes = o_.load_processes < 0 ? usableCores() : o_.load_processes;
  Seed seed{path("seed-expensive.db"), {}};
  note("seeding " + std::to_string(runs->docs) + " users in " + seed.db);
  if (!seedUsers(seed.db, runs->docs, &seed.info)) return;
  const std::string log = path("graft-up-expensive.log");
  std::remove(log.c_str());
  auto pair = [&](const std::string& key, const std::string& beside, int load_processes,
                  ExpensivePair* out) {
    auto run = [&](bool parallel) {
      const std::string plugins =
          path(parallel ? "expensive-parallel-plugins" : "expensive-plugins");
      return contender(
          key + (parallel ? "_parallel" : ""),
          std::string("graft up (expensive migrateOne") + (parallel ? ", parallelize" : "") + ")" +
              beside,
          [&](const std::string& db) {
            return forkProgram(graftArgs(db, plugins, {"up", "-q"}), log);
          },
          seed, load_processes);
    };
    out->one_thread[0] = run(false);
    out->parallel[0] = run(true);
    out->parallel[1] = run(true);
    out->one_thread[1] = run(false);
  };
  pair("graft_up_expensive", "", 0, &runs->quiet);
  if (runs->load_processes > 0) {
    pair("graft_up_expensive_loaded",
         ", " + std::to_string(runs->load_processes) + " CPU-bound processes", runs->load_processes,
         &runs->loaded);
  }
  removeStore(seed.db);
}

MemoryRun Bench::graftAlone(const std::string& seed_db, const SeedInfo& seed) {
  MemoryRun m;
  m.docs = seed.docs;
  note("graft up alone on " + std::to_string(seed.docs) + " users");
  const std::string db = path("run.db");
  if (!copyStore(seed_db, db)) return m;
  const int64_t started = monotonicNs();
  m.child = waitSampling(
      forkProgram(graftArgs(db, path("role-plugins"), {"up", "-q"}), path("graft-alone.log")),
      started, db + "-wal");
  m.verified = m.child.exit_code == 0 && verify(db).ok(seed);
  if (!m.verified) note("graft up alone FAILED; see " + path("graft-alone.log"));
  removeStore(db);
  return m;
}

void Bench::noopPlugins(NoopResult* r) {
  r->count = o_.noop;
  if (!buildNoopPlugins(o_.work, o_.noop, &r->build_s, &r->error)) return;
  const std::string plugins = path("noop-plugins");
  const std::string db = path("noop.db");
  if (!seedItems(db, 10)) {
    r->error = "could not seed " + db;
    return;
  }
  const std::string graft_log = path("noop-graft.log");
  std::remove(graft_log.c_str());
  auto timed = [&](std::vector<std::string> command) {
    const int64_t started = monotonicNs();
    return waitSampling(forkProgram(graftArgs(db, plugins, std::move(command)), graft_log), started,
                        "");
  };
  note("graft status / up / status over " + std::to_string(o_.noop) + " plugins");
  r->status_pending = timed({"status"});
  r->up = timed({"up", "-q"});
  r->status_done = timed({"status"});
  const int64_t completed = completedMigrations(db);
  if (r->status_pending.exit_code != 0 || r->up.exit_code != 0 || r->status_done.exit_code != 0 ||
      completed != o_.noop) {
    r->error = "graft failed over the no-op plugins (" + std::to_string(completed) +
               " completed); see " + graft_log;
  }
  removeStore(db);
}

int Bench::run(Report* report) {
  std::error_code ec;
  fs::create_directories(o_.work, ec);
  if (ec) {
    note("work directory " + o_.work + ": " + ec.message());
    return 1;
  }
  report->machine = describeMachine(o_.work);
  report->docs = o_.docs;
  report->interval_ms = o_.interval_ms;
  report->app_synchronous = o_.app_synchronous;
  report->app_busy =
      o_.app_busy_poll_us > 0
          ? "a busy handler retrying every " + std::to_string(o_.app_busy_poll_us) + " us for 5 s"
          : "busy_timeout 5000";
  if (!makeRolePluginDir(path("role-plugins"), GRAFT_BENCH_ROLE_PLUGIN, kRoleMigration) ||
      !makeRolePluginDir(path("role-parallel-plugins"), GRAFT_BENCH_ROLE_PARALLEL_PLUGIN,
                         kRoleParallelMigration) ||
      !makeRolePluginDir(path("expensive-plugins"), GRAFT_BENCH_EXPENSIVE_PLUGIN,
                         kExpensiveMigration) ||
      !makeRolePluginDir(path("expensive-parallel-plugins"), GRAFT_BENCH_EXPENSIVE_PARALLEL_PLUGIN,
                         kExpensiveParallelMigration))
    return 1;

  note("seeding " + std::to_string(o_.docs) + " users in " + path("seed.db"));
  const int64_t seed_started = monotonicNs();
  if (!seedUsers(path("seed.db"), o_.docs, &seed_)) return 1;
  report->seed_s = static_cast<double>(monotonicNs() - seed_started) / 1e9;
  report->seed = seed_;
  report->seed_bytes = fileSize(path("seed.db"));

  // The floor: the application alone, no migration.
  report->idle_s = o_.docs >= 100000 ? 3 : 1;
  note("the application alone for " + std::to_string(static_cast<int>(report->idle_s)) + " s");
  {
    const std::string db = path("run.db");
    if (!copyStore(path("seed.db"), db)) return 1;
    AppWriter app;
    app.start(appOptions(db, o_.docs));
    usleep(static_cast<useconds_t>(report->idle_s * 1e6));
    report->idle = app.stop();
    removeStore(db);
  }

  const std::string up_log = path("graft-up.log");
  std::remove(up_log.c_str());
  report->contenders.push_back(
      contender("graft_up", "graft up (plugin)", [&](const std::string& db) {
        return forkProgram(graftArgs(db, path("role-plugins"), {"up", "-q"}), up_log);
      }));
  const std::string parallel_log = path("graft-up-parallel.log");
  std::remove(parallel_log.c_str());
  report->contenders.push_back(
      contender("graft_up_parallel", "graft up (plugin, parallelize)", [&](const std::string& db) {
        return forkProgram(graftArgs(db, path("role-parallel-plugins"), {"up", "-q"}),
                           parallel_log);
      }));
  report->contenders.push_back(contender("sql_update", "one SQL UPDATE", [](const std::string& db) {
    return forkFunction([&] { return runSingleUpdate(db); });
  }));
  report->contenders.push_back(
      contender("sql_update_batched", "SQL UPDATE per 256 _ids", [](const std::string& db) {
        return forkFunction([&] { return runBatchedUpdate(db, kBatchSize); });
      }));
  report->contenders.push_back(
      contender("hand_loop", "C++ hand loop (Boost.JSON, 256)", [](const std::string& db) {
        return forkFunction([&] { return runHandLoop(db, kBatchSize); });
      }));
  if (inPath("sqlite-utils")) {
    const std::string log = path("sqlite-utils.log");
    std::remove(log.c_str());
    report->contenders.push_back(
        contender("sqlite_utils", "sqlite-utils convert", [&](const std::string& db) {
          return forkProgram({"sqlite-utils", "convert", db, "users", "body",
                              "import json\n"
                              "def convert(value):\n"
                              "    doc = json.loads(value)\n"
                              "    doc[\"role\"] = \"member\"\n"
                              "    return json.dumps(doc, separators=(\",\", \":\"))\n",
                              "--where", "json_extract(body, '$.role') IS NULL", "--silent"},
                             log);
        }));
  } else {
    ContenderResult skipped;
    skipped.key = "sqlite_utils";
    skipped.name = "sqlite-utils convert";
    skipped.skipped = "not installed (tools/bench --with-sqlite-utils)";
    report->contenders.push_back(skipped);
  }

  if (o_.expensive_docs > 0) expensiveRuns(&report->expensive);

  SeedInfo small;
  if (!seedUsers(path("seed-small.db"), std::max<int64_t>(1, o_.docs / 10), &small)) return 1;
  report->memory_small = graftAlone(path("seed-small.db"), small);
  removeStore(path("seed-small.db"));
  report->memory_large = graftAlone(path("seed.db"), seed_);

  if (o_.noop > 0) noopPlugins(&report->noop);
  report->machine.load_after = loadAverage();
  removeStore(path("seed.db"));  // 160 MB at the default size

  bool ok =
      report->memory_small.verified && report->memory_large.verified && report->noop.error.empty();
  for (const auto& c : report->contenders) ok = ok && (!c.skipped.empty() || c.verified);
  if (report->expensive.docs > 0) {
    ok = ok && report->expensive.quiet.verified();
    if (report->expensive.load_processes > 0) ok = ok && report->expensive.loaded.verified();
  }
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  bench::Options o;
  CLI::App app{"graft_bench: graft up against plain SQLite, with an application writing meanwhile",
               "graft_bench"};
  app.add_option("--docs", o.docs, "users in the store")
      ->check(CLI::Range(1000, 100000000))
      ->capture_default_str();
  app.add_option("--expensive-docs", o.expensive_docs,
                 "users in the store of the expensive-migrateOne contenders (0: skip them)")
      ->check(CLI::Range(0, 10000000))
      ->capture_default_str();
  app.add_option("--load-processes", o.load_processes,
                 "CPU-bound processes beside the loaded expensive-migrateOne runs (default: one "
                 "per core this process may use; 0: skip the loaded runs)")
      ->check(CLI::Range(0, 1024));
  app.add_option("--json", o.json_file, "also write the results as one JSON object to FILE");
  app.add_option("--noop", o.noop, "no-op plugins for the status/up timing (0: skip)")
      ->check(CLI::Range(0, 9999))
      ->capture_default_str();
  app.add_option("--work", o.work, "scratch directory (stores, logs, the no-op plugin build)")
      ->capture_default_str();
  app.add_option("--interval-ms", o.interval_ms, "the application's time between transactions")
      ->check(CLI::Range(0.1, 1000.0))
      ->capture_default_str();
  app.add_option("--app-synchronous", o.app_synchronous, "the application's PRAGMA synchronous")
      ->check(CLI::IsMember({"NORMAL", "FULL"}))
      ->capture_default_str();
  app.add_option("--app-busy-poll-us", o.app_busy_poll_us,
                 "0: the application waits with sqlite3_busy_timeout(5000); else it retries "
                 "every N microseconds (5 s in all)")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  app.add_option("--graft", o.graft, "the graft binary")->capture_default_str();
  app.add_option("--make-store", o.make_store,
                 "only write the seed store (--docs users) to FILE and exit, to profile a "
                 "contender by hand");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (!o.make_store.empty()) {
    bench::SeedInfo seed;
    if (!bench::seedUsers(o.make_store, o.docs, &seed)) return 1;
    std::printf("%s: %lld users, %lld without a role\n", o.make_store.c_str(),
                static_cast<long long>(seed.docs), static_cast<long long>(seed.without_role));
    return 0;
  }

  bench::Report report;
  const char* wrapper = std::getenv("GRAFT_BENCH_COMMAND");
  if (wrapper && *wrapper) {
    report.command = wrapper;
  } else {
    for (int i = 0; i < argc; ++i) report.command += (i ? " " : "") + std::string(argv[i]);
  }
  bench::Bench bench(o);
  const int code = bench.run(&report);
  bench::printReport(report, stdout);
  if (!o.json_file.empty()) {
    std::ofstream out(o.json_file);
    out << boost::json::serialize(bench::reportJson(report)) << "\n";
    if (!out.flush()) {
      std::fprintf(stderr, "graft_bench: can not write %s\n", o.json_file.c_str());
      return 1;
    }
  }
  return code;
}
