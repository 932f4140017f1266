#include "plugins/plugin.h"

#if !defined(_WIN32)
#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>

#include "plugins/elf_check.h"
#include "base/json_text.h"
#include "plan/manifest.h"
#include "plugins/plugin_meta.h"
#include "base/sha256.h"
#include "plugins/step_spec.h"
#include "plugins/trust.h"

namespace graft {
namespace {

std::string abiText(uint32_t version) {
  return std::to_string(version >> 16) + "." + std::to_string(version & 0xffff);
}

// Boost.DLL reports a failed dlopen as a generic error code; the loader's own
// text ("wrong ELF class", "undefined symbol: x") is what tells a user why.
std::string loaderReason(const boost::dll::fs::error_code& ec) {
#if !defined(_WIN32)
  if (const char* reason = dlerror()) return reason;
#endif
  return ec.message();
}

int64_t g_copy_owner = 0;  // setPluginCopyOwner; 0: this process

std::string temporaryDirectory() {
  const char* tmp = std::getenv("TMPDIR");
  return tmp && *tmp ? tmp : "/tmp";
}

// "<TMPDIR>/graft-<pid>-": what the private directory of process `pid`
// starts with.
std::string pluginCopyDirPrefix(int64_t pid) {
  return temporaryDirectory() + "/graft-" + std::to_string(pid) + "-";
}

// The bytes that were hashed and checked, as a file only this user can
// write: a copy with a unique name in a private (0700) directory, loaded and
// then unlinked. The plugin file can be swapped after it was hashed without
// changing what runs. (A sealed memfd loaded through /proc/self/fd/N would
// not do: dlopen() matches loaded libraries by path first, so a reused
// descriptor number would hand back an earlier plugin.) If no private copy
// can be made (say, a noexec temporary directory), ok() is false and the
// plugin is loaded from its own path.
class PrivateCopy {
 public:
  explicit PrivateCopy(const std::string& bytes) {
#if !defined(_WIN32)
    const std::string& dir = privateDir();
    if (dir.empty()) return;
    std::string path = dir + "/plugin-XXXXXX";
    int fd = mkstemp(path.data());
    if (fd < 0) return;
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    const bool written = done == bytes.size() && fchmod(fd, 0500) == 0;
    ::close(fd);
    if (!written) {
      unlink(path.c_str());
      return;
    }
    path_ = path;
#else
    (void)bytes;
#endif
  }
  // The loader's mapping keeps the bytes; the name can go at once.
  ~PrivateCopy() {
    if (!path_.empty()) unlink(path_.c_str());
  }
  PrivateCopy(const PrivateCopy&) = delete;
  PrivateCopy& operator=(const PrivateCopy&) = delete;

  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }

 private:
  // One directory per process, 0700, named after the process
  // (pluginCopyDirPrefix), removed at a normal exit. A process that ends
  // otherwise (a supervised worker's _exit, a crash, SIGKILL) leaves it to
  // removePluginCopies.
  static const std::string& privateDir() {
    struct Dir {
      std::string path;
      Dir() {
        std::string pattern =
            pluginCopyDirPrefix(g_copy_owner ? g_copy_owner : getpid()) + "XXXXXX";
        if (mkdtemp(pattern.data())) path = pattern;
      }
      ~Dir() {
        if (!path.empty()) rmdir(path.c_str());
      }
    };
    static const Dir dir;
    return dir.path;
  }

