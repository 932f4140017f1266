// Tests for host/json_text.cpp: reading files, and JSON errors that point at
// the line and column.
#include "json_text.h"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "test_util.h"

namespace graft {
namespace {

using test_util::TempDir;

BOOST_AUTO_TEST_SUITE(json_text)

BOOST_AUTO_TEST_CASE(parses_one_value_with_surrounding_white_space) {
  auto value = parseJson(" \n{\"a\": [1, 2.5, \"x\", null]}\r\n\t\n", "f.json");
  BOOST_TEST_REQUIRE(value.ok(), value.status().message());
  BOOST_TEST(*value == boost::json::parse(R"({"a":[1,2.5,"x",null]})"));
}

struct BadJson {
  const char* name;
  std::string text;
  int64_t first_line;  // where `text` starts in its source
  std::string message;
};

BOOST_AUTO_TEST_CASE(errors_give_line_and_column) {
  const std::vector<BadJson> cases = {
      {"first line", R"({"a" 1})", 1, "f.json:1:6: syntax error"},
      {"later line", "{\"a\":\n  1,\n  ]}", 1, "f.json:3:3: syntax error"},
      {"cut short", R"({"a":1)", 1, "f.json:1:7: incomplete JSON"},
      {"cut short after newlines", "[1,\n2,\n", 1, "f.json:3:1: incomplete JSON"},
      {"empty text", "", 1, "f.json:1:1: incomplete JSON"},
      {"only white space", "  \n", 1, "f.json:2:1: incomplete JSON"},
      {"a line of a JSON lines file", "{bad}", 4, "f.json:4:2: syntax error"},
      {"a later line of a text starting at line 10", "[\n\n  1 1]", 10,
       "f.json:12:5: syntax error"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      auto value = parseJson(c.text, "f.json", c.first_line);
      BOOST_TEST_REQUIRE(!value.ok());
      BOOST_TEST(value.status().code() == Code::kBadInput);
      BOOST_TEST(value.status().message() == c.message);
    }
  }
}

BOOST_AUTO_TEST_CASE(trailing_garbage_is_an_error_at_its_position) {
  const std::vector<BadJson> cases = {
      {"after a space", R"({"a":1} x)", 1, "f.json:1:9: "},
      {"right after the value", R"({"a":1}x)", 1, "f.json:1:8: "},
      {"a second value on a later line", "{\"a\":1}\n\n  {}", 1, "f.json:3:3: "},
      {"a second number", "1 2", 7, "f.json:7:3: "},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      auto value = parseJson(c.text, "f.json", c.first_line);
      BOOST_TEST_REQUIRE(!value.ok());
      BOOST_TEST(value.status().code() == Code::kBadInput);
      BOOST_TEST(value.status().message() == c.message + "extra data");
    }
  }
}

BOOST_AUTO_TEST_CASE(read_file_returns_the_bytes) {
  TempDir dir;
  const std::string path = dir.file("data.bin");
  const char raw[] = "line 1\r\nnul:\0:end";
  const std::string bytes(raw, sizeof raw - 1);
  test_util::writeFile(path, bytes);
  auto text = readFile(path);
  BOOST_TEST_REQUIRE(text.ok(), text.status().message());
  BOOST_TEST(*text == bytes);
}

BOOST_AUTO_TEST_CASE(read_file_on_a_missing_file_names_it) {
  TempDir dir;
  const std::string path = dir.file("missing.json");
  auto text = readFile(path);
  BOOST_TEST_REQUIRE(!text.ok());
  BOOST_TEST(text.status().code() == Code::kBadInput);
  BOOST_TEST(text.status().message() == path + ": can not open: No such file or directory");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
