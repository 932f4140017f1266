#include "json_text.h"

#include <boost/json/stream_parser.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace graft {

Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(Code::kBadInput, path + ": can not open: " + std::strerror(errno));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return Status(Code::kBadInput, path + ": can not read: " + std::strerror(errno));
  return bytes.str();
}

Result<boost::json::value> parseJson(std::string_view text, const std::string& where) {
  boost::json::stream_parser parser;
  boost::system::error_code ec;
  size_t consumed = parser.write_some(text.data(), text.size(), ec);
  if (!ec) parser.finish(ec);
  if (!ec && consumed < text.size()) {
    // write_some stops at the end of the first value; anything but white
    // space after it is an error of its own.
    size_t rest = text.find_first_not_of(" \t\r\n", consumed);
    if (rest != std::string_view::npos) {
      consumed = rest;
      ec = boost::json::error::extra_data;
    }
  }
  if (ec) {
    size_t line = 1, column = 1;
    for (size_t i = 0; i < consumed && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return Status(Code::kBadInput, where + ":" + std::to_string(line) + ":" +
                                       std::to_string(column) + ": " + ec.message());
  }
  return parser.release();
}

}  // namespace graft
