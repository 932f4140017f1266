// Tests for host/store/open_store.cpp: which URLs open which backend, and
// what a URL of no accepted form says.
#include "store/open_store.h"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "harness.h"

namespace graft {
namespace {

BOOST_AUTO_TEST_SUITE(open_store)

// A plain path and sqlite:PATH both open the same SQLite file.
BOOST_AUTO_TEST_CASE(a_path_and_sqlite_path_open_the_same_file) {
  test::ScratchDir dir;
  const std::string path = dir / "app.db";
  {
    auto created = openStore(path, {.create = true});
    BOOST_TEST_REQUIRE(created.ok(), created.status().message());
    BOOST_TEST_REQUIRE((*created)->insert("items", "{}").ok());
  }
  auto explicit_form = openStore("sqlite:" + path, {.read_only = true});
  BOOST_TEST_REQUIRE(explicit_form.ok(), explicit_form.status().message());
  BOOST_TEST((*explicit_form)->count("items", 0).value() == 1);
  // Taken as it is: a name with "://" in it opens through sqlite:.
  const std::string odd = dir / "a://b.db";
  std::filesystem::create_directories(dir / "a:");
  auto odd_store = openStore("sqlite:" + odd, {.create = true});
  BOOST_TEST_REQUIRE(odd_store.ok(), odd_store.status().message());
  BOOST_TEST(std::filesystem::exists(odd));
}

// The backend's own errors come through as they are.
BOOST_AUTO_TEST_CASE(a_missing_file_is_the_backend_s_error) {
  test::ScratchDir dir;
  const std::string path = dir / "missing.db";
  auto store = openStore("sqlite:" + path, {});
  BOOST_TEST_REQUIRE(!store.ok());
  BOOST_TEST(store.status().code() == Code::kStore);
  BOOST_TEST(store.status().message() ==
             "database " + path + ": does not exist (check --db, or create it with graft import)");
}

struct RefusedCase {
  std::string url;
  std::string message;
};

// Refused before anything is opened; a message names the scheme only, since
// the rest of a connection URI may hold a password.
BOOST_AUTO_TEST_CASE(urls_of_no_accepted_form_are_refused_with_the_forms_that_are) {
  const std::string forms = "a SQLite file as PATH or sqlite:PATH";
  const std::vector<RefusedCase> cases = {
#ifndef GRAFT_WITH_POSTGRESQL
      {"postgresql://ann:secret@db.example.com:5432/app",
       "store URL postgresql://...: this build of graft has only the SQLite backend (give " +
           forms + ")"},
      {"postgres://localhost/app",
       "store URL postgres://...: this build of graft has only the SQLite backend (give " + forms +
           ")"},
      {"PostgreSQL://localhost/app",
       "store URL postgresql://...: this build of graft has only the SQLite backend (give " +
           forms + ")"},
#endif
      {"sqlite:///srv/app.db",
       "store URL sqlite://...: ambiguous, tools disagree on whether sqlite:///x is relative "
       "(give " +
           forms + ")"},
      {"mysql://root:secret@localhost/app",
       "store URL mysql://...: unknown scheme mysql (accepted: " + forms +
           ", and postgresql:// or postgres:// in a build with PostgreSQL)"},
      {"sqlite:", "store URL \"sqlite:\" names no file (give " + forms + ")"},
      {"", "store URL \"\" names no file (give " + forms + ")"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.url) {
      auto store = openStore(c.url, {.create = true});
      BOOST_TEST_REQUIRE(!store.ok());
      BOOST_TEST(store.status().code() == Code::kUsage);
      BOOST_TEST(store.status().message() == c.message);
      BOOST_TEST(store.status().message().find("secret") == std::string::npos);
    }
  }
}

#ifdef GRAFT_WITH_POSTGRESQL
// A PostgreSQL URL is handed to libpq, in any case of its scheme; a server
// that can not be reached is one line that names the database, its host
// and port, and never the password.
BOOST_AUTO_TEST_CASE(a_postgresql_url_connects_and_its_failure_names_no_password) {
  for (const char* url : {"postgresql://ann:secret@/app?host=/nonexistent-dir&port=5999",
                          "PostgreSQL://ann:secret@/app?host=/nonexistent-dir&port=5999",
                          "postgres://ann:secret@/app?host=/nonexistent-dir&port=5999"}) {
    BOOST_TEST_CONTEXT(url) {
      auto store = openStore(url, {.create = true});
      BOOST_TEST_REQUIRE(!store.ok());
      BOOST_TEST(store.status().code() == Code::kStore);
      BOOST_TEST(store.status().message() ==
                 "database app at /nonexistent-dir:5999: cannot connect: connection to server on "
                 "socket \"/nonexistent-dir/.s.PGSQL.5999\" failed: No such file or directory Is "
                 "the server running locally and accepting connections on that socket? (check the "
                 "URL, that the server runs and lets this user in)");
      BOOST_TEST(store.status().message().find("secret") == std::string::npos);
    }
  }
}
#endif

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
