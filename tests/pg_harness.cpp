#include "pg_harness.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <stdexcept>

namespace graft::test {
namespace {

// `url` with its database name replaced by `name`.
std::string withDatabase(const std::string& url, const std::string& name) {
  const size_t authority = url.find("://");
  const size_t path = url.find('/', authority == std::string::npos ? 0 : authority + 3);
  if (path == std::string::npos) return url + "/" + name;
  const size_t query = url.find('?', path);
  return url.substr(0, path + 1) + name + (query == std::string::npos ? "" : url.substr(query));
}

}  // namespace

PgClient::PgClient(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
  auto* conn = static_cast<PGconn*>(conn_);
  if (PQstatus(conn) != CONNECTION_OK) {
    const std::string why = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error("test server " + url + ": " + why);
  }
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
}

PgClient::~PgClient() { PQfinish(static_cast<PGconn*>(conn_)); }

std::vector<std::string> PgClient::sql(const std::string& sql) const {
  auto* conn = static_cast<PGconn*>(conn_);
  std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(conn, sql.c_str()), &PQclear);
  const ExecStatusType status = PQresultStatus(r.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
    throw std::runtime_error(sql + ": " + PQerrorMessage(conn));
  std::vector<std::string> rows;
  for (int i = 0; i < PQntuples(r.get()); ++i)
    rows.emplace_back(PQgetisnull(r.get(), i, 0) ? "" : PQgetvalue(r.get(), i, 0));
  return rows;
}

std::string postgresServerUrl() {
  if (const char* url = std::getenv("GRAFT_TEST_POSTGRES_URL"); url && *url) return url;
  std::ifstream file(GRAFT_TEST_POSTGRES_URL_FILE);
  std::string url;
  if (file && std::getline(file, url) && !url.empty()) return url;
  throw std::runtime_error(
      "no PostgreSQL server for the tests: run them with ctest, whose fixture \"postgres\" "
      "starts one (tools/pg-test-server), or set GRAFT_TEST_POSTGRES_URL");
}

PgDatabase::PgDatabase() {
  static std::atomic<int> counter{0};
  name_ = "graft_test_" + std::to_string(getpid()) + "_" + std::to_string(++counter);
  const std::string server = postgresServerUrl();
  PgClient(server).sql("CREATE DATABASE " + name_);
  url_ = withDatabase(server, name_);
  PgClient client(url_);
  auto* conn = static_cast<PGconn*>(client.handle());
  const char* host = PQhost(conn);
  where_ = name_ + " at " + (host && *host ? host : "?") + ":" + PQport(conn);
}

PgDatabase::~PgDatabase() {
  try {
    PgClient(postgresServerUrl()).sql("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (const std::exception&) {
    // The server is gone: so is the database, with the cluster.
  }
}

std::vector<std::string> PgDatabase::sql(const std::string& sql) const {
  return PgClient(url_).sql(sql);
}

}  // namespace graft::test
