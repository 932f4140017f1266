#include "cli/watch.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "base/status.h"

namespace graft::cli {
namespace {

namespace fs = std::filesystem;

// What changes when a file is added, removed, grown or rewritten.
std::string signature(const std::string& dir, const std::string& manifest) {
  std::string sig;
  std::error_code ec;
  auto add = [&](const fs::path& path) {
    auto size = fs::file_size(path, ec);
    auto time = fs::last_write_time(path, ec);
    sig += path.filename().string() + ":" + std::to_string(ec ? 0 : size) + ":" +
           std::to_string(time.time_since_epoch().count()) + "\n";
  };
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) add(it->path());
  add(manifest);
  return sig;
}

void sleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

}  // namespace

int watchAndRun(const std::function<int()>& run_once, const std::string& plugin_dir,
                const std::string& manifest, const std::atomic<bool>* stop, int settle_ms) {
  std::string applied;  // the signature of the files last run against
  bool told = false;
  while (!stop->load()) {
    const std::string now = signature(plugin_dir, manifest);
    if (now == applied) {
      sleepMs(200);
      continue;
    }
    sleepMs(settle_ms);
    if (signature(plugin_dir, manifest) != now) continue;  // still being written
    const int rc = run_once();
    applied = now;
    if (rc == exitCode(Code::kPlugin) || rc == exitCode(Code::kBadInput)) {
      std::fprintf(stderr, "graft: waiting: the plugins or the manifest are not ready (above); "
                           "retrying when they change\n");
      continue;
    }
    if (rc != 0) return rc;
    if (!told) {
      std::fprintf(stderr, "graft: watching %s and %s for new migrations (Ctrl-C to stop)\n",
                   plugin_dir.c_str(), manifest.c_str());
      told = true;
    }
  }
  return 0;
}

}  // namespace graft::cli
