// graft_bench_small -- what a small run costs (doc/performance.md, "Small
// runs"): graft up through K no-op migrations, and a migration over a small
// index range of a large table against the walks that write the same
// documents.
//
//   graft_bench_small [--noop K] [--docs N] [--range-docs M] [--runs R] [--work DIR]
//
// No-op: K plugins built at run time (tools/bench_noop, kept in the work
// directory), each walking a 10-document table and changing nothing; R
// runs of `graft up` on fresh copies of the store. Range: a table of N items
// of which M are drafts (every N/M-th), an index on `status` declared, and
// the drafts get "flag": 1 (tools/bench_range.cpp), by
//   range:    a customRange over the drafts;
//   walk:     a walk of the whole table that skips all but the drafts;
//   own walk: the same walk over a table of the M drafts alone, which is
//             what writing those documents costs graft;
//   own range: the customRange over that table;
//   idle:     graft up with the plugins of the run and nothing pending: the
//             process, its checks and the plugins' loading;
//   SQL:      one UPDATE of the drafts through the index, in one
//             transaction: what writing those documents costs SQLite, where
//             they lie (each in a page of its own), without graft.
// Each runs R times on a fresh copy, round after round, and the medians are
// reported, with the ratios the targets speak of. Exit code: 0 when every
// run did its job, 1 otherwise. Targets are reported, not enforced.
#include <sqlite3.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "bench_plugins.h"
#include "bench_process.h"
#include "bench_sql.h"

namespace fs = std::filesystem;

