// cli.h -- how the commands of `graft` are put together.
//
// Each command lives in its own file (cmd_<name>.cpp) and has one function
// that adds its subcommand to the app and returns what to run when it is the
// one parsed. main.cpp only lists them.
#ifndef GRAFT_CLI_CLI_H_
#define GRAFT_CLI_CLI_H_

#include <CLI/CLI.hpp>

#include <boost/json/value.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "graft_host.h"
#include "base/status.h"

namespace graft::cli {

// Options that come before the command, filled in by the parser.
struct Globals {
  HostOptions host;
};

struct Command {
  CLI::App* sub = nullptr;
  std::function<int()> run;
};

// Prints each line of the status's message as "graft: <line>" on stderr and
// returns its exit code.
int fail(const Status& status);

// "1 migration", "3 migrations": `n` and the word that goes with it.
std::string plural(int64_t n, const char* one, const char* many);

// "850 ms", "12.3 s", "4 min 5 s", "2 h 10 min": a duration for a person.
std::string durationText(int64_t ms);

// JSON output's "none": null for "" and for no value, never "".
boost::json::value textOrNull(const std::string& text);
boost::json::value numberOrNull(std::optional<int64_t> n);

Command addUpCommand(CLI::App& app, const Globals& globals);
Command addDownCommand(CLI::App& app, const Globals& globals);
Command addCancelCommand(CLI::App& app, const Globals& globals);
Command addStatusCommand(CLI::App& app, const Globals& globals);
Command addHistoryCommand(CLI::App& app, const Globals& globals);
Command addImportCommand(CLI::App& app, const Globals& globals);
Command addExportCommand(CLI::App& app, const Globals& globals);
Command addSumCommand(CLI::App& app, const Globals& globals);
Command addCreateCommand(CLI::App& app, const Globals& globals);
Command addVerifyCommand(CLI::App& app, const Globals& globals);
Command addSchemaCommand(CLI::App& app, const Globals& globals);

}  // namespace graft::cli

#endif  // GRAFT_CLI_CLI_H_
