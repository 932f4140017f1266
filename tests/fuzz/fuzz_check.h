// fuzz_check.h -- what every fuzz target asserts besides "no crash": an
// invariant that fails aborts, so libFuzzer keeps the input as a crash.
#ifndef GRAFT_TESTS_FUZZ_FUZZ_CHECK_H_
#define GRAFT_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace graft::fuzz {

// A target's input as text, cut at the first `separator`: what comes
// before it, and what comes after it (none without a separator).
struct Parts {
  std::string_view head;
  std::optional<std::string_view> tail;
};
inline Parts splitInput(const uint8_t* data, size_t size, std::string_view separator) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t at = input.find(separator);
  if (at == std::string_view::npos) return {input, std::nullopt};
  return {input.substr(0, at), input.substr(at + separator.size())};
}

// Aborts with `what` when `ok` is false.
inline void require(bool ok, const char* what, const std::string& detail = "") {
  if (ok) return;
  std::fprintf(stderr, "invariant broken: %s\n%s\n", what, detail.c_str());
  std::abort();
}

// An error is one line (the command line prints it as one), starts with
// `prefix` (it names where), and has a code from `allowed`.
inline void requireOneLineError(const Status& s, const std::string& prefix,
                                std::initializer_list<Code> allowed) {
  require(!s.message().empty(), "error without a message");
  require(s.message().find('\n') == std::string::npos, "error message of more than one line",
          s.message());
  require(s.message().rfind(prefix, 0) == 0, "error message does not name the input",
          s.message());
  bool known = false;
  for (Code code : allowed) known = known || s.code() == code;
  require(known, "error with an unexpected code", s.message());
}

}  // namespace graft::fuzz

#endif  // GRAFT_TESTS_FUZZ_FUZZ_CHECK_H_
