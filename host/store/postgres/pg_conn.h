// pg_conn.h -- one libpq connection, and the results it returns, owned.
//
// The PostgreSQL store talks to the server only through this: statements
// with text parameters through the extended protocol (PQexecParams: the
// server prepares them unnamed, so nothing outlives a transaction and graft
// works through a pooler in transaction mode), and scripts of several
// statements through the simple protocol. Errors are Status values of kind
// kStore, "database <where>: <what>: <the server's message> (<what to do>)",
// where <where> names the database, host and port, never a password.
#ifndef GRAFT_HOST_STORE_POSTGRES_PG_CONN_H_
#define GRAFT_HOST_STORE_POSTGRES_PG_CONN_H_

#include <libpq-fe.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace graft {

// A result the connection returned: rows of text values.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* result) : result_(result) {}

  int rows() const { return result_ ? PQntuples(result_.get()) : 0; }
  bool isNull(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  std::string_view text(int row, int column) const {
    return {PQgetvalue(result_.get(), row, column),
            static_cast<size_t>(PQgetlength(result_.get(), row, column))};
  }
  int64_t int64(int row, int column) const;
  double float64(int row, int column) const;
  bool boolean(int row, int column) const { return text(row, column) == "t"; }
  // The rows an INSERT, UPDATE or DELETE touched.
  int64_t affected() const;
  // The command tag: "COMMIT", "ROLLBACK", "UPDATE 3".
  std::string_view tag() const { return result_ ? PQcmdStatus(result_.get()) : ""; }

 private:
  struct Clear {
    void operator()(PGresult* r) const { PQclear(r); }
  };
  std::unique_ptr<PGresult, Clear> result_;
};

// A statement's parameter: text, or SQL NULL.
using PgParam = std::optional<std::string>;

class PgConn {
 public:
  // Connects with a libpq connection URI (postgresql://...).
  static Result<std::unique_ptr<PgConn>> connect(const std::string& url);
  ~PgConn();
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  // How messages name the database: "<db> at <host>:<port>".
  const std::string& where() const { return where_; }

  // One statement, its parameters $1.. as text.
  Result<PgResult> run(const std::string& sql, const std::vector<PgParam>& params,
                       std::string_view what);
  Result<PgResult> run(const std::string& sql, std::string_view what) { return run(sql, {}, what); }
  // A statement that writes nothing (or a BEGIN): outside a transaction,
  // if the server had ended the connection it is sent again, once, on a new
  // one. (A write is never sent twice: whether the first one committed is
  // not known.)
  Result<PgResult> read(const std::string& sql, const std::vector<PgParam>& params,
                        std::string_view what);
  Result<PgResult> readScript(const std::string& sql, std::string_view what);
  // Several statements separated by ';', no parameters; the last one's result.
  Result<PgResult> script(const std::string& sql, std::string_view what);

  // Whether a transaction is open on the server. Outside one, a connection
  // the server ended (a restart, a failover, an idle timeout) is opened
  // again before the next statement: nothing was pending on it. Inside
  // one it is not, so that the transaction's loss is reported, never
  // papered over by statements that would run outside it.
  void setInTransaction(bool open) { in_transaction_ = open; }
  bool lost() const { return PQstatus(conn_) != CONNECTION_OK; }

  // The SQLSTATE of the last error ("" if none): 40P01, 55P03, ...
  const std::string& lastState() const { return last_state_; }

 private:
  explicit PgConn(PGconn* conn);
  Result<PgResult> check(PGresult* result, std::string_view what);
  void reconnectIfLost();

  PGconn* conn_ = nullptr;
  std::string where_;
  std::string last_state_;
  bool in_transaction_ = false;
};

// `text` as a SQL string literal, for the few statements (DDL, scripts)
// that take no parameters.
std::string pgLiteral(std::string_view text);

// An array literal of text elements, for a text[] (or jsonb[], bigint[])
// parameter: {"a","b \"c\""}.
std::string pgArrayLiteral(const std::vector<std::string>& items);

}  // namespace graft

#endif  // GRAFT_HOST_STORE_POSTGRES_PG_CONN_H_
