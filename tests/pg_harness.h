// pg_harness.h -- the tests' PostgreSQL server: a database of their own on
// it for each test that wants one.
//
// The server is the private one tools/pg-test-server starts (ctest's
// fixture "postgres" starts it before the tests that need it and stops it
// after them), or any other named by GRAFT_TEST_POSTGRES_URL.
#ifndef GRAFT_TESTS_PG_HARNESS_H_
#define GRAFT_TESTS_PG_HARNESS_H_

#include <string>
#include <vector>

namespace graft::test {

// The server's URL: GRAFT_TEST_POSTGRES_URL, else what the fixture wrote.
// Throws when there is neither, saying how to get one.
std::string postgresServerUrl();

// One connection to a database, as an application would hold it: for a
// test that keeps a transaction open across graft's work.
class PgClient {
 public:
  explicit PgClient(const std::string& url);
  ~PgClient();
  PgClient(const PgClient&) = delete;
  PgClient& operator=(const PgClient&) = delete;
  // Runs `sql` (no parameters; several statements may be given); returns
  // the first column of each row of the last one. Throws on an error.
  std::vector<std::string> sql(const std::string& sql) const;
  void* handle() const { return conn_; }

 private:
  void* conn_;
};

// A new, empty database on that server, dropped (with its connections)
// when the object goes away.
class PgDatabase {
 public:
  PgDatabase();
  ~PgDatabase();
  PgDatabase(const PgDatabase&) = delete;
  PgDatabase& operator=(const PgDatabase&) = delete;

  // The libpq URL of the database, for graft's --db.
  const std::string& url() const { return url_; }
  // How graft's messages name it: "<db> at <host>:<port>".
  const std::string& where() const { return where_; }
  // Runs `sql` (no parameters) on the database, as the application would;
  // returns the first column of each row. Throws on an error.
  std::vector<std::string> sql(const std::string& sql) const;

 private:
  std::string name_, url_, where_;
};

}  // namespace graft::test

#endif  // GRAFT_TESTS_PG_HARNESS_H_
