// harness.h -- what the tests share: scratch directories, files, plugin
// directories assembled from real built plugins, seeded SQLite stores, and
// the real graft binary run as a child process.
#ifndef GRAFT_TESTS_HARNESS_H_
#define GRAFT_TESTS_HARNESS_H_

#include <stdlib.h>
#include <sys/types.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "base/status.h"
#include "run/runner.h"
#include "store/sqlite_store.h"

namespace graft {

// Let BOOST_TEST(report.status == RunStatus::kNoop) print both sides.
inline std::ostream& boost_test_print_type(std::ostream& out, RunStatus status) {
  return out << runStatusName(status);
}
inline std::ostream& boost_test_print_type(std::ostream& out, StepStatus status) {
  return out << stepStatusName(status);
}
inline std::ostream& boost_test_print_type(std::ostream& out, Direction direction) {
  return out << directionName(direction);
}
inline std::ostream& boost_test_print_type(std::ostream& out, StepOutcome outcome) {
  return out << '"' << stepOutcomeName(outcome) << '"';
}

// Lets BOOST_TEST(status.code() == Code::kBadInput) print both sides.
inline std::ostream& boost_test_print_type(std::ostream& out, Code code) {
  switch (code) {
    case Code::kOk:
      return out << "kOk";
    case Code::kMigrationFailed:
      return out << "kMigrationFailed";
    case Code::kUsage:
      return out << "kUsage";
    case Code::kBadInput:
      return out << "kBadInput";
    case Code::kPlugin:
      return out << "kPlugin";
    case Code::kStore:
      return out << "kStore";
    case Code::kCanceled:
      return out << "kCanceled";
    case Code::kBusy:
      return out << "kBusy";
    case Code::kDrift:
      return out << "kDrift";
    case Code::kSchema:
      return out << "kSchema";
  }
  return out << "Code(" << static_cast<int>(code) << ")";
}

}  // namespace graft

namespace graft::test {

// A fresh directory under /tmp (mkdtemp), removed with its contents when the
// object goes away: every test gets its own files and leaves none behind.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = "/tmp/graft_unit_XXXXXX";
    if (!mkdtemp(pattern.data()))
      throw std::runtime_error("mkdtemp " + pattern + ": " + std::strerror(errno));
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  // The path of `name` inside the directory.
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::string operator/(const std::string& name) const { return file(name); }

 private:
  std::string path_;
};

inline void writeFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  out.close();
  if (!out) throw std::runtime_error("can not write " + path);
}

inline std::string readBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("can not read " + path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Opens (creating if needed) a writable store; the test stops if it can not.
inline std::unique_ptr<SqliteStore> openStore(const std::string& path) {
  auto store = SqliteStore::open(path, {.create = true});
  BOOST_TEST_REQUIRE(store.ok(), store.status().message());
  return std::move(store).value();
}

// The _ids of `docs`, in their order.
inline std::vector<int64_t> idsOf(const std::vector<Document>& docs) {
  std::vector<int64_t> ids;
  for (const auto& doc : docs) ids.push_back(doc.id);
  return ids;
}

// Inserts `body` into `table`; the test stops unless that works. Its _id.
inline int64_t insertOk(Store& store, const std::string& table, const std::string& body) {
  auto id = store.insert(table, body);
  BOOST_TEST_REQUIRE(id.ok(), id.status().message());
  return *id;
}

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
