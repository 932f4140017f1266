#include "graft_host.h"

#include <filesystem>
#include <map>

#include "sqlite_store.h"

namespace graft {

Result<std::unique_ptr<Host>> Host::open(const HostOptions& options) {
  const std::string manifest = options.manifest_path.empty()
                                   ? (std::filesystem::path(options.plugin_dir) / "manifest.json").string()
                                   : options.manifest_path;
  auto catalog = loadCatalog(options.plugin_dir, manifest);
  if (!catalog.ok()) return catalog.status();
  SqliteOptions store_options;
  store_options.read_only = options.read_only;
  auto store = SqliteStore::open(options.db_path, store_options);
  if (!store.ok()) return store.status();
  return std::unique_ptr<Host>(new Host(std::move(store).value(), std::move(catalog).value()));
}

Status Host::up(const RunOptions& options, RunReport* report) {
  Runner runner(*store_, catalog_);
  return runner.up(options, report);
}

Result<std::vector<MigrationStatus>> Host::status() {
  auto states = store_->loadStates();
  if (!states.ok()) return states.status();
  std::map<std::string, MigrationState> recorded;
  for (auto& s : *states) recorded.emplace(s.id, std::move(s));

  std::vector<MigrationStatus> rows;
  for (const auto& plugin : catalog_.plugins) {
    MigrationStatus row;
    row.id = plugin->id();
    row.description = plugin->description();
    row.file_checksum = plugin->sha256();
    row.state = "pending";
    auto it = recorded.find(row.id);
    if (it != recorded.end()) {
      const MigrationState& s = it->second;
      row.state = s.status;
      row.processed = s.processed;
      row.changed = s.changed;
      row.cursor = s.cursor;
      row.checksum = s.checksum;
      row.updated_at = s.updated_at;
      row.error = s.error;
      recorded.erase(it);
    }
    rows.push_back(std::move(row));
  }
  for (const auto& [id, s] : recorded) {
    MigrationStatus row;
    row.id = id;
    row.state = "missing";
    row.processed = s.processed;
    row.changed = s.changed;
    row.cursor = s.cursor;
    row.checksum = s.checksum;
    row.updated_at = s.updated_at;
    row.error = s.error;
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace graft
