// Tests for host/schema/schema.cpp: the schema file, validation reasons, and the SQL
// form of each validator, which must agree with the C++ one on every document.
#include "schema/schema.h"

#include <sqlite3.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "harness.h"
#include "schema_cases.h"

namespace graft {
namespace {

namespace json = boost::json;

// A document validator from the JSON of its fields, {"name": "string", ...}.
Validator documentOf(const std::string& fields) {
  auto v = parseValidator(json::parse("{\"object\": " + fields + "}"), "test");
  BOOST_TEST_REQUIRE(v.ok(), v.status().message());
  return std::move(v).value();
}

// An in-memory SQLite database that evaluates the SQL checks against the
// same JSON text the C++ validator sees.
class SqlEval {
 public:
  SqlEval() { BOOST_TEST_REQUIRE(sqlite3_open(":memory:", &db_) == SQLITE_OK); }
  ~SqlEval() { sqlite3_close(db_); }
  SqlEval(const SqlEval&) = delete;
  SqlEval& operator=(const SqlEval&) = delete;

  sqlite3* db() { return db_; }

  // `expr` over the column `body`; fails the test on an error or a NULL.
  bool eval(const std::string& expr, const std::string& body) {
    const std::string sql = "SELECT " + expr + " FROM (SELECT ?1 AS body)";
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr);
    BOOST_TEST_REQUIRE(rc == SQLITE_OK, sqlite3_errmsg(db_) << " in " << sql);
    sqlite3_bind_text(stmt, 1, body.data(), static_cast<int>(body.size()), SQLITE_TRANSIENT);
    rc = sqlite3_step(stmt);
    BOOST_TEST_REQUIRE(rc == SQLITE_ROW, sqlite3_errmsg(db_) << " for " << body);
    BOOST_TEST_REQUIRE(sqlite3_column_type(stmt, 0) == SQLITE_INTEGER, "NULL for " << body);
    const bool result = sqlite3_column_int64(stmt, 0) != 0;
    sqlite3_finalize(stmt);
    return result;
  }

  void exec(const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    std::string message = err ? err : "";
    sqlite3_free(err);
    BOOST_TEST_REQUIRE(rc == SQLITE_OK, message << " in " << sql);
  }

  // Runs `sql`; "" when it succeeds, else SQLite's message.
  std::string tryExec(const std::string& sql) {
    char* err = nullptr;
    sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    std::string message = err ? err : "";
    sqlite3_free(err);
    return message;
  }

