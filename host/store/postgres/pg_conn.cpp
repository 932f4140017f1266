#include "store/postgres/pg_conn.h"

#include <charconv>
#include <cstdlib>

namespace graft {
namespace {

// libpq's messages end with a newline and may run over several lines
// ("...failed: ...\n\tIs the server running...?"): one line of graft's.
std::string oneLine(const char* text) {
  std::string line;
  bool space = false;
  for (const char* p = text ? text : ""; *p; ++p) {
    const bool blank = *p == '\n' || *p == '\t' || *p == '\r' || *p == ' ';
    if (blank) {
      space = !line.empty();
      continue;
    }
    if (space) line += ' ';
    space = false;
    line += *p;
  }
  return line;
}

// What a user does about an error, by its SQLSTATE (PostgreSQL's
// documentation, appendix A); "" when the server's message says it all.
const char* hintFor(std::string_view state, bool connection_lost) {
  constexpr const char* kNothingWritten =
      "nothing of the open transaction was written; run the command again";
  if (connection_lost || state.starts_with("08") || state == "57P01" || state == "57P02" ||
      state == "57P03")
    return "the connection to the server was lost or refused: nothing of the open transaction "
           "was written; run the command again when the server is back";
  if (state == "55P03" || state == "57014")
    return "another client held a lock longer than graft waits for one: retry when it is done, "
           "or raise the lock wait";
  if (state == "40P01" || state == "40001") return kNothingWritten;
  if (state == "53100")
    return "the server's disk is full: free space, then run the command again; nothing of the "
           "failed transaction was written";
  if (state == "42501")
    return "the database user lacks a privilege graft needs: see \"PostgreSQL\" in the README";
  if (state == "25006") return "the server is read-only (a standby?): connect to the primary";
  return "";
}

}  // namespace

int64_t PgResult::int64(int row, int column) const {
  const std::string_view t = text(row, column);
  int64_t value = 0;
  std::from_chars(t.data(), t.data() + t.size(), value);
  return value;
}

double PgResult::float64(int row, int column) const {
  const std::string_view t = text(row, column);
  double value = 0;
  std::from_chars(t.data(), t.data() + t.size(), value);
  return value;
}

int64_t PgResult::affected() const {
  const char* n = result_ ? PQcmdTuples(result_.get()) : "";
  return *n ? std::strtoll(n, nullptr, 10) : 0;
}

Result<std::unique_ptr<PgConn>> PgConn::connect(const std::string& url) {
  std::unique_ptr<PgConn> conn(new PgConn(PQconnectdb(url.c_str())));
  if (!conn->conn_)
    return Status(Code::kStore, "database " + conn->where_ + ": cannot connect: out of memory");
  if (PQstatus(conn->conn_) != CONNECTION_OK) {
    return Status(Code::kStore, "database " + conn->where_ +
                                    ": cannot connect: " + oneLine(PQerrorMessage(conn->conn_)) +
                                    " (check the URL, that the server runs and lets this user in)");
  }
  // Notices (a table that exists already, say) are not graft's output.
  PQsetNoticeProcessor(
      conn->conn_, [](void*, const char*) {}, nullptr);
  return conn;
}

PgConn::PgConn(PGconn* conn) : conn_(conn) {
  if (!conn_) return;
  const char* host = PQhost(conn_);
  const char* port = PQport(conn_);
  where_ = std::string(PQdb(conn_) ? PQdb(conn_) : "?") + " at " + (host && *host ? host : "?") +
           ":" + (port && *port ? port : "5432");
}

PgConn::~PgConn() {
  if (conn_) PQfinish(conn_);
}

Result<PgResult> PgConn::check(PGresult* raw, std::string_view what) {
  PgResult result(raw);
  const ExecStatusType status = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    last_state_.clear();
    return result;
  }
  const char* state = raw ? PQresultErrorField(raw, PG_DIAG_SQLSTATE) : nullptr;
  last_state_ = state ? state : "";
  const bool lost = PQstatus(conn_) != CONNECTION_OK;
  const char* primary = raw ? PQresultErrorField(raw, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string message = "database " + where_ + ": " + std::string(what) + ": " +
                        (primary ? std::string(primary) : oneLine(PQerrorMessage(conn_)));
  const std::string hint = hintFor(last_state_, lost);
  if (!hint.empty()) message += " (" + hint + ")";
  return Status(Code::kStore, message);
}

void PgConn::reconnectIfLost() {
  if (in_transaction_ || PQstatus(conn_) == CONNECTION_OK) return;
  PQreset(conn_);
  if (PQstatus(conn_) == CONNECTION_OK)
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
}

Result<PgResult> PgConn::run(const std::string& sql, const std::vector<PgParam>& params,
                             std::string_view what) {
  reconnectIfLost();
  std::vector<const char*> values;
  std::vector<int> lengths;
  values.reserve(params.size());
  lengths.reserve(params.size());
  for (const auto& p : params) {
    values.push_back(p ? p->c_str() : nullptr);
    lengths.push_back(p ? static_cast<int>(p->size()) : 0);
  }
  return check(PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr,
                            values.data(), lengths.data(), nullptr, 0),
               what);
}

Result<PgResult> PgConn::script(const std::string& sql, std::string_view what) {
  reconnectIfLost();
  return check(PQexec(conn_, sql.c_str()), what);
}

Result<PgResult> PgConn::read(const std::string& sql, const std::vector<PgParam>& params,
                              std::string_view what) {
  auto r = run(sql, params, what);
  if (r.ok() || in_transaction_ || !lost()) return r;
  return run(sql, params, what);  // run() connects again first
}

Result<PgResult> PgConn::readScript(const std::string& sql, std::string_view what) {
  auto r = script(sql, what);
  if (r.ok() || in_transaction_ || !lost()) return r;
  return script(sql, what);
}

std::string pgLiteral(std::string_view text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') quoted += '\'';
    quoted += c;
  }
  return quoted + "'";
}

std::string pgArrayLiteral(const std::vector<std::string>& items) {
  std::string out = "{";
  for (const auto& item : items) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char c : item) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

}  // namespace graft
