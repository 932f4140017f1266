// Tests for host/schema/schema_sql.cpp: the SQL form of validators, which
// triggers evaluate for writes from any SQLite client and which must agree
// with the C++ validator (schema.cpp) on every document. schema_test.cpp
// checks both on its semantics table and on random documents; these cases
// aim at what only the SQL side can get wrong: quoting, JSON text held in
// a string, rows of json_each, non-objects, and the column it reads.
#include <sqlite3.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "harness.h"
#include "schema/schema.h"

namespace graft {
namespace {

namespace json = boost::json;

// An in-memory database to evaluate expressions over one bound text.
class Sql {
 public:
  Sql() { BOOST_TEST_REQUIRE(sqlite3_open(":memory:", &db_) == SQLITE_OK); }
  ~Sql() { sqlite3_close(db_); }
  Sql(const Sql&) = delete;
  Sql& operator=(const Sql&) = delete;

  // The value of `expr` with `column` bound to `text`; "" and *error set
  // when SQLite fails, "NULL" for NULL.
  std::string eval(const std::string& expr, const std::string& text, std::string* error = nullptr,
                   const std::string& column = "body") {
    const std::string sql = "SELECT " + expr + " FROM (SELECT ?1 AS " + column + ")";
    sqlite3_stmt* stmt = nullptr;
    BOOST_TEST_REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK,
                       sqlite3_errmsg(db_) << " in " << sql);
    sqlite3_bind_text(stmt, 1, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    std::string out;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* value = sqlite3_column_text(stmt, 0);
      out = value ? reinterpret_cast<const char*>(value) : "NULL";
    } else if (error) {
      *error = sqlite3_errmsg(db_);
    } else {
      BOOST_TEST_FAIL(sqlite3_errmsg(db_) << " for " << text);
    }
    sqlite3_finalize(stmt);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

TableSchema tableOf(const std::string& fields) {
  auto v = parseValidator(json::parse("{\"object\": " + fields + "}"), "test");
  BOOST_TEST_REQUIRE(v.ok(), v.status().message());
  TableSchema table;
  table.name = "t";
  table.document = std::move(v).value();
  return table;
}

// Both SQL forms and C++ on one body: the verdict, "1" valid, "0" not.
std::string verdicts(Sql& sql, const TableSchema& table, const std::string& body) {
  const auto why = validateDocument(table.document, json::parse(body).as_object());
  const std::string cpp = why ? "0" : "1";
  const std::string whole = sql.eval(sqlCheckDocument(table.document, "body"), body);
  bool all = true;
  for (const auto& [expr, message] : sqlFieldChecks(table, "body"))
    all = sql.eval(expr, body) == "1" && all;
  BOOST_TEST(whole == cpp, "sqlCheckDocument " << whole << ", C++ " << why.value_or("ok"));
  BOOST_TEST((all ? "1" : "0") == cpp, "sqlFieldChecks " << all << ", C++ " << why.value_or("ok"));
  return cpp;
}

BOOST_AUTO_TEST_SUITE(schema_sql)

BOOST_AUTO_TEST_CASE(string_literals_double_their_quotes_and_read_back) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "''"},       {"abc", "'abc'"},   {"l'été", "'l''été'"},
      {"''", "''''''"}, {"a\"b", "'a\"b'"}, {"'); DROP TABLE t; --", "'''); DROP TABLE t; --'"},
  };
  Sql sql;
  for (const auto& [text, literal] : cases) {
    BOOST_TEST_CONTEXT(text) {
      BOOST_TEST(sqlStringLiteral(text) == literal);
      BOOST_TEST(sql.eval(sqlStringLiteral(text), "") == text);
    }
  }
}

struct Case {
  const char* fields;
  const char* body;
  const char* valid;  // "1" or "0"
};

