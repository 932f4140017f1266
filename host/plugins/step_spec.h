// step_spec.h -- what a migration step declares beyond migrateOne: the index
// range it walks (customRange) and what must hold when it is done (verify).
//
// Both arrive as JSON text through graft_step (graft.h, ABI 1.2). They are
// parsed when the plugin loads, so a malformed one fails the metadata stage
// before anything runs; the index range is resolved against the schema in
// force only when the step runs, since schemas change between runs.
#ifndef GRAFT_HOST_PLUGINS_STEP_SPEC_H_
#define GRAFT_HOST_PLUGINS_STEP_SPEC_H_

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "schema/schema.h"
#include "base/status.h"
#include "store/store.h"

namespace graft {

// {"index": name, "eq": {field: value, ...}, "gt"|"gte": {field: v},
//  "lt"|"lte": {field: v}} as written, not yet checked against a schema.
struct RangeSpec {
  std::string index;
  std::vector<std::pair<std::string, boost::json::value>> eq;
  struct Bound {
    std::string field;
    boost::json::value value;
    bool inclusive = false;
  };
  std::optional<Bound> lower, upper;
};

// Errors (kPlugin for a step's range, kBadInput elsewhere is the caller's
// choice via prefixed()) read "<what>: <reason>".
Result<RangeSpec> parseRangeSpec(std::string_view json, const std::string& what);
Result<RangeSpec> parseRangeSpec(const boost::json::object& json, const std::string& what);

// Checks a range against the index `table` declares in `schema` (nullptr:
// none pushed) and turns it into the store's KeyRange. Equality must cover a
// prefix of the index's fields and bounds the field right after it.
Result<KeyRange> resolveRange(const RangeSpec& range, const Schema* schema,
                              const std::string& table, const std::string& what);

// A verify validator: the fields a finished document must have, in schema
// "document" syntax ({"role": "string", "age": {"optional": "int64"}}).
// Unlike a schema, fields it does not list are allowed.
Result<Validator> parseVerifyValidator(std::string_view json, const std::string& what);

// nullopt when `doc` (with or without _id/_creationTime) satisfies it.
std::optional<std::string> checkVerifyValidator(const Validator& fields,
                                                const boost::json::object& doc);

}  // namespace graft

#endif  // GRAFT_HOST_PLUGINS_STEP_SPEC_H_
