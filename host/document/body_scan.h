// body_scan.h -- one pass over a stored body, without building it: is it a
// body graft can read, and where are its top-level members.
//
// The runner reads every document of a table and checks it before a plugin
// sees it (checkDocumentBody, json_text.h); applyPatch then needs the same
// body's members. Boost.JSON's parser did the first and a second scan the
// other: two passes over every document graft reads (figures:
// doc/performance.md). scanDocumentBody does both at once for the bodies
// documents usually are, and leaves anything unusual to Boost.JSON.
#ifndef GRAFT_HOST_DOCUMENT_BODY_SCAN_H_
#define GRAFT_HOST_DOCUMENT_BODY_SCAN_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace graft {

// One top-level member of an object's text: where it starts and ends, and
// its key decoded.
struct BodyMember {
  size_t begin = 0, end = 0;  // the key's opening quote .. just after the value
  size_t value_begin = 0;     // the value's first byte
  std::string_view key;       // decoded: a view of the text, or of `decoded`
  std::string decoded;        // the key, when the text escapes a character in it
};

// A body checkDocumentBody accepted, and its top-level members in text
// order. Keys may view `decoded` strings inside `members`, so it moves but
// is not copied.
struct CheckedBody {
  std::string_view text;
  std::vector<BodyMember> members;

  CheckedBody() = default;
  CheckedBody(CheckedBody&&) = default;
  CheckedBody& operator=(CheckedBody&&) = default;
  CheckedBody(const CheckedBody&) = delete;
  CheckedBody& operator=(const CheckedBody&) = delete;
};

// True when `body` is certainly a body checkDocumentBody accepts: a JSON
// object (RFC 8259, UTF-8) with no _id or _creationTime of its own; then
// `out` holds it and its members. False when it is not, and also when the
// scan leaves the decision to Boost.JSON: a \u escape of a surrogate, an
// escaped top-level key, a number with an exponent or over 300 integer
// digits (it could be beyond a float64), nesting deeper than 64.
bool scanDocumentBody(std::string_view body, CheckedBody* out);

// The members of `body`, a JSON object Boost.JSON's parser accepted.
void listMembers(std::string_view body, std::vector<BodyMember>* members);

}  // namespace graft

#endif  // GRAFT_HOST_DOCUMENT_BODY_SCAN_H_