 private:
  sqlite3* db_ = nullptr;
};

// C++ and SQL must give the same verdict; returns the C++ reason ("" if ok).
std::string validateBoth(SqlEval& sql, const Validator& document, const std::string& body) {
  const json::value parsed = json::parse(body);
  auto why = validateDocument(document, parsed.as_object());
  const bool valid = !why.has_value();
  BOOST_TEST(sql.eval(sqlCheckDocument(document, "body"), body) == valid,
             "sqlCheckDocument disagrees on " << body << " (C++: " << why.value_or("ok") << ")");
  TableSchema table;
  table.name = "t";
  table.document = document;
  bool all = true;
  for (const auto& [expr, message] : sqlFieldChecks(table, "body"))
    all = sql.eval(expr, body) && all;
  BOOST_TEST(all == valid,
             "sqlFieldChecks disagree on " << body << " (C++: " << why.value_or("ok") << ")");
  return why.value_or("");
}

using Case = test::SchemaCase;

BOOST_AUTO_TEST_SUITE(schema)

const std::vector<Case>& semanticsCases() { return test::schemaSemanticsCases(); }

BOOST_AUTO_TEST_CASE(validator_semantics_and_sql_agree) {
  SqlEval sql;
  for (const auto& c : semanticsCases()) {
    BOOST_TEST_CONTEXT(c.fields << " / " << c.document) {
      BOOST_TEST(validateBoth(sql, documentOf(c.fields), c.document) == c.reason);
    }
  }
}

BOOST_AUTO_TEST_CASE(validate_value_uses_the_path_it_is_given) {
  auto v = parseValidator(json::parse(R"({"array": "int64"})"), "m1");
  BOOST_TEST_REQUIRE(v.ok(), v.status().message());
  BOOST_TEST(validateValue(*v, json::parse("[1, 2]"), "\"ids\"").value_or("ok") == "ok");
  BOOST_TEST(validateValue(*v, json::parse("[1, 2.5]"), "\"ids\"").value_or("ok") ==
             R"(field "ids"[1]: expected int64, got 2.5)");
  BOOST_TEST(validateValue(*v, json::parse("1"), "").value_or("ok") ==
             "expected array(int64), got 1");
}

struct BadSchema {
  const char* name;
  std::string text;
  std::string message;
};

BOOST_AUTO_TEST_CASE(parse_errors_give_line_and_column) {
  const std::vector<BadSchema> cases = {
      {"bad JSON", "{\"graft_schema\": 1,\n \"tables\": {,}}", "s.json:2:13: syntax error"},
      {"not an object", "[]",
       R"(s.json:1:1: a schema is a JSON object {"graft_schema": 1, "tables": {...}})"},
      {"missing version", R"({"tables": {}})",
       R"(s.json:1:1: missing "graft_schema": 1 (the schema format version))"},
      {"wrong version", R"({"graft_schema": 2, "tables": {}})",
       "s.json:1:18: schema format 2 is not supported; this graft reads format 1"},
      {"unknown key at the top", "{\"graft_schema\": 1,\n  \"tabels\": {}}",
       R"(s.json:2:3: unknown key "tabels" (a schema has "graft_schema", "schemaValidation", )"
       R"("allowUnknownTables" and "tables"))"},
      {"flag not a boolean", R"({"graft_schema": 1, "schemaValidation": 1, "tables": {}})",
       R"(s.json:1:41: "schemaValidation" is true or false)"},
      {"unknown key in a table",
       "{\"graft_schema\": 1, \"tables\": {\n  \"users\": {\"document\": {}, \"index\": {}}}}",
       R"(s.json:2:29: unknown key "index" in table "users" (a table has "document" and "indexes"))"},
      {"no document", "{\"graft_schema\": 1, \"tables\": {\n  \"users\": {}}}",
       R"(s.json:2:12: table "users" has no "document")"},
      {"unknown validator",
       "{\"graft_schema\": 1, \"tables\": {\"users\": {\"document\": {\n"
       "  \"name\": \"strng\"}}}}",
       R"(s.json:2:11: unknown validator "strng" (known: string, number, int64, boolean, null, )"
       R"(any, literal, id, array, object, record, union, optional))"},
      {"unknown validator object",
       "{\"graft_schema\": 1, \"tables\": {\"users\": {\"document\": {\n"
       "  \"tags\": {\"list\": \"string\"}}}}}",
       R"(s.json:2:11: unknown validator "list" (known: string, number, int64, boolean, null, )"
       R"(any, literal, id, array, object, record, union, optional))"},
      {"validator object with two keys",
       "{\"graft_schema\": 1, \"tables\": {\"users\": {\"document\": {\n"
       "  \"tags\": {\"array\": \"string\", \"optional\": true}}}}}",
       R"(s.json:2:11: a validator is a name such as "string" or an object with one key such as )"
       R"({"array": "string"})"},
      {"optional in an array",
       "{\"graft_schema\": 1, \"tables\": {\"users\": {\"document\": {\n"
       "  \"tags\": {\"array\":\n    {\"optional\": \"string\"}}}}}}",
       "s.json:3:5: optional is only allowed as the validator of an object field (it means the "
       "field may be absent)"},
      {"optional in a union",
       "{\"graft_schema\": 1, \"tables\": {\"users\": {\"document\": {\n"
       "  \"v\": {\"union\": [\"null\", {\"optional\": \"string\"}]}}}}}",
       "s.json:2:27: optional is only allowed as the validator of an object field (it means the "
       "field may be absent)"},
      {"literal beyond int64",
       "{\"graft_schema\": 1, \"tables\": {\"users\": {\"document\": {\n"
       "  \"v\": {\"literal\": 9223372036854775808}}}}}",
       "s.json:2:20: literal 9223372036854775808 is outside int64; write it as a float "
       "(9223372036854775808.0)"},
      {"null literal",
       "{\"graft_schema\": 1, \"tables\": {\"users\": {\"document\": {\n"
       "  \"v\": {\"literal\": null}}}}}",
       "s.json:2:20: a literal is a string, a number or a boolean"},
      {"record keyed by numbers",
       "{\"graft_schema\": 1, \"tables\": {\"users\": {\"document\": {\n"
       "  \"r\": {\"record\": [\"number\", \"string\"]}}}}}",
       R"(s.json:2:20: a record key is "string", "any", a string literal or a union of those, )"
       "not number"},
      {"empty union",
       "{\"graft_schema\": 1, \"tables\": {\"users\": {\"document\": {\n"
       "  \"u\": {\"union\": []}}}}}",
       "s.json:2:18: a union validator is a non-empty array of validators"},
      {"bad field name",
       "{\"graft_schema\": 1, \"tables\": {\"users\": {\"document\": {\n"
       "  \"first-name\": \"string\"}}}}",
       R"(s.json:2:3: field "first-name" is not a valid name (a letter, then letters, digits and '_'))"},
      {"reserved field name",
       "{\"graft_schema\": 1, \"tables\": {\"users\": {\"document\": {\n"
       "  \"a\": {\"object\": {\"_id\": \"string\"}}}}}}",
       R"(s.json:2:20: field "_id" is reserved (names starting with '_' belong to graft, as _id )"
       "and _creationTime)"},
      {"bad table name", "{\"graft_schema\": 1, \"tables\": {\n  \"9users\": {\"document\": {}}}}",
       R"(s.json:2:3: table "9users" is not a valid name (letters, digits and '_', not starting )"
       "with a digit, at most 64)"},
      {"reserved table name",
       "{\"graft_schema\": 1, \"tables\": {\n  \"graft_x\": {\"document\": {}}}}",
       R"(s.json:2:3: table "graft_x" is reserved for graft (names starting with migration_, )"
       "graft_ or sqlite_)"},
      {"bad id table",
       "{\"graft_schema\": 1, \"tables\": {\"users\": {\"document\": {\n"
       "  \"t\": {\"id\": \"my teams\"}}}}}",
       R"(s.json:2:15: table "my teams" is not a valid name (letters, digits and '_', not )"
       "starting with a digit, at most 64)"},
      {"duplicate table",
       "{\"graft_schema\": 1, \"tables\": {\n  \"users\": {\"document\": {}},\n"
       "  \"users\": {\"document\": {}}}}",
       R"(s.json:3:3: duplicate table "users" (first at 2:3))"},
      {"duplicate field",
       "{\"graft_schema\": 1, \"tables\": {\"users\": {\"document\": {\n"
       "  \"name\": \"string\",\n  \"name\": \"int64\"}}}}",
       R"(s.json:3:3: duplicate field "name" (first at 2:3))"},
      {"duplicate nested field",
       "{\"graft_schema\": 1, \"tables\": {\"users\": {\"document\": {\n"
       "  \"a\": {\"object\": {\"b\": \"string\", \"b\": \"null\"}}}}}}",
       R"(s.json:2:35: duplicate field "b" (first at 2:20))"},
      {"duplicate index",
       "{\"graft_schema\": 1, \"tables\": {\"users\": {\"document\": {\"a\": \"string\"},\n"
       "  \"indexes\": {\"by_a\": [\"a\"],\n               \"by_a\": [\"a\"]}}}}",
       R"(s.json:3:16: duplicate index "by_a" (first at 2:15))"},
      {"index on an undeclared field",
       "{\"graft_schema\": 1, \"tables\": {\"users\": {\"document\": {\"a\": \"string\"},\n"
       "  \"indexes\": {\"by_b\": [\"a\", \"b.c\"]}}}}",
       R"(s.json:2:29: index "by_b": field "b" is not in the document of table "users")"},
      {"index field not a path",
       "{\"graft_schema\": 1, \"tables\": {\"users\": {\"document\": {\"a\": \"string\"},\n"
       "  \"indexes\": {\"by_a\": [\"a..b\"]}}}}",
       R"(s.json:2:24: index "by_a": "a..b" is not a field path (field names joined by '.'))"},
      {"index with no fields",
       "{\"graft_schema\": 1, \"tables\": {\"users\": {\"document\": {\"a\": \"string\"},\n"
       "  \"indexes\": {\"by_a\": []}}}}",
       R"(s.json:2:23: index "by_a" lists no fields; it is an array of field paths such as )"
       R"(["teamId", "role"])"},
      {"bad index name",
       "{\"graft_schema\": 1, \"tables\": {\"users\": {\"document\": {\"a\": \"string\"},\n"
       "  \"indexes\": {\"by a\": [\"a\"]}}}}",
       R"(s.json:2:15: index "by a" is not a valid name (letters, digits and '_', not starting )"
       "with a digit, at most 64)"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      auto schema = parseSchema(c.text, "s.json");
      BOOST_TEST_REQUIRE(!schema.ok());
      BOOST_TEST(schema.status().code() == Code::kBadInput);
      BOOST_TEST(schema.status().message() == c.message);
    }
  }
}

BOOST_AUTO_TEST_CASE(parse_validator_errors_name_where_and_the_pointer) {
  auto v = parseValidator(json::parse(R"({"array": {"optional": "string"}})"), "migration m1");
  BOOST_TEST_REQUIRE(!v.ok());
  BOOST_TEST(v.status().code() == Code::kBadInput);
  BOOST_TEST(v.status().message() ==
             "migration m1 at /array: optional is only allowed as the validator of an object "
             "field (it means the field may be absent)");
  auto top = parseValidator(json::parse(R"("text")"), "migration m1");
  BOOST_TEST_REQUIRE(!top.ok());
  BOOST_TEST(top.status().message() ==
             R"(migration m1: unknown validator "text" (known: string, number, int64, boolean, )"
             "null, any, literal, id, array, object, record, union, optional)");
}

// Validators that, between them, use every kind; the random documents below
// are generated from them.
const char kMixedSchema[] = R"({
  "graft_schema": 1,
  "schemaValidation": true,
  "allowUnknownTables": false,
  "tables": {
    "users": {
      "document": {
        "name": "string",
        "age": {"optional": "int64"},
        "score": "number",
        "role": {"optional": {"union": [{"literal": "admin"}, {"literal": "member"},
                                        {"literal": "l'été"}]}},
        "teamId": {"id": "teams"},
        "flag": "boolean"
      },
      "indexes": {"by_team_and_role": ["teamId", "role"], "by_name": ["name"]}
    },
    "posts": {
      "document": {
        "tags": {"array": "string"},
        "meta": {"object": {"n": {"literal": 1}, "f": {"literal": 1.5},
                            "b": {"optional": {"literal": true}}, "nil": "null"}},
        "extra": {"record": ["string", {"array": {"union": ["int64", {"literal": 2.0}]}}]},
        "kv": {"record": [{"union": [{"literal": "a"}, {"literal": "b\"q"}]}, "any"]}
      }
    },
    "deep": {
      "document": {
        "items": {"array": {"object": {"sku": "string", "qty": "int64",
                                       "sub": {"optional": {"array": {"array": "number"}}}}}},
        "x": "any",
        "u": {"union": ["null", {"object": {"k": "string"}}, {"array": "int64"}]}
      },
      "indexes": {"by_x": ["x.y"]}
    }
  }
})";

