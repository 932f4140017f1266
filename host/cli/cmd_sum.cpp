// graft sum [--check]: write or verify graft.sum, the file that pins the
// manifest's order and each migration's logic (see sumfile.h).
#include <cstdio>

#include "cli/cli.h"
#include "plan/sumfile.h"

namespace graft::cli {
namespace {

int runSum(const HostOptions& host_options, bool check, bool load_plugins) {
  // Only the plugins' metadata and the manifest: the sum needs no store and
  // runs no plugin code unless asked to.
  const std::string manifest = manifestPathOf(host_options);
  auto catalog = load_plugins ? loadCatalog(host_options.plugin_dir, manifest)
                              : readCatalog(host_options.plugin_dir, manifest);
  if (!catalog.ok()) return fail(catalog.status());
  const std::string path = sumPathFor(catalog->manifest.path);
  const std::string stage = check ? "sum check" : "sum";
  auto computed = computeSum(*catalog);
  if (!computed.ok()) return fail(computed.status().prefixed(stage));
  auto recorded = readSum(path);
  const std::string migrations =
      plural(static_cast<int64_t>(computed->entries.size()), "migration", "migrations");
  if (check) {
    if (!recorded.ok()) return fail(recorded.status().prefixed(stage));
    if (!*recorded)
      return fail(
          Status(Code::kDrift, stage + ": " + path + ": does not exist (write it with graft sum)"));
    Status status = compareSum(**recorded, *computed, path);
    if (!status.ok()) return fail(status.prefixed(stage));
    std::printf("%s matches the manifest and plugins: %s\n", path.c_str(), migrations.c_str());
    return 0;
  }
  // A graft.sum that does not parse (a merge conflict, say) is rewritten:
  // that is the fix its own message gives.
  if (recorded.ok() && *recorded && compareSum(**recorded, *computed, path).ok()) {
    std::printf("%s is up to date: %s\n", path.c_str(), migrations.c_str());
    return 0;
  }
  Status status = writeSum(*computed, path);
  if (!status.ok()) return fail(status.prefixed(stage));
  std::printf("wrote %s: %s, total %s\n", path.c_str(), migrations.c_str(),
              computed->total.substr(0, 12).c_str());
  return 0;
}

}  // namespace

Command addSumCommand(CLI::App& app, const Globals& globals) {
  auto check = std::make_shared<bool>(false);
  auto load_plugins = std::make_shared<bool>(false);
  CLI::App* sub = app.add_subcommand(
      "sum", "write graft.sum beside the manifest: its order and each migration's logic digest");
  sub->add_flag("--check", *check, "verify graft.sum instead; exit 8 if it does not match");
  sub->add_flag("--load-plugins", *load_plugins,
                "load the plugins (runs their code) instead of reading their embedded metadata, "
                "for plugins built without it");
  return {sub,
          [&globals, check, load_plugins] { return runSum(globals.host, *check, *load_plugins); }};
}

}  // namespace graft::cli
