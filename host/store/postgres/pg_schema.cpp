#include "store/postgres/pg_schema.h"

#include <boost/json.hpp>

#include "schema/schema_text.h"
#include "store/postgres/pg_conn.h"

namespace graft {
namespace {

namespace json = boost::json;

constexpr const char* kInt64Range = "BETWEEN -9223372036854775808 AND 9223372036854775807";

// `v` is a jsonb number: is its text an int64 to graft?
std::string int64Text(const std::string& v) {
  return "((" + v + ")::text !~ '[.eE]' AND (" + v + ")::numeric " + kInt64Range + ")";
}

std::string whenType(const std::string& v, const char* type, const std::string& then) {
  return "CASE WHEN jsonb_typeof(" + v + ") = '" + type + "' THEN " + then + " ELSE false END";
}

class PgSqlWriter {
 public:
  std::string check(const Validator& v, const std::string& at) {
    using K = Validator::Kind;
    switch (v.kind) {
      case K::kString:
        return "coalesce(jsonb_typeof(" + at + ") = 'string', false)";
      case K::kNumber:
        return "coalesce(jsonb_typeof(" + at + ") = 'number', false)";
      case K::kInt64:
        return whenType(at, "number", int64Text(at));
      case K::kBoolean:
        return "coalesce(jsonb_typeof(" + at + ") = 'boolean', false)";
      case K::kNull:
        return "coalesce(jsonb_typeof(" + at + ") = 'null', false)";
      case K::kAny:
        return "true";
      case K::kOptional:
        return check(v.items[0], at);  // as a field, fieldCheck handles absence
      case K::kLiteral:
        return literal(v.literal, at);
      case K::kId:
        return whenType(at, "number", "(" + int64Text(at) + " AND (" + at + ")::numeric >= 1)");
      case K::kArray: {
        const std::string row = alias();
        return whenType(at, "array",
                        "NOT EXISTS (SELECT 1 FROM jsonb_array_elements(" + at + ") AS " + row +
                            "(value) WHERE NOT (" + check(v.items[0], row + ".value") + "))");
      }
      case K::kObject:
        return whenType(at, "object", objectBody(v, at, {}));
      case K::kRecord: {
        const std::string row = alias();
        return whenType(at, "object",
                        "NOT EXISTS (SELECT 1 FROM jsonb_each(" + at + ") AS " + row +
                            "(key, value) WHERE NOT (" + keyCheck(v.items[0], row + ".key") +
                            " AND " + check(v.items[1], row + ".value") + "))");
      }
      case K::kUnion: {
        std::string out = "(";
        for (size_t i = 0; i < v.items.size(); ++i)
          out += (i ? " OR " : "") + std::string("(") + check(v.items[i], at) + ")";
        return out + ")";
      }
    }
    return "false";
  }

  std::string fieldCheck(const std::string& name, const Validator& field, const std::string& at) {
    const std::string child = "(" + at + " -> " + pgLiteral(name) + ")";
    if (field.kind == Validator::Kind::kOptional)
      return "(" + child + " IS NULL OR (" + check(field.items[0], child) + "))";
    return "(" + child + " IS NOT NULL AND (" + check(field, child) + "))";
  }

  std::string onlyDeclared(const Validator& v, const std::string& at,
                           const std::vector<std::string>& also) {
    std::string names;
    for (const auto& name : also) names += (names.empty() ? "" : ", ") + pgLiteral(name);
    for (const auto& field : v.fields)
      names += (names.empty() ? "" : ", ") + pgLiteral(field.first);
    const std::string row = alias();
    return "NOT EXISTS (SELECT 1 FROM jsonb_object_keys(" + at + ") AS " + row + "(key)" +
           (names.empty() ? "" : " WHERE " + row + ".key NOT IN (" + names + ")") + ")";
  }

  std::string objectBody(const Validator& v, const std::string& at,
                         const std::vector<std::string>& also) {
    std::string out = "(";
    for (const auto& [name, field] : v.fields) out += fieldCheck(name, field, at) + " AND ";
    return out + onlyDeclared(v, at, also) + ")";
  }