// Deterministic documents near a validator: mostly conforming, sometimes
// with a value of another kind, a missing or an extra field, so that both
// verdicts are common.
class DocumentGenerator {
 public:
  explicit DocumentGenerator(uint32_t seed) : rng_(seed) {}

  json::value document(const Validator& v) { return object(v); }

 private:
  size_t pick(size_t n) { return rng_() % n; }
  bool chance(size_t percent) { return pick(100) < percent; }

  json::value anyValue(int depth) {
    static const char* const kScalars[] = {"null",
                                           "true",
                                           "false",
                                           "0",
                                           "1",
                                           "-1",
                                           "1.0",
                                           "1.5",
                                           "2.0",
                                           "-0.5",
                                           "1e300",
                                           "9223372036854775807",
                                           "-9223372036854775808",
                                           "9223372036854775808",
                                           "-9223372036854775809",
                                           "123456789012345678901234567890",
                                           "\"\"",
                                           "\"admin\"",
                                           "\"member\"",
                                           "\"l'été\"",
                                           "\"b\\\"q\"",
                                           "\"1\""};
    const size_t n = std::size(kScalars);
    const size_t choice = pick(depth > 2 ? n : n + 2);
    if (choice < n) return json::parse(kScalars[choice]);
    if (choice == n) {
      json::array items;
      for (size_t i = pick(3); i > 0; --i) items.push_back(anyValue(depth + 1));
      return items;
    }
    json::object obj;
    for (size_t i = pick(3); i > 0; --i) obj[key()] = anyValue(depth + 1);
    return obj;
  }

