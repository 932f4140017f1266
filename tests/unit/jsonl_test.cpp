// Tests for host/document/jsonl.cpp: importing and exporting JSON lines files, on
// real files and a real SQLite store.
#include "document/jsonl.h"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "store/store.h"
#include "harness.h"

namespace graft {
namespace {

using test::ScratchDir;

struct JsonlFixture {
  ScratchDir dir;
  std::string db_path = dir.file("graft.db");
  std::unique_ptr<Store> store = test::openStore(db_path);

  // Writes `text` to <dir>/<name> and imports it into `table`.
  Status importFile(const std::string& name, const std::string& text, const std::string& table,
                    int64_t* imported) {
    const std::string path = dir.file(name);
    test::writeFile(path, text);
    std::ifstream in(path, std::ios::binary);
    BOOST_TEST_REQUIRE(static_cast<bool>(in));
    return importJsonLines(*store, table, in, name, imported);
  }

  std::vector<std::string> bodies(const std::string& table) {
    std::vector<std::string> out;
    Status s = store->forEach(table, [&](const Document& doc) {
      out.push_back(doc.body);
      return true;
    });
    BOOST_TEST_REQUIRE(s.ok(), s.message());
    return out;
  }
};

BOOST_AUTO_TEST_SUITE(jsonl)

BOOST_FIXTURE_TEST_CASE(import_a_good_file, JsonlFixture) {
  int64_t imported = -1;
  Status s = importFile("people.jsonl",
                        "{\"name\": \"ann\", \"age\": 31}\n"
                        "{\"name\":\"bob\",\"tags\":[\"x\"],\"boss\":null}\n"
                        "{}\n",
                        "people", &imported);
  BOOST_TEST_REQUIRE(s.ok(), s.message());
  BOOST_TEST(imported == 3);
  // Stored as the lines give them, spaces between members included.
  const std::vector<std::string> expected = {R"({"name": "ann", "age": 31})",
                                             R"({"name":"bob","tags":["x"],"boss":null})", "{}"};
  BOOST_TEST(bodies("people") == expected, boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(import_skips_blank_lines, JsonlFixture) {
  int64_t imported = -1;
  Status s = importFile("in.jsonl", "\n  \n{\"a\":1}\r\n\t\r\n\n{\"a\":2}", "items", &imported);
  BOOST_TEST_REQUIRE(s.ok(), s.message());
  BOOST_TEST(imported == 2);
  const std::vector<std::string> expected = {R"({"a":1})", R"({"a":2})"};
  BOOST_TEST(bodies("items") == expected, boost::test_tools::per_element());
}

// A document means after import what its line said: Boost.JSON 1.81 would
// write 2.5 back as 2.5E0 and read some 17-digit decimals one ulp off, so
// the line's own text is what is stored.
BOOST_FIXTURE_TEST_CASE(import_keeps_every_number_as_written, JsonlFixture) {
  const std::vector<std::string> lines = {
      R"({"a":2.5,"b":1.0,"c":980.1748474925821,"d":-0.0,"e":1e-7,"f":1E+2})",
      R"({"big":123456789012345678901234567890,"i":-9223372036854775808,"u":18446744073709551615})",
      R"({"nested":{"x":[0.1,2.0,{"y":94.0000000001658565506}]},"s":"2.5"})",
      R"({ "spaced" : 1.50 , "k\"q":0.30000000000000004 })",
  };
  std::string text;
  for (const auto& line : lines) text += line + "\n";
  int64_t imported = -1;
  Status s = importFile("in.jsonl", text, "items", &imported);
  BOOST_TEST_REQUIRE(s.ok(), s.message());
  BOOST_TEST(imported == 4);
  std::vector<std::string> expected = lines;
  expected.back() = R"({"spaced" : 1.50 , "k\"q":0.30000000000000004})";
  BOOST_TEST(bodies("items") == expected, boost::test_tools::per_element());
}

