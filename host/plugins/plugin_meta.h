// plugin_meta.h -- what a plugin says about itself, read from its file
// without running any of its code.
//
// Loading a shared library runs its constructors, so a host that loads a
// plugin to list it has already run it. graft_add_migration therefore embeds
// the plugin's metadata as JSON text in an ELF section, .graft_meta (see
// sdk/cmake/GraftLogicDigest.cmake), the way Qt embeds plugin metadata:
//
//   {"graft_meta":1,"id":"...","abi":"1.2","logic_digest":"v1:sha256:...",
//    "description":"...","has_down":true}
//
// graft status, verify and sum read only this. When a plugin is loaded for a
// run, Plugin::load compares it with what graft_plugin_entry returns.
#ifndef GRAFT_HOST_PLUGINS_PLUGIN_META_H_
#define GRAFT_HOST_PLUGINS_PLUGIN_META_H_

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace graft {

inline constexpr std::string_view kMetaSection = ".graft_meta";

struct PluginMeta {
  std::string id;
  std::string abi;           // "<major>.<minor>" the plugin was built for
  std::string logic_digest;  // "v1:sha256:<hex>", "" when none
  std::string description;
  bool has_down = false;
};

// The metadata embedded in a plugin file's bytes; std::nullopt when the file
// has no .graft_meta section (built without graft_add_migration, or with an
// SDK from before embedded metadata). Errors (kPlugin) are one sentence with
// a fix, without the file's name: a section outside the file, malformed
// JSON, a missing or mistyped field, a newer format.
// REQUIRES: checkSharedLibrary(bytes) is "" (elf_check.h).
Result<std::optional<PluginMeta>> readPluginMeta(std::string_view bytes);

// The section's contents (text up to the first NUL) as metadata; the errors
// of readPluginMeta.
Result<PluginMeta> parsePluginMeta(std::string_view section);

// "" when `embedded` (read from the file) and `returned` (by
// graft_plugin_entry) agree, else every difference, "; "-separated, each
// with its fix.
std::string compareMeta(const PluginMeta& embedded, const PluginMeta& returned);

}  // namespace graft

#endif  // GRAFT_HOST_PLUGINS_PLUGIN_META_H_
