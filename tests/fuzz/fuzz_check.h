// fuzz_check.h -- what every fuzz target asserts besides "no crash": an
// invariant that fails aborts, so libFuzzer keeps the input as a crash.
#ifndef GRAFT_TESTS_FUZZ_FUZZ_CHECK_H_
#define GRAFT_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>
#include <string>

#include "status.h"

namespace graft::fuzz {

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
