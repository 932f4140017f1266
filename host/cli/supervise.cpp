#include "cli/supervise.h"

#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
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
#include <optional>
#include <thread>

#include "run/abandoned.h"
#include "cli/cli.h"
#include "run/lease.h"
#include "plugins/plugin.h"
#include "store/open_store.h"

namespace graft::cli {
namespace {

volatile sig_atomic_t g_child = 0;

// What the worker tells its supervisor, in a page they share (mapped before
// the fork). The supervisor reads it while the worker runs (a load that
// takes too long) and after it ended (what it was doing when it died).
struct WorkerReport {
  enum Stage : int { kStarting, kLoading, kRunning, kDone };
  std::atomic<int> stage{kStarting};
  std::atomic<uint64_t> loads{0};    // plugins whose loading began so far
  std::atomic<int64_t> document{0};  // the _id migrateOne is on, 0 between calls
  char plugin[4000] = {};            // the plugin being loaded, while kLoading
};

WorkerReport* g_report = nullptr;  // set in the worker only

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
  explicit LeaseWatch(std::string db_url) : db_url_(std::move(db_url)) {}

  // The heartbeat of the lease held in the name of `pid`, or 0 when there
  // is none.
  int64_t heartbeatOf(pid_t pid) {
    if (!store_) {
      auto store = openStore(db_url_, {.read_only = true});
      if (!store.ok()) return 0;
      store_ = std::move(store).value();
    }
    auto lease = store_->loadLease();
    if (!lease.ok() || !*lease || (*lease)->pid != pid) return 0;
    return (*lease)->heartbeat_ms;
  }

