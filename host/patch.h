// patch.h -- what migrateOne and ctx.db hand the host, checked and applied.
//
// A patch is {"$set": {field: value, ...}, "$unset": [field, ...]}: top-level
// fields only, null is a value and not a removal, and _id and _creationTime
// can not be touched. Errors are kBadInput and say what is wrong with it.
#ifndef GRAFT_HOST_PATCH_H_
#define GRAFT_HOST_PATCH_H_

#include <string>
#include <string_view>

#include "status.h"

namespace graft {

struct Patched {
  std::string body;  // the new body (JSON object text, no system fields)
  bool changed;      // false when the patch left every field as it was
};

// Whether a stored body has passed checkDocumentBody (json_text.h) already.
// The runner checks every document before migrateOne sees it; applyPatch
// checks the others itself, and its scan of the body relies on that check.
enum class StoredBody { kUnchecked, kChecked };

// Applies `patch_json` to `body` without parsing the body into a JSON value:
// only the members the patch names are read. What the patch does not change
// keeps its text, byte for byte. The new body passes checkDocumentBody.
Result<Patched> applyPatch(std::string_view body, std::string_view patch_json,
                           StoredBody stored = StoredBody::kUnchecked);

// The store's rule for a body (checkDocumentBody in json_text.h), for one
// that applyPatch or newBody made. A migration pass writes such bodies with
// the table's CHECK off (Store::setBodyChecks), so they are checked here
// instead. Both only make bodies that pass (the patch fuzz target holds them
// to it): a failure is a bug in graft, kMigrationFailed.
Status checkMadeBody(std::string_view body);

// Checks a whole document given for insert or replace and returns its body:
// a JSON object. For insert (current_id == 0) system fields are refused; for
// replace they may be present if they equal the stored ones
// (current_id, current_creation_time), and are dropped.
Result<std::string> newBody(std::string_view doc_json, int64_t current_id = 0,
                            double current_creation_time = 0);

}  // namespace graft

#endif  // GRAFT_HOST_PATCH_H_
