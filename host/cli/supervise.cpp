#include "supervise.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// A build with AddressSanitizer checks the worker for leaks (see below).
#if defined(__SANITIZE_ADDRESS__)
#define GRAFT_LEAK_CHECKED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GRAFT_LEAK_CHECKED 1
#endif
#endif
#ifdef GRAFT_LEAK_CHECKED
#include <sanitizer/lsan_interface.h>
#endif

#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "abandoned.h"
#include "cli.h"
#include "lease.h"
#include "sqlite_store.h"

namespace graft::cli {
namespace {

volatile sig_atomic_t g_child = 0;

void forwardToChild(int signal) {
  if (g_child > 0) kill(static_cast<pid_t>(g_child), signal);
}

std::string signalText(int signal) {
  const char* name = sigabbrev_np(signal);
  return std::string("was killed by signal ") + (name ? std::string("SIG") + name : std::to_string(signal)) +
         " (" + sigdescr_np(signal) + ")";
}

// Reads the lease for the supervisor through one read-only connection,
// opened at the first read that can open it; between reads it holds no lock.
class LeaseWatch {
 public:
  explicit LeaseWatch(std::string db_path) : db_path_(std::move(db_path)) {}

  // The heartbeat of the lease held in the name of `pid`, or 0 when there
  // is none.
  int64_t heartbeatOf(pid_t pid) {
    if (!store_) {
      SqliteOptions options;
      options.read_only = true;
      auto store = SqliteStore::open(db_path_, options);
      if (!store.ok()) return 0;
      store_ = std::move(store).value();
    }
    auto lease = store_->loadLease();
    if (!lease.ok() || !*lease || (*lease)->pid != pid) return 0;
    return (*lease)->heartbeat_ms;
  }

 private:
  std::string db_path_;
  std::unique_ptr<SqliteStore> store_;
};

}  // namespace

int supervise(const std::function<int()>& child_main, const std::string& db_path,
              int batch_timeout_s) {
  std::fflush(nullptr);
  const pid_t parent = getpid();
  const pid_t child = fork();
  if (child < 0) return child_main();  // no process to spare: run unsupervised
  if (child == 0) {
    // Die with the supervisor: killing `graft` must still stop the work.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(exitCode(Code::kCanceled));
    // Its own process group: a Ctrl-C at the terminal reaches the
    // supervisor only, which forwards it once (a second SIGINT would stop
    // the child at once instead of after its batch).
    setpgid(0, 0);
    setLeaseHolderPid(parent);
    const int rc = child_main();
    std::fflush(nullptr);
#ifdef GRAFT_LEAK_CHECKED
    // _exit skips the exit-time leak check, and this is the process that
    // loads the plugins and runs the migrations: check it here (a no-op
    // unless leak detection is on; a leak ends the worker with an error).
    __lsan_do_leak_check();
#endif
    _exit(rc);
  }

  g_child = child;
  struct sigaction forward {};
  forward.sa_handler = forwardToChild;
  sigemptyset(&forward.sa_mask);
  sigaction(SIGINT, &forward, nullptr);
  sigaction(SIGTERM, &forward, nullptr);

  LeaseWatch watch(db_path);
  std::string reason;
  int status = 0;
  int64_t last_beat = 0;
  auto last_change = std::chrono::steady_clock::now();
  // Readable when the child exits: the wait between two looks at its
  // heartbeat ends then, not up to 100 ms later (a kernel before 5.3 has
  // no pidfd; then the wait is a plain sleep).
  // (glibc 2.36's <sys/pidfd.h> does not declare pidfd_open for C++.)
  const int exited = static_cast<int>(syscall(SYS_pidfd_open, child, 0));
  while (true) {
    pid_t done = waitpid(child, &status, WNOHANG);
    if (done == child) break;
    if (done < 0 && errno != EINTR) {
      if (exited >= 0) close(exited);
      return exitCode(Code::kMigrationFailed);
    }
    if (exited >= 0) {
      pollfd fd{exited, POLLIN, 0};
      (void)poll(&fd, 1, 100);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const int64_t beat = watch.heartbeatOf(parent);
    const auto now = std::chrono::steady_clock::now();
    if (beat != last_beat) {
      last_beat = beat;
      last_change = now;
    } else if (beat != 0 && now - last_change > std::chrono::seconds(batch_timeout_s)) {
      reason = "finished no batch in " + std::to_string(batch_timeout_s) +
               " s (--batch-timeout) and was killed";
      kill(child, SIGKILL);
      waitpid(child, &status, 0);
      break;
    }
  }
  g_child = 0;
  if (exited >= 0) close(exited);

  if (reason.empty() && WIFSIGNALED(status)) reason = signalText(WTERMSIG(status));
  if (reason.empty()) {
    // A clean exit releases the lease; one still held means the process
    // left in the middle of a run (a plugin calling exit(), say).
    if (watch.heartbeatOf(parent) == 0) return WEXITSTATUS(status);
    reason = "exited with code " + std::to_string(WEXITSTATUS(status)) + " in the middle of a run";
  }
  auto store = SqliteStore::open(db_path, SqliteOptions{});
  if (!store.ok()) return fail(store.status());
  auto recorded = recordAbandonedRun(**store, parent, reason);
  if (!recorded.ok()) return fail(recorded.status());
  if (recorded->run_id.empty()) {
    return fail(Status(Code::kMigrationFailed, "the run's process " + reason));
  }
  std::string where = recorded->migration_id.empty()
                          ? ""
                          : " while migrating " + recorded->migration_id + " after _id " +
                                std::to_string(recorded->cursor);
  return fail(Status(Code::kMigrationFailed,
                     "the run's process " + reason + where + "; recorded as failed, the lease is "
                     "released and the cursor kept (fix the plugin, then run graft up to resume)"));
}

}  // namespace graft::cli
