#include "bench_plugins.h"

#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bench_process.h"

namespace fs = std::filesystem;

namespace bench {

bool inPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':'))
    if (!dir.empty() && access((dir + "/" + program).c_str(), X_OK) == 0) return true;
  return false;
}

bool writeManifest(const std::string& dir, const std::vector<std::string>& ids) {
  boost::json::array list;
  for (const auto& id : ids) list.emplace_back(id);
  std::ofstream out(dir + "/manifest.json");
  out << boost::json::serialize(boost::json::object{{"graft_manifest", 1}, {"migrations", list}});
  return static_cast<bool>(out.flush());
}

bool buildNoopPlugins(const std::string& work, int count, double* build_s, std::string* error) {
  const std::string build = work + "/noop-build";
  const std::string log = work + "/noop-build.log";
  std::remove(log.c_str());
  std::fprintf(stderr,
               "graft_bench: building %d no-op plugins in %s (log: %s; kept for the next run)\n",
               count, build.c_str(), log.c_str());
  std::vector<std::string> configure = {GRAFT_CMAKE_COMMAND,
                                        "-S",
                                        GRAFT_BENCH_NOOP_SOURCE,
                                        "-B",
                                        build,
                                        "-DGRAFT_SDK_DIR=" GRAFT_SDK_DIR,
                                        "-DNOOP_COUNT=" + std::to_string(count),
                                        "-DCMAKE_BUILD_TYPE=Release",
                                        "-DCMAKE_C_COMPILER=" GRAFT_C_COMPILER};
  // Ninja builds a thousand tiny targets several times faster than make.
  if (!fs::exists(build + "/CMakeCache.txt") && inPath("ninja")) {
    configure.push_back("-G");
    configure.push_back("Ninja");
  }
  const int64_t build_started = monotonicNs();
  if (waitSampling(forkProgram(configure, log), build_started, "").exit_code != 0 ||
      waitSampling(forkProgram({GRAFT_CMAKE_COMMAND, "--build", build, "-j",
                                std::to_string(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)))},
                               log),
                   build_started, "")
              .exit_code != 0) {
    *error = "the build failed; see " + log;
    return false;
  }
  *build_s = static_cast<double>(monotonicNs() - build_started) / 1e9;
  sync();  // the build's writeback must not slow the timed fsyncs

  const std::string plugins = work + "/noop-plugins";
  std::error_code ec;
  fs::remove_all(plugins, ec);
  fs::create_directories(plugins, ec);
  std::vector<std::string> ids;
  for (int i = 1; i <= count && !ec; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "bench_noop_%04d", i);
    ids.push_back(id);
    fs::copy_file(build + "/plugins/" + id + ".so", plugins + "/" + id + ".so", ec);
  }
  if (ec || !writeManifest(plugins, ids)) {
    *error = "could not assemble " + plugins + (ec ? ": " + ec.message() : "");
    return false;
  }
  return true;
}

}  // namespace bench
