#include "bench_report.h"

#include <boost/json.hpp>
#include <string>
#include <utility>

namespace bench {
namespace {

std::string format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// 1234567 -> "1,234,567"
std::string grouped(double v) {
  std::string digits = std::to_string(static_cast<int64_t>(v + 0.5));
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string mb(int64_t bytes) { return format("%.1f", static_cast<double>(bytes) / 1048576.0); }
std::string mbKb(int64_t kb) { return format("%.1f", static_cast<double>(kb) / 1024.0); }

const ContenderResult* find(const Report& r, const std::string& key) {
  for (const auto& c : r.contenders)
    if (c.key == key && c.skipped.empty()) return &c;
  return nullptr;
}

struct Target {
  std::string what, goal, measured, verdict;
};

std::string metOrMissed(bool met) { return met ? "met" : "missed"; }

std::vector<Target> targets(const Report& r) {
  std::vector<Target> out;
  const ContenderResult* sql = find(r, "sql_update");
  // The throughput and latency targets, for the plugin as it is and built
  // with parallelize.
  const std::pair<const char*, std::string> graft_rows[] = {
      {"graft_up", "graft up"}, {"graft_up_parallel", "graft up (parallelize)"}};
  for (const auto& [key, which] : graft_rows) {
    const ContenderResult* c = find(r, key);
    if (!c) continue;
    if (sql && c->verified && sql->verified) {
      const double ratio = c->docsPerSecond(r.docs) / sql->docsPerSecond(r.docs);
      out.push_back({which + " throughput / single SQL UPDATE", ">= 1.0x (at least 0.8x)",
                     format("%.2fx", ratio),
                     ratio >= 1.0   ? "met"
                     : ratio >= 0.8 ? "0.8x minimum met, 1.0x missed"
                                    : "missed"});
    }
    if (c->app.ok) {
      out.push_back({"app p99 write latency during " + which, "<= 5 ms",
                     format("%.2f ms", c->app.p99_ms), metOrMissed(c->app.p99_ms <= 5)});
      out.push_back({"app max write latency during " + which, "<= 50 ms",
                     format("%.1f ms", c->app.max_ms), metOrMissed(c->app.max_ms <= 50)});
      out.push_back({"app errors during " + which, "0", std::to_string(c->app.errors),
                     metOrMissed(c->app.errors == 0)});
    }
  }
  const ExpensiveRuns& e = r.expensive;
  const std::pair<const ExpensivePair*, std::string> expensive_rows[] = {
      {&e.quiet, "the machine as it was"},
      {&e.loaded, std::to_string(e.load_processes) + " CPU-bound processes"}};
  for (const auto& [pair, beside] : expensive_rows) {
    const double ratio = pair->parallelOverOneThread();
    if (ratio == 0) continue;
    out.push_back({"graft up with parallelize / on one thread, expensive migrateOne, " + beside,
                   "<= 1.05x (wall time)", format("%.2fx", ratio), metOrMissed(ratio <= 1.05)});
  }
  const ContenderResult* graft = find(r, "graft_up");
  const MemoryRun& small = r.memory_small;
  const MemoryRun& large = r.memory_large;
  if (small.verified && large.verified && small.child.max_rss_kb > 0) {
    const double ratio =
        static_cast<double>(large.child.max_rss_kb) / static_cast<double>(small.child.max_rss_kb);
    out.push_back({"graft up peak RSS at " + grouped(static_cast<double>(large.docs)) + " / at " +
                       grouped(static_cast<double>(small.docs)),
                   "<= 1.1x",
                   format("%.2fx", ratio) + " (" + mbKb(large.child.max_rss_kb) + " / " +
                       mbKb(small.child.max_rss_kb) + " MB)",
                   metOrMissed(ratio <= 1.1)});
    // Bounded: the WAL does not grow with the table (25% slack for timing).
    const bool bounded = large.child.wal_peak_bytes <= small.child.wal_peak_bytes * 5 / 4 + 1048576;
    std::string measured = "peak " + mb(small.child.wal_peak_bytes) + " MB at " +
                           grouped(static_cast<double>(small.docs)) + ", " +
                           mb(large.child.wal_peak_bytes) + " MB at " +
                           grouped(static_cast<double>(large.docs));
    if (graft)
      measured += "; with the app: peak " + mb(graft->child.wal_peak_bytes) + " MB, end " +
                  mb(graft->child.wal_end_bytes) + " MB";
    out.push_back(
        {"WAL during graft up bounded", "does not grow with N", measured, metOrMissed(bounded)});
  }
  if (r.noop.count > 0 && r.noop.error.empty()) {
    const std::string n = std::to_string(r.noop.count);
    out.push_back(
        {"graft status with " + n + " plugins", "<= 1 s",
         format("%.2f s", r.noop.status_pending.wall_s) + " (pending), " +
             format("%.2f s", r.noop.status_done.wall_s) + " (completed)",
         metOrMissed(std::max(r.noop.status_pending.wall_s, r.noop.status_done.wall_s) <= 1)});
    out.push_back({"graft up through " + n + " no-op migrations", "<= 3 s",
                   format("%.2f s", r.noop.up.wall_s), metOrMissed(r.noop.up.wall_s <= 3)});
  }
  return out;
}

boost::json::object childJson(const ChildResult& c) {
  return {{"exit_code", c.exit_code},
          {"signal", c.signal},
          {"wall_s", c.wall_s},
          {"cpu_s", c.cpu_s},
          {"max_rss_kb", c.max_rss_kb},
          {"wal_peak_bytes", c.wal_peak_bytes},
          {"wal_end_bytes", c.wal_end_bytes}};
}

boost::json::object appJson(const AppStats& a) {
  return {{"ok", a.ok},
          {"transactions", a.ops},
          {"errors", a.errors},
          {"p50_ms", a.p50_ms},
          {"p99_ms", a.p99_ms},
          {"max_ms", a.max_ms},
          {"first_error", a.first_error}};
}

}  // namespace

double ExpensivePair::parallelOverOneThread() const {
  const double one = one_thread[0].child.wall_s + one_thread[1].child.wall_s;
  return verified() && one > 0 ? (parallel[0].child.wall_s + parallel[1].child.wall_s) / one : 0;
}

void printReport(const Report& r, std::FILE* out) {
  const ContenderResult* graft = find(r, "graft_up");
  const double graft_rate = graft ? graft->docsPerSecond(r.docs) : 0;
  std::fprintf(out,
               "\nMachine: %d cores (nproc), %s, %s RAM, disk %s; SQLite %s; load average %s "
               "before, %s after\n",
               r.machine.nproc, r.machine.cpu.c_str(), r.machine.memory.c_str(),
               r.machine.disk.c_str(), r.machine.sqlite.c_str(), r.machine.load_before.c_str(),
               r.machine.load_after.c_str());
  std::fprintf(out,
               "Store: %s users (~140 bytes each, %s MB file), %s of them without a role; "
               "seeded through graft's SqliteStore in %.1f s\n",
               grouped(static_cast<double>(r.docs)).c_str(), mb(r.seed_bytes).c_str(),
               grouped(static_cast<double>(r.seed.without_role)).c_str(), r.seed_s);
  std::fprintf(out,
               "App: a separate process, one write transaction every %.1f ms (insert one "
               "user / patch another), %s, synchronous=%s\n\n",
               r.interval_ms, r.app_busy.c_str(), r.app_synchronous.c_str());

  std::fprintf(out,
               "| contender | wall s | docs/s | graft ÷ this | CPU s | peak RSS MB | WAL peak MB "
               "| WAL end MB |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& c : r.contenders) {
    if (!c.skipped.empty()) {
      std::fprintf(out, "| %s | skipped: %s | | | | | | |\n", c.name.c_str(), c.skipped.c_str());
      continue;
    }
    const double rate = c.docsPerSecond(r.docs);
    std::fprintf(out, "| %s | %.2f | %s | %s | %.2f | %s | %s | %s |\n", c.name.c_str(),
                 c.child.wall_s, c.verified ? grouped(rate).c_str() : "FAILED",
                 rate > 0 && graft_rate > 0 ? format("%.2fx", graft_rate / rate).c_str() : "-",
                 c.child.cpu_s, mbKb(c.child.max_rss_kb).c_str(),
                 mb(c.child.wal_peak_bytes).c_str(), mb(c.child.wal_end_bytes).c_str());
  }

  std::fprintf(out,
               "\n| app writes during | transactions | p50 ms | p99 ms | max ms | errors |\n"
               "|---|---:|---:|---:|---:|---:|\n");
  auto appRow = [&](const std::string& name, const AppStats& a) {
    if (!a.ok) {
      std::fprintf(out, "| %s | writer failed | | | | |\n", name.c_str());
      return;
    }
    std::fprintf(out, "| %s | %lld | %.2f | %.2f | %.1f | %lld |\n", name.c_str(),
                 static_cast<long long>(a.ops), a.p50_ms, a.p99_ms, a.max_ms,
                 static_cast<long long>(a.errors));
  };
  appRow(format("no migration (%.0f s)", r.idle_s), r.idle);
  for (const auto& c : r.contenders)
    if (c.skipped.empty()) appRow(c.name, c.app);

  const ExpensiveRuns& e = r.expensive;
  if (e.docs > 0) {
    std::fprintf(out,
                 "\nExpensive migrateOne: %s users of a store of their own, the same migration "
                 "after a fixed amount of CPU work per user (tools/bench_expensive.cpp), each "
                 "twice, in the order one thread, parallelize, parallelize, one thread; "
                 "parallelize ÷ one thread is the ratio of the wall times added up (below "
                 "1.00x: parallelize is faster)\n\n"
                 "| machine | one thread: wall s | CPU s | parallelize: wall s | CPU s | app p99 "
                 "ms (one thread, parallelize) | parallelize ÷ one thread |\n"
                 "|---|---:|---:|---:|---:|---:|---:|\n",
                 grouped(static_cast<double>(e.docs)).c_str());
    auto pairRow = [&](const std::string& machine, const ExpensivePair& p) {
      if (!p.ran()) return;
      auto two = [](const ContenderResult(&runs)[2], auto field) {
        return format("%.2f", field(runs[0])) + ", " + format("%.2f", field(runs[1]));
      };
      auto wall = [](const ContenderResult& c) { return c.child.wall_s; };
      auto cpu = [](const ContenderResult& c) { return c.child.cpu_s; };
      auto p99 = [](const ContenderResult& c) { return c.app.p99_ms; };
      const double ratio = p.parallelOverOneThread();
      std::fprintf(out, "| %s | %s | %s | %s | %s | %s; %s | %s |\n", machine.c_str(),
                   two(p.one_thread, wall).c_str(), two(p.one_thread, cpu).c_str(),
                   two(p.parallel, wall).c_str(), two(p.parallel, cpu).c_str(),
                   two(p.one_thread, p99).c_str(), two(p.parallel, p99).c_str(),
                   ratio > 0 ? format("%.2fx", ratio).c_str() : "FAILED");
    };
    pairRow("as it was", e.quiet);
    pairRow(std::to_string(e.load_processes) + " CPU-bound processes", e.loaded);
  }

  if (r.memory_small.docs > 0) {
    std::fprintf(out,
                 "\n| graft up alone | wall s | docs/s | peak RSS MB | WAL peak MB |\n"
                 "|---|---:|---:|---:|---:|\n");
    for (const MemoryRun* m : {&r.memory_small, &r.memory_large}) {
      const double rate = m->verified ? static_cast<double>(m->docs) / m->child.wall_s : 0;
      std::fprintf(out, "| %s users | %.2f | %s | %s | %s |\n",
                   grouped(static_cast<double>(m->docs)).c_str(), m->child.wall_s,
                   m->verified ? grouped(rate).c_str() : "FAILED",
                   mbKb(m->child.max_rss_kb).c_str(), mb(m->child.wal_peak_bytes).c_str());
    }
  }

  if (r.noop.count > 0) {
    std::fprintf(out, "\n%d no-op plugins", r.noop.count);
    if (!r.noop.error.empty()) {
      std::fprintf(out, ": %s\n", r.noop.error.c_str());
    } else {
      std::fprintf(out,
                   " (built in %.1f s): graft status %.2f s (all pending), graft up %.2f s, "
                   "graft status %.2f s (all completed)\n",
                   r.noop.build_s, r.noop.status_pending.wall_s, r.noop.up.wall_s,
                   r.noop.status_done.wall_s);
    }
  }

  const auto list = targets(r);
  if (!list.empty()) {
    std::fprintf(out, "\n| target | goal | measured | verdict |\n|---|---|---|---|\n");
    for (const auto& t : list)
      std::fprintf(out, "| %s | %s | %s | %s |\n", t.what.c_str(), t.goal.c_str(),
                   t.measured.c_str(), t.verdict.c_str());
  }
  std::fprintf(out, "\nReproduce: %s\n", r.command.c_str());
}

namespace {

boost::json::object contenderJson(const ContenderResult& c, int64_t docs) {
  boost::json::object o{{"name", c.name}};
  if (!c.skipped.empty()) {
    o["skipped"] = c.skipped;
    return o;
  }
  o["verified"] = c.verified;
  o["docs_per_s"] = c.docsPerSecond(docs);
  o["users_without_role_after"] = c.verdict.without_role;
  o["members_after"] = c.verdict.members;
  o["process"] = childJson(c.child);
  o["app"] = appJson(c.app);
  return o;
}

boost::json::object pairJson(const ExpensivePair& p, int64_t docs) {
  boost::json::array one_thread, parallel;
  for (const ContenderResult& c : p.one_thread) one_thread.push_back(contenderJson(c, docs));
  for (const ContenderResult& c : p.parallel) parallel.push_back(contenderJson(c, docs));
  return {{"one_thread", std::move(one_thread)},
          {"parallelize", std::move(parallel)},
          {"parallel_over_one_thread", p.parallelOverOneThread()}};
}

boost::json::object expensiveJson(const ExpensiveRuns& e) {
  boost::json::object out{{"docs", e.docs}, {"load_processes", e.load_processes}};
  if (e.quiet.ran()) out["quiet"] = pairJson(e.quiet, e.docs);
  if (e.loaded.ran()) out["loaded"] = pairJson(e.loaded, e.docs);
  return out;
}

}  // namespace

boost::json::object reportJson(const Report& r) {
  const ContenderResult* graft = find(r, "graft_up");
  const double graft_rate = graft ? graft->docsPerSecond(r.docs) : 0;
  boost::json::object contenders;
  for (const auto& c : r.contenders) {
    boost::json::object o = contenderJson(c, r.docs);
    if (c.skipped.empty()) {
      const double rate = c.docsPerSecond(r.docs);
      o["graft_over_this"] = rate > 0 && graft_rate > 0 ? graft_rate / rate : 0.0;
    }
    contenders[c.key] = std::move(o);
  }
  boost::json::object memory;
  for (const MemoryRun* m : {&r.memory_small, &r.memory_large}) {
    if (m->docs == 0) continue;
    memory[m == &r.memory_small ? "small" : "large"] = {
        {"docs", m->docs}, {"verified", m->verified}, {"process", childJson(m->child)}};
  }
  if (r.memory_small.child.max_rss_kb > 0 && r.memory_large.child.max_rss_kb > 0)
    memory["rss_ratio"] = static_cast<double>(r.memory_large.child.max_rss_kb) /
                          static_cast<double>(r.memory_small.child.max_rss_kb);
  boost::json::object noop{{"count", r.noop.count}, {"error", r.noop.error}};
  if (r.noop.count > 0 && r.noop.error.empty()) {
    noop["build_s"] = r.noop.build_s;
    noop["status_pending"] = childJson(r.noop.status_pending);
    noop["up"] = childJson(r.noop.up);
    noop["status_completed"] = childJson(r.noop.status_done);
  }
  boost::json::array target_list;
  for (const auto& t : targets(r))
    target_list.push_back(
        {{"target", t.what}, {"goal", t.goal}, {"measured", t.measured}, {"verdict", t.verdict}});
  return {
      {"machine",
       {{"nproc", r.machine.nproc},
        {"cpu", r.machine.cpu},
        {"memory", r.machine.memory},
        {"disk", r.machine.disk},
        {"sqlite", r.machine.sqlite},
        {"load_before", r.machine.load_before},
        {"load_after", r.machine.load_after}}},
      {"command", r.command},
      {"docs", r.docs},
      {"users_without_role", r.seed.without_role},
      {"seed_s", r.seed_s},
      {"store_bytes", r.seed_bytes},
      {"app",
       {{"interval_ms", r.interval_ms}, {"synchronous", r.app_synchronous}, {"busy", r.app_busy}}},
      {"app_idle", appJson(r.idle)},
      {"contenders", std::move(contenders)},
      {"expensive", r.expensive.docs > 0 ? boost::json::value(expensiveJson(r.expensive))
                                         : boost::json::value(nullptr)},
      {"memory", std::move(memory)},
      {"noop", std::move(noop)},
      {"targets", std::move(target_list)},
  };
}

}  // namespace bench
