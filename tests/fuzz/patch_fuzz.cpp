// Fuzzes applyPatch and newBody (host/patch.h). The input is a stored body
// and a patch, split at the first NUL byte. Whatever a patch does to a body
// that passes checkDocumentBody, the result passes it too: a JSON object,
// within the depth limit, without _id or _creationTime. A patch that
// changes nothing leaves the same document.
#include <boost/json.hpp>

#include <string_view>

#include "fuzz_check.h"
#include "json_text.h"
#include "patch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace graft;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find('\0');
  const std::string_view body = input.substr(0, split);
  const std::string_view patch =
      split == std::string_view::npos ? std::string_view() : input.substr(split + 1);

  // A document given for insert: refused, or a body the store accepts.
  auto inserted = newBody(body);
  if (inserted.ok()) {
    Status valid = checkDocumentBody(*inserted);
    fuzz::require(valid.ok(), "newBody returned a body the store refuses", valid.message());
  } else {
    fuzz::requireOneLineError(inserted.status(), "document", {Code::kBadInput});
  }

  if (!checkDocumentBody(body).ok()) return 0;  // the runner stops before any patch
  auto patched = applyPatch(body, patch);
  if (!patched.ok()) {
    fuzz::requireOneLineError(patched.status(), "patch", {Code::kBadInput});
    return 0;
  }
  Status valid = checkDocumentBody(patched->body);
  fuzz::require(valid.ok(), "a patch made a body the store refuses",
                valid.message() + "\n" + patched->body);
  if (!patched->changed) {
    const auto options = jsonParseOptions();
    fuzz::require(boost::json::parse(patched->body, {}, options) == boost::json::parse(body, {}, options),
                  "an unchanged patch changed the document", patched->body);
  }
  return 0;
}