BOOST_AUTO_TEST_CASE(sql_and_cpp_agree_where_sql_could_go_wrong) {
  const std::vector<Case> cases = {
      // JSON text held in a string is a string, not what it spells.
      {R"({"a": {"array": "int64"}})", R"({"a": "[1, 2]"})", "0"},
      {R"({"a": {"array": "int64"}})", R"({"a": [1, 2]})", "1"},
      {R"({"o": {"object": {}}})", R"({"o": "{}"})", "0"},
      {R"({"r": {"record": ["string", "int64"]}})", R"({"r": "{\"a\": 1}"})", "0"},
      {R"({"s": "string"})", R"({"s": "{\"x\": 1}"})", "1"},
      {R"({"s": "string"})", R"({"s": {"x": 1}})", "0"},
      // Keys with quotes, dots, brackets and dollars, read through json_each.
      {R"({"r": {"record": ["string", "int64"]}})", R"({"r": {"a.b": 1, "c[0]": 2, "$": 3}})", "1"},
      {R"({"r": {"record": ["string", "int64"]}})", R"({"r": {"q\"uote": 1, "x'y": 2.5}})", "0"},
      {R"({"r": {"record": [{"literal": "a.b"}, "int64"]}})", R"({"r": {"a.b": 1}})", "1"},
      {R"({"r": {"record": [{"literal": "a.b"}, "int64"]}})", R"({"r": {"a": {"b": 1}}})", "0"},
      // Array rows of every JSON type against a union.
      {R"({"a": {"array": {"union": ["null", "boolean", "string"]}}})",
       R"({"a": [null, true, false, "x"]})", "1"},
      {R"({"a": {"array": {"union": ["null", "boolean", "string"]}}})", R"({"a": [null, 0]})", "0"},
      {R"({"a": {"array": {"array": {"object": {"k": "int64"}}}}})",
       R"({"a": [[{"k": 1}], [], [{"k": 2}, {"k": 3}]]})", "1"},
      {R"({"a": {"array": {"array": {"object": {"k": "int64"}}}}})",
       R"({"a": [[{"k": 1}], [{"k": 2, "j": 3}]]})", "0"},
      // Unicode escapes are the same text as the characters.
      {R"({"v": {"literal": "é"}})", R"({"v": "\u00e9"})", "1"},
      {R"({"r": {"record": [{"literal": "é"}, "int64"]}})", R"({"r": {"\u00e9": 1}})", "1"},
      {R"({"r": {"record": [{"literal": "é"}, "int64"]}})", R"({"r": {"e": 1}})", "0"},
      // Integers past int64 are floats on both sides.
      {R"({"n": "int64"})", R"({"n": 18446744073709551615})", "0"},
      {R"({"n": "number"})", R"({"n": 18446744073709551615})", "1"},
      {R"({"v": {"literal": -1.5}})", R"({"v": -1.5})", "1"},
      {R"({"v": {"literal": -1.5}})", R"({"v": -1.25})", "0"},
      // Empty containers, and fields only allowed where declared.
      {R"({"a": {"array": "int64"}, "o": {"object": {}}})", R"({"a": [], "o": {}})", "1"},
      {R"({"o": {"object": {"x": {"optional": "int64"}}}})", R"({"o": {}})", "1"},
      {R"({"o": {"object": {"x": {"optional": "int64"}}}})", R"({"o": {"x": null}})", "0"},
      {R"({"o": {"object": {}}})", R"({"o": {"_id": 1}})", "0"},
  };
  Sql sql;
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.fields << " / " << c.body) {
      BOOST_TEST(verdicts(sql, tableOf(c.fields), c.body) == c.valid);
    }
  }
}

// A body that is JSON but not an object fails, and is never NULL (a NULL
// in a trigger's WHERE NOT (...) would let it through).
BOOST_AUTO_TEST_CASE(a_body_that_is_not_an_object_fails_and_never_is_null) {
  const TableSchema table = tableOf(R"({"a": {"optional": "any"}})");
  Sql sql;
  for (const char* body : {"[1]", "[]", "\"text\"", "1", "null", "true"}) {
    BOOST_TEST_CONTEXT(body) {
      BOOST_TEST(sql.eval(sqlCheckDocument(table.document, "body"), body) == "0");
      BOOST_TEST(sql.eval(sqlFieldChecks(table, "body").front().first, body) == "0");
    }
  }
  BOOST_TEST(sql.eval(sqlCheckDocument(table.document, "body"), "{}") == "1");
}

BOOST_AUTO_TEST_CASE(a_body_that_is_not_json_makes_sqlite_raise) {
  const TableSchema table = tableOf(R"({"a": "int64"})");
  Sql sql;
  std::string error;
  sql.eval(sqlCheckDocument(table.document, "body"), "{not json", &error);
  BOOST_TEST(error == "malformed JSON");
}

BOOST_AUTO_TEST_CASE(field_checks_are_the_shape_then_one_per_field_with_its_message) {
  const TableSchema table = tableOf(R"({"name": "string", "role": {"optional": {"literal": "o'k"}},
                  "tags": {"array": "string"}})");
  const auto checks = sqlFieldChecks(table, "body");
  BOOST_TEST_REQUIRE(checks.size() == 4u);
  BOOST_TEST(checks[0].second ==
             "t: document must be an object with only the fields in the schema (\"name\", "
             "\"role\", \"tags\")");
  BOOST_TEST(checks[1].second == "t: field \"name\" must be string");
  BOOST_TEST(checks[2].second == "t: field \"role\" must be optional(literal(\"o'k\"))");
  BOOST_TEST(checks[3].second == "t: field \"tags\" must be array(string)");
  // Each fails alone on the body that breaks just its rule.
  Sql sql;
  const std::vector<std::pair<std::string, size_t>> broken = {
      {R"({"name": "a", "tags": [], "extra": 1})", 0},
      {R"({"tags": []})", 1},
      {R"({"name": "a", "role": "ok", "tags": []})", 2},
      {R"({"name": "a", "tags": [1]})", 3},
  };
  for (const auto& [body, failing] : broken) {
    BOOST_TEST_CONTEXT(body) {
      for (size_t i = 0; i < checks.size(); ++i)
        BOOST_TEST(sql.eval(checks[i].first, body) == (i == failing ? "0" : "1"), "check " << i);
    }
  }
}

// Triggers read NEW.body, tests a bound column: the expression reads the
// column it is given and no other.
BOOST_AUTO_TEST_CASE(the_checks_read_the_column_they_are_given) {
  const TableSchema table = tableOf(R"({"n": "int64"})");
  const std::string expr = sqlCheckDocument(table.document, "doc");
  BOOST_TEST(expr.find("body") == std::string::npos, expr);
  Sql sql;
  BOOST_TEST(sql.eval(expr, R"({"n": 1})", nullptr, "doc") == "1");
  BOOST_TEST(sql.eval(expr, R"({"n": "1"})", nullptr, "doc") == "0");
  for (const auto& [check, message] : sqlFieldChecks(table, "doc"))
    BOOST_TEST(check.find("body") == std::string::npos, check);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
