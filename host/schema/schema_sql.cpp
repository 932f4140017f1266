// The SQL form of validators: expressions over stored JSON text, for
// triggers. Kept apart from schema.cpp, whose C++ validator it must agree
// with on every document (tests/unit/schema_test.cpp checks both on the same
// texts).
#include "schema/schema.h"

#include <boost/json.hpp>

#include "schema/schema_text.h"

namespace graft {

namespace json = boost::json;

namespace {

// Where a value sits, in SQL terms: its JSON type name and SQL value, and
// (for objects and arrays) a JSON text plus a path into it.
struct SqlPlace {
  std::string type;
  std::string value;
  std::string json;
  std::string path;  // a constant JSON path, "$" or "$.a.b"
};

SqlPlace placeAt(const std::string& json_expr, const std::string& path) {
  const std::string args = "(" + json_expr + ", " + sqlStringLiteral(path) + ")";
  return {"json_type" + args, "json_extract" + args, json_expr, path};
}

// A row of json_each: an array element or a record entry. Its value is
// reached through the row's columns, not through its fullkey, because
// SQLite 3.40 can not resolve a fullkey such as $."a\"b" (a key with a
// quote): json_type() finds nothing there.
SqlPlace placeOfRow(const std::string& alias) {
  return {alias + ".type", alias + ".atom", alias + ".value", "$"};
}

class SqlWriter {
 public:
  // A boolean expression that is never NULL for a value that is present.
  // Containers are checked inside CASE so that json_each never sees a
  // scalar row value (SQL text that is not JSON) and so short-circuits.
  std::string check(const Validator& v, const SqlPlace& at) {
    using K = Validator::Kind;
    switch (v.kind) {
      case K::kString:
        return at.type + " IS 'text'";
      case K::kNumber:
        return at.type + " IN ('integer', 'real')";
      case K::kInt64:
        return isInt64(at);
      case K::kBoolean:
        return at.type + " IN ('true', 'false')";
      case K::kNull:
        return at.type + " IS 'null'";
      case K::kAny:
      case K::kOptional:  // only as a field, where fieldCheck handles absence
        return v.kind == K::kAny ? "1" : check(v.items[0], at);
      case K::kLiteral:
        return literal(v.literal, at);
      case K::kId:
        return "(" + isInt64(at) + " AND " + at.value + " >= 1)";
      case K::kArray: {
        const std::string row = alias();
        return "CASE WHEN " + at.type + " IS 'array' THEN NOT EXISTS (SELECT 1 FROM json_each(" +
               at.json + ", " + sqlStringLiteral(at.path) + ") AS " + row + " WHERE NOT (" +
               check(v.items[0], placeOfRow(row)) + ")) ELSE 0 END";
      }
      case K::kObject:
        return "CASE WHEN " + at.type + " IS 'object' THEN " + objectBody(v, at, {}) +
               " ELSE 0 END";
      case K::kRecord: {
        const std::string row = alias();
        return "CASE WHEN " + at.type + " IS 'object' THEN NOT EXISTS (SELECT 1 FROM json_each(" +
               at.json + ", " + sqlStringLiteral(at.path) + ") AS " + row + " WHERE NOT (" +
               keyCheck(v.items[0], row + ".key") + " AND " + check(v.items[1], placeOfRow(row)) +
               ")) ELSE 0 END";
      }
      case K::kUnion: {
        std::string out = "(";
        for (size_t i = 0; i < v.items.size(); ++i)
          out += (i ? " OR " : "") + std::string("(") + check(v.items[i], at) + ")";
        return out + ")";
      }
    }
    return "0";
  }

  // One field of an object at `at`: absent is fine only when optional.
  std::string fieldCheck(const std::string& name, const Validator& field, const SqlPlace& at) {
    const SqlPlace child = placeAt(at.json, at.path + "." + name);
    if (field.kind == Validator::Kind::kOptional)
      return "(" + child.type + " IS NULL OR (" + check(field.items[0], child) + "))";
    return "(" + child.type + " IS NOT NULL AND (" + check(field, child) + "))";
  }

