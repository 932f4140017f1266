#include "cli/progress.h"

#include <algorithm>

namespace graft {

std::string ProgressPrinter::line(const Progress& p, double seconds) const {
  const double rate = seconds > 0 ? static_cast<double>(p.run_processed) / seconds : 0;
  const double fraction =
      p.total > 0 ? std::min(1.0, static_cast<double>(p.processed) / static_cast<double>(p.total))
                  : 1.0;
  char text[512];
  std::string bar;
  if (mode_ == Mode::kTerminal) {
    constexpr int kWidth = 24;
    int filled = static_cast<int>(fraction * kWidth);
    bar = "[" + std::string(static_cast<size_t>(std::clamp(filled, 0, kWidth)), '#') +
          std::string(static_cast<size_t>(kWidth - std::clamp(filled, 0, kWidth)), '.') + "] ";
  }
  std::string eta = "-";
  if (p.done) {
    eta = "done";
  } else if (rate > 0) {
    // Documents inserted during the run can take processed past the total.
    const int64_t left = std::max<int64_t>(0, p.total - p.processed);
    eta = std::to_string(static_cast<int64_t>(static_cast<double>(left) / rate)) + "s";
  }
  std::snprintf(text, sizeof text,
                "%s %s%lld/%lld (%3.0f%%) %.0f docs/s, %lld changed, %lld batches (last %u), ETA %s",
                p.id.c_str(), bar.c_str(), static_cast<long long>(p.processed),
                static_cast<long long>(p.total), fraction * 100, rate,
                static_cast<long long>(p.changed), static_cast<long long>(p.batches),
                p.last_batch, eta.c_str());
  return text;
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
    std::fprintf(out_, "\r\033[K%s%s", line(p, seconds).c_str(), p.done ? "\n" : "");
  } else {
    if (!p.done && since < std::chrono::seconds(2)) return;
    std::fprintf(out_, "%s\n", line(p, seconds).c_str());
  }
  std::fflush(out_);
  last_print_ = now;
}

}  // namespace graft
