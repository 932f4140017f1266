// Tests for host/document/body_scan.cpp: the one-pass check of stored bodies and the
// members it finds. json_text_test holds checkDocumentBody's messages; the
// patch fuzz target compares the scan with Boost.JSON's parser.
#include "document/body_scan.h"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "base/json_text.h"

namespace graft {
namespace {

// "key@begin..end" for each member, with the value's text.
std::vector<std::string> describe(std::string_view body, const std::vector<BodyMember>& members) {
  std::vector<std::string> out;
  for (const BodyMember& m : members) {
    out.push_back(std::string(m.key) + "@" + std::to_string(m.begin) + ".." +
                  std::to_string(m.end) + "=" +
                  std::string(body.substr(m.value_begin, m.end - m.value_begin)));
  }
  return out;
}

BOOST_AUTO_TEST_SUITE(body_scan)

BOOST_AUTO_TEST_CASE(finds_the_members_of_a_body_it_accepts) {
  const std::string body =
      " {\"name\":\"Zo\xc3\xab\", \"n\" : -0.5 ,\"tags\":[\"a\",{\"b\\\"\":null}],\"ok\":true}\n";
  CheckedBody checked;
  BOOST_TEST_REQUIRE(scanDocumentBody(body, &checked));
  BOOST_TEST(checked.text == body);
  const std::vector<std::string> expected = {"name@2..15=\"Zo\xc3\xab\"", "n@17..27=-0.5",
                                             "tags@29..54=[\"a\",{\"b\\\"\":null}]",
                                             "ok@55..64=true"};
  BOOST_TEST(describe(body, checked.members) == expected, boost::test_tools::per_element());
  std::vector<BodyMember> listed;
  listMembers(body, &listed);
  BOOST_TEST(describe(body, listed) == expected, boost::test_tools::per_element());

  BOOST_TEST_REQUIRE(scanDocumentBody("{}", &checked));
  BOOST_TEST(checked.members.empty());
}

// What the scan leaves to Boost.JSON: the body is valid, and
// checkDocumentBody still lists its members.
BOOST_AUTO_TEST_CASE(leaves_unusual_valid_bodies_to_the_parser) {
  const std::string deep = std::string(64, '[') + std::string(64, ']');
  const std::string digits(301, '9');
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"a\"b":1,"c":2})", "a\"b"},       {R"({"a":1e5,"c":2})", "a"},
      {R"({"a":-2E-3,"c":2})", "a"},         {R"({"a":"\ud83d\ude00","c":2})", "a"},
      {"{\"a\":" + deep + ",\"c\":2}", "a"}, {"{\"a\":" + digits + ",\"c\":2}", "a"},
  };
  for (const auto& [body, first_key] : cases) {
    BOOST_TEST_CONTEXT(body.substr(0, 40)) {
      CheckedBody checked;
      BOOST_TEST(!scanDocumentBody(body, &checked));
      BOOST_TEST_REQUIRE(checkDocumentBody(body, &checked).ok());
      BOOST_TEST_REQUIRE(checked.members.size() == 2u);
      BOOST_TEST(checked.members[0].key == first_key);
      BOOST_TEST(checked.members[1].key == "c");
      BOOST_TEST(body.substr(checked.members[1].value_begin) == "2}");
    }
  }
}

// A body the scan accepts is one the parser accepts: these it must refuse.
BOOST_AUTO_TEST_CASE(refuses_what_the_parser_refuses) {
  const std::vector<std::string> bodies = {
      "",
      "[]",
      "{\"a\":1,}",
      "{\"a\" 1}",
      "{\"a\":01}",
      "{\"a\":1.}",
      "{\"a\":.5}",
      "{\"a\":+1}",
      "{\"a\":tru}",
      "{\"a\":\"x\ty\"}",
      "{\"a\":\"\\x\"}",
      "{\"a\":\"\\u12g4\"}",
      "{\"a\":\"\xc0\xaf\"}",          // overlong
      "{\"a\":\"\xed\xa0\x80\"}",      // a surrogate in UTF-8
      "{\"a\":\"\xf4\x90\x80\x80\"}",  // beyond U+10FFFF
      "{\"a\":\"\xe6\x97\"}",          // cut short
      "{\"a\":1} {}",
      "{\"_id\":1}",
      "{\"_creationTime\":1}",
  };
  for (const std::string& body : bodies) {
    BOOST_TEST_CONTEXT(body) {
      CheckedBody checked;
      BOOST_TEST(!scanDocumentBody(body, &checked));
      BOOST_TEST(!checkDocumentBodyByParsing(body).ok());
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
