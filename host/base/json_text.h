// json_text.h -- reading files and parsing JSON with positions in errors.
#ifndef GRAFT_HOST_BASE_JSON_TEXT_H_
#define GRAFT_HOST_BASE_JSON_TEXT_H_

#include <graft/graft.h>

#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "document/body_scan.h"
#include "base/status.h"

namespace graft {

// Documents nest at most this deep (graft.h: SQLite's own JSON limit).
inline constexpr size_t kMaxJsonDepth = GRAFT_MAX_JSON_DEPTH;

// Boost.JSON's defaults, but with max_depth kMaxJsonDepth + extra_levels
// (a patch or an array of documents holds documents one level down).
boost::json::parse_options jsonParseOptions(size_t extra_levels = 0);

// Checks a document body as the store returned it, without building it:
// valid JSON (UTF-8 included) nesting at most kMaxJsonDepth, an object, and
// no _id or _creationTime of its own. The table's CHECK says the same, but
// a client can store anything with PRAGMA ignore_check_constraints, and
// SQLite's json_valid() does not look at UTF-8. Errors (kBadInput) start
// with "stored document" and say what is wrong and at which byte.
// When it passes and `out` is given, `*out` holds the body and its members
// (for applyPatch). scanDocumentBody (body_scan.h) decides most bodies;
// the others go to checkDocumentBodyByParsing.
Status checkDocumentBody(std::string_view body, CheckedBody* out = nullptr);

// The same check by Boost.JSON's parser alone, which words every error.
// The fuzz targets hold scanDocumentBody to it.
Status checkDocumentBodyByParsing(std::string_view body);

// Whether the JSON number `number` (its text) is a finite float64 however
// it is read. Boost.JSON 1.81 reads a number near the float64 limit a few
// ulps off, and differently when fewer than 33 bytes follow its start than
// when more do: 17.97693134862315850e307 is infinity before a short end and
// finite before a long one, and 1.7976931348623158e308 (the largest float64,
// read exactly) is infinity in both. So whether graft keeps a number must not
// depend on the text around it: the number fits when the exact reading
// (std::from_chars) and both of Boost.JSON's are finite.
bool numberFitsFloat64(std::string_view number);

// True when `value`, parsed from `text`, holds a number that does not fit a
// float64 (numberFitsFloat64). Boost.JSON parses 1e400 as infinity and
// serializes that as Infinity, which is not JSON.
bool holdsNumberBeyondFloat64(const boost::json::value& value, std::string_view text);

// The first key that one object of `text` gives twice, at any depth; none
// when every object's keys differ (or `text` is not JSON). Boost.JSON keeps
// the last of two such members and SQLite's JSON functions the first, so
// graft never stores such a document.
std::optional<std::string> findDuplicateKey(std::string_view text);

// `text` as a JSON string literal, quotes included: how a message shows a
// string it got from a file, so that a newline or a control character in it
// can not break the message's one line (or forge another).
std::string jsonQuoted(std::string_view text);

// Reads a whole file. Errors (kBadInput) name the path and the OS reason.
Result<std::string> readFile(const std::string& path);

// 3 when `text` starts with a UTF-8 byte order mark, else 0.
size_t byteOrderMarkSize(std::string_view text);

// Parses one JSON text. On error (kBadInput) the message is
// "<source>:<line>:<column>: <reason>"; `first_line` is the line number of
// the text's first line in `source` (not 1 for a line of a JSON lines file).
// A text that starts a file (first_line 1) may begin with a byte order mark,
// which is skipped; columns count it.
Result<boost::json::value> parseJson(std::string_view text, const std::string& source,
                                     int64_t first_line = 1);

struct LocatedJson;

// Where the values of one parsed JSON text start, by JSON pointer (RFC 6901:
// "" is the root, "/tables/users/document/role" a member, "/a/0" an array
// element). Boost.JSON values carry no positions; this lets a reader that
// finds a problem after parsing (an unknown key, a bad name) point at it
// with the same "<source>:<line>:<column>" as a syntax error. Columns count
// bytes, as parseJson's do.
class JsonLocator {
 public:
  // "<source>:<line>:<column>" where the value at `pointer` starts. For a
  // pointer that names nothing, the nearest enclosing value that exists.
  std::string where(std::string_view pointer) const;
  // Where the key of the object member at `pointer` starts (for an array
  // element or the root: where the value starts).
  std::string whereKey(std::string_view pointer) const;

  // A member whose key an earlier member of the same object already has.
  // Boost.JSON keeps the last one silently; a reader decides if that is an
  // error. `pointer` names the member, `where`/`first` its two keys.
  struct Duplicate {
    std::string pointer;
    std::string key;
    std::string where;
    std::string first;
  };
  // In text order.
  const std::vector<Duplicate>& duplicates() const { return duplicates_; }

 private:
  friend class JsonScanner;
  friend Result<LocatedJson> parseJsonLocated(std::string_view, const std::string&, int64_t);
  struct Position {
    size_t key = 0;  // == value when there is no key
    size_t value = 0;
  };
  std::string format(size_t offset) const;
  const Position* find(std::string_view pointer) const;

  std::string source_;
  int64_t first_line_ = 1;
  std::vector<size_t> line_starts_;  // offsets where each line starts
  std::unordered_map<std::string, Position> positions_;
  std::vector<Duplicate> duplicates_;
};

struct LocatedJson {
  boost::json::value value;
  JsonLocator locator;
};

// parseJson, plus the positions of every value. Same errors as parseJson.
Result<LocatedJson> parseJsonLocated(std::string_view text, const std::string& source,
                                     int64_t first_line = 1);

// `pointer` extended by one reference token, escaped as RFC 6901 requires
// ("~" as "~0", "/" as "~1"): jsonPointer("/tables", "a/b") is "/tables/a~1b".
std::string jsonPointer(std::string_view pointer, std::string_view token);
std::string jsonPointer(std::string_view pointer, size_t index);

}  // namespace graft

#endif  // GRAFT_HOST_BASE_JSON_TEXT_H_
