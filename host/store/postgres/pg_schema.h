// pg_schema.h -- a schema's validators and indexes as PostgreSQL SQL: the
// jsonb counterpart of schema_sql.cpp (SQLite), for the PostgreSQL store's
// triggers and indexes. It must agree with the C++ validator
// (validateDocument) on every body graft stores: tests/unit/pg_store_test.cpp
// runs the cases of schema_test.cpp through both.
//
// Numbers: graft writes a float64 with a fraction and an int64 without
// (pg_json.h), so a jsonb number is an int64 when its text has no
// fraction or exponent and it lies in int64's range, and a float64 (what
// SQLite calls real) otherwise.
#ifndef GRAFT_HOST_STORE_POSTGRES_PG_SCHEMA_H_
#define GRAFT_HOST_STORE_POSTGRES_PG_SCHEMA_H_

#include <string>
#include <utility>
#include <vector>

#include "schema/schema.h"

namespace graft {

// A SQL boolean expression over the jsonb expression `body`, true exactly
// when validateDocument() accepts it; never NULL.
std::string pgCheckDocument(const Validator& document, const std::string& body);

// The checks of a table's trigger, as sqlFieldChecks (schema.h): the
// document's shape first, then one per top-level field, each with its
// one-line message.
std::vector<std::pair<std::string, std::string>> pgFieldChecks(const TableSchema& table,
                                                               const std::string& body);

// The three expressions of an index field in the store's range order
// (pg_store.cpp, "Index ranges"): its class, its number, its text.
std::vector<std::string> pgIndexTriple(const std::string& field_path,
                                       const std::string& body = "body");

}  // namespace graft

#endif  // GRAFT_HOST_STORE_POSTGRES_PG_SCHEMA_H_