  json::value oneOf(std::initializer_list<const char*> texts) {
    return json::parse(texts.begin()[pick(texts.size())]);
  }

  std::string key() {
    static const char* const kKeys[] = {"a", "b\"q", "c", "l'été", "_id", "k", "name", "x.y"};
    return kKeys[pick(std::size(kKeys))];
  }

  json::value value(const Validator& v, int depth) {
    using K = Validator::Kind;
    if (chance(6)) return anyValue(depth);
    switch (v.kind) {
      case K::kString:
        return oneOf({"\"\"", "\"admin\"", "\"l'été\"", "\"b\\\"q\""});
      case K::kNumber:
        return oneOf({"0", "-1", "1.5", "2.0", "1e300", "9223372036854775808",
                      "-9223372036854775809", "123456789012345678901234567890"});
      case K::kInt64:
        return oneOf({"0", "7", "-9223372036854775808", "9223372036854775807",
                      "9223372036854775808", "1.0"});
      case K::kBoolean:
        return oneOf({"true", "false"});
      case K::kNull:
        return nullptr;
      case K::kAny:
        return anyValue(depth);
      case K::kLiteral:
        return chance(70) ? v.literal : anyValue(depth);
      case K::kId:
        return json::value(static_cast<int64_t>(pick(4)));
      case K::kOptional:
        return value(v.items[0], depth);
      case K::kUnion:
        return value(v.items[pick(v.items.size())], depth);
      case K::kArray: {
        json::array items;
        for (size_t i = pick(4); i > 0; --i) items.push_back(value(v.items[0], depth + 1));
        return items;
      }
      case K::kRecord: {
        json::object obj;
        for (size_t i = pick(4); i > 0; --i) {
          std::string k =
              v.items[0].kind == K::kUnion && chance(80)
                  ? std::string(v.items[0].items[pick(v.items[0].items.size())].literal.as_string())
                  : key();
          obj[k] = value(v.items[1], depth + 1);
        }
        return obj;
      }
      case K::kObject:
        return object(v, depth);
    }
    return nullptr;
  }

