#include "store/open_store.h"

#include <cctype>
#include <string>

#include "store/sqlite_store.h"
#ifdef GRAFT_WITH_POSTGRESQL
#include "store/postgres/pg_store.h"
#endif

namespace graft {
namespace {

const std::string kSqliteForms = "a SQLite file as PATH or sqlite:PATH";

// The scheme of a URL of the form <scheme>://..., or "" for any other text.
// RFC 3986: a letter, then letters, digits, '+', '-' and '.'.
std::string_view schemeOf(std::string_view url) {
  const size_t end = url.find("://");
  if (end == std::string_view::npos || end == 0) return {};
  const std::string_view scheme = url.substr(0, end);
  auto isAlpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!isAlpha(scheme[0])) return {};
  for (char c : scheme) {
    if (!isAlpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.') return {};
  }
  return scheme;
}

Status refused(std::string_view scheme, const std::string& why) {
  return Status(Code::kUsage, "store URL " + std::string(scheme) + "://...: " + why);
}

}  // namespace

Result<std::unique_ptr<Store>> openStore(std::string_view url, const StoreOptions& options) {
  std::string scheme(schemeOf(url));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme == "postgresql" || scheme == "postgres") {
#ifdef GRAFT_WITH_POSTGRESQL
    // libpq knows the scheme in lower case only.
    auto store = PgStore::open(scheme + std::string(url.substr(scheme.size())), options);
    if (!store.ok()) return store.status();
    return std::unique_ptr<Store>(std::move(store).value());
#else
    return refused(scheme,
                   "this build of graft has only the SQLite backend (give " + kSqliteForms + ")");
#endif
  }
  if (scheme == "sqlite") {
    return refused(scheme, "ambiguous, tools disagree on whether sqlite:///x is relative (give " +
                               kSqliteForms + ")");
  }
  if (!scheme.empty()) {
    return refused(scheme, "unknown scheme " + scheme + " (accepted: " + kSqliteForms +
                               ", and postgresql:// or postgres:// in a build with PostgreSQL)");
  }
  constexpr std::string_view kSqlite = "sqlite:";
  const std::string path(url.starts_with(kSqlite) ? url.substr(kSqlite.size()) : url);
  if (path.empty())
    return Status(Code::kUsage, "store URL \"" + std::string(url) + "\" names no file (give " +
                                    kSqliteForms + ")");
  auto store = SqliteStore::open(path, options);
  if (!store.ok()) return store.status();
  return std::unique_ptr<Store>(std::move(store).value());
}

}  // namespace graft
