#include "store/postgres/pg_json.h"

#include <charconv>
#include <cmath>
#include <optional>
#include <system_error>

#include "base/json_text.h"

namespace graft {
namespace {

bool isNumberChar(char c) {
  return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

bool isFloatText(std::string_view number) {
  return number.find_first_of(".eE") != std::string_view::npos;
}

// The exact decimal of `value`'s shortest round-trip digits, as a plain
// number with a fraction: 1.5e3 -> "1500.0", 1.5e-4 -> "0.00015".
std::string plainDecimal(double value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  const std::string_view sci(buf, static_cast<size_t>(end - buf));  // [-]d[.ddd]e(+|-)XX
  const size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e))
    if (c >= '0' && c <= '9') digits += c;
  int exponent = 0;
  std::string_view exp_text = sci.substr(e + 1);
  if (!exp_text.empty() && exp_text[0] == '+') exp_text.remove_prefix(1);
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exponent);
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const int n = static_cast<int>(digits.size());
  const int point = exponent + 1;  // digits before the decimal point
  std::string out = value < 0 ? "-" : "";
  if (point <= 0) {
    out += "0." + std::string(static_cast<size_t>(-point), '0') + digits;
  } else if (point >= n) {
    out += digits + std::string(static_cast<size_t>(point - n), '0') + ".0";
  } else {
    out += digits.substr(0, static_cast<size_t>(point)) + "." +
           digits.substr(static_cast<size_t>(point));
  }
  return out;
}

// The shortest text that reads back as `value` and as a float64: with a
// fraction or an exponent.
std::string shortestFloat(double value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  std::string out(buf, static_cast<size_t>(end - buf));
  if (!isFloatText(out)) out += ".0";
  return out;
}

std::optional<double> readFloat(std::string_view number) {
  double value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc() || end != number.data() + number.size() || !std::isfinite(value))
    return std::nullopt;
  return value;
}

Status refusal(const std::string& why) {
  return Status(Code::kBadInput, "a PostgreSQL store can not keep this document: " + why);
}

// Copies JSON `text` to `out`, with each number token as `number` makes
// it (it appends to `out`). Strings are copied as they are; with
// `refuse_nul`, one that holds \u0000 fails. With `compact`, the spaces
// between tokens are dropped (jsonb's text has them after ':' and ',').
template <class OnNumber>
Status rewriteNumbers(std::string_view text, bool refuse_nul, bool compact, std::string* out,
                      OnNumber&& number) {
  out->reserve(text.size() + 16);
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == ' ' && compact) {
      ++i;
      continue;
    }
    if (c == '"') {
      size_t j = i + 1;
      for (; j < text.size() && text[j] != '"'; ++j) {
        if (text[j] != '\\') continue;
        if (refuse_nul && text.substr(j + 1, 5) == "u0000")
          return refusal("it holds the character U+0000 (\\u0000), which jsonb refuses");
        ++j;
      }
      out->append(text.substr(i, j + 1 - i));
      i = j + 1;
      continue;
    }
    if (c != '-' && !(c >= '0' && c <= '9')) {
      *out += c;
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && isNumberChar(text[j])) ++j;
    GRAFT_RETURN_IF_ERROR(number(text.substr(i, j - i)));
    i = j;
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> bodyToJsonb(std::string_view body) {
  if (auto key = findDuplicateKey(body))
    return refusal("an object in it has the key " + jsonQuoted(*key) +
                   " twice, and jsonb keeps only the last");
  std::string out;
  GRAFT_RETURN_IF_ERROR(rewriteNumbers(body, true, false, &out, [&](std::string_view number) {
    if (!isFloatText(number)) {
      out.append(number);
      return Status::Ok();
    }
    const auto value = readFloat(number);
    if (!value) return refusal("its number " + std::string(number) + " is beyond float64");
    if (*value == 0 && std::signbit(*value))
      return refusal("its number " + std::string(number) +
                     " is a negative zero, which jsonb reads back as 0.0");
    out += plainDecimal(*value);
    return Status::Ok();
  }));
  return out;
}

std::string bodyFromJsonb(std::string_view text) {
  std::string out;
  (void)rewriteNumbers(text, false, true, &out, [&](std::string_view number) {
    const auto value = isFloatText(number) ? readFloat(number) : std::nullopt;
    if (value)
      out += shortestFloat(*value);
    else
      out.append(number);
    return Status::Ok();
  });
  return out;
}

}  // namespace graft