  json::object object(const Validator& v, int depth = 0) {
    json::object obj;
    if (depth == 0 && chance(20)) obj["_id"] = static_cast<int64_t>(pick(100));
    for (const auto& [name, field] : v.fields) {
      const bool optional = field.kind == Validator::Kind::kOptional;
      if (chance(optional ? 30 : 2)) continue;
      obj[name] = value(field, depth + 1);
    }
    if (chance(5)) obj[key()] = anyValue(depth + 1);
    return obj;
  }

  std::mt19937 rng_;
};

BOOST_AUTO_TEST_CASE(sql_agrees_with_cpp_on_random_documents) {
  auto schema = parseSchema(kMixedSchema, "mixed.json");
  BOOST_TEST_REQUIRE(schema.ok(), schema.status().message());
  SqlEval sql;
  DocumentGenerator generate(20240611);
  size_t valid = 0, invalid = 0;
  for (const auto& table : schema->tables) {
    for (int i = 0; i < 1500; ++i) {
      const std::string body = json::serialize(generate.document(table.document));
      const std::string reason = validateBoth(sql, table.document, body);
      ++(reason.empty() ? valid : invalid);
    }
  }
  BOOST_TEST_MESSAGE("random documents: " << valid << " valid, " << invalid << " invalid");
  // Both verdicts well represented, or the agreement says little.
  BOOST_TEST(valid > 600u);
  BOOST_TEST(invalid > 600u);
}

