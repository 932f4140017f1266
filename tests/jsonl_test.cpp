// Tests for host/jsonl.cpp: importing and exporting JSON lines files, on
// real files and a real SQLite store.
#include "jsonl.h"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "sqlite_store.h"
#include "test_util.h"

namespace graft {
namespace {

using test_util::TempDir;

struct JsonlFixture {
  TempDir dir;
  std::string db_path = dir.file("graft.db");
  std::unique_ptr<SqliteStore> store = test_util::openStore(db_path);

  // Writes `text` to <dir>/<name> and imports it into `table`.
  Status importFile(const std::string& name, const std::string& text, const std::string& table,
                    int64_t* imported) {
    const std::string path = dir.file(name);
    test_util::writeFile(path, text);
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
  const std::vector<std::string> expected = {R"({"name":"ann","age":31})",
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
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      TempDir dir;
      const std::string db_path = dir.file("graft.db");
      const std::string path = dir.file("in.jsonl");
      test_util::writeFile(path, c.text);
      {
        auto store = test_util::openStore(db_path);
        std::ifstream in(path, std::ios::binary);
        int64_t imported = -1;
        Status s = importJsonLines(*store, "items", in, "in.jsonl", &imported);
        BOOST_TEST(s.code() == Code::kBadInput);
        BOOST_TEST(s.message() == c.message);
        BOOST_TEST(imported == 0);
      }
      // Looked at through a new connection: the file holds nothing of the
      // import, not even the table it would have created.
      auto reopened = test_util::openStore(db_path);
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
  std::istringstream exported(test_util::readBytes(out_path));
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
