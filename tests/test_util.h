// test_util.h -- small helpers the unit tests of the host modules share.
#ifndef GRAFT_TESTS_TEST_UTIL_H_
#define GRAFT_TESTS_TEST_UTIL_H_

#include <stdlib.h>

#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>

#include "store/sqlite_store.h"
#include "base/status.h"

namespace graft {

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

namespace graft::test_util {

// A fresh directory under /tmp (mkdtemp), removed with its contents when the
// object goes away: every test gets its own files and leaves none behind.
class TempDir {
 public:
  TempDir() {
    std::string pattern = "/tmp/graft_unit_XXXXXX";
    if (!mkdtemp(pattern.data()))
      throw std::runtime_error("mkdtemp " + pattern + ": " + std::strerror(errno));
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

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
  SqliteOptions options;
  options.create = true;
  auto store = SqliteStore::open(path, options);
  BOOST_TEST_REQUIRE(store.ok(), store.status().message());
  return std::move(store).value();
}

}  // namespace graft::test_util

#endif  // GRAFT_TESTS_TEST_UTIL_H_
