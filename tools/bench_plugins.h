// bench_plugins.h -- what graft_bench and graft_bench_small run graft on:
// the no-op plugins they build at run time (tools/bench_noop) and a plugin
// directory with its manifest.
#ifndef GRAFT_TOOLS_BENCH_PLUGINS_H_
#define GRAFT_TOOLS_BENCH_PLUGINS_H_

#include <string>
#include <vector>

namespace bench {

// Whether `program` is an executable in $PATH.
bool inPath(const std::string& program);

// Writes <dir>/manifest.json listing `ids` in order.
bool writeManifest(const std::string& dir, const std::vector<std::string>& ids);

// Builds `count` no-op plugins (bench_noop_0001 ...) in <work>/noop-build
// (kept for the next run; its log <work>/noop-build.log) and puts them, with
// a manifest, in a fresh <work>/noop-plugins. Sets `*build_s` to the build's
// wall time. On failure returns false with `*error` set.
bool buildNoopPlugins(const std::string& work, int count, double* build_s, std::string* error);

}  // namespace bench

#endif  // GRAFT_TOOLS_BENCH_PLUGINS_H_
