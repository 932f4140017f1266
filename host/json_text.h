// json_text.h -- reading files and parsing JSON with positions in errors.
#ifndef GRAFT_HOST_JSON_TEXT_H_
#define GRAFT_HOST_JSON_TEXT_H_

#include <boost/json/value.hpp>

#include <string>
#include <string_view>

#include "status.h"

namespace graft {

// Reads a whole file. Errors (kBadInput) name the path and the OS reason.
Result<std::string> readFile(const std::string& path);

// Parses one JSON text. On error (kBadInput) the message is
// "<source>:<line>:<column>: <reason>"; `first_line` is the line number of
// the text's first line in `source` (not 1 for a line of a JSON lines file).
Result<boost::json::value> parseJson(std::string_view text, const std::string& source,
                                     int64_t first_line = 1);

}  // namespace graft

#endif  // GRAFT_HOST_JSON_TEXT_H_
