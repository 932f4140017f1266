#include "base/json_text.h"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/stream_parser.hpp>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_set>

namespace graft {

boost::json::parse_options jsonParseOptions(size_t extra_levels) {
  boost::json::parse_options options;
  options.max_depth = kMaxJsonDepth + extra_levels;
  return options;
}

namespace {

// A basic_parser handler that builds nothing and accepts everything; the
// checkers below hide the callbacks they need.
struct IgnoringHandler {
  static constexpr size_t max_object_size = size_t(-1);
  static constexpr size_t max_array_size = size_t(-1);
  static constexpr size_t max_key_size = size_t(-1);
  static constexpr size_t max_string_size = size_t(-1);
  using error_code = boost::system::error_code;
  using string_view = boost::json::string_view;

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_object_begin(error_code&) { return true; }
  bool on_object_end(size_t, error_code&) { return true; }
  bool on_array_begin(error_code&) { return true; }
  bool on_array_end(size_t, error_code&) { return true; }
  bool on_key_part(string_view, size_t, error_code&) { return true; }
  bool on_key(string_view, size_t, error_code&) { return true; }
  bool on_string_part(string_view, size_t, error_code&) { return true; }
  bool on_string(string_view, size_t, error_code&) { return true; }
  bool on_number_part(string_view, error_code&) { return true; }
  bool on_int64(int64_t, string_view, error_code&) { return true; }
  bool on_uint64(uint64_t, string_view, error_code&) { return true; }
  bool on_double(double, string_view, error_code&) { return true; }
  bool on_bool(bool, error_code&) { return true; }
  bool on_null(error_code&) { return true; }
  bool on_comment_part(string_view, error_code&) { return true; }
  bool on_comment(string_view, error_code&) { return true; }
};

// Below this magnitude Boost.JSON's reading, a few ulps off at most, and
// the exact one are both finite.
constexpr double kSurelyFinite = 1e308;

// Stops the parser at the first number that does not fit a float64
// (numberFitsFloat64), with exponent_overflow.
class RangeChecker : public IgnoringHandler {
 public:
  bool on_number_part(string_view s, error_code&) {
    number_.append(s.data(), s.size());
    return true;
  }
  bool on_int64(int64_t, string_view, error_code&) { return number_.clear(), true; }
  bool on_uint64(uint64_t, string_view, error_code&) { return number_.clear(), true; }
  bool on_double(double d, string_view s, error_code& ec) {
    if (std::abs(d) < kSurelyFinite) return number_.clear(), true;
    number_.append(s.data(), s.size());
    const bool fits = numberFitsFloat64(number_);
    number_.clear();
    if (fits) return true;
    ec = boost::json::error::exponent_overflow;
    return false;
  }

 private:
  std::string number_;
};

// Boost.JSON's reading of `number` with `padding` spaces after it.
double readWithBoost(std::string_view number, size_t padding) {
  std::string text = "[";
  text.append(number);
  text += ']';
  text.append(padding, ' ');
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(text, ec);
  if (ec || !value.is_array() || value.get_array().size() != 1 ||
      !value.get_array()[0].is_number())
    return HUGE_VAL;  // not a number: it fits nothing
  return value.get_array()[0].to_number<double>();
}

// It only notes whether the text is an object and the names of that
// object's own keys, and checks its numbers as RangeChecker does.
class BodyChecker : public RangeChecker {
 public:

  bool topIsObject() const { return top_is_object_; }
  const std::string& systemField() const { return system_field_; }

