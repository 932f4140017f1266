// schema.h -- the schema file: what each table's documents look like, and
// the named indexes that back index ranges.
//
// A schema is a JSON file (format in doc/schema.md):
//
//   {
//     "graft_schema": 1,
//     "schemaValidation": true,        // optional, default true
//     "allowUnknownTables": true,      // optional, default true
//     "tables": {
//       "users": {
//         "document": { "name": "string",
//                       "teamId": {"id": "teams"},
//                       "role": {"optional": {"union": [{"literal": "admin"},
//                                                       {"literal": "member"}]}} },
//         "indexes": { "by_team_and_role": ["teamId", "role"] }
//       }
//     }
//   }
//
// Validators, in the spirit of Convex's v.*: "string", "number" (any JSON
// number: float64), "int64" (a JSON integer literal within int64), "boolean",
// "null", "any", {"literal": <string|number|boolean>}, {"id": "<table>"}
// (an _id: an integer >= 1; whether it exists is not checked, as in Convex),
// {"array": V}, {"object": {field: V, ...}} (no other fields allowed),
// {"record": [K, V]} (K: "string", string literals or a union of them),
// {"union": [V, ...]}, {"optional": V} (only as an object field: the field
// may be absent; null is not absent).
//
// Numbers have two kinds, the ones SQLite tells apart: an integer within
// int64, and every other number (a double, or an integer literal beyond
// int64: Boost.JSON reads 2^63 as uint64, SQLite 3.40 calls it 'integer'
// but extracts it as a REAL, so both sides treat it as a float). "int64" and
// "id" accept the first kind only; {"literal": 1} matches the integer 1 but
// not 1.0, {"literal": 1.0} matches 1.0 and not 1; a literal integer beyond
// int64 is refused (write it as a float). Record keys are JSON object keys,
// so the key validator is "string", "any", a string literal or a union of
// those. Field names are [A-Za-z][A-Za-z0-9_]* (a leading '_' is reserved),
// so that "$.a.b" needs no quoting in SQLite's JSON paths.
//
// The same validator has two executions that must agree on every document:
// validate() in C++ (precise reasons, used by `graft schema check` and for
// writes made through graft), and sqlCheck() as a SQL expression over the
// stored JSON text (used in triggers, so that writes from any SQLite client
// are checked by the store itself).
#ifndef GRAFT_HOST_SCHEMA_SCHEMA_H_
#define GRAFT_HOST_SCHEMA_SCHEMA_H_

#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace graft {

struct Validator {
  enum class Kind {
    kString, kNumber, kInt64, kBoolean, kNull, kAny,
    kLiteral, kId, kArray, kObject, kRecord, kUnion, kOptional,
  };
  Kind kind = Kind::kAny;
  boost::json::value literal;  // kLiteral: a string, int64, double or bool
  std::string table;           // kId
  // kArray: {element}; kOptional: {inner}; kRecord: {key, value};
  // kUnion: the alternatives, at least one.
  std::vector<Validator> items;
  // kObject: the fields in file order. (Not std::pair: a pair may not hold
  // the still incomplete Validator, which clang's standard library enforces.)
  struct Field;
  std::vector<Field> fields;
};

struct Validator::Field {
  std::string first;  // the field's name
  Validator second;
};

struct IndexDef {
  std::string name;                 // [A-Za-z_][A-Za-z0-9_]{0,63}
  std::vector<std::string> fields;  // field paths, "a" or "a.b"; at least one
};

struct TableSchema {
  std::string name;
  Validator document;  // kObject; _id and _creationTime are implicit
  std::vector<IndexDef> indexes;

  const IndexDef* findIndex(std::string_view name) const;
};

struct Schema {
  bool validation = true;           // "schemaValidation"
  bool allow_unknown_tables = true; // "allowUnknownTables"
  std::vector<TableSchema> tables;  // in file order

  const TableSchema* find(std::string_view table) const;
};

// Parses a schema file. Errors (kBadInput) are one line,
// "<source>:<line>:<column>: <what is wrong and what is expected>", for bad
// JSON and for everything the format refuses: unknown keys, unknown
// validator names, optional outside an object, duplicate index names,
// table names checkTableName() refuses, an index field the table's document
// validator does not declare.
Result<Schema> parseSchema(std::string_view text, const std::string& source);

// Parses one validator from its JSON form (as in a schema file's "document"
// values); `where` prefixes error messages. Used for the validators that
// migrations declare for verification.
Result<Validator> parseValidator(const boost::json::value& json, const std::string& where);

// The canonical JSON text of a schema (what `graft schema show` prints and
// what the store records): same meaning as the file, keys in file order.
std::string schemaJson(const Schema& schema);

// The validator in v.* notation, for messages:
// optional(union(literal("admin"), literal("member"))).
std::string describe(const Validator& v);

// Checks one document body (a JSON object without _id and _creationTime;
// those two, if present, are ignored) against a table's document validator.
// nullopt when it matches, else one reason naming the field path:
//   missing required field "role"
//   field "age": expected int64, got 1.5
//   field "tags"[2]: expected string, got null
//   unknown field "nickname" (not in the schema)
//   field "address"."city": expected string, got 1
//   field "scores"["bob"]: expected number, got "x"
//   field "scores": key "c" is not union(literal("a"), literal("b"))
//   field "role": expected union(literal("admin"), literal("member")), got "owner"
// Got-values are compact JSON, cut to about 60 bytes.
std::optional<std::string> validateDocument(const Validator& document,
                                            const boost::json::object& body);

// Checks any JSON value against a validator (optional is not allowed at the
// top). Same reasons as validateDocument, with `path` as the field path as
// reasons spell it (`"tags"[2]`); with an empty path the reason is
// "expected int64, got 1.5".
std::optional<std::string> validateValue(const Validator& v, const boost::json::value& value,
                                         const std::string& path);

// A SQL boolean expression, true exactly when validateDocument() would
// accept the body in column expression `body_expr` (e.g. "NEW.body").
// Uses only SQLite's built-in JSON functions, so any client can evaluate it.
// A body that is not JSON at all makes SQLite raise "malformed JSON". Float
// literals compare the doubles each side parsed from the text; Boost.JSON
// 1.81 and SQLite agree on short decimals such as 1.5, not provably on every
// 17-digit one.
std::string sqlCheckDocument(const Validator& document, const std::string& body_expr);

// The checks a trigger makes: first one for the document's shape (an
// object with no fields besides the declared ones, _id and _creationTime),
// then one per top-level field; each a pair (SQL boolean expression over
// `body_expr`, one-line message naming the table and field, e.g.
// `users: field "role" must be optional(literal("admin"))`). All true
// exactly when sqlCheckDocument() is. Messages may contain single quotes
// (from string literals): double them when putting one in SQL text.
std::vector<std::pair<std::string, std::string>> sqlFieldChecks(const TableSchema& table,
                                                               const std::string& body_expr);

// A SQL string literal of `text`: quoted, single quotes doubled.
std::string sqlStringLiteral(std::string_view text);

// The SQL expression an index field is stored under, e.g.
// json_extract(body, '$.authorId'); the same text in CREATE INDEX and in
// queries, so that SQLite's planner uses the index.
std::string indexFieldExpr(const std::string& field_path, const std::string& body_expr = "body");

}  // namespace graft

#endif  // GRAFT_HOST_SCHEMA_SCHEMA_H_
