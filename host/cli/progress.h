// progress.h -- what `graft up` shows while it works.
//
// On a terminal: one line per migration redrawn in place (bar, processed /
// total, rate, ETA), cut to the terminal's width. Off a terminal, or on one
// that can not erase a line (TERM=dumb or unset): a plain line every few
// seconds, so logs stay readable. Quiet: nothing.
#ifndef GRAFT_CLI_PROGRESS_H_
#define GRAFT_CLI_PROGRESS_H_

#include <chrono>
#include <cstdio>
#include <string>

#include "run/runner.h"

namespace graft {

class ProgressPrinter {
 public:
  enum class Mode { kTerminal, kPlain, kQuiet };
  ProgressPrinter(std::FILE* out, Mode mode) : out_(out), mode_(mode) {}

  void update(const Progress& progress);

 private:
  using Clock = std::chrono::steady_clock;
  // The figures of one line, each as it is printed.
  struct Parts {
    std::string id, bar, counts, rate, changed, batches, eta;
  };
  Parts parts(const Progress& progress, double seconds) const;
  static std::string plainLine(const Parts& parts);
  static std::string fittedLine(Parts parts, size_t width);

  std::FILE* out_;
  Mode mode_;
  std::string current_id_;
  Clock::time_point started_, last_print_;
};

}  // namespace graft

#endif  // GRAFT_CLI_PROGRESS_H_