  std::string path_;
};

// What to do about a graft_plugin that does not hold what the SDK writes.
constexpr const char* kRebuildHint =
    " (the plugin's graft_plugin is not what the SDK makes: define it with defineMigration and "
    "GRAFT_EXPORT_MIGRATION, and build it with graft_add_migration)";

// Libraries loaded by this process, by the SHA-256 of their bytes: loading
// the same bytes again (graft up --watch opens the catalog at every change)
// hands back the library already loaded instead of running its constructors
// once more. They stay loaded until the process ends, as every plugin did.
struct LoadedLibraries {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<boost::dll::shared_library>> by_sha256;
};
LoadedLibraries& loadedLibraries() {
  static LoadedLibraries* libraries = new LoadedLibraries;  // never destroyed: see above
  return *libraries;
}

// ABI 1.0 and 1.1's graft_step ended before write_mode.
constexpr size_t kStepV1_0Size = offsetof(graft_step, write_mode);

bool checkStep(const graft_step* step, const char* name, std::string* why) {
  if (step->struct_size < kStepV1_0Size) {
    *why = std::string(name) + " step is " + std::to_string(step->struct_size) +
           " bytes, expected at least " + std::to_string(kStepV1_0Size) + kRebuildHint;
    return false;
  }
  if (!step->table || !*step->table) {
    *why = std::string(name) + " step has no table (give the step the name of the table it walks)";
    return false;
  }
  if (!step->migrate_one) {
    *why = std::string(name) + " step has no migrateOne" + kRebuildHint;
    return false;
  }
  return true;
}

// The step as this host's graft_step: fields the plugin's SDK did not know
// are zero (normal writes, whole table, nothing to verify).
graft_step widen(const graft_step& step) {
  graft_step out{};
  std::memcpy(&out, &step, std::min<size_t>(step.struct_size, sizeof out));
  out.struct_size = sizeof out;
  return out;
}

// The 1.2 fields that carry text must parse before anything runs.
bool checkStepExtras(const graft_step& step, const char* name, std::string* why) {
  if (step.write_mode != GRAFT_WRITE_NORMAL && step.write_mode != GRAFT_WRITE_SAFE_BYPASS) {
    *why = std::string(name) + " step has write_mode " + std::to_string(step.write_mode) +
           " (expected normal or safe_bypass)";
    return false;
  }
  if (step.range_json) {
    auto range = parseRangeSpec(step.range_json, std::string(name) + " step customRange");
    if (!range.ok()) {
      *why = range.status().message();
      return false;
    }
  }
  if (step.verify_json) {
    auto validator = parseVerifyValidator(step.verify_json, std::string(name) + " step verify");
    if (!validator.ok()) {
      *why = validator.status().message();
      return false;
    }
  }
  return true;
}

// Why a plugin built for ABI `major`.`minor` can not run on this host, or ""
// when it can: the same major, and a minor no newer than this host's (a
// newer plugin may rely on a field this host would not read).
std::string abiMismatch(uint32_t major, uint32_t minor) {
  const std::string built = "built for graft ABI " + std::to_string(major) + "." +
                            std::to_string(minor) + ", this host speaks " +
                            abiText(GRAFT_ABI_VERSION);
  if (major != GRAFT_ABI_MAJOR) return built + " (rebuild the plugin against this host's SDK)";
  if (minor > GRAFT_ABI_MINOR)
    return built +
           ", which is older (upgrade graft, or rebuild the plugin against this host's SDK)";
  return "";
}

// The embedded metadata's "abi" ("1.3") as major and minor; false when it
// is not two numbers.
bool parseAbi(const std::string& text, uint32_t* major, uint32_t* minor) {
  const size_t dot = text.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == text.size() || text.size() > 11)
    return false;
  for (size_t i = 0; i < text.size(); ++i)
    if (i != dot && (text[i] < '0' || text[i] > '9')) return false;
  *major = static_cast<uint32_t>(std::stoul(text.substr(0, dot)));
  *minor = static_cast<uint32_t>(std::stoul(text.substr(dot + 1)));
  return true;
}

// "plugin <path>: <stage>: <reason>".
Status pluginError(const std::string& path, const std::string& stage, const std::string& reason) {
  return Status(Code::kPlugin, "plugin " + path + ": " + stage + ": " + reason);
}

