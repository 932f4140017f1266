#include "document/body_scan.h"

#include <array>
#include <boost/json.hpp>

namespace graft {
namespace {

// Deeper bodies go to Boost.JSON, which also enforces the limit.
constexpr int kScanDepth = 64;
// An integer part this long can not overflow a float64 (1e308 has 309).
constexpr int kScanIntegerDigits = 300;

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The bytes a string holds as they are: ASCII, but not a control
// character, a quote or a backslash.
constexpr auto kPlain = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x80; ++c) plain[c] = c != '"' && c != '\\';
  return plain;
}();

// The validating scan of one body, from `begin` to `end` (never read).
// Each function starts at p_[0] and returns false for a body it does not
// accept as certainly valid; on success p_ is just past what it read.
class Scanner {
 public:
  Scanner(const char* begin, const char* end) : begin_(begin), p_(begin), end_(end) {}

  bool atEnd() const { return p_ == end_; }
  char peek() const { return *p_; }

  void skipSpace() {
    while (p_ != end_ && isSpace(*p_)) ++p_;
  }

  // An object (`close` is '}') or an array (']'), from its opening bracket,
  // `depth` levels deep. With `members`, the object is the body itself:
  // each of its members is noted there.
  bool container(int depth, char close, std::vector<BodyMember>* members = nullptr) {
    if (depth > kScanDepth) return false;
    ++p_;  // '{' or '['
    skipSpace();
    if (p_ != end_ && *p_ == close) {
      ++p_;
      return true;
    }
    for (;;) {
      BodyMember* m = members ? &members->emplace_back() : nullptr;
      if (close == '}' && !key(m)) return false;
      if (m) m->value_begin = offset();
      if (!value(depth)) return false;
      if (m) m->end = offset();
      skipSpace();
      if (p_ == end_) return false;
      const char c = *p_++;
      if (c == close) return true;
      if (c != ',') return false;
      skipSpace();
    }
  }

 private:
  size_t offset() const { return static_cast<size_t>(p_ - begin_); }

  bool expect(char c) {
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }

  // A member's key and the ':' after it. With `m`, a member of the body:
  // noted there, and an escaped key or a system field is left to Boost.JSON
  // (which decodes the one and words the refusal of the other).
  bool key(BodyMember* m) {
    const char* first = p_;
    bool escaped = false;
    if (!string(&escaped)) return false;
    if (m) {
      if (escaped) return false;
      m->begin = static_cast<size_t>(first - begin_);
      m->key = std::string_view(first + 1, static_cast<size_t>(p_ - first) - 2);
      if (m->key == "_id" || m->key == "_creationTime") return false;
    }
    skipSpace();
    if (!expect(':')) return false;
    skipSpace();
    return true;
  }

  // A string, its quotes included. `*escaped` says whether it held a
  // backslash.
  bool string(bool* escaped) {
    if (!expect('"')) return false;
    while (p_ != end_) {
      if (kPlain[static_cast<unsigned char>(*p_)]) {
        ++p_;
        continue;
      }
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        *escaped = true;
        if (!escape()) return false;
      } else if (!utf8()) {
        return false;
      }
    }
    return false;
  }

  // Any value, inside a container `depth` levels deep.
  bool value(int depth) {
    if (p_ == end_) return false;
    switch (*p_) {
      case '"': {
        bool escaped = false;
        return string(&escaped);
      }
      case '{':
        return container(depth + 1, '}');
      case '[':
        return container(depth + 1, ']');
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        return number();
    }
  }

  // After a backslash: one of RFC 8259's escapes. A \u escape of a
  // surrogate is left to Boost.JSON, which checks how they pair.
  bool escape() {
    ++p_;
    if (p_ == end_) return false;
    const char c = *p_++;
    switch (c) {
      case '"':
      case '\\':
      case '/':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        return true;
      case 'u': {
        unsigned code = 0;
        for (int i = 0; i < 4; ++i, ++p_) {
          if (p_ == end_) return false;
          const char h = *p_;
          unsigned digit;
          if (h >= '0' && h <= '9')
            digit = static_cast<unsigned>(h - '0');
          else if (h >= 'a' && h <= 'f')
            digit = static_cast<unsigned>(h - 'a' + 10);
          else if (h >= 'A' && h <= 'F')
            digit = static_cast<unsigned>(h - 'A' + 10);
          else
            return false;
          code = code * 16 + digit;
        }
        return code < 0xD800 || code > 0xDFFF;
      }
      default:
        return false;
    }
  }

  // One UTF-8 sequence of two to four bytes, as RFC 3629 allows them: no
  // overlong form, no surrogate, nothing beyond U+10FFFF.
  bool utf8() {
    const auto at = [&](ptrdiff_t i) { return static_cast<unsigned char>(p_[i]); };
    const auto cont = [&](ptrdiff_t i) { return (at(i) & 0xC0) == 0x80; };
    const ptrdiff_t left = end_ - p_;
    const unsigned char c = at(0);
    int n;
    unsigned char lo = 0x80, hi = 0xBF;  // the bounds of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (left < n || at(1) < lo || at(1) > hi) return false;
    for (int i = 2; i < n; ++i)
      if (!cont(i)) return false;
    p_ += n;
    return true;
  }

  bool literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word)
      return false;
    p_ += word.size();
    return true;
  }

  bool digit() const { return p_ != end_ && *p_ >= '0' && *p_ <= '9'; }

  // RFC 8259's number, without an exponent.
  bool number() {
    if (p_ != end_ && *p_ == '-') ++p_;
    if (!digit()) return false;
    if (*p_ == '0') {
      ++p_;
    } else {
      const char* first = p_;
      while (digit()) ++p_;
      if (p_ - first > kScanIntegerDigits) return false;
    }
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (!digit()) return false;
      while (digit()) ++p_;
    }
    return p_ == end_ || (*p_ != 'e' && *p_ != 'E');
  }

  const char* begin_;
  const char* p_;
  const char* end_;
};