BOOST_AUTO_TEST_CASE(trigger_from_field_checks_refuses_with_the_message) {
  auto schema = parseSchema(kMixedSchema, "mixed.json");
  BOOST_TEST_REQUIRE(schema.ok(), schema.status().message());
  const TableSchema* users = schema->find("users");
  BOOST_TEST_REQUIRE(users);
  SqlEval sql;
  sql.exec("CREATE TABLE users (_id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
  std::string trigger = "CREATE TRIGGER users_schema BEFORE INSERT ON users BEGIN\n";
  for (const auto& [expr, message] : sqlFieldChecks(*users, "NEW.body")) {
    std::string quoted;
    for (char c : message) quoted += c == '\'' ? std::string("''") : std::string(1, c);
    trigger += "  SELECT RAISE(ABORT, '" + quoted + "') WHERE NOT (" + expr + ");\n";
  }
  sql.exec(trigger + "END");

  BOOST_TEST(sql.tryExec("INSERT INTO users (body) VALUES ('{\"name\": \"Ann\", \"score\": "
                         "1.5, \"role\": \"l''été\", \"teamId\": 3, \"flag\": true}')") == "");
  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"({"name": "Ann", "score": 1, "role": "owner", "teamId": 3, "flag": true})",
       R"(users: field "role" must be optional(union(literal("admin"), literal("member"), )"
       R"(literal("l'été"))))"},
      {R"({"name": "Ann", "score": 1, "teamId": 3})", R"(users: field "flag" must be boolean)"},
      {R"({"name": "Ann", "score": 1, "teamId": 3, "flag": true, "age": 9223372036854775808})",
       R"(users: field "age" must be optional(int64))"},
      {R"({"name": "Ann", "score": 1, "teamId": 3, "flag": true, "nick": "A"})",
       R"(users: document must be an object with only the fields in the schema ("name", "age", )"
       R"("score", "role", "teamId", "flag"))"},
      {R"([1])",
       R"(users: document must be an object with only the fields in the schema ("name", "age", )"
       R"("score", "role", "teamId", "flag"))"},
  };
  for (const auto& [body, message] : bad) {
    BOOST_TEST_CONTEXT(body) {
      BOOST_TEST(sql.tryExec("INSERT INTO users (body) VALUES ('" + body + "')") == message);
    }
  }
}

BOOST_AUTO_TEST_CASE(index_field_expr_is_the_text_the_planner_matches) {
  BOOST_TEST(indexFieldExpr("a.b") == "json_extract(body, '$.a.b')");
  BOOST_TEST(indexFieldExpr("teamId", "NEW.body") == "json_extract(NEW.body, '$.teamId')");
  SqlEval sql;
  sql.exec("CREATE TABLE users (_id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
  sql.exec("CREATE INDEX users_by_team ON users (" + indexFieldExpr("teamId") + ")");
  sqlite3_stmt* stmt = nullptr;
  const std::string query =
      "EXPLAIN QUERY PLAN SELECT _id FROM users WHERE " + indexFieldExpr("teamId") + " = 3";
  BOOST_TEST_REQUIRE(sqlite3_prepare_v2(sql.db(), query.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
  BOOST_TEST_REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  const std::string plan = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
  sqlite3_finalize(stmt);
  BOOST_TEST(plan == "SEARCH users USING INDEX users_by_team (<expr>=?)");
}

BOOST_AUTO_TEST_CASE(schema_json_round_trips) {
  for (const char* text : {kMixedSchema, R"({"graft_schema": 1, "tables": {}})"}) {
    auto schema = parseSchema(text, "s.json");
    BOOST_TEST_REQUIRE(schema.ok(), schema.status().message());
    const std::string canonical = schemaJson(*schema);
    auto again = parseSchema(canonical, "canonical");
    BOOST_TEST_REQUIRE(again.ok(), again.status().message());
    BOOST_TEST(schemaJson(*again) == canonical);
  }
  auto small = parseSchema(R"({"graft_schema": 1, "allowUnknownTables": false, "tables": {
    "t": {"document": {"v": {"optional": {"literal": 2.0}}, "r": {"record": ["string", "any"]}},
          "indexes": {"by_v": ["v"]}}}})",
                           "s.json");
  BOOST_TEST_REQUIRE(small.ok(), small.status().message());
  BOOST_TEST(schemaJson(*small) ==
             R"({"graft_schema":1,"schemaValidation":true,"allowUnknownTables":false,)"
             R"("tables":{"t":{"document":{"v":{"optional":{"literal":2.0}},)"
             R"("r":{"record":["string","any"]}},"indexes":{"by_v":["v"]}}}})");
  BOOST_TEST(small->find("t")->findIndex("by_v")->fields.at(0) == "v");
  BOOST_TEST(!small->find("u"));
  BOOST_TEST(!small->find("t")->findIndex("by_w"));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