 private:
  // As SQLite compares them: an int64 literal with an int64, a float64
  // literal with a float64 (or an integer beyond int64, which SQLite reads
  // as one), by value.
  static std::string literal(const json::value& lit, const std::string& at) {
    if (lit.is_string())
      return whenType(at, "string", "(" + at + " #>> '{}') = " + pgLiteral(lit.get_string()));
    if (lit.is_bool())
      return "coalesce(" + at + " = '" + (lit.get_bool() ? "true" : "false") + "'::jsonb, false)";
    if (lit.is_int64())
      return whenType(at, "number",
                      "(" + int64Text(at) + " AND (" + at +
                          ")::numeric = " + std::to_string(lit.get_int64()) + ")");
    return whenType(at, "number",
                    "(NOT " + int64Text(at) + " AND (" + at +
                        ")::numeric::float8 = " + formatDouble(lit.get_double()) + "::float8)");
  }

  static std::string keyCheck(const Validator& v, const std::string& key) {
    switch (v.kind) {
      case Validator::Kind::kLiteral:
        return "(" + key + " = " + pgLiteral(v.literal.get_string()) + ")";
      case Validator::Kind::kUnion: {
        std::string out = "(";
        for (size_t i = 0; i < v.items.size(); ++i)
          out += (i ? " OR " : "") + keyCheck(v.items[i], key);
        return out + ")";
      }
      default:
        return "true";
    }
  }

  std::string alias() { return "j" + std::to_string(++aliases_); }

  int aliases_ = 0;
};

const std::vector<std::string> kImplicitFields = {"_id", "_creationTime"};

}  // namespace

std::string pgCheckDocument(const Validator& document, const std::string& body) {
  PgSqlWriter writer;
  return whenType(body, "object", writer.objectBody(document, body, kImplicitFields));
}

std::vector<std::pair<std::string, std::string>> pgFieldChecks(const TableSchema& table,
                                                               const std::string& body) {
  PgSqlWriter writer;
  std::string names;
  for (const auto& field : table.document.fields)
    names += (names.empty() ? "" : ", ") + quoteJson(field.first);
  std::vector<std::pair<std::string, std::string>> checks;
  checks.emplace_back(
      whenType(body, "object", writer.onlyDeclared(table.document, body, kImplicitFields)),
      table.name +
          ": document must be an object with only the fields in the "
          "schema (" +
          names + ")");
  for (const auto& [name, field] : table.document.fields) {
    checks.emplace_back(writer.fieldCheck(name, field, body),
                        table.name + ": field " + quoteJson(name) + " must be " + describe(field));
  }
  return checks;
}

std::vector<std::string> pgIndexTriple(const std::string& field_path, const std::string& body) {
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    const size_t dot = field_path.find('.', start);
    parts.push_back(field_path.substr(start, dot == std::string::npos ? dot : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  const std::string v = "(" + body + " #> " + pgLiteral(pgArrayLiteral(parts)) + "::text[])";
  return {
      "(CASE WHEN jsonb_typeof(" + v + ") IS NULL OR jsonb_typeof(" + v +
          ") = 'null' THEN 0 WHEN jsonb_typeof(" + v +
          ") IN ('number', 'boolean') THEN 1 ELSE 2 END)",
      "(CASE jsonb_typeof(" + v + ") WHEN 'number' THEN (" + v +
          ")::numeric WHEN 'boolean' THEN "
          "CASE WHEN " +
          v + " = 'true'::jsonb THEN 1 ELSE 0 END ELSE 0 END)",
      "((CASE jsonb_typeof(" + v + ") WHEN 'string' THEN " + v + " #>> '{}' WHEN 'object' THEN " +
          v + "::text WHEN 'array' THEN " + v + "::text ELSE '' END) COLLATE \"C\")",
  };
}

}  // namespace graft