// The unchecking scan of listMembers, for a body Boost.JSON accepted.
size_t skipSpace(std::string_view t, size_t i) {
  while (i < t.size() && isSpace(t[i])) ++i;
  return i;
}

// Just after the string that starts at t[i] (a quote).
size_t skipString(std::string_view t, size_t i) {
  for (++i; i < t.size(); ++i) {
    const char c = t[i];
    if (c == '"') return i + 1;
    if (c == '\\') ++i;
  }
  return t.size();
}

// Just after the value that starts at t[i].
size_t skipValue(std::string_view t, size_t i) {
  if (i < t.size() && t[i] == '"') return skipString(t, i);
  int depth = 0;
  for (; i < t.size(); ++i) {
    const char c = t[i];
    if (c == '"') {
      i = skipString(t, i) - 1;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (depth == 0) return i;
      if (--depth == 0) return i + 1;
    } else if (c == ',' && depth == 0) {
      return i;
    }
  }
  return i;
}

// Decoded keys point into their own member: fix the views that the
// vector's growth may have moved.
void pointKeysAtDecoded(std::vector<BodyMember>* members) {
  for (BodyMember& m : *members)
    if (!m.decoded.empty()) m.key = m.decoded;
}

}  // namespace

bool scanDocumentBody(std::string_view body, CheckedBody* out) {
  out->text = body;
  out->members.clear();
  Scanner s(body.data(), body.data() + body.size());
  s.skipSpace();
  if (s.atEnd() || s.peek() != '{' || !s.container(1, '}', &out->members)) return false;
  s.skipSpace();
  return s.atEnd();
}

void listMembers(std::string_view text, std::vector<BodyMember>* members) {
  members->clear();
  size_t i = skipSpace(text, 0) + 1;  // past '{'
  for (;;) {
    i = skipSpace(text, i);
    if (i >= text.size() || text[i] != '"') break;
    BodyMember& m = members->emplace_back();
    m.begin = i;
    const size_t key_end = skipString(text, i);
    const std::string_view raw = text.substr(i + 1, key_end - i - 2);
    if (raw.find('\\') == std::string_view::npos) {
      m.key = raw;
    } else {
      m.decoded = boost::json::parse(text.substr(i, key_end - i)).as_string();
      m.key = m.decoded;
    }
    i = skipSpace(text, key_end) + 1;  // past ':'
    m.value_begin = skipSpace(text, i);
    i = skipValue(text, m.value_begin);
    m.end = i;
    while (m.end > m.begin && isSpace(text[m.end - 1]))
      --m.end;  // a number ends at the ',' or '}' after it, spaces included
    i = skipSpace(text, i);
    if (i < text.size() && text[i] == ',') ++i;
  }
  pointKeysAtDecoded(members);
}

}  // namespace graft