 private:
  std::string db_url_;
  std::unique_ptr<Store> store_;
};

// The page the worker reports into; nullptr (run unsupervised) if it can
// not be had.
WorkerReport* mapReport() {
  void* page = mmap(nullptr, sizeof(WorkerReport), PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  return page == MAP_FAILED ? nullptr : new (page) WorkerReport;
}

std::string exitText(int status) {
  return WIFSIGNALED(status) ? signalText(WTERMSIG(status))
                             : "exited with code " + std::to_string(WEXITSTATUS(status));
}

// The worker died while the code of `plugin` was being loaded: nothing ran,
// and no lease was taken. Recorded as a failed run, for the history.
int failedLoad(const std::string& db_url, const std::string& command, const std::string& plugin,
               const std::string& what) {
  const Status failure(Code::kPlugin, "plugin " + plugin + ": load: " + what +
                                          "; nothing ran (fix the plugin, then run graft " +
                                          command.substr(0, command.find(' ')) + " again)");
  auto store = openStore(db_url, StoreOptions{});
  Status recorded =
      store.ok() ? recordFailedStart(**store, command, failure.message()) : store.status();
  if (!recorded.ok())
    return fail(Status(Code::kPlugin,
                       failure.message() + "; also could not record it: " + recorded.message()));
  return fail(failure);
}

// The worker's side of the fork: runs `child_main` and ends the process
// with its exit code.
[[noreturn]] void runWorker(WorkerReport* report, pid_t parent,
                            const std::function<int()>& child_main) {
  g_report = report;
  // Die with the supervisor: killing `graft` must still stop the work.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(exitCode(Code::kCanceled));
  // Its own process group: a Ctrl-C at the terminal reaches the
  // supervisor only, which forwards it once (a second SIGINT would stop
  // the child at once instead of after its batch).
  setpgid(0, 0);
  setLeaseHolderPid(parent);
  setPluginCopyOwner(parent);
  const int rc = child_main();
  std::fflush(nullptr);
  report->stage.store(WorkerReport::kDone);
#ifdef GRAFT_LEAK_CHECKED
  // _exit skips the exit-time leak check, and this is the process that
  // loads the plugins and runs the migrations: check it here (a no-op
  // unless leak detection is on; a leak ends the worker with an error).
  __lsan_do_leak_check();
#endif
  _exit(rc);
}

// How the worker ended, as its supervisor saw it.
struct WorkerEnd {
  int status = 0;          // as waitpid reports it
  std::string reason;      // why the supervisor killed it; empty if it did not
  bool load_hung = false;  // killed because a plugin's code did not finish loading
};

// Waits for the worker to end, forwarding SIGINT and SIGTERM to it, and
// kills it when loading a plugin or a batch takes longer than the batch
// timeout.
class Watchdog {
 public:
  Watchdog(pid_t child, pid_t parent, int batch_timeout_s, const WorkerReport& report,
           LeaseWatch& lease)
      : child_(child),
        parent_(parent),
        timeout_s_(batch_timeout_s),
        report_(report),
        lease_(lease) {}

  // How the worker ended; nullopt when it could not be waited for.
  std::optional<WorkerEnd> watch() {
    forwardSignals();
    last_change_ = std::chrono::steady_clock::now();
    load_began_ = last_change_;
    // Readable when the child exits: the wait between two looks at its
    // heartbeat ends then, not up to 100 ms later (a kernel before 5.3 has
    // no pidfd; then the wait is a plain sleep).
    // (glibc 2.36's <sys/pidfd.h> does not declare pidfd_open for C++.)
    const int exited = static_cast<int>(syscall(SYS_pidfd_open, child_, 0));
    WorkerEnd end;
    while (true) {
      pid_t done = waitpid(child_, &end.status, WNOHANG);
      if (done == child_) break;
      if (done < 0 && errno != EINTR) {
        if (exited >= 0) close(exited);
        return std::nullopt;
      }
      pause(exited);
      const auto now = std::chrono::steady_clock::now();
      if (report_.stage.load() == WorkerReport::kLoading) {
        if (!loadOverdue(now)) continue;
        end.load_hung = true;
        kill(child_, SIGKILL);
        waitpid(child_, &end.status, 0);
        break;
      }
      if (batchOverdue(now)) {
        end.reason = "finished no batch in " + std::to_string(timeout_s_) +
                     " s (--batch-timeout) and was killed";
        kill(child_, SIGKILL);
        waitpid(child_, &end.status, 0);
        break;
      }
    }
    g_child = 0;
    if (exited >= 0) close(exited);
    return end;
  }

 private:
  void forwardSignals() {
    g_child = child_;
    struct sigaction forward {};
    forward.sa_handler = forwardToChild;
    sigemptyset(&forward.sa_mask);
    sigaction(SIGINT, &forward, nullptr);
    sigaction(SIGTERM, &forward, nullptr);
  }

  // Up to 100 ms, less when the child exits first (`exited` its pidfd, or
  // < 0 if there is none).
  static void pause(int exited) {
    if (exited >= 0) {
      pollfd fd{exited, POLLIN, 0};
      (void)poll(&fd, 1, 100);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  // A constructor that never returns: loading is watched as batches are.
  bool loadOverdue(std::chrono::steady_clock::time_point now) {
    const uint64_t load = report_.loads.load();
    if (load != last_load_) {
      last_load_ = load;
      load_began_ = now;
      return false;
    }
    return now - load_began_ > std::chrono::seconds(timeout_s_);
  }

  // True when the lease's heartbeat stood still for longer than the timeout.
  bool batchOverdue(std::chrono::steady_clock::time_point now) {
    const int64_t beat = lease_.heartbeatOf(parent_);
    if (beat != last_beat_) {
      last_beat_ = beat;
      last_change_ = now;
      return false;
    }
    return beat != 0 && now - last_change_ > std::chrono::seconds(timeout_s_);
  }

  const pid_t child_;
  const pid_t parent_;
  const int timeout_s_;
  const WorkerReport& report_;
  LeaseWatch& lease_;
  int64_t last_beat_ = 0;
  std::chrono::steady_clock::time_point last_change_;
  uint64_t last_load_ = 0;
  std::chrono::steady_clock::time_point load_began_;
};

// What the worker was doing when it ended, read from its report before
// the page is unmapped.
struct LastReport {
  int stage;
  int64_t document;
  std::string plugin;
};

// Why the worker that died while loading a plugin's code did not finish
// loading it.
std::string loadFailure(const WorkerEnd& end, int batch_timeout_s) {
  if (end.load_hung) {
    return "its code did not finish loading in " + std::to_string(batch_timeout_s) +
           " s (--batch-timeout; a constructor that never returns?) and the process was killed";
  }
  return (WIFSIGNALED(end.status)
              ? "the process " + signalText(WTERMSIG(end.status))
              : "the plugin called exit(" + std::to_string(WEXITSTATUS(end.status)) + ")") +
         " while its code was being loaded (a constructor, or graft_plugin_entry)";
}

// Why the run the worker was in was left unfinished, or nullopt when the
// worker finished cleanly.
std::optional<std::string> abandonReason(const WorkerEnd& end, int stage, LeaseWatch& lease,
                                         pid_t parent) {
  if (!end.reason.empty()) return end.reason;
  if (WIFSIGNALED(end.status)) return signalText(WTERMSIG(end.status));
  // A clean exit releases the lease; one still held means the process
  // left in the middle of a run (a plugin calling exit(), say).
  if (lease.heartbeatOf(parent) != 0)
    return "exited with code " + std::to_string(WEXITSTATUS(end.status)) +
           " in the middle of a run";
  if (stage == WorkerReport::kDone) return std::nullopt;
  return exitText(end.status) + " outside a run (a plugin calling exit()?)";
}

// Records the run the worker left, as failed, and says so.
int reportAbandonedRun(const std::string& db_url, const std::string& command, pid_t parent,
                       const std::string& reason, int64_t document) {
  auto store = openStore(db_url, StoreOptions{});
  if (!store.ok()) return fail(store.status());
  auto recorded = recordAbandonedRun(**store, parent, reason, document);
  if (!recorded.ok()) return fail(recorded.status());
  if (recorded->run_id.empty()) {
    return fail(Status(Code::kMigrationFailed, "the run's process " + reason));
  }
  std::string where;
  if (!recorded->migration_id.empty()) {
    where = " while migrating " + recorded->migration_id +
            (document > 0 ? " at _id " + std::to_string(document) : "") +
            "; recorded as failed, the lease is released and the cursor stays at _id " +
            std::to_string(recorded->cursor);
  } else {
    where = "; recorded as failed and the lease is released";
  }
  return fail(Status(Code::kMigrationFailed,
                     "the run's process " + reason + where + " (fix the plugin, then run graft " +
                         command.substr(0, command.find(' ')) + " to resume)"));
}

}  // namespace

namespace worker {

void loading(const std::string& path) {
  if (!g_report) return;
  const size_t n = std::min(path.size(), sizeof g_report->plugin - 1);
  std::memcpy(g_report->plugin, path.data(), n);
  g_report->plugin[n] = '\0';
  g_report->loads.fetch_add(1);
  g_report->stage.store(WorkerReport::kLoading);
}

void loaded() {
  if (g_report) g_report->stage.store(WorkerReport::kRunning);
}

std::atomic<int64_t>* documentSlot() { return g_report ? &g_report->document : nullptr; }

}  // namespace worker

int supervise(const std::function<int()>& child_main, const std::string& db_url,
              int batch_timeout_s, const std::string& command) {
  // What earlier workers left because their supervisor was killed too.
  removeStalePluginCopies();
  WorkerReport* report = mapReport();
  if (!report) return child_main();  // no memory to share: run unsupervised
  std::fflush(nullptr);
  const pid_t parent = getpid();
  const pid_t child = fork();
  if (child < 0) return child_main();  // no process to spare: run unsupervised
  if (child == 0) runWorker(report, parent, child_main);

  LeaseWatch lease(db_url);
  const std::optional<WorkerEnd> end =
      Watchdog(child, parent, batch_timeout_s, *report, lease).watch();
  if (!end) return exitCode(Code::kMigrationFailed);
  // The worker's _exit, crash or kill skipped the removal of its private
  // copies of the plugins.
  removePluginCopies(parent);
  const LastReport last{report->stage.load(), report->document.load(), report->plugin};
  munmap(report, sizeof(WorkerReport));

  if (end->load_hung || last.stage == WorkerReport::kLoading)
    return failedLoad(db_url, command, last.plugin, loadFailure(*end, batch_timeout_s));
  const std::optional<std::string> reason = abandonReason(*end, last.stage, lease, parent);
  if (!reason) return WEXITSTATUS(end->status);
  return reportAbandonedRun(db_url, command, parent, *reason, last.document);
}

}  // namespace graft::cli
