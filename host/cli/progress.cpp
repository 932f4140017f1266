#include "cli/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

namespace graft {
namespace {

// The terminal's width in columns: the kernel's, else $COLUMNS, else 80.
size_t terminalWidth(std::FILE* out) {
  struct winsize size {};
  if (ioctl(fileno(out), TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  if (const char* columns = std::getenv("COLUMNS")) {
    const long n = std::strtol(columns, nullptr, 10);
    if (n > 0) return static_cast<size_t>(n);
  }
  return 80;
}

std::string join(const std::vector<const std::string*>& parts) {
  std::string out;
  for (const std::string* part : parts) {
    if (part->empty()) continue;
    if (!out.empty()) out += ' ';
    out += *part;
  }
  return out;
}

}  // namespace

ProgressPrinter::Parts ProgressPrinter::parts(const Progress& p, double seconds) const {
  const double rate = seconds > 0 ? static_cast<double>(p.run_processed) / seconds : 0;
  const double fraction =
      p.total > 0 ? std::min(1.0, static_cast<double>(p.processed) / static_cast<double>(p.total))
                  : 1.0;
  Parts out;
  out.id = p.id;
  constexpr int kWidth = 24;
  const int filled = std::clamp(static_cast<int>(fraction * kWidth), 0, kWidth);
  out.bar = "[" + std::string(static_cast<size_t>(filled), '#') +
            std::string(static_cast<size_t>(kWidth - filled), '.') + "]";
  char text[128];
  std::snprintf(text, sizeof text, "%lld/%lld (%3.0f%%)", static_cast<long long>(p.processed),
                static_cast<long long>(p.total), fraction * 100);
  out.counts = text;
  std::snprintf(text, sizeof text, "%.0f docs/s,", rate);
  out.rate = text;
  out.changed = std::to_string(p.changed) + " changed,";
  out.batches = std::to_string(p.batches) + " batches (last " + std::to_string(p.last_batch) + "),";
  std::string eta = "-";
  if (p.done) {
    eta = "done";
  } else if (rate > 0) {
    // Documents inserted during the run can take processed past the total.
    const int64_t left = std::max<int64_t>(0, p.total - p.processed);
    eta = std::to_string(static_cast<int64_t>(static_cast<double>(left) / rate)) + "s";
  }
  out.eta = "ETA " + eta;
  return out;
}

// Off a terminal, for logs: every figure, however long the line.
std::string ProgressPrinter::plainLine(const Parts& p) {
  return join({&p.id, &p.counts, &p.rate, &p.changed, &p.batches, &p.eta});
}

// On a terminal: at most `width` columns, so the line redraws in place
// instead of wrapping. The least useful figures go first, then the id is cut.
std::string ProgressPrinter::fittedLine(Parts p, size_t width) {
  std::string* drop_order[] = {&p.batches, &p.changed, &p.bar, &p.rate};
  std::string line = join({&p.id, &p.bar, &p.counts, &p.rate, &p.changed, &p.batches, &p.eta});
  for (std::string* part : drop_order) {
    if (line.size() <= width) return line;
    part->clear();
    if (part == &p.changed && !p.rate.empty()) p.rate.pop_back();  // no comma before ETA
    line = join({&p.id, &p.bar, &p.counts, &p.rate, &p.changed, &p.batches, &p.eta});
  }
  if (line.size() <= width) return line;
  const size_t over = line.size() - width;
  if (p.id.size() > over + 3) {
    p.id = p.id.substr(0, p.id.size() - over - 3) + "...";
    return join({&p.id, &p.counts, &p.eta});
  }
  return line.substr(0, width);
}

void ProgressPrinter::update(const Progress& p) {
  if (mode_ == Mode::kQuiet) return;
  const auto now = Clock::now();
  if (p.id != current_id_) {
    current_id_ = p.id;
    started_ = last_print_ = now;
  }
  const double seconds = std::chrono::duration<double>(now - started_).count();
  const auto since = now - last_print_;
  if (mode_ == Mode::kTerminal) {
    if (!p.done && since < std::chrono::milliseconds(100)) return;
    // One column spare: a line that fills the last one wraps on some terminals.
    const size_t width = std::max<size_t>(terminalWidth(out_), 2) - 1;
    std::fprintf(out_, "\r\033[K%s%s", fittedLine(parts(p, seconds), width).c_str(),
                 p.done ? "\n" : "");
  } else {
    if (!p.done && since < std::chrono::seconds(2)) return;
    std::fprintf(out_, "%s\n", plainLine(parts(p, seconds)).c_str());
  }
  std::fflush(out_);
  last_print_ = now;
}

}  // namespace graft
