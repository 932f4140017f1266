// open_store.h -- the one place that turns a store URL into a backend.
//
// Accepted URLs (doc/commands.md, "The store"):
//   PATH             a SQLite file: app.db, ./data/app.db, /srv/app.db
//   sqlite:PATH      the same, said explicitly: sqlite:app.db, sqlite:/srv/app.db
//   postgresql://... a PostgreSQL database, as a libpq connection URI (also
//   postgres://...)  postgres://): the PostgreSQL store (store/postgres/), in a
//                    build with it (GRAFT_POSTGRESQL, the default)
// PATH is taken as it is: no percent-decoding, no query string. Text that
// begins with "<scheme>://" of any other scheme is refused, and so is
// sqlite://...: tools disagree on whether sqlite:///app.db is relative or
// absolute, and a store opened in the wrong place would look like a new,
// empty one. A relative file name that begins like a URL is opened as
// sqlite:PATH.
//
// Nothing outside host/store/ names a backend class: the host and the
// command line open every store here and see only Store.
#ifndef GRAFT_HOST_STORE_OPEN_STORE_H_
#define GRAFT_HOST_STORE_OPEN_STORE_H_

#include <memory>
#include <string_view>

#include "base/status.h"
#include "store/store.h"

namespace graft {

// Opens the store `url` names. A URL of no accepted form is kUsage, naming
// its scheme (never the rest: a connection URI may hold a password) and the
// accepted forms; the backend's own errors are its own (SqliteStore::open:
// kStore).
Result<std::unique_ptr<Store>> openStore(std::string_view url, const StoreOptions& options);

}  // namespace graft

#endif  // GRAFT_HOST_STORE_OPEN_STORE_H_