// The library of the plugin at `path`, whose bytes are `bytes` (their
// SHA-256 `sha256`): the one this process loaded already, or one loaded now
// from a private copy of the bytes.
Result<std::shared_ptr<boost::dll::shared_library>> openLibrary(const std::string& path,
                                                                const std::string& sha256,
                                                                const std::string& bytes,
                                                                const Plugin::Options& options) {
  LoadedLibraries& loaded = loadedLibraries();
  {
    std::lock_guard<std::mutex> lock(loaded.mu);
    auto it = loaded.by_sha256.find(sha256);
    if (it != loaded.by_sha256.end()) return it->second;
  }
  if (options.before_load) options.before_load(path);
  PrivateCopy copy(bytes);
  const std::string load_path = copy.ok() ? copy.path() : path;
  auto library = std::make_shared<boost::dll::shared_library>();
  boost::dll::fs::error_code ec;
  library->load(load_path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
  if (ec) {
    std::string reason = loaderReason(ec);
    // The loader names the private copy; the user knows the file.
    for (size_t at; (at = reason.find(load_path)) != std::string::npos && load_path != path;)
      reason.replace(at, load_path.size(), path);
    return pluginError(path, "load",
                       reason +
                           " (is it a shared library built for this machine with "
                           "graft_add_migration?)");
  }
  std::lock_guard<std::mutex> lock(loaded.mu);
  return loaded.by_sha256.emplace(sha256, std::move(library)).first->second;
}

// What the entry point of the plugin at `path` returns; never NULL.
Result<const graft_plugin*> callEntryPoint(boost::dll::shared_library& library,
                                           const std::string& path) {
  if (!library.has(GRAFT_ENTRY_SYMBOL)) {
    return pluginError(path, "entry point",
                       std::string("no symbol ") + GRAFT_ENTRY_SYMBOL +
                           " (export the migration with GRAFT_EXPORT_MIGRATION)");
  }
  auto entry = library.get<const graft_plugin*()>(GRAFT_ENTRY_SYMBOL);
  const graft_plugin* p = entry();
  if (!p)
    return pluginError(path, "entry point",
                       std::string(GRAFT_ENTRY_SYMBOL) + " returned NULL" + kRebuildHint);
  return p;
}

// Why the graft_plugin `p` (of this host's ABI major) can not run, or ""
// when it can; then *up and *down are its steps as this host's graft_step
// (*down zero when it has none).
std::string checkPlugin(const graft_plugin* p, graft_step* up, graft_step* down) {
  // ABI 1.0's graft_plugin ended before logic_digest.
  const size_t v1_0_size = offsetof(graft_plugin, logic_digest);
  if (p->struct_size < v1_0_size) {
    return "graft_plugin is " + std::to_string(p->struct_size) + " bytes, expected at least " +
           std::to_string(v1_0_size) + kRebuildHint;
  }
  if (!p->id || !isValidMigrationId(p->id)) {
    return std::string("id \"") + (p->id ? p->id : "(null)") +
           "\" is not valid (letters, digits, '_', '-', '.'; at most 128)";
  }
  if (!p->description) return std::string("description is NULL") + kRebuildHint;
  if (!p->up) return std::string("no up step") + kRebuildHint;
  std::string why;
  if (!checkStep(p->up, "up", &why) || (p->down && !checkStep(p->down, "down", &why))) return why;
  *up = widen(*p->up);
  *down = p->down ? widen(*p->down) : graft_step{};
  if (!checkStepExtras(*up, "up", &why) || (p->down && !checkStepExtras(*down, "down", &why)))
    return why;
  return "";
}

// The metadata the checked graft_plugin `p` gives.
PluginMeta returnedMeta(const graft_plugin* p) {
  PluginMeta returned;
  returned.id = p->id;
  returned.abi = abiText(p->abi_version);
  const size_t digest_end = offsetof(graft_plugin, logic_digest) + sizeof(p->logic_digest);
  if (p->struct_size >= digest_end && p->logic_digest) returned.logic_digest = p->logic_digest;
  returned.description = p->description;
  returned.has_down = p->down != nullptr;
  return returned;
}

}  // namespace

Result<std::unique_ptr<Plugin>> Plugin::readChecked(const std::string& given_path,
                                                    const Options& options, std::string* bytes) {
  std::error_code fs_ec;
  std::filesystem::path absolute = std::filesystem::absolute(given_path, fs_ec);
  const std::string path = fs_ec ? given_path : absolute.lexically_normal().string();
  auto fail = [&](const std::string& stage, const std::string& reason) {
    return pluginError(path, stage, reason);
  };

  std::unique_ptr<Plugin> plugin(new Plugin);
  plugin->path_ = path;
  if (std::filesystem::is_directory(path, fs_ec))
    return fail("open",
                "a directory, not a plugin file (every file with the shared-library "
                "suffix in the plugin directory is a plugin: rename or move it)");
  if (!options.allow_untrusted) {
    if (std::string why = untrustedReason(path); !why.empty())
      return fail("trust", why + "; or pass --allow-untrusted-plugins");
  }
  auto read = readFile(path);
  if (!read.ok()) return fail("open", read.status().message());
  *bytes = std::move(read).value();
  plugin->file_sha256_ = sha256Hex(*bytes);
  if (std::string why = checkSharedLibrary(*bytes); !why.empty()) return fail("check", why);
  // Read before anything is loaded: a plugin whose metadata is broken is
  // refused without running any of its code.
  auto meta = readPluginMeta(*bytes);
  if (!meta.ok()) return fail("embedded metadata", meta.status().message());
  if (*meta) {
    // What `up` would refuse at its ABI stage, status and verify refuse too,
    // without loading anything.
    uint32_t major = 0, minor = 0;
    if (!parseAbi((*meta)->abi, &major, &minor))
      return fail("embedded metadata", "abi " + jsonQuoted((*meta)->abi) +
                                           " is not <major>.<minor> (build the plugin again with "
                                           "graft_add_migration)");
    if (std::string why = abiMismatch(major, minor); !why.empty()) return fail("ABI", why);
    plugin->meta_ = std::move(**meta);
    plugin->embedded_ = true;
  }
  return plugin;
}

