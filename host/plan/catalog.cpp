#include "plan/catalog.h"

#include <boost/dll/shared_library.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

namespace graft {

const Plugin* Catalog::find(const std::string& id) const {
  for (const auto& plugin : plugins)
    if (plugin->id() == id) return plugin.get();
  return nullptr;
}

const CatalogProblem* Catalog::problemOf(const std::string& id) const {
  for (const auto& problem : problems)
    if (problem.id == id) return &problem;
  return nullptr;
}

Result<std::vector<std::string>> listPluginFiles(const std::string& dir) {
  namespace fs = std::filesystem;
  const std::string suffix = boost::dll::shared_library::suffix().string();
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return Status(Code::kPlugin, "plugin directory " + dir +
                                     ": not a directory (pass --plugins DIR, the directory of the built plugins)");
  std::vector<std::string> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == suffix) files.push_back(it->path().string());
  }
  if (ec) return Status(Code::kPlugin, "plugin directory " + dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

namespace {

// The plugins of `files`, by id. A file that fails, or a second plugin of
// an id, is a problem; *failed_names gets the names without suffix of the
// files that failed.
std::map<std::string, std::unique_ptr<Plugin>> openPlugins(const std::vector<std::string>& files,
                                                           const Plugin::Options& options,
                                                           bool load,
                                                           std::vector<CatalogProblem>* problems,
                                                           std::set<std::string>* failed_names) {
  std::map<std::string, std::unique_ptr<Plugin>> by_id;
  for (const auto& file : files) {
    auto plugin = load ? Plugin::load(file, options) : Plugin::inspect(file, options);
    if (!plugin.ok()) {
      // graft_add_migration names the file after the id.
      const std::string stem = std::filesystem::path(file).stem().string();
      problems->push_back({stem, plugin.status().message()});
      failed_names->insert(stem);
      continue;
    }
    const std::string id = (*plugin)->id();
    auto [it, inserted] = by_id.emplace(id, nullptr);
    if (!inserted) {
      problems->push_back({id, "plugins " + it->second->path() + " and " + (*plugin)->path() +
                                   " both have id \"" + id + "\" (remove one of them)"});
      continue;
    }
    it->second = std::move(plugin).value();
  }
  return by_id;
}

// Moves the plugin of each id in the manifest from `by_id` to the
// catalog, in the manifest's order; an id without one is a problem.
void takeManifestPlugins(Catalog* catalog, std::map<std::string, std::unique_ptr<Plugin>>* by_id,
                         const std::set<std::string>& failed_names, const std::string& plugin_dir,
                         const std::string& manifest_path, bool keep_going) {
  for (const auto& id : catalog->manifest.ids) {
    auto it = by_id->find(id);
    if (it == by_id->end()) {
      // A file of that name that failed says why already.
      if (keep_going && failed_names.count(id)) continue;
      catalog->problems.push_back(
          {id, "migration \"" + id + "\" is in " + manifest_path + " but no plugin in " +
                   plugin_dir +
                   (!failed_names.empty()
                        ? " that loaded has that id (it may be one that failed to load, above)"
                        : " has that id (build it, or remove it from the manifest)")});
      continue;
    }
    catalog->plugins.push_back(std::move(it->second));
    by_id->erase(it);
  }
}

// A problem for each plugin of `unlisted`, whose ids are not in the manifest.
void reportUnlisted(const std::map<std::string, std::unique_ptr<Plugin>>& unlisted,
                    const std::string& manifest_path, std::vector<CatalogProblem>* problems) {
  for (const auto& [id, plugin] : unlisted) {
    if (!plugin->loaded() && !plugin->metadataEmbedded()) {
      problems->push_back({id, "plugin " + plugin->path() +
                                   ": metadata not embedded, and its file name is not an id in " +
                                   manifest_path +
                                   ", so graft can not tell its id without running it (build it "
                                   "with graft_add_migration, or pass --load-plugins)"});
      continue;
    }
    problems->push_back({id, "plugin " + plugin->path() + " has id \"" + id +
                                 "\", which is not in " + manifest_path +
                                 " (add it to the manifest, or remove the file)"});
  }
}

Result<Catalog> assembleCatalog(const std::string& plugin_dir, const std::string& manifest_path,
                                const Plugin::Options& options, bool load, bool keep_going) {
  auto manifest = readManifest(manifest_path);
  if (!manifest.ok()) return manifest.status();
  Catalog catalog{std::move(manifest).value(), {}, {}};
  std::vector<CatalogProblem>& problems = catalog.problems;
  auto files = listPluginFiles(plugin_dir);
  if (!files.ok()) {
    if (!keep_going) return files.status();
    problems.push_back({"", files.status().message()});
    files = std::vector<std::string>();
  }

  std::set<std::string> failed_names;
  auto by_id = openPlugins(*files, options, load, &problems, &failed_names);
  takeManifestPlugins(&catalog, &by_id, failed_names, plugin_dir, manifest_path, keep_going);
  reportUnlisted(by_id, manifest_path, &problems);
  if (!problems.empty() && !keep_going) {
    std::string message;
    for (const auto& p : problems) message += (message.empty() ? "" : "\n") + p.message;
    return Status(Code::kPlugin, message);
  }
  return catalog;
}

}  // namespace

Result<Catalog> loadCatalog(const std::string& plugin_dir, const std::string& manifest_path,
                            const Plugin::Options& options, bool keep_going) {
  return assembleCatalog(plugin_dir, manifest_path, options, /*load=*/true, keep_going);
}

Result<Catalog> readCatalog(const std::string& plugin_dir, const std::string& manifest_path,
                            const Plugin::Options& options, bool keep_going) {
  return assembleCatalog(plugin_dir, manifest_path, options, /*load=*/false, keep_going);
}

}  // namespace graft
