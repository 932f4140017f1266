// Fuzzes applyPatch and newBody (host/document/patch.h), and the scan that checks
// stored bodies (host/document/body_scan.h). applyPatch's scan of simple patches
// gives what applyPatchByParsing gives. The input is a stored body and a patch,
// split at the first NUL byte. The scan accepts only bodies Boost.JSON's
// parser accepts, and finds the members the scan for parsed bodies finds.
// Whatever a patch does to a body that passes checkDocumentBody, the result
// passes it too: a JSON object, within the depth limit, without _id or
// _creationTime. A patch that changes nothing leaves the same document.
#include <boost/json.hpp>

#include <cmath>
#include <string_view>

#include "fuzz_check.h"
#include "base/json_text.h"
#include "document/patch.h"

namespace {

// Equal JSON, but a double may be up to four ulps off: Boost.JSON 1.81's
// parser is not exact for every decimal, and not even consistent: it reads
// 94.0000000001658565506 one ulp above the true value when more text
// follows the number and one ulp below when little does, and
// 90.0000201650856550E60 three ulps apart the same way. So a member kept
// byte for byte can read back a few ulps away, as can a value a patch sets
// (written by the serializer, read back by the parser).
bool sameJson(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_double() && b.is_double()) {
    double x = a.get_double();
    const double y = b.get_double();
    for (int ulps = 0; ulps < 4 && x != y; ++ulps) x = std::nextafter(x, y);
    return x == y;
  }
  if (a.kind() != b.kind()) return a == b;
  if (a.is_array()) {
    const auto &xa = a.get_array(), &ya = b.get_array();
    if (xa.size() != ya.size()) return false;
    for (size_t i = 0; i < xa.size(); ++i)
      if (!sameJson(xa[i], ya[i])) return false;
    return true;
  }
  if (a.is_object()) {
    const auto &xo = a.get_object(), &yo = b.get_object();
    if (xo.size() != yo.size()) return false;
    for (const auto& [k, v] : xo) {
      const auto* w = yo.if_contains(k);
      if (!w || !sameJson(v, *w)) return false;
    }
    return true;
  }
  return a == b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace graft;
  const auto [body, rest] = fuzz::splitInput(data, size, std::string_view("\0", 1));
  const std::string_view patch = rest.value_or(std::string_view());

  // A document given for insert: refused, or a body the store accepts.
  auto inserted = newBody(body);
  if (inserted.ok()) {
    Status valid = checkDocumentBody(*inserted);
    fuzz::require(valid.ok(), "newBody returned a body the store refuses", valid.message());
  } else {
    fuzz::requireOneLineError(inserted.status(), "document", {Code::kBadInput});
  }

  CheckedBody scanned;
  const Status parsed = checkDocumentBodyByParsing(body);
  if (scanDocumentBody(body, &scanned)) {
    fuzz::require(parsed.ok(), "the scan accepted a body the parser refuses", parsed.message());
    std::vector<BodyMember> listed;
    listMembers(body, &listed);
    bool same = listed.size() == scanned.members.size();
    for (size_t i = 0; same && i < listed.size(); ++i) {
      const BodyMember &a = listed[i], &b = scanned.members[i];
      same = a.begin == b.begin && a.end == b.end && a.value_begin == b.value_begin &&
             a.key == b.key;
    }
    fuzz::require(same, "the scan found other members than listMembers");
  }
  CheckedBody checked;
  const Status valid_body = checkDocumentBody(body, &checked);
  fuzz::require(valid_body.message() == parsed.message(),
                "checkDocumentBody and the parser disagree", valid_body.message());
  if (!valid_body.ok()) return 0;  // the runner stops before any patch
  auto from_checked = applyPatch(checked, patch);
  // applyPatch reads simple patches with a scan of its own; the parser
  // must give the same body or the same error.
  auto by_parsing = applyPatchByParsing(checked, patch);
  fuzz::require(from_checked.ok() == by_parsing.ok() &&
                    (from_checked.ok() ? from_checked->body == by_parsing->body &&
                                             from_checked->changed == by_parsing->changed
                                       : from_checked.status().message() ==
                                             by_parsing.status().message()),
                "the scan of a simple patch and the parser disagree");
  auto patched = applyPatch(body, patch);
  if (!patched.ok()) {
    fuzz::requireOneLineError(patched.status(), "patch", {Code::kBadInput});
    return 0;
  }
  fuzz::require(from_checked.ok() && from_checked->body == patched->body,
                "applyPatch on the checked body made another body");
  Status valid = checkDocumentBody(patched->body);
  fuzz::require(valid.ok(), "a patch made a body the store refuses",
                valid.message() + "\n" + patched->body);
  const auto options = jsonParseOptions();
  if (!patched->changed) {
    fuzz::require(patched->body == body, "an unchanged patch changed the document's text",
                  patched->body);
    return 0;
  }
  // The patched text (members it leaves alone are kept as written) means
  // what the patch applied to the parsed document means.
  boost::json::object expected = boost::json::parse(body, {}, options).as_object();
  const boost::json::object p = boost::json::parse(patch, {}, jsonParseOptions(1)).as_object();
  if (const auto* unset = p.if_contains("$unset"))
    for (const auto& name : unset->as_array()) expected.erase(name.as_string());
  if (const auto* set = p.if_contains("$set"))
    for (const auto& [field, value] : set->as_object()) expected[field] = value;
  fuzz::require(sameJson(boost::json::parse(patched->body, {}, options), expected),
                "the patched text means something else", patched->body);
  return 0;
}
