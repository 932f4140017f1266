#include "json_text.h"

#include <boost/json/stream_parser.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace graft {

Result<std::string> readFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return Status(Code::kBadInput, path + ": can not open: Is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(Code::kBadInput, path + ": can not open: " + std::strerror(errno));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return Status(Code::kBadInput, path + ": can not read: " + std::strerror(errno));
  return bytes.str();
}

Result<boost::json::value> parseJson(std::string_view text, const std::string& source,
                                     int64_t first_line) {
  boost::json::stream_parser parser;
  boost::system::error_code ec;
  size_t consumed = parser.write_some(text.data(), text.size(), ec);
  if (!ec && consumed < text.size()) {
    // write_some stops at the end of the first value; anything but white
    // space after it is an error of its own, reported where it starts.
    size_t rest = text.find_first_not_of(" \t\r\n", consumed);
    if (rest != std::string_view::npos) {
      consumed = rest;
      ec = boost::json::error::extra_data;
    }
  }
  if (!ec) parser.finish(ec);
  if (ec) {
    int64_t line = first_line, column = 1;
    for (size_t i = 0; i < consumed && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return Status(Code::kBadInput, source + ":" + std::to_string(line) + ":" +
                                       std::to_string(column) + ": " + ec.message());
  }
  return parser.release();
}

}  // namespace graft
