// schema_refusal.h -- the one message of a write the schema in force
// refused, whichever backend's check refused it.
#ifndef GRAFT_HOST_STORE_SCHEMA_REFUSAL_H_
#define GRAFT_HOST_STORE_SCHEMA_REFUSAL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "store/store.h"

namespace graft {

// kSchema, "schema v<N> refuses <table>/<id>: <reason>" ("a new document in
// <table>" without an id). The reason is the C++ validator's for `body`
// (it names the field and what it got); when that finds none, the store's
// check's own words `check_says`, without their leading "schema vN: ".
Status schemaRefusal(Store& store, std::string_view table, std::optional<int64_t> id,
                     std::string_view body, const std::string& check_says);

}  // namespace graft

#endif  // GRAFT_HOST_STORE_SCHEMA_REFUSAL_H_
