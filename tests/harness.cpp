#include "harness.h"

#include <sqlite3.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <sqlite3.h>

#include "store/sqlite_store.h"

extern char** environ;

namespace graft::test {
namespace fs = std::filesystem;

std::string testPlugin(const std::string& name) {
  return std::string(GRAFT_TEST_PLUGIN_DIR) + "/test_" + name + ".so";
}

std::string makePluginDir(const ScratchDir& dir, const std::vector<std::string>& plugin_files,
                          const std::vector<std::string>& ids) {
  const std::string plugins = dir / "plugins";
  fs::create_directories(plugins);
  for (const auto& file : plugin_files)
    fs::copy_file(file, plugins + "/" + fs::path(file).filename().string(),
                  fs::copy_options::overwrite_existing);
  boost::json::array list;
  for (const auto& id : ids) list.emplace_back(id);
  writeFile(plugins + "/manifest.json",
            boost::json::serialize(boost::json::object{{"graft_manifest", 1}, {"migrations", list}}));
  return plugins;
}

// Tests read the store the way an application would next to a running graft:
// read-only, so that they never wait for graft's write lock.
static std::unique_ptr<SqliteStore> openOrThrow(const std::string& db, bool write = false) {
  auto store = SqliteStore::open(db, {.create = write, .read_only = !write});
  if (!store.ok()) throw std::runtime_error(store.status().message());
  return std::move(store).value();
}

static void check(const Status& s) {
  if (!s.ok()) throw std::runtime_error(s.message());
}

void seedDocs(const std::string& db, const std::string& table,
              const std::vector<boost::json::object>& docs) {
  auto store = openOrThrow(db, true);
  check(store->begin());
  check(store->createTable(table));
  for (const auto& doc : docs) check(store->insert(table, boost::json::serialize(doc)).status());
  check(store->commit());
}

void seedItems(const std::string& db, int count, const std::string& table) {
  std::vector<boost::json::object> docs;
  docs.reserve(static_cast<size_t>(count));
  for (int k = 1; k <= count; ++k) docs.push_back({{"k", k}, {"n", 0}});
  seedDocs(db, table, docs);
}

std::vector<boost::json::object> readTable(const std::string& db, const std::string& table) {
  auto store = openOrThrow(db);
  std::vector<boost::json::object> docs;
  check(store->forEach(table, [&](const Document& doc) {
    docs.push_back(boost::json::parse(documentJson(doc)).as_object());
    return true;
  }));
  return docs;
}

std::vector<std::string> listDir(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    names.push_back(it->path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string sqlValue(const std::string& db, const std::string& sql) {
  // A plain read-only connection: the file need not be a graft store.
  sqlite3* conn = nullptr;
  if (sqlite3_open_v2(db.c_str(), &conn, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    std::string why = sqlite3_errmsg(conn);
    sqlite3_close(conn);
    throw std::runtime_error(db + ": " + why);
  }
  sqlite3_busy_timeout(conn, 5000);
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(conn, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    std::string why = sqlite3_errmsg(conn);
    sqlite3_close(conn);
    throw std::runtime_error(why);
  }
  std::string value;
  if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
    value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  sqlite3_finalize(stmt);
  sqlite3_close(conn);
  return value;
}

pid_t startProgram(const std::vector<std::string>& argv_in, const std::string& out_file,
                   const std::string& err_file, const std::vector<std::string>& env) {
  std::vector<std::string> argv_text = argv_in;
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::vector<std::string> env_text;
  for (char** e = environ; *e; ++e) env_text.emplace_back(*e);
  env_text.insert(env_text.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  // graft starts as a shell would start it: no blocked signals, default
  // handlers (the test framework installs its own in this process).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("can not start " + argv_text[0]);
  return pid;
}

pid_t startGraft(const std::vector<std::string>& args, const std::string& out_file,
                 const std::string& err_file, const std::vector<std::string>& env) {
  std::vector<std::string> argv{GRAFT_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return startProgram(argv, out_file, err_file, env);
}

Outcome waitGraft(pid_t pid, const std::string& out_file, const std::string& err_file) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  Outcome outcome;
  if (WIFEXITED(status)) outcome.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) outcome.signal = WTERMSIG(status);
  outcome.out = readBytes(out_file);
  outcome.err = readBytes(err_file);
  return outcome;
}

std::vector<std::string> graftArgs(const ScratchDir& dir, std::vector<std::string> rest) {
  std::vector<std::string> all{"--db", dir / "store.db", "--plugins", dir / "plugins"};
  all.insert(all.end(), rest.begin(), rest.end());
  return all;
}

int64_t processedSoFar(const std::string& db) {
  std::string text = sqlValue(db, "SELECT processed FROM migration_state");
  return text.empty() ? 0 : std::stoll(text);
}

bool waitForProcessedBeyond(const std::string& db, int64_t before) {
  for (int i = 0; i < 5000 && processedSoFar(db) <= before; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  return processedSoFar(db) > before;
}

Outcome runProgram(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  ScratchDir io;
  pid_t pid = startProgram(argv, io / "out", io / "err", env);
  return waitGraft(pid, io / "out", io / "err");
}

Outcome runGraft(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  std::vector<std::string> argv{GRAFT_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return runProgram(argv, env);
}

}  // namespace graft::test
