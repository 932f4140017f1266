// json_text.h -- reading files and parsing JSON with positions in errors.
#ifndef GRAFT_HOST_JSON_TEXT_H_
#define GRAFT_HOST_JSON_TEXT_H_

#include <graft/graft.h>

#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <string_view>

#include "status.h"

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
Status checkDocumentBody(std::string_view body);

// True when `value` holds a number a float64 can not hold (Boost.JSON
// parses 1e400 as infinity, and serializes that as Infinity: not JSON).
bool holdsNonFiniteNumber(const boost::json::value& value);

// `text` as a JSON string literal, quotes included: how a message shows a
// string it got from a file, so that a newline or a control character in it
// can not break the message's one line (or forge another).
std::string jsonQuoted(std::string_view text);

// Reads a whole file. Errors (kBadInput) name the path and the OS reason.
Result<std::string> readFile(const std::string& path);

// Parses one JSON text. On error (kBadInput) the message is
// "<source>:<line>:<column>: <reason>"; `first_line` is the line number of
// the text's first line in `source` (not 1 for a line of a JSON lines file).
Result<boost::json::value> parseJson(std::string_view text, const std::string& source,
                                     int64_t first_line = 1);

}  // namespace graft

#endif  // GRAFT_HOST_JSON_TEXT_H_