// Windows editors start a UTF-8 file with a byte order mark: it is not part
// of the first document.
BOOST_FIXTURE_TEST_CASE(import_skips_a_byte_order_mark, JsonlFixture) {
  int64_t imported = -1;
  Status s = importFile("in.jsonl", "\xEF\xBB\xBF{\"a\":1}\n{\"a\":2}\n", "items", &imported);
  BOOST_TEST_REQUIRE(s.ok(), s.message());
  const std::vector<std::string> expected = {R"({"a":1})", R"({"a":2})"};
  BOOST_TEST(bodies("items") == expected, boost::test_tools::per_element());
}

struct BadImport {
  const char* name;
  const char* text;
  const char* message;
};

BOOST_AUTO_TEST_CASE(a_bad_line_imports_nothing) {
  const std::vector<BadImport> cases = {
      {"bad JSON on line 3", "{\"a\":1}\n{\"a\":2}\n{\"a\": }\n{\"a\":4}\n",
       "import: in.jsonl:3:7: syntax error"},
      {"a line with _id", "{\"a\":1}\n{\"_id\":5,\"a\":2}\n",
       "import: in.jsonl:2: document sets _id: _id and _creationTime are assigned by the store "
       "(remove _id and _creationTime from the input)"},
      {"a line with _creationTime", "{\"a\":1,\"_creationTime\":1.5}\n",
       "import: in.jsonl:1: document sets _creationTime: _id and _creationTime are assigned by "
       "the store (remove _id and _creationTime from the input)"},
      {"a line that is not an object", "{\"a\":1}\n\n[1,2]\n",
       "import: in.jsonl:3: not a JSON object (each line is one document)"},
      // Found by tests/fuzz/jsonl_fuzz: Boost.JSON reads 1e400 as infinity
      // and would write Infinity, which the table's CHECK refuses.
      {"a number beyond float64", "{\"a\":1}\n{\"n\":1e400}\n",
       "import: in.jsonl:2: document has a number beyond the range of a float64 (documents hold "
       "float64 and int64 numbers)"},
      // Boost.JSON keeps the last of two members, SQLite's JSON functions
      // (so the schema's triggers) the first: which one would a reader see?
      {"a key given twice", "{\"a\":1}\n{\"a\":1,\"b\":2,\"a\":3}\n",
       "import: in.jsonl:2:14: key \"a\" given twice (first at in.jsonl:2:2): a document holds "
       "each key once"},
      {"a nested key given twice", "{\"a\":{\"x\":[{\"k\":1,\"k\":1}]}}\n",
       "import: in.jsonl:1:19: key \"k\" given twice (first at in.jsonl:1:13): a document holds "
       "each key once"},
      {"invalid UTF-8", "{\"a\":1}\n{\"name\":\"caf\xE9\"}\n",
       "import: in.jsonl:2:13: invalid UTF-8 (byte 0xE9; save the file as UTF-8)"},
      {"a byte order mark after the first line", "{\"a\":1}\n\xEF\xBB\xBF{\"a\":2}\n",
       "import: in.jsonl:2:1: invalid UTF-8 (byte 0xEF; save the file as UTF-8)"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      ScratchDir dir;
      const std::string db_path = dir.file("graft.db");
      const std::string path = dir.file("in.jsonl");
      test::writeFile(path, c.text);
      {
        auto store = test::openStore(db_path);
        std::ifstream in(path, std::ios::binary);
        int64_t imported = -1;
        Status s = importJsonLines(*store, "items", in, "in.jsonl", &imported);
        BOOST_TEST(s.code() == Code::kBadInput);
        BOOST_TEST(s.message() == c.message);
        BOOST_TEST(imported == 0);
      }
      // Looked at through a new connection: the file holds nothing of the
      // import, not even the table it would have created.
      auto reopened = test::openStore(db_path);
      auto has = reopened->hasTable("items");
      BOOST_TEST_REQUIRE(has.ok(), has.status().message());
      BOOST_TEST(!*has);
    }
  }
}

