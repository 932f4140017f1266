// Tests for host/base/status.cpp and status.h: error kinds, the exit code
// each one is documented as, and the values that carry them.
#include "base/status.h"

#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "harness.h"

namespace graft {
namespace {

BOOST_AUTO_TEST_SUITE(status)

// The README's exit-code table: scripts branch on these numbers, so a
// renumbered kind breaks them.
BOOST_AUTO_TEST_CASE(every_code_maps_to_its_documented_exit_code) {
  struct Case {
    const char* name;
    Code code;
    int exit_code;
  };
  const std::vector<Case> cases = {
      {"ok", Code::kOk, 0},
      {"migration failed", Code::kMigrationFailed, 1},
      {"usage", Code::kUsage, 2},
      {"bad input", Code::kBadInput, 3},
      {"plugin", Code::kPlugin, 4},
      {"store", Code::kStore, 5},
      {"canceled", Code::kCanceled, 6},
      {"busy", Code::kBusy, 7},
      {"drift", Code::kDrift, 8},
      {"schema", Code::kSchema, 9},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) { BOOST_TEST(exitCode(c.code) == c.exit_code); }
  }
}

BOOST_AUTO_TEST_CASE(a_default_status_is_ok_and_says_nothing) {
  const Status s;
  BOOST_TEST(s.ok());
  BOOST_TEST(s.code() == Code::kOk);
  BOOST_TEST(s.message() == "");
  BOOST_TEST(Status::Ok().ok());
  BOOST_TEST(Status::Ok().message() == "");
}

BOOST_AUTO_TEST_CASE(an_error_keeps_its_code_and_message) {
  const Status s(Code::kStore, "database a.db: disk I/O error");
  BOOST_TEST(!s.ok());
  BOOST_TEST(s.code() == Code::kStore);
  BOOST_TEST(s.message() == "database a.db: disk I/O error");
}

BOOST_AUTO_TEST_CASE(prefixed_puts_context_before_the_message_and_keeps_the_code) {
  const Status s = Status(Code::kPlugin, "no up step").prefixed("plugin a.so");
  BOOST_TEST(s.code() == Code::kPlugin);
  BOOST_TEST(s.message() == "plugin a.so: no up step");
  // Prefixes nest outermost first, as messages read.
  BOOST_TEST(s.prefixed("up").message() == "up: plugin a.so: no up step");
  // The original is a value: prefixing a copy leaves it as it was.
  const Status original(Code::kBusy, "already running");
  (void)original.prefixed("x");
  BOOST_TEST(original.message() == "already running");
}

BOOST_AUTO_TEST_CASE(prefixed_leaves_ok_alone) {
  const Status s = Status::Ok().prefixed("plugin a.so");
  BOOST_TEST(s.ok());
  BOOST_TEST(s.message() == "");
}

BOOST_AUTO_TEST_CASE(a_result_holds_a_value_or_the_status_that_explains_its_absence) {
  Result<std::string> value(std::string("text"));
  BOOST_TEST(value.ok());
  BOOST_TEST(value.status().ok());
  BOOST_TEST(*value == "text");
  BOOST_TEST(value->size() == 4u);
  value.value() += "!";
  BOOST_TEST(value.value() == "text!");
  BOOST_TEST(std::move(value).value() == "text!");

  const Result<std::string> error(Status(Code::kBadInput, "line 3: not JSON"));
  BOOST_TEST(!error.ok());
  BOOST_TEST(error.status().code() == Code::kBadInput);
  BOOST_TEST(error.status().message() == "line 3: not JSON");
}

Status failsWith(Code code, int* reached) {
  GRAFT_RETURN_IF_ERROR(Status::Ok());
  ++*reached;
  GRAFT_RETURN_IF_ERROR(Status(code, "stopped here"));
  ++*reached;
  return Status::Ok();
}

BOOST_AUTO_TEST_CASE(return_if_error_returns_the_first_error_and_nothing_after_it) {
  int reached = 0;
  const Status s = failsWith(Code::kDrift, &reached);
  BOOST_TEST(reached == 1);
  BOOST_TEST(s.code() == Code::kDrift);
  BOOST_TEST(s.message() == "stopped here");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
