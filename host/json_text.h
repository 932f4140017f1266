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
// "<where>:<line>:<column>: <reason>", `where` being a file name or
// "file:line" for a line of a JSON lines file.
Result<boost::json::value> parseJson(std::string_view text, const std::string& where);

}  // namespace graft

#endif  // GRAFT_HOST_JSON_TEXT_H_
