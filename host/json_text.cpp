#include "json_text.h"

#include <boost/json/parse.hpp>
#include <boost/json/stream_parser.hpp>

#include <algorithm>
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

std::string jsonPointer(std::string_view pointer, std::string_view token) {
  std::string out(pointer);
  out += '/';
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string jsonPointer(std::string_view pointer, size_t index) {
  return std::string(pointer) + "/" + std::to_string(index);
}

// Walks a text Boost.JSON has already accepted, so it can skip over tokens
// without checking them: all it does is note where each value starts. A
// second pass is simpler than a basic_parser handler, whose string
// callbacks point into the parser's own buffer when a string has escapes.
class JsonScanner {
 public:
  JsonScanner(std::string_view text, JsonLocator& out) : text_(text), out_(out) {}

  void value(const std::string& pointer, size_t key_offset, bool has_key) {
    skipSpace();
    const size_t start = pos_;
    out_.positions_[pointer] = {has_key ? key_offset : start, start};
    if (text_[pos_] == '{') {
      object(pointer);
    } else if (text_[pos_] == '[') {
      array(pointer);
    } else if (text_[pos_] == '"') {
      skipString();
    } else {
      // A number, true, false or null.
      while (pos_ < text_.size() &&
             std::string_view(",]} \t\r\n").find(text_[pos_]) == std::string_view::npos)
        ++pos_;
    }
  }

 private:
  void object(const std::string& pointer) {
    ++pos_;
    skipSpace();
    std::unordered_map<std::string, size_t> seen;  // key -> where it first is
    while (text_[pos_] != '}') {
      const size_t key_start = pos_;
      skipString();
      std::string key = decodeString(text_.substr(key_start, pos_ - key_start));
      std::string child = jsonPointer(pointer, key);
      auto [first, inserted] = seen.emplace(key, key_start);
      if (!inserted)
        out_.duplicates_.push_back(
            {child, key, out_.format(key_start), out_.format(first->second)});
      skipSpace();
      ++pos_;  // ':'
      value(child, key_start, true);
      skipSpace();
      if (text_[pos_] == ',') ++pos_;
      skipSpace();
    }
    ++pos_;
  }

  void array(const std::string& pointer) {
    ++pos_;
    skipSpace();
    for (size_t index = 0; text_[pos_] != ']'; ++index) {
      value(jsonPointer(pointer, index), 0, false);
      skipSpace();
      if (text_[pos_] == ',') ++pos_;
      skipSpace();
    }
    ++pos_;
  }

  void skipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\r' || text_[pos_] == '\n'))
      ++pos_;
  }

  void skipString() {
    ++pos_;
    while (text_[pos_] != '"') pos_ += text_[pos_] == '\\' ? 2 : 1;
    ++pos_;
  }

  // `token` is a valid JSON string literal, quotes included.
  static std::string decodeString(std::string_view token) {
    if (token.find('\\') == std::string_view::npos)
      return std::string(token.substr(1, token.size() - 2));
    return std::string(boost::json::parse(token).as_string());
  }

  std::string_view text_;
  JsonLocator& out_;
  size_t pos_ = 0;
};

std::string JsonLocator::format(size_t offset) const {
  auto next = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  const size_t line = static_cast<size_t>(next - line_starts_.begin()) - 1;
  return source_ + ":" + std::to_string(first_line_ + static_cast<int64_t>(line)) + ":" +
         std::to_string(offset - line_starts_[line] + 1);
}

const JsonLocator::Position* JsonLocator::find(std::string_view pointer) const {
  std::string p(pointer);
  for (;;) {
    auto it = positions_.find(p);
    if (it != positions_.end()) return &it->second;
    if (p.empty()) return nullptr;
    size_t slash = p.rfind('/');
    p.erase(slash == std::string::npos ? 0 : slash);
  }
}

std::string JsonLocator::where(std::string_view pointer) const {
  const Position* at = find(pointer);
  return format(at ? at->value : 0);
}

std::string JsonLocator::whereKey(std::string_view pointer) const {
  const Position* at = find(pointer);
  return format(at ? at->key : 0);
}

Result<LocatedJson> parseJsonLocated(std::string_view text, const std::string& source,
                                     int64_t first_line) {
  auto value = parseJson(text, source, first_line);
  if (!value.ok()) return value.status();
  LocatedJson out{std::move(value).value(), {}};
  JsonLocator& locator = out.locator;
  locator.source_ = source;
  locator.first_line_ = first_line;
  locator.line_starts_.push_back(0);
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n') locator.line_starts_.push_back(i + 1);
  JsonScanner(text, locator).value("", 0, false);
  return out;
}

}  // namespace graft