// The same store object is used again after a failed import that had created
// the table: it must not believe the rolled-back table still exists.
BOOST_FIXTURE_TEST_CASE(an_import_can_be_retried_on_the_same_store, JsonlFixture) {
  int64_t imported = -1;
  Status s = importFile("bad.jsonl", "{\"a\":1}\n{\"a\":\n", "people", &imported);
  BOOST_TEST(s.code() == Code::kBadInput);
  auto has = store->hasTable("people");
  BOOST_TEST_REQUIRE(has.ok());
  BOOST_TEST(!*has);
  s = importFile("good.jsonl", "{\"a\":1}\n{\"a\":2}\n", "people", &imported);
  BOOST_TEST_REQUIRE(s.ok(), s.message());
  BOOST_TEST(imported == 2);
  BOOST_TEST(bodies("people") == (std::vector<std::string>{"{\"a\":1}", "{\"a\":2}"}),
             boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(a_failed_import_leaves_an_existing_table_as_it_was, JsonlFixture) {
  int64_t imported = -1;
  BOOST_TEST_REQUIRE(importFile("first.jsonl", "{\"a\":1}\n", "items", &imported).ok());
  Status s = importFile("second.jsonl", "{\"a\":2}\n{\"a\":3}\nnope\n", "items", &imported);
  BOOST_TEST(s.message() == "import: second.jsonl:3:1: syntax error");
  BOOST_TEST(imported == 0);
  const std::vector<std::string> expected = {R"({"a":1})"};
  BOOST_TEST(bodies("items") == expected, boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(import_into_a_reserved_table_is_refused, JsonlFixture) {
  int64_t imported = -1;
  Status s = importFile("in.jsonl", "{\"a\":1}\n", "graft_meta", &imported);
  BOOST_TEST(s.code() == Code::kBadInput);
  BOOST_TEST(s.message() ==
             "import: table \"graft_meta\" is reserved for graft (names starting with migration_, "
             "graft_ or sqlite_)");
  BOOST_TEST(imported == 0);
}

BOOST_FIXTURE_TEST_CASE(export_round_trip, JsonlFixture) {
  const std::vector<std::string> lines = {R"({"name":"ann","age":31})",
                                          R"({"name":"bob","tags":["x"],"boss":null})",
                                          R"({"nested":{"k":[1,2.5,"three"]}})"};
  std::string text;
  for (const auto& line : lines) text += line + "\n";
  int64_t imported = -1;
  BOOST_TEST_REQUIRE(importFile("in.jsonl", text, "people", &imported).ok());
  BOOST_TEST_REQUIRE(store->remove("people", 2).value());

  const std::string out_path = dir.file("out.jsonl");
  {
    std::ofstream out(out_path, std::ios::binary);
    Status s = exportJsonLines(*store, "people", out);
    BOOST_TEST_REQUIRE(s.ok(), s.message());
  }
  std::istringstream exported(test::readBytes(out_path));
  std::vector<boost::json::object> docs;
  for (std::string line; std::getline(exported, line);)
    docs.push_back(boost::json::parse(line).as_object());
  BOOST_TEST_REQUIRE(docs.size() == 2u);

  // Each line is the document with its _id and _creationTime, in _id order;
  // without those two it is the line that was imported.
  const std::vector<std::pair<int64_t, std::string>> expected = {{1, lines[0]}, {3, lines[2]}};
  for (size_t i = 0; i < docs.size(); ++i) {
    BOOST_TEST_CONTEXT("line " << i + 1) {
      boost::json::object doc = docs[i];
      BOOST_TEST(doc.at("_id") == boost::json::value(expected[i].first));
      BOOST_TEST(doc.at("_creationTime").is_number());
      doc.erase("_id");
      doc.erase("_creationTime");
      BOOST_TEST(boost::json::value(doc) == boost::json::parse(expected[i].second));
    }
  }
}

BOOST_FIXTURE_TEST_CASE(export_of_a_missing_table, JsonlFixture) {
  std::ostringstream out;
  Status s = exportJsonLines(*store, "nope", out);
  BOOST_TEST(s.code() == Code::kBadInput);
  BOOST_TEST(s.message() == "export: table \"nope\" does not exist in " + db_path);
  BOOST_TEST(out.str().empty());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