Result<std::unique_ptr<Plugin>> Plugin::inspect(const std::string& path, const Options& options) {
  std::string bytes;
  auto plugin = readChecked(path, options, &bytes);
  // Without metadata, the file's name is the best guess that runs nothing:
  // graft_add_migration names the file after the id.
  if (plugin.ok() && !(*plugin)->embedded_)
    (*plugin)->meta_.id = std::filesystem::path((*plugin)->path_).stem().string();
  return plugin;
}

Result<std::unique_ptr<Plugin>> Plugin::load(const std::string& given_path,
                                             const Options& options) {
  std::string bytes;
  auto checked = readChecked(given_path, options, &bytes);
  if (!checked.ok()) return checked.status();
  std::unique_ptr<Plugin> plugin = std::move(checked).value();
  const std::string& path = plugin->path_;

  auto library = openLibrary(path, plugin->file_sha256_, bytes, options);
  if (!library.ok()) return library.status();
  plugin->library_ = std::move(library).value();
  auto entry = callEntryPoint(*plugin->library_, path);
  if (!entry.ok()) return entry.status();
  const graft_plugin* p = *entry;
  if (std::string why = abiMismatch(p->abi_version >> 16, p->abi_version & 0xffff); !why.empty())
    return pluginError(path, "ABI", why);
  graft_step up{};
  graft_step down{};
  if (std::string why = checkPlugin(p, &up, &down); !why.empty())
    return pluginError(path, "metadata", why);
  PluginMeta returned = returnedMeta(p);
  // What status and verify showed without loading must be what runs.
  if (plugin->embedded_) {
    if (std::string differences = compareMeta(plugin->meta_, returned); !differences.empty())
      return pluginError(
          path, "metadata",
          "the embedded metadata disagrees with " GRAFT_ENTRY_SYMBOL ": " + differences);
  }
  plugin->meta_ = std::move(returned);
  plugin->plugin_ = p;
  plugin->up_ = up;
  plugin->down_ = down;
  return plugin;
}

namespace {

// Removes `dir` and the copies in it, if it is this user's own directory.
void removeCopyDir(const std::filesystem::path& dir) {
  struct stat st {};
  if (lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid()) return;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

// The pid in a private directory's name "graft-<pid>-XXXXXX", or 0.
int64_t pidOfCopyDir(const std::string& name) {
  if (name.rfind("graft-", 0) != 0) return 0;
  const size_t dash = name.find('-', 6);
  if (dash == std::string::npos || dash == 6 || name.size() - dash - 1 != 6) return 0;
  int64_t pid = 0;
  for (size_t i = 6; i < dash; ++i) {
    if (name[i] < '0' || name[i] > '9' || pid > (int64_t{1} << 40)) return 0;
    pid = pid * 10 + (name[i] - '0');
  }
  return pid;
}

}  // namespace

void setPluginCopyOwner(int64_t pid) { g_copy_owner = pid; }

void removePluginCopies(int64_t pid) {
  std::error_code ec;
  const std::string prefix = "graft-" + std::to_string(pid) + "-";
  for (std::filesystem::directory_iterator it(temporaryDirectory(), ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(prefix, 0) == 0 && pidOfCopyDir(name) == pid) removeCopyDir(it->path());
  }
}

void removeStalePluginCopies() {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(temporaryDirectory(), ec), end; !ec && it != end;
       it.increment(ec)) {
    const int64_t pid = pidOfCopyDir(it->path().filename().string());
    // kill(pid, 0) fails with ESRCH only when no such process exists.
    if (pid > 0 && kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
      removeCopyDir(it->path());
  }
}

}  // namespace graft
