// harness.h -- what the plugin, runner and end-to-end tests share: scratch
// directories, plugin directories assembled from real built plugins, seeded
// SQLite stores, and the real graft binary run as a child process.
#ifndef GRAFT_TESTS_HARNESS_H_
#define GRAFT_TESTS_HARNESS_H_

#include <boost/json.hpp>

#include <string>
#include <sys/types.h>
#include <vector>

#include "test_util.h"

namespace graft::test {

using ScratchDir = test_util::TempDir;
using test_util::writeFile;

// Path of a test plugin built by tests/CMakeLists.txt ("counter" ->
// <build>/tests/test_plugins/test_counter.so).
std::string testPlugin(const std::string& name);

// Makes <dir>/plugins holding copies of `plugin_files` and a manifest.json
// listing `ids` in order. Returns the plugin directory.
std::string makePluginDir(const ScratchDir& dir, const std::vector<std::string>& plugin_files,
                          const std::vector<std::string>& ids);

// Creates (or extends) a store with `count` items {"k": i, "n": 0}, k from 1.
void seedItems(const std::string& db, int count, const std::string& table = "items");
// Inserts documents given as JSON objects into `table`.
void seedDocs(const std::string& db, const std::string& table,
              const std::vector<boost::json::object>& docs);
// Every document of `table`, in _id order, with _id and _creationTime.
std::vector<boost::json::object> readTable(const std::string& db, const std::string& table);
// One value from a SQL query on the file, as text ("" for NULL).
std::string sqlValue(const std::string& db, const std::string& sql);

// The names of the entries of `dir`, sorted; none when it does not exist.
std::vector<std::string> listDir(const std::string& dir);

struct Outcome {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string out, err;
};

// graft's arguments for a store and plugins in `dir` (store.db, plugins/),
// followed by `rest`.
std::vector<std::string> graftArgs(const ScratchDir& dir, std::vector<std::string> rest);

// The `processed` count of the first migration_state row, 0 if none.
int64_t processedSoFar(const std::string& db);
// Waits (up to about 10 s) until processedSoFar(db) exceeds `before`;
// false if it never did.
bool waitForProcessedBeyond(const std::string& db, int64_t before);

// Runs a program (argv[0] is its path) with `env` ("NAME=value") added to
// the environment, stdin from /dev/null, and waits for it.
Outcome runProgram(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});
// Starts a program without waiting; stdout/stderr go to the files.
pid_t startProgram(const std::vector<std::string>& argv, const std::string& out_file,
                   const std::string& err_file, const std::vector<std::string>& env = {});

// The same for the graft binary, given its arguments.
Outcome runGraft(const std::vector<std::string>& args, const std::vector<std::string>& env = {});

// Starts the graft binary without waiting; stdout/stderr go to the files.
pid_t startGraft(const std::vector<std::string>& args, const std::string& out_file,
                 const std::string& err_file, const std::vector<std::string>& env = {});
// Waits for a child started by startGraft or startProgram.
Outcome waitGraft(pid_t pid, const std::string& out_file, const std::string& err_file);

}  // namespace graft::test

#endif  // GRAFT_TESTS_HARNESS_H_
