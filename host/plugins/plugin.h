// plugin.h -- loads one migration plugin and checks it before use.
//
// Stages, in order, each named in error messages: trust (who could have
// written the file, see trust.h), open (read the file once: those bytes are
// hashed, checked and loaded, from a private copy, so swapping the file
// afterwards changes nothing), check (a whole shared library for this
// machine, see elf_check.h), embedded metadata (the .graft_meta section, read
// from those bytes, see plugin_meta.h), load (dlopen with RTLD_NOW, so an
// unresolved symbol fails here and not in the middle of a migration), entry
// point (graft_plugin_entry), ABI (major version equal to this host's,
// checked before any other field is read), metadata (id, tables and
// functions present and well formed, and equal to the embedded metadata).
//
// Plugin::inspect stops after the embedded metadata: it never loads the
// library, so none of the plugin's code runs (not even its constructors).
#ifndef GRAFT_HOST_PLUGINS_PLUGIN_H_
#define GRAFT_HOST_PLUGINS_PLUGIN_H_

#include <graft/graft.h>

#include <boost/dll/shared_library.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "plugins/plugin_meta.h"
#include "base/status.h"

namespace graft {

class Plugin {
 public:
  struct Options {
    bool allow_untrusted = false;  // skip the trust stage
    // Called with the plugin's path right before its code is loaded (its
    // constructors run then), for a supervisor that must say which plugin
    // a crash, an exit() or a hang while loading came from. Not called when
    // the same bytes are loaded already (see load).
    std::function<void(const std::string& path)> before_load = nullptr;
  };

  // Loads the plugin at `path` (made absolute). Errors are kPlugin and read
  // "plugin <path>: <stage>: <reason> (<hint>)".
  //
  // A library is loaded once per process for the same bytes (by SHA-256):
  // loading them again, from that path or another, reuses the library and
  // runs none of its constructors again. Loaded libraries stay loaded until
  // the process ends.

  static Result<std::unique_ptr<Plugin>> load(const std::string& path, const Options& options);
  static Result<std::unique_ptr<Plugin>> load(const std::string& path) { return load(path, {}); }

  // Runs the stages up to the embedded metadata and no further: the library
  // is not loaded and none of its code runs. A file without embedded
  // metadata is not an error: metadataEmbedded() is false, id() is the
  // file's name without its suffix (graft_add_migration names the file after
  // the id), and description() and logicDigest() are "". Same errors as
  // load, up to the embedded metadata.
  static Result<std::unique_ptr<Plugin>> inspect(const std::string& path, const Options& options);

  const std::string& path() const { return path_; }
  // SHA-256 of the file's bytes, lowercase hex.
  const std::string& fileSha256() const { return file_sha256_; }
  // From the entry point when loaded, else from the embedded metadata (which
  // loading checked to be equal, when the file has it).
  const std::string& id() const { return meta_.id; }
  const std::string& description() const { return meta_.description; }
  // "v1:sha256:<hex>" as embedded by graft_add_migration, "" if none
  // (a plugin built otherwise, or for ABI 1.0).
  const std::string& logicDigest() const { return meta_.logic_digest; }
  bool hasDown() const { return meta_.has_down; }
  // Whether the file carries a .graft_meta section.
  bool metadataEmbedded() const { return embedded_; }
  // Whether the library is loaded (by load), so that up() and down() exist.
  bool loaded() const { return plugin_ != nullptr; }

  // The steps as this host's graft_step, whatever ABI 1.x built them: fields
  // the plugin did not know are zero.
  // REQUIRES: loaded().
  const graft_step& up() const { return up_; }
  // nullptr when the migration has no down step.
  // REQUIRES: loaded().
  const graft_step* down() const { return plugin_->down ? &down_ : nullptr; }

 private:
  Plugin() = default;
  // The stages inspect and load share; *bytes gets the file's bytes.
  static Result<std::unique_ptr<Plugin>> readChecked(const std::string& path,
                                                     const Options& options, std::string* bytes);

  std::string path_;
  std::string file_sha256_;
  PluginMeta meta_;
  bool embedded_ = false;
  std::shared_ptr<boost::dll::shared_library> library_;
  const graft_plugin* plugin_ = nullptr;
  graft_step up_{};
  graft_step down_{};
};

// Loading a plugin copies its bytes into a private directory of the
// process, <TMPDIR>/graft-<pid>-XXXXXX, removed when the process exits
// normally. A worker whose supervisor's death ends it too names it after
// the supervisor (setPluginCopyOwner, before the first load), which removes
// what the worker left, however it ended, with removePluginCopies(its own
// pid). removeStalePluginCopies() removes the directories named after
// processes of this user that are gone (a supervisor killed with SIGKILL).
void setPluginCopyOwner(int64_t pid);
void removePluginCopies(int64_t pid);
void removeStalePluginCopies();

}  // namespace graft

#endif  // GRAFT_HOST_PLUGINS_PLUGIN_H_
