// Tests for host/base/json_text.cpp: reading files, and JSON errors that point at
// the line and column.
#include "base/json_text.h"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "harness.h"

namespace graft {
namespace {

using test::ScratchDir;

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

BOOST_AUTO_TEST_CASE(located_json_gives_where_each_value_and_key_starts) {
  const std::string text =
      "{\n"
      "  \"tables\": {\"users\": {\"document\": {\"role\": \"string\"}}},\n"
      "  \"list\": [1, {\"x\": null}, [true]],\n"
      "  \"a\\\"b\": \"\\u00e9\\\"\", \"c/d~e\": 2, \"\u00e9\": 3}";
  auto located = parseJsonLocated(text, "f.json");
  BOOST_TEST_REQUIRE(located.ok(), located.status().message());
  BOOST_TEST(located->value.at("list").at(2).at(0) == true);
  const JsonLocator& at = located->locator;
  BOOST_TEST(at.where("") == "f.json:1:1");
  BOOST_TEST(at.where("/tables") == "f.json:2:13");
  BOOST_TEST(at.whereKey("/tables") == "f.json:2:3");
  BOOST_TEST(at.where("/tables/users/document/role") == "f.json:2:45");
  BOOST_TEST(at.whereKey("/tables/users/document/role") == "f.json:2:37");
  BOOST_TEST(at.where("/list/0") == "f.json:3:12");
  BOOST_TEST(at.whereKey("/list/0") == "f.json:3:12");
  BOOST_TEST(at.where("/list/1/x") == "f.json:3:21");
  BOOST_TEST(at.where("/list/2/0") == "f.json:3:29");
  // Keys with escapes, and "/" and "~" escaped in the pointer as RFC 6901 says.
  BOOST_TEST(at.whereKey("/a\"b") == "f.json:4:3");
  BOOST_TEST(at.where("/a\"b") == "f.json:4:11");
  BOOST_TEST(jsonPointer("", "c/d~e") == "/c~1d~0e");
  BOOST_TEST(at.where(jsonPointer("", "c/d~e")) == "f.json:4:32");
  // Columns count bytes: "\u00e9" is two bytes in UTF-8.
  BOOST_TEST(at.where("/\u00e9") == "f.json:4:41");
  // What is not there: the nearest enclosing value.
  BOOST_TEST(at.where("/tables/users/indexes/by_x") == "f.json:2:23");
  BOOST_TEST(at.where("/nothing") == "f.json:1:1");
  BOOST_TEST(at.where("no slash") == "f.json:1:1");
  BOOST_TEST(at.duplicates().empty());
}

BOOST_AUTO_TEST_CASE(located_json_counts_lines_from_first_line) {
  auto located = parseJsonLocated("[\n  {\"a\": 1}]", "f.jsonl", 7);
  BOOST_TEST_REQUIRE(located.ok(), located.status().message());
  BOOST_TEST(located->locator.where("/0/a") == "f.jsonl:8:9");
  BOOST_TEST(jsonPointer("/0", 3) == "/0/3");
}

BOOST_AUTO_TEST_CASE(located_json_lists_duplicate_keys_and_keeps_the_last_value) {
  auto located = parseJsonLocated("{\"a\": 1, \"b\": {\"x\": 1,\n \"x\": 2}, \"a\": 3}", "f.json");
  BOOST_TEST_REQUIRE(located.ok(), located.status().message());
  BOOST_TEST(located->value.at("a") == 3);
  BOOST_TEST(located->value.at("b").at("x") == 2);
  BOOST_TEST(located->locator.where("/a") == "f.json:2:16");
  const auto& dups = located->locator.duplicates();
  BOOST_TEST_REQUIRE(dups.size() == 2u);
  BOOST_TEST(dups[0].pointer == "/b/x");
  BOOST_TEST(dups[0].key == "x");
  BOOST_TEST(dups[0].where == "f.json:2:2");
  BOOST_TEST(dups[0].first == "f.json:1:16");
  BOOST_TEST(dups[1].pointer == "/a");
  BOOST_TEST(dups[1].where == "f.json:2:11");
  BOOST_TEST(dups[1].first == "f.json:1:2");
}

BOOST_AUTO_TEST_CASE(located_json_reports_syntax_errors_as_parse_json_does) {
  auto located = parseJsonLocated("{\"a\":\n  1,\n  ]}", "f.json");
  BOOST_TEST_REQUIRE(!located.ok());
  BOOST_TEST(located.status().code() == Code::kBadInput);
  BOOST_TEST(located.status().message() == "f.json:3:3: syntax error");
}

BOOST_AUTO_TEST_CASE(read_file_returns_the_bytes) {
  ScratchDir dir;
  const std::string path = dir.file("data.bin");
  const char raw[] = "line 1\r\nnul:\0:end";
  const std::string bytes(raw, sizeof raw - 1);
  test::writeFile(path, bytes);
  auto text = readFile(path);
  BOOST_TEST_REQUIRE(text.ok(), text.status().message());
  BOOST_TEST(*text == bytes);
}

BOOST_AUTO_TEST_CASE(read_file_on_a_missing_file_names_it) {
  ScratchDir dir;
  const std::string path = dir.file("missing.json");
  auto text = readFile(path);
  BOOST_TEST_REQUIRE(!text.ok());
  BOOST_TEST(text.status().code() == Code::kBadInput);
  BOOST_TEST(text.status().message() == path + ": can not open: No such file or directory");
}

// Documents as another client could store them. The table's CHECK stops
// the last four unless PRAGMA ignore_check_constraints is on, and does not
// look at UTF-8.
BOOST_AUTO_TEST_CASE(stored_bodies_are_checked_before_anything_uses_them) {
  const std::string deepest = "{\"a\":" + std::string(kMaxJsonDepth - 1, '[') +
                              std::string(kMaxJsonDepth - 1, ']') + "}";
  const std::string too_deep = "{\"a\":" + std::string(kMaxJsonDepth, '[') +
                               std::string(kMaxJsonDepth, ']') + "}";
  struct Case {
    const char* name;
    std::string body;
    std::string message;  // "" when the body is accepted
  };
  const std::vector<Case> cases = {
      {"object", R"({"a":[1,{"_id":2}],"b":"\u00e9"})", ""},
      {"white space around", " \n{}\n", ""},
      {"as deep as SQLite allows", deepest, ""},
      {"16 MB", "{\"blob\":\"" + std::string(16 << 20, 'x') + "\"}", ""},
      {"one level deeper", too_deep, "stored document nests deeper than 2000 levels"},
      {"invalid UTF-8", "{\"a\":\"x\xff\"}", "stored document is not valid JSON: invalid UTF-8 at byte 7"},
      {"overlong UTF-8", "{\"a\":\"\xc0\xaf\"}",
       "stored document is not valid JSON: invalid UTF-8 at byte 6"},
      {"not JSON", "{\"a\":1,}", "stored document is not valid JSON: syntax error at byte 7"},
      {"two values", "{} {}", "stored document is not valid JSON: extra data at byte 3"},
      {"beyond float64", "{\"a\":[1,-1e400]}",
       "stored document has a number beyond the range of a float64 (it ends before byte 14)"},
      {"array", "[{\"a\":1}]", "stored document is not a JSON object"},
      {"string", "\"{}\"", "stored document is not a JSON object"},
      {"_id in the body", R"({"a":1,"_id":5})",
       "stored document has a field _id of its own (the store assigns _id and _creationTime)"},
      {"_creationTime in the body", R"({"_creationTime":5})",
       "stored document has a field _creationTime of its own (the store assigns _id and "
       "_creationTime)"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      Status s = checkDocumentBody(c.body);
      BOOST_TEST(s.message() == c.message);
      BOOST_TEST(s.code() == (c.message.empty() ? Code::kOk : Code::kBadInput));
    }
  }
}

// Import, patches and ctx.db parse as deep as the store stores.
BOOST_AUTO_TEST_CASE(json_parses_as_deep_as_sqlite_stores) {
  const std::string deepest = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  BOOST_TEST(parseJson(deepest, "f.json").ok());
  auto too_deep = parseJson("[" + deepest + "]", "f.json");
  BOOST_TEST(too_deep.status().message() == "f.json:1:2001: too deep");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