  bool on_object_begin(error_code&) {
    if (depth_++ == 0) top_is_object_ = true;
    return true;
  }
  bool on_object_end(size_t, error_code&) { return --depth_, true; }
  bool on_array_begin(error_code&) { return ++depth_, true; }
  bool on_array_end(size_t, error_code&) { return --depth_, true; }
  bool on_key_part(string_view s, size_t, error_code&) {
    if (depth_ == 1) key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(string_view s, size_t, error_code&) {
    if (depth_ != 1) return true;
    key_.append(s.data(), s.size());
    if (system_field_.empty() && (key_ == "_id" || key_ == "_creationTime")) system_field_ = key_;
    key_.clear();
    return true;
  }

 private:
  int64_t depth_ = 0;
  bool top_is_object_ = false;
  std::string key_;
  std::string system_field_;
};

}  // namespace

Status checkDocumentBody(std::string_view body, CheckedBody* out) {
  thread_local CheckedBody scratch;
  if (scanDocumentBody(body, out ? out : &scratch)) return Status::Ok();
  Status valid = checkDocumentBodyByParsing(body);
  if (valid.ok() && out) {
    out->text = body;
    listMembers(body, &out->members);
  }
  return valid;
}

Status checkDocumentBodyByParsing(std::string_view body) {
  // One parser per thread, reset for each body: the runner checks every
  // document it reads, and building a parser is not small beside a check
  // (figures: doc/performance.md).
  thread_local boost::json::basic_parser<BodyChecker> parser(jsonParseOptions());
  parser.reset();
  parser.handler() = BodyChecker();
  boost::system::error_code ec;
  size_t consumed = parser.write_some(false, body.data(), body.size(), ec);
  if (!ec && consumed < body.size()) ec = boost::json::error::extra_data;
  if (ec == boost::json::error::too_deep) {
    return Status(Code::kBadInput, "stored document nests deeper than " +
                                       std::to_string(kMaxJsonDepth) + " levels");
  }
  if (ec == boost::json::error::exponent_overflow) {
    return Status(Code::kBadInput, "stored document has a number beyond the range of a float64 "
                                   "(it ends before byte " + std::to_string(consumed) + ")");
  }
  if (ec) {
    // Boost.JSON calls a byte that is not UTF-8 a syntax error; say which.
    const bool bad_utf8 = ec == boost::json::error::syntax && consumed < body.size() &&
                          static_cast<unsigned char>(body[consumed]) >= 0x80;
    return Status(Code::kBadInput, "stored document is not valid JSON: " +
                                       (bad_utf8 ? std::string("invalid UTF-8") : ec.message()) +
                                       " at byte " + std::to_string(consumed));
  }
  if (!parser.handler().topIsObject())
    return Status(Code::kBadInput, "stored document is not a JSON object");
  if (!parser.handler().systemField().empty()) {
    return Status(Code::kBadInput, "stored document has a field " +
                                       parser.handler().systemField() +
                                       " of its own (the store assigns _id and _creationTime)");
  }
  return Status::Ok();
}

bool numberFitsFloat64(std::string_view number) {
  // Fewer than 33 bytes after the number's start, and more (see
  // basic_parser's fast path for numbers).
  const double short_read = readWithBoost(number, 0);
  const double long_read = readWithBoost(number, 40);
  if (!std::isfinite(short_read) || !std::isfinite(long_read)) return false;
  if (std::abs(short_read) < kSurelyFinite) return true;
  // Near the limit, out of range means beyond it (not below the smallest
  // float64, as it might far from it).
  double exact = 0;
  const auto read = std::from_chars(number.data(), number.data() + number.size(), exact);
  return read.ec != std::errc::result_out_of_range;
}

namespace {

bool holdsNumberNearLimit(const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::double_:
      return !(std::abs(value.get_double()) < kSurelyFinite);
    case boost::json::kind::array:
      for (const auto& item : value.get_array())
        if (holdsNumberNearLimit(item)) return true;
      return false;
    case boost::json::kind::object:
      for (const auto& [key, item] : value.get_object())
        if (holdsNumberNearLimit(item)) return true;
      return false;
    default:
      return false;
  }
}

}  // namespace

bool holdsNumberBeyondFloat64(const boost::json::value& value, std::string_view text) {
  // Most values hold no number near the limit, and need no second parse.
  if (!holdsNumberNearLimit(value)) return false;
  boost::json::parse_options options;
  options.max_depth = size_t(-1);  // `text` parsed already, within its own limit
  boost::json::basic_parser<RangeChecker> parser(options);
  boost::system::error_code ec;
  parser.write_some(false, text.data(), text.size(), ec);
  return ec == boost::json::error::exponent_overflow;
}

namespace {

// It remembers the keys of each open object and stops at the first one
// given twice.
class DuplicateKeyFinder : public IgnoringHandler {
 public:

  // The key given twice, if any: "" is a key too.
  const std::optional<std::string>& duplicate() const { return duplicate_; }

  bool on_object_begin(error_code&) {
    // Slots are reused, so that deep or repeated objects cost no allocation.
    if (depth_ == open_.size()) open_.emplace_back();
    open_[depth_++].clear();
    return true;
  }
  bool on_object_end(size_t, error_code&) { return --depth_, true; }
  bool on_key_part(string_view s, size_t, error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(string_view s, size_t, error_code& ec) {
    key_.append(s.data(), s.size());
    auto [it, inserted] = open_[depth_ - 1].insert(key_);
    if (!inserted) {
      duplicate_ = key_;
      ec = boost::json::error::syntax;  // stops the parser; duplicate() says why
      return false;
    }
    key_.clear();
    return true;
  }

 private:
  std::vector<std::unordered_set<std::string>> open_;
  size_t depth_ = 0;
  std::string key_;
  std::optional<std::string> duplicate_;
};

}  // namespace

std::optional<std::string> findDuplicateKey(std::string_view text) {
  boost::json::basic_parser<DuplicateKeyFinder> parser(jsonParseOptions(1));
  boost::system::error_code ec;
  parser.write_some(false, text.data(), text.size(), ec);
  return parser.handler().duplicate();
}

std::string jsonQuoted(std::string_view text) {
  return boost::json::serialize(boost::json::string(text));
}

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

size_t byteOrderMarkSize(std::string_view text) {
  return text.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
}

Result<boost::json::value> parseJson(std::string_view text, const std::string& source,
                                     int64_t first_line) {
  boost::json::stream_parser parser({}, jsonParseOptions());
  boost::system::error_code ec;
  // Editors on Windows start UTF-8 files with a byte order mark; RFC 8259
  // lets a parser ignore it, and columns still count it.
  const size_t bom = first_line == 1 ? byteOrderMarkSize(text) : 0;
  size_t consumed = bom + parser.write_some(text.data() + bom, text.size() - bom, ec);
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
    // Boost.JSON calls a byte that is not UTF-8 a syntax error; say which.
    const bool bad_utf8 = ec == boost::json::error::syntax && consumed < text.size() &&
                          static_cast<unsigned char>(text[consumed]) >= 0x80;
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02X",
                  bad_utf8 ? static_cast<unsigned char>(text[consumed]) : 0);
    const std::string reason =
        bad_utf8 ? std::string("invalid UTF-8 (byte ") + byte + "; save the file as UTF-8)"
                 : ec.message();
    return Status(Code::kBadInput, source + ":" + std::to_string(line) + ":" +
                                       std::to_string(column) + ": " + reason);
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
  JsonScanner(std::string_view text, JsonLocator& out, size_t start)
      : text_(text), out_(out), pos_(start) {}

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
  size_t pos_;
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
  JsonScanner(text, locator, first_line == 1 ? byteOrderMarkSize(text) : 0).value("", 0, false);
  return out;
}

}  // namespace graft
