#include "bench_process.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace bench {

int64_t monotonicNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

int64_t fileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

int usableCores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  return static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
}

bool CpuLoad::start(int processes, unsigned limit_s) {
  stop();
  std::fflush(nullptr);
  const pid_t parent = getpid();
  for (int i = 0; i < processes; ++i) {
    const pid_t pid = fork();
    if (pid == 0) {
      // Dies with graft_bench (also when it is killed), and after limit_s
      // in any case (SIGALRM's default action ends the process).
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(0);
      alarm(limit_s);
      volatile uint64_t spin = 0;
      for (;;) spin = spin + 1;
    }
    if (pid < 0) {
      std::perror("graft_bench: fork");
      stop();
      return false;
    }
    pids_.push_back(pid);
  }
  return true;
}

void CpuLoad::stop() {
  for (pid_t pid : pids_) kill(pid, SIGKILL);
  for (pid_t pid : pids_) waitpid(pid, nullptr, 0);
  pids_.clear();
}

pid_t forkFunction(const std::function<int()>& body) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int code = body();
    std::fflush(nullptr);
    _exit(code);
  }
  if (pid < 0) std::perror("graft_bench: fork");
  return pid;
}

pid_t forkProgram(const std::vector<std::string>& argv, const std::string& log_file) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      close(fd);
    }
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    std::fprintf(stderr, "graft_bench: can not run %s\n", args[0]);
    _exit(127);
  }
  if (pid < 0) std::perror("graft_bench: fork");
  return pid;
}

ChildResult waitSampling(pid_t pid, int64_t started_ns, const std::string& wal_file) {
  ChildResult r;
  if (pid < 0) return r;
  int status = 0;
  rusage usage{};
  for (;;) {
    const pid_t done = wait4(pid, &status, WNOHANG, &usage);
    if (done == pid) break;
    if (done < 0) {
      std::perror("graft_bench: wait4");
      return r;
    }
    if (!wal_file.empty()) r.wal_peak_bytes = std::max(r.wal_peak_bytes, fileSize(wal_file));
    // 5 ms: fine enough to see the WAL grow, cheap on a 2-core machine.
    const timespec pause{0, 5 * 1000 * 1000};
    nanosleep(&pause, nullptr);
  }
  r.wall_s = static_cast<double>(monotonicNs() - started_ns) / 1e9;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  r.cpu_s = seconds(usage.ru_utime) + seconds(usage.ru_stime);
  r.max_rss_kb = usage.ru_maxrss;  // Linux: kilobytes
  if (!wal_file.empty()) {
    r.wal_end_bytes = fileSize(wal_file);
    r.wal_peak_bytes = std::max(r.wal_peak_bytes, r.wal_end_bytes);
  }
  return r;
}

}  // namespace bench