namespace bench {
namespace {

struct Options {
  int noop = 1000;
  int64_t docs = 100000;
  int64_t range_docs = 1000;
  int runs = 5;
  std::string work = GRAFT_BENCH_WORK;
  std::string graft = GRAFT_BINARY;
};

void note(const std::string& text) {
  std::fprintf(stderr, "graft_bench_small: %s\n", text.c_str());
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string sqlValue(const std::string& db, const std::string& sql) {
  sqlite3* conn = nullptr;
  std::string value = "?";
  if (sqlite3_open_v2(db.c_str(), &conn, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(conn, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0))
      value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
  }
  sqlite3_close_v2(conn);
  return value;
}

// What writing the drafts costs SQLite itself: one UPDATE through the
// index, one transaction, committed with synchronous=FULL, on a connection
// set up as graft's (WAL, busy_timeout 5000), closed at the end as graft's
// is (the last connection checkpoints).
int updateDrafts(const std::string& db) {
  sqlite3* conn = nullptr;
  if (sqlite3_open_v2(db.c_str(), &conn, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) return 1;
  sqlite3_busy_timeout(conn, 5000);
  const char* sql =
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; BEGIN IMMEDIATE;"
      "UPDATE items SET body = json_set(body, '$.flag', 1)"
      " WHERE json_extract(body, '$.status') = 'draft'; COMMIT";
  const int rc = sqlite3_exec(conn, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) std::fprintf(stderr, "graft_bench_small: %s\n", sqlite3_errmsg(conn));
  sqlite3_close_v2(conn);
  return rc == SQLITE_OK ? 0 : 1;
}

// One kind of run: graft `command` on a fresh copy of `seed` with the
// plugins of `plugins`; `check` says whether it did its job.
struct Contender {
  std::string name;
  std::string seed;
  std::string plugins;
  std::vector<std::string> command;
  std::function<bool(const std::string& db)> check;
  // Run once on the copy before the timed run (the idle contender's up).
  bool prepared = false;
  // When set, runs instead of graft, in a child process of its own.
  std::function<int(const std::string& db)> instead;
  std::vector<double> wall_s, cpu_s;
  bool failed = false;
};

class SmallBench {
 public:
  explicit SmallBench(const Options& o) : o_(o) {}
  int run();

 private:
  std::string path(const std::string& name) const { return o_.work + "/" + name; }
  ChildResult graft(const std::string& db, const std::string& plugins,
                    const std::vector<std::string>& command) {
    std::vector<std::string> args = {o_.graft, "--db", db, "--plugins", plugins};
    args.insert(args.end(), command.begin(), command.end());
    const int64_t started = monotonicNs();
    return waitSampling(forkProgram(args, path("small-graft.log")), started, "");
  }
  bool prepareNoop(Contender* c);
  bool prepareRange(std::vector<Contender>* contenders);
  bool seedRangeStore(const std::string& db, int64_t docs, int64_t every);
  void runRounds(std::vector<Contender>* contenders);
  void print(const std::vector<Contender>& contenders) const;

  Options o_;
};

bool SmallBench::prepareNoop(Contender* c) {
  double build_s = 0;
  std::string error;
  if (!buildNoopPlugins(o_.work, o_.noop, &build_s, &error)) {
    note(error);
    return false;
  }
  c->name = std::to_string(o_.noop) + " no-op migrations";
  c->seed = path("small-noop-seed.db");
  c->plugins = path("noop-plugins");
  c->command = {"up", "-q"};
  const std::string expected = std::to_string(o_.noop);
  c->check = [this, expected](const std::string& db) {
    return sqlValue(db, "SELECT count(*) FROM migration_state WHERE status = 'completed'") ==
           expected;
  };
  return seedItems(c->seed, 10);
}

// Items {"k": i, "status": "draft" or "done"}, every `every`-th a draft,
// with a schema that declares the index the range walks.
bool SmallBench::seedRangeStore(const std::string& db, int64_t docs, int64_t every) {
  if (!seedTable(db, "items", docs, [every](int64_t i) {
        return "{\"k\":" + std::to_string(i) + ",\"status\":\"" +
               (i % every == 0 ? "draft" : "done") + "\"}";
      }))
    return false;
  const std::string schema = path("small-range-schema.json");
  std::ofstream(schema) << R"({"graft_schema": 1, "tables": {"items": {)"
                        << R"("document": {"k": "int64", "status": "string", )"
                        << R"("flag": {"optional": "int64"}},)"
                        << R"("indexes": {"by_status": ["status"]}}}})";
  ChildResult pushed = graft(db, path("small-range-plugins"), {"schema", "push", schema});
  if (pushed.exit_code != 0) note("graft schema push failed; see " + path("small-graft.log"));
  // The push's WAL into the file, so that a copy of the file is the store.
  sqlite3* conn = nullptr;
  sqlite3_open(db.c_str(), &conn);
  sqlite3_wal_checkpoint_v2(conn, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  sqlite3_close_v2(conn);
  return pushed.exit_code == 0;
}

bool SmallBench::prepareRange(std::vector<Contender>* contenders) {
  auto pluginDir = [&](const std::string& name, const char* plugin, const std::string& id) {
    const std::string dir = path(name);
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::create_directories(dir, ec);
    fs::copy_file(plugin, dir + "/" + id + ".so", ec);
    return !ec && writeManifest(dir, {id}) ? dir : "";
  };
  const std::string range =
      pluginDir("small-range-plugins", GRAFT_BENCH_RANGE_PLUGIN, "bench_range_index");
  const std::string walk =
      pluginDir("small-walk-plugins", GRAFT_BENCH_WALK_PLUGIN, "bench_range_walk");
  if (range.empty() || walk.empty()) return false;
  const std::string large = path("small-range-large.db"), own = path("small-range-own.db");
  if (!seedRangeStore(large, o_.docs, o_.docs / o_.range_docs) ||
      !seedRangeStore(own, o_.range_docs, 1))
    return false;
  const std::string flagged = std::to_string(o_.range_docs);
  auto check = [flagged](const std::string& db) {
    return sqlValue(db, "SELECT count(*) FROM items WHERE json_extract(body, '$.flag') = 1") ==
           flagged;
  };
  const std::string n = std::to_string(o_.docs), m = std::to_string(o_.range_docs);
  auto add = [&](const std::string& name, const std::string& seed, const std::string& plugins) {
    Contender c;
    c.name = name;
    c.seed = seed;
    c.plugins = plugins;
    c.command = {"up", "-q"};
    c.check = check;
    contenders->push_back(std::move(c));
  };
  add("range over " + m + " drafts of " + n, large, range);
  add("walk of " + n + ", writing the " + m, large, walk);
  add("own walk: the " + m + " drafts alone", own, walk);
  add("own range: the " + m + " drafts alone", own, range);
  add("idle: nothing pending (range plugin)", own, range);
  contenders->back().prepared = true;
  add("SQL: one UPDATE of the " + m + " drafts through the index", large, "");
  contenders->back().instead = updateDrafts;
  return true;
}

void SmallBench::runRounds(std::vector<Contender>* contenders) {
  const std::string db = path("small-run.db");
  for (int round = 0; round < o_.runs; ++round) {
    for (Contender& c : *contenders) {
      if (c.failed || !copyStore(c.seed, db)) {
        c.failed = true;
        continue;
      }
      if (c.prepared && graft(db, c.plugins, c.command).exit_code != 0) c.failed = true;
      sync();
      ChildResult r;
      if (c.instead) {
        const int64_t started = monotonicNs();
        r = waitSampling(forkFunction([&] { return c.instead(db); }), started, "");
      } else {
        r = graft(db, c.plugins, c.command);
      }
      if (r.exit_code != 0 || !c.check(db)) {
        note(c.name + " FAILED (exit " + std::to_string(r.exit_code) + "); see " +
             path("small-graft.log"));
        c.failed = true;
      }
      c.wall_s.push_back(r.wall_s);
      c.cpu_s.push_back(r.cpu_s);
    }
  }
  removeStore(db);
}

void SmallBench::print(const std::vector<Contender>& contenders) const {
  std::printf("| run | wall s (median of %d) | CPU s | each run, wall s |\n|---|---:|---:|---|\n",
              o_.runs);
  std::map<std::string, double> med;
  for (const Contender& c : contenders) {
    std::string each;
    for (double s : c.wall_s) each += (each.empty() ? "" : " ") + std::to_string(s).substr(0, 5);
    med[c.name] = median(c.wall_s);
    std::printf("| %s%s | %.3f | %.3f | %s |\n", c.name.c_str(), c.failed ? " (FAILED)" : "",
                med[c.name], median(c.cpu_s), each.c_str());
  }
  if (contenders.size() < 7) return;
  const double range = med[contenders[1].name], walk = med[contenders[2].name],
               own = med[contenders[3].name], idle = med[contenders[5].name],
               sql = med[contenders[6].name];
  std::printf("\nrange / walk: %.2f\n", range / walk);
  std::printf("range / own walk: %.2f (whole runs)\n", range / own);
  std::printf("range step (less idle) / own walk step (less idle): %.2f\n",
              (range - idle) / (own - idle));
  std::printf("range step (less idle) / SQL UPDATE of the same documents: %.2f (target <= 1.10)\n",
              (range - idle) / sql);
  std::printf("%d no-op migrations: %.3f s (target <= 1 s)\n", o_.noop, med[contenders[0].name]);
}

int SmallBench::run() {
  std::error_code ec;
  fs::create_directories(o_.work, ec);
  std::vector<Contender> contenders(1);
  if (!prepareNoop(&contenders[0]) || !prepareRange(&contenders)) return 1;
  note("running " + std::to_string(o_.runs) + " rounds");
  runRounds(&contenders);
  print(contenders);
  bool ok = true;
  for (const Contender& c : contenders) ok = ok && !c.failed;
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  bench::Options o;
  CLI::App app{"graft_bench_small: what a small run of graft costs", "graft_bench_small"};
  app.add_option("--noop", o.noop, "no-op plugins for graft up")
      ->check(CLI::Range(1, 9999))
      ->capture_default_str();
  app.add_option("--docs", o.docs, "items in the range's large table")
      ->check(CLI::Range(1000, 100000000))
      ->capture_default_str();
  app.add_option("--range-docs", o.range_docs, "drafts among them: the range")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--runs", o.runs, "runs of each, round after round")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--work", o.work, "scratch directory (stores, logs, the no-op plugin build)")
      ->capture_default_str();
  app.add_option("--graft", o.graft, "the graft binary")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (o.range_docs > o.docs) {
    std::fprintf(stderr, "graft_bench_small: --range-docs must not exceed --docs\n");
    return 2;
  }
  std::string command;
  for (int i = 0; i < argc; ++i) command += (i ? " " : "") + std::string(argv[i]);
  std::printf("%s\nload average before: ", command.c_str());
  std::ifstream loadavg("/proc/loadavg");
  std::string a, b, c;
  loadavg >> a >> b >> c;
  std::printf("%s %s %s\n\n", a.c_str(), b.c_str(), c.c_str());
  return bench::SmallBench(o).run();
}
