// patch.h -- what migrateOne and ctx.db hand the host, checked and applied.
//
// A patch is {"$set": {field: value, ...}, "$unset": [field, ...]}: top-level
// fields only, null is a value and not a removal, and _id and _creationTime
// can not be touched. Errors are kBadInput and say what is wrong with it.
#ifndef GRAFT_HOST_DOCUMENT_PATCH_H_
#define GRAFT_HOST_DOCUMENT_PATCH_H_

#include <string>
#include <string_view>

#include "document/body_scan.h"
#include "base/status.h"

namespace graft {

struct Patched {
  std::string body;  // the new body (JSON object text, no system fields)
  bool changed;      // false when the patch left every field as it was
};

// Applies `patch_json` to `body` without parsing the body into a JSON value:
// only the members the patch names are read. What the patch does not change
// keeps its text, byte for byte. The body is checked first (a stored body
// that fails checkDocumentBody is an error); the new body passes it.
Result<Patched> applyPatch(std::string_view body, std::string_view patch_json);

// The same for a body checkDocumentBody has checked already, with the
// members it found: the runner checks every document before migrateOne
// sees it, and patches it right after. A patch that only adds fields with
// plain values is read by a short scan; any other goes to
// applyPatchByParsing, which gives the same result for those too.
Result<Patched> applyPatch(const CheckedBody& body, std::string_view patch_json);

// applyPatch with the patch parsed by Boost.JSON, always. Exposed for the
// tests and the patch fuzz target, which compare the two.
Result<Patched> applyPatchByParsing(const CheckedBody& body, std::string_view patch_json);

// applyPatch and newBody only make bodies that pass checkDocumentBody: they
// keep a checked body's members as they were and write new values with
// Boost.JSON's serializer from values they checked (or, for plain values,
// copy text that a strict scan took only in the serializer's form). The
// patch fuzz target holds both to it. checkMadeBody checks a body one of
// them made once more, in a build without NDEBUG (the test suite's
// sanitizer pass runs every test so): a failure is a bug in graft,
// kMigrationFailed. A release build does nothing here. A migration pass
// writes these bodies with the table's CHECK off (Store::setBodyChecks), and
// parsing each one again would be paid on every document for a check that
// holds by construction (figures: doc/performance.md).
Status checkMadeBody(std::string_view body);

// Checks a whole document given for insert or replace and returns its body:
// a JSON object, no key given twice in any of its objects, no number beyond
// a float64. For insert (current_id == 0) system fields are refused; for
// replace they may be present if they equal the stored ones
// (current_id, current_creation_time), and are dropped. The body is the
// given text, its members byte for byte: a number means what it said.
Result<std::string> newBody(std::string_view doc_json, int64_t current_id = 0,
                            double current_creation_time = 0);

}  // namespace graft

#endif  // GRAFT_HOST_DOCUMENT_PATCH_H_
