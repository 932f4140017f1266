// plugin.h -- loads one migration plugin and checks it before use.
//
// Stages, in order, each named in error messages: trust (who could have
// written the file, see trust.h), open (read the file once: those bytes are
// hashed, checked and loaded, from a private copy, so swapping the file
// afterwards changes nothing), check (a whole shared
// library for this machine, see elf_check.h), load (dlopen with RTLD_NOW, so an unresolved symbol fails here and not in
// the middle of a migration), entry point (graft_plugin_entry), ABI (major
// version equal to this host's, checked before any other field is read),
// metadata (id, tables and functions present and well formed).
#ifndef GRAFT_HOST_PLUGIN_H_
#define GRAFT_HOST_PLUGIN_H_

#include <graft/graft.h>

#include <boost/dll/shared_library.hpp>

#include <memory>
#include <string>

#include "status.h"

namespace graft {

class Plugin {
 public:
  struct Options {
    bool allow_untrusted = false;  // skip the trust stage
  };

  // Loads the plugin at `path` (made absolute). Errors are kPlugin and read
  // "plugin <path>: <stage>: <reason> (<hint>)".
  static Result<std::unique_ptr<Plugin>> load(const std::string& path, const Options& options);
  static Result<std::unique_ptr<Plugin>> load(const std::string& path) { return load(path, {}); }

  const std::string& path() const { return path_; }
  // SHA-256 of the file's bytes, lowercase hex.
  const std::string& sha256() const { return sha256_; }
  std::string id() const { return plugin_->id; }
  std::string description() const { return plugin_->description; }
  // The steps as this host's graft_step, whatever ABI 1.x built them: fields
  // the plugin did not know are zero.
  const graft_step& up() const { return up_; }
  // nullptr when the migration has no down step.
  const graft_step* down() const { return plugin_->down ? &down_ : nullptr; }
  // "v1:sha256:<hex>" as embedded by graft_add_migration, "" if none
  // (a plugin built otherwise, or for ABI 1.0).
  std::string logicDigest() const;

 private:
  Plugin() = default;

  std::string path_;
  std::string sha256_;
  boost::dll::shared_library library_;
  const graft_plugin* plugin_ = nullptr;
  graft_step up_{};
  graft_step down_{};
};

}  // namespace graft

#endif  // GRAFT_HOST_PLUGIN_H_
