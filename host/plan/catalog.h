// catalog.h -- the migrations of a project: a manifest and a plugin directory.
//
// Every file in the directory with the platform's shared-library suffix is a
// plugin. The manifest orders them. Any mismatch (an id with no plugin, a
// plugin not in the manifest, two plugins with one id) and any plugin that
// fails to load is an error, and all of them are reported together, one line
// each, before anything runs.
//
// loadCatalog loads every plugin (its code runs: constructors, entry point);
// a run needs that. readCatalog only inspects them (Plugin::inspect): no
// plugin code runs, which is all that listing, status and drift checks need.
#ifndef GRAFT_HOST_PLAN_CATALOG_H_
#define GRAFT_HOST_PLAN_CATALOG_H_

#include <memory>
#include <string>
#include <vector>

#include "plan/manifest.h"
#include "plugins/plugin.h"
#include "base/status.h"

namespace graft {

// A plugin file or manifest entry that did not make it into the catalog.
struct CatalogProblem {
  std::string id;       // the migration it concerns (a file's name for a file that failed)
  std::string message;  // one line: what, where, the stage, the fix
};

struct Catalog {
  Manifest manifest;
  std::vector<std::unique_ptr<Plugin>> plugins;  // in manifest order
  // Only when assembled with keep_going: what failed, in the order found.
  // The manifest entries with a problem have no plugin.
  std::vector<CatalogProblem> problems;

  const Plugin* find(const std::string& id) const;
  // The first problem that concerns `id`; nullptr when none does.
  const CatalogProblem* problemOf(const std::string& id) const;
};

// Lists the plugin files in `dir`, sorted by name.
Result<std::vector<std::string>> listPluginFiles(const std::string& dir);

// With keep_going, plugins that fail and mismatches with the manifest are
// not an error: the catalog holds what loaded and says what did not
// (Catalog::problems), so that status and verify can show every migration.
// A manifest that can not be read is an error all the same.
Result<Catalog> loadCatalog(const std::string& plugin_dir, const std::string& manifest_path,
                            const Plugin::Options& options = {}, bool keep_going = false);

// loadCatalog from the plugins' embedded metadata, without loading any. A
// plugin without embedded metadata can not say its id without running, so
// it stands for the manifest id equal to its file name without the suffix
// (graft_add_migration names the file after the id), with no logic digest;
// when no manifest id is its file name, that is one more error line.
Result<Catalog> readCatalog(const std::string& plugin_dir, const std::string& manifest_path,
                            const Plugin::Options& options = {}, bool keep_going = false);

}  // namespace graft

#endif  // GRAFT_HOST_PLAN_CATALOG_H_
