#include "bench_app.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "bench_process.h"

namespace bench {
namespace {

volatile sig_atomic_t g_stop = 0;
void onStop(int) { g_stop = 1; }

// Retries every *poll_us microseconds, 5 s in all.
int pollBusy(void* poll_us, int attempts) {
  const int64_t every = *static_cast<const int64_t*>(poll_us);
  if (static_cast<int64_t>(attempts) * every >= 5000 * 1000) return 0;
  usleep(static_cast<useconds_t>(every));
  return 1;
}

// The writer's results file: ops, errors, the length of the first error's
// text, the text, then one float (microseconds) per transaction.
bool writeResults(const std::string& path, int64_t errors, const std::string& first_error,
                  const std::vector<float>& latencies_us) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  const int64_t header[3] = {static_cast<int64_t>(latencies_us.size()), errors,
                             static_cast<int64_t>(first_error.size())};
  bool ok = std::fwrite(header, sizeof header, 1, f) == 1;
  ok = ok && std::fwrite(first_error.data(), 1, first_error.size(), f) == first_error.size();
  ok = ok && std::fwrite(latencies_us.data(), sizeof(float), latencies_us.size(), f) ==
                 latencies_us.size();
  return std::fclose(f) == 0 && ok;
}

int runWriter(const AppOptions& o, int ready_fd) {
  struct sigaction action {};
  action.sa_handler = onStop;  // no SA_RESTART: a sleep ends at once
  sigaction(SIGTERM, &action, nullptr);

  sqlite3* db = nullptr;
  if (sqlite3_open_v2(o.db.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "graft_bench: app writer: open %s: %s\n", o.db.c_str(),
                 sqlite3_errmsg(db));
    return 1;
  }
  if (o.busy_poll_us > 0) {
    sqlite3_busy_handler(db, pollBusy, const_cast<int64_t*>(&o.busy_poll_us));
  } else {
    sqlite3_busy_timeout(db, 5000);
  }
  const std::string pragma = "PRAGMA synchronous=" + o.synchronous;
  sqlite3_stmt* insert = nullptr;
  sqlite3_stmt* patch = nullptr;
  if (sqlite3_exec(db, pragma.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "INSERT INTO users (body) VALUES (?)", -1, &insert, nullptr) !=
          SQLITE_OK ||
      sqlite3_prepare_v2(db,
                         "UPDATE users SET body = json_set(body, '$.lastSeen', ?) WHERE _id = ?",
                         -1, &patch, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "graft_bench: app writer: %s\n", sqlite3_errmsg(db));
    return 1;
  }
  const char ready = 1;
  if (write(ready_fd, &ready, 1) != 1) return 1;
  close(ready_fd);

  std::vector<float> latencies_us;
  latencies_us.reserve(1 << 16);
  int64_t errors = 0;
  std::string first_error;
  uint64_t rng = 12345;
  int64_t next = monotonicNs();
  for (int64_t i = 0; !g_stop; ++i) {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    sqlite3_stmt* stmt = i % 2 == 0 ? insert : patch;
    std::string body;
    if (stmt == insert) {
      body = "{\"name\":\"App user " + std::to_string(i) + "\",\"email\":\"app" +
             std::to_string(i) +
             "@example.com\",\"plan\":\"free\",\"teamId\":" + std::to_string((rng >> 33) % 5000) +
             ",\"country\":\"FR\",\"role\":\"user\"}";
      sqlite3_bind_text(insert, 1, body.data(), static_cast<int>(body.size()), SQLITE_STATIC);
    } else {
      sqlite3_bind_int64(patch, 1, i);
      sqlite3_bind_int64(patch, 2,
                         1 + static_cast<int64_t>((rng >> 33) % static_cast<uint64_t>(o.max_id)));
    }
    const int64_t t0 = monotonicNs();
    const int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) {
      if (errors++ == 0) first_error = sqlite3_errmsg(db);
    }
    sqlite3_reset(stmt);
    latencies_us.push_back(static_cast<float>(monotonicNs() - t0) / 1000.0f);
    // A steady rate: the next transaction at the next tick; after a stall,
    // one tick from now (no burst to catch up).
    next += o.interval_us * 1000;
    const int64_t now = monotonicNs();
    if (next < now) next = now;
    const timespec at{static_cast<time_t>(next / 1000000000), static_cast<long>(next % 1000000000)};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr);
  }
  sqlite3_finalize(insert);
  sqlite3_finalize(patch);
  sqlite3_close(db);
  return writeResults(o.result_file, errors, first_error, latencies_us) ? 0 : 1;
}

double percentile(const std::vector<float>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(p * static_cast<double>(sorted.size()));
  if (rank >= sorted.size()) rank = sorted.size() - 1;
  return sorted[rank] / 1000.0;
}

}  // namespace

bool AppWriter::start(const AppOptions& options) {
  options_ = options;
  std::remove(options.result_file.c_str());
  int fds[2];
  if (pipe(fds) != 0) return false;
  pid_ = forkFunction([&] {
    close(fds[0]);
    return runWriter(options_, fds[1]);
  });
  close(fds[1]);
  char ready = 0;
  const bool ok = pid_ > 0 && read(fds[0], &ready, 1) == 1;
  close(fds[0]);
  if (!ok && pid_ > 0) {
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  return ok;
}

AppStats AppWriter::stop() {
  AppStats stats;
  if (pid_ <= 0) return stats;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  FILE* f = std::fopen(options_.result_file.c_str(), "rb");
  if (!f || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    if (f) std::fclose(f);
    return stats;
  }
  int64_t header[3] = {0, 0, 0};
  std::vector<float> latencies_us;
  bool ok = std::fread(header, sizeof header, 1, f) == 1 && header[0] >= 0 && header[2] >= 0;
  if (ok) {
    stats.first_error.resize(static_cast<size_t>(header[2]));
    latencies_us.resize(static_cast<size_t>(header[0]));
    ok = std::fread(stats.first_error.data(), 1, stats.first_error.size(), f) ==
             stats.first_error.size() &&
         std::fread(latencies_us.data(), sizeof(float), latencies_us.size(), f) ==
             latencies_us.size();
  }
  std::fclose(f);
  if (!ok) return stats;
  std::sort(latencies_us.begin(), latencies_us.end());
  stats.ops = header[0];
  stats.errors = header[1];
  stats.p50_ms = percentile(latencies_us, 0.50);
  stats.p99_ms = percentile(latencies_us, 0.99);
  stats.max_ms = latencies_us.empty() ? 0 : latencies_us.back() / 1000.0;
  stats.ok = true;
  return stats;
}

}  // namespace bench