  // No member besides the declared fields and `also`.
  std::string onlyDeclared(const Validator& v, const SqlPlace& at,
                           const std::vector<std::string>& also) {
    std::string names;
    for (const auto& name : also) names += (names.empty() ? "" : ", ") + sqlStringLiteral(name);
    for (const auto& field : v.fields)
      names += (names.empty() ? "" : ", ") + sqlStringLiteral(field.first);
    const std::string row = alias();
    return "NOT EXISTS (SELECT 1 FROM json_each(" + at.json + ", " + sqlStringLiteral(at.path) + ") AS " +
           row + (names.empty() ? "" : " WHERE " + row + ".key NOT IN (" + names + ")") + ")";
  }

  std::string objectBody(const Validator& v, const SqlPlace& at,
                         const std::vector<std::string>& also) {
    std::string out = "(";
    for (const auto& [name, field] : v.fields) out += fieldCheck(name, field, at) + " AND ";
    return out + onlyDeclared(v, at, also) + ")";
  }

 private:
  // typeof(json_extract) is 'real' for an integer literal beyond int64
  // (json_type still says 'integer'), which is what tells the two apart.
  static std::string isInt64(const SqlPlace& at) {
    return "(" + at.type + " IS 'integer' AND typeof(" + at.value + ") IS 'integer')";
  }

  static std::string literal(const json::value& lit, const SqlPlace& at) {
    if (lit.is_string())
      return "(" + at.type + " IS 'text' AND " + at.value + " IS " + sqlStringLiteral(lit.get_string()) +
             ")";
    if (lit.is_bool()) return at.type + (lit.get_bool() ? " IS 'true'" : " IS 'false'");
    if (lit.is_int64())
      return "(" + isInt64(at) + " AND " + at.value + " IS " + std::to_string(lit.get_int64()) +
             ")";
    return "(" + at.type + " IN ('integer', 'real') AND typeof(" + at.value + ") IS 'real' AND " +
           at.value + " IS " + formatDouble(lit.get_double()) + ")";
  }

  static std::string keyCheck(const Validator& v, const std::string& key) {
    switch (v.kind) {
      case Validator::Kind::kLiteral:
        return "(" + key + " IS " + sqlStringLiteral(v.literal.get_string()) + ")";
      case Validator::Kind::kUnion: {
        std::string out = "(";
        for (size_t i = 0; i < v.items.size(); ++i)
          out += (i ? " OR " : "") + keyCheck(v.items[i], key);
        return out + ")";
      }
      default:  // string, any
        return "1";
    }
  }

  std::string alias() { return "j" + std::to_string(++aliases_); }

  int aliases_ = 0;
};

const std::vector<std::string> kImplicitFields = {"_id", "_creationTime"};

}  // namespace

std::string sqlCheckDocument(const Validator& document, const std::string& body_expr) {
  SqlWriter writer;
  const SqlPlace root = placeAt(body_expr, "$");
  return "CASE WHEN " + root.type + " IS 'object' THEN " +
         writer.objectBody(document, root, kImplicitFields) + " ELSE 0 END";
}

std::vector<std::pair<std::string, std::string>> sqlFieldChecks(const TableSchema& table,
                                                                const std::string& body_expr) {
  SqlWriter writer;
  const SqlPlace root = placeAt(body_expr, "$");
  std::string names;
  for (const auto& field : table.document.fields)
    names += (names.empty() ? "" : ", ") + quoteJson(field.first);
  std::vector<std::pair<std::string, std::string>> checks;
  checks.emplace_back("CASE WHEN " + root.type + " IS 'object' THEN " +
                          writer.onlyDeclared(table.document, root, kImplicitFields) +
                          " ELSE 0 END",
                      table.name +
                          ": document must be an object with only the fields in the "
                          "schema (" +
                          names + ")");
  for (const auto& [name, field] : table.document.fields) {
    checks.emplace_back(writer.fieldCheck(name, field, root),
                        table.name + ": field " + quoteJson(name) + " must be " + describe(field));
  }
  return checks;
}

std::string indexFieldExpr(const std::string& field_path, const std::string& body_expr) {
  return "json_extract(" + body_expr + ", " + sqlStringLiteral("$." + field_path) + ")";
}

std::string sqlStringLiteral(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

}  // namespace graft
