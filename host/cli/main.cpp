// graft -- the command line: a thin layer over the host library.
//
// Every error becomes lines "graft: <what failed, where, how to fix>" on
// stderr and one of the exit codes of status.h (documented in README.md).
#include <signal.h>

#include <boost/json/serialize.hpp>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "store/store.h"

namespace graft::cli {

int fail(const Status& status) {
  std::istringstream lines(status.message());
  std::string line;
  while (std::getline(lines, line)) std::fprintf(stderr, "graft: %s\n", line.c_str());
  return exitCode(status.code());
}

std::string plural(int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string durationText(int64_t ms) {
  char text[48];
  if (ms < 1000) {
    std::snprintf(text, sizeof text, "%lld ms", static_cast<long long>(ms));
  } else if (ms < 60'000) {
    std::snprintf(text, sizeof text, "%.1f s", static_cast<double>(ms) / 1000);
  } else if (ms < 3'600'000) {
    std::snprintf(text, sizeof text, "%lld min %lld s", static_cast<long long>(ms / 60'000),
                  static_cast<long long>(ms / 1000 % 60));
  } else {
    std::snprintf(text, sizeof text, "%lld h %lld min", static_cast<long long>(ms / 3'600'000),
                  static_cast<long long>(ms / 60'000 % 60));
  }
  return text;
}

boost::json::value textOrNull(const std::string& text) {
  if (text.empty()) return nullptr;
  return boost::json::string(text);
}

boost::json::value numberOrNull(std::optional<int64_t> n) {
  if (!n) return nullptr;
  return *n;
}

namespace {

// graft --version [--json]: what a bug report or a deploy script needs to
// know of this build: its version, the plugin ABI it loads, and the format
// of the stores it writes.
int printVersion(bool json) {
  const std::string abi = std::to_string(GRAFT_ABI_MAJOR) + "." + std::to_string(GRAFT_ABI_MINOR);
  if (json) {
    const boost::json::object version{
        {"graft", GRAFT_VERSION}, {"plugin_abi", abi}, {"store_format", kStoreFormatVersion}};
    std::printf("%s\n", boost::json::serialize(version).c_str());
  } else {
    std::printf("graft %s (plugin ABI %s, store format %d)\n", GRAFT_VERSION, abi.c_str(),
                kStoreFormatVersion);
  }
  return 0;
}

}  // namespace

}  // namespace graft::cli

int main(int argc, char** argv) {
  using namespace graft::cli;
  // A write past the file size limit (ulimit -f) must fail with EFBIG, which
  // SQLite reports and graft explains, rolls back and records, instead of
  // killing graft (and the supervised worker, which inherits this) with
  // SIGXFSZ halfway through, leaving nothing but a `running` state.
  signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"graft: online data migrations shipped as plugins", "graft"};
  app.require_subcommand(0, 1);
  // Global options may follow the command too: `graft status --db app.db`.
  app.fallthrough();
  app.footer("Global options go before or after the command: graft status --db app.db.\n");
  Globals globals;
  bool version = false, version_json = false;
  app.add_flag("-V,--version", version, "print graft's version, plugin ABI and store format");
  app.add_flag("--json", version_json, "with --version: print them as one JSON object");
  app.add_option("--db", globals.host.db_url,
                 "the store: a SQLite file as PATH or sqlite:PATH, or a PostgreSQL database as "
                 "postgresql://...")
      ->envname("GRAFT_DB")
      ->capture_default_str();
  app.add_option("--plugins", globals.host.plugin_dir, "directory of migration plugins")
      ->envname("GRAFT_PLUGINS")
      ->capture_default_str();
  app.add_option("--manifest", globals.host.manifest_path,
                 "ordered list of migration ids (default: PLUGINS/manifest.json)")
      ->envname("GRAFT_MANIFEST");
  app.add_flag("--allow-untrusted-plugins", globals.host.allow_untrusted_plugins,
               "load plugins whose file or directories others could write (recorded in the run history)");

  const std::vector<Command> commands = {
      addUpCommand(app, globals),
      addDownCommand(app, globals),
      addCancelCommand(app, globals),
      addStatusCommand(app, globals),
      addHistoryCommand(app, globals),
      addImportCommand(app, globals),
      addExportCommand(app, globals),
      addSumCommand(app, globals),
      addCreateCommand(app, globals),
      addVerifyCommand(app, globals),
      addSchemaCommand(app, globals),
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "graft: usage: %s (see graft --help)\n", e.what());
    return graft::exitCode(graft::Code::kUsage);
  }
  if (version) return printVersion(version_json);
  if (version_json) {
    // A command without a --json of its own would hand it up here: say so
    // rather than print text where JSON was asked for.
    std::fprintf(stderr,
                 "graft: usage: --json goes with --version or with a command that has "
                 "its own --json (status, history, verify)\n");
    return graft::exitCode(graft::Code::kUsage);
  }
  for (const Command& command : commands) {
    if (command.sub->parsed()) return command.run();
  }
  std::fprintf(stderr, "graft: usage: a command is required (see graft --help)\n");
  return graft::exitCode(graft::Code::kUsage);
}
