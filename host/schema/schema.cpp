#include "schema/schema.h"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <functional>

#include "base/json_text.h"
#include "schema/schema_text.h"
#include "store/store.h"

namespace graft {

namespace json = boost::json;

// ---- JSON text for messages and for schemaJson ----

// Boost.JSON writes 1.5 as "1.5E0"; messages want "1.5". Shortest text
// that reads back as the same double, with ".0" kept on whole numbers so
// that a float never looks like an integer (1.0 is not int64).
std::string formatDouble(double d) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  std::string out(buf, end);
  if (out.find_first_of(".eEn") == std::string::npos) out += ".0";
  return out;
}

std::string quoteJson(std::string_view s) { return json::serialize(json::string(s)); }

namespace {

void writeJson(const json::value& v, std::string& out, size_t limit) {
  if (out.size() > limit) return;
  switch (v.kind()) {
    case json::kind::double_:
      out += formatDouble(v.get_double());
      return;
    case json::kind::string:
      out += quoteJson(v.get_string());
      return;
    case json::kind::array: {
      out += '[';
      const char* sep = "";
      for (const auto& item : v.get_array()) {
        out += sep;
        sep = ",";
        writeJson(item, out, limit);
        if (out.size() > limit) return;
      }
      out += ']';
      return;
    }
    case json::kind::object: {
      out += '{';
      const char* sep = "";
      for (const auto& [key, item] : v.get_object()) {
        out += sep;
        sep = ",";
        out += quoteJson(key);
        out += ':';
        writeJson(item, out, limit);
        if (out.size() > limit) return;
      }
      out += '}';
      return;
    }
    default:  // null, bool, int64, uint64: Boost.JSON's text is the usual one
      out += json::serialize(v);
  }
}

// A got-value in a reason: compact JSON, cut to about 60 bytes (not inside
// a UTF-8 sequence) so that one bad document gives one readable line.
std::string shortJson(const json::value& v) {
  constexpr size_t kMax = 60;
  std::string out;
  writeJson(v, out, kMax);
  if (out.size() <= kMax) return out;
  size_t cut = kMax - 3;
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
  return out.substr(0, cut) + "...";
}

std::string describeLiteral(const json::value& v) {
  std::string out;
  writeJson(v, out, std::string::npos);
  return out;
}

// ---- Parsing ----

bool isFieldName(std::string_view name) {
  if (name.empty()) return false;
  const char c0 = name[0];
  if (!((c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z'))) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  }
  return true;
}

// Field names are restricted so that "$.a.b" is a valid SQLite JSON path
// without quoting, and so that index expressions are plain text.
std::optional<std::string> fieldNameProblem(std::string_view name) {
  if (!name.empty() && name[0] == '_')
    return "field " + quoteJson(name) +
           " is reserved (names starting with '_' belong to graft, as _id and _creationTime)";
  if (!isFieldName(name))
    return "field " + quoteJson(name) +
           " is not a valid name (a letter, then letters, digits and '_')";
  return std::nullopt;
}

bool isIndexName(std::string_view name) {
  if (name.empty() || name.size() > 64 || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  }
  return true;
}

const char kKnownValidators[] =
    "known: string, number, int64, boolean, null, any, literal, id, array, object, record, "
    "union, optional";

// Turns JSON into Validators. `locate` says where the value (or, with
// key=true, the member's key) at a JSON pointer is, for error messages.
class ValidatorParser {
 public:
  using Locate = std::function<std::string(const std::string& pointer, bool key)>;
  explicit ValidatorParser(Locate locate) : locate_(std::move(locate)) {}

  Status error(const std::string& pointer, const std::string& what, bool key = false) const {
    return Status(Code::kBadInput, locate_(pointer, key) + ": " + what);
  }

  // `as_field`: the value of an object field, the one place optional is allowed.
  Result<Validator> parse(const json::value& j, const std::string& pointer, bool as_field) const {
    if (const auto* name = j.if_string()) return parseName(*name, pointer);
    const auto* obj = j.if_object();
    if (!obj || obj->size() != 1)
      return error(pointer,
                   "a validator is a name such as \"string\" or an object with one key such as "
                   "{\"array\": \"string\"}");
    const auto& [key, arg] = *obj->begin();
    const std::string inner = jsonPointer(pointer, key);
    if (key == "literal") return parseLiteral(arg, inner);
    if (key == "id") return parseId(arg, inner);
    if (key == "array") return wrap(Validator::Kind::kArray, arg, inner);
    if (key == "object") return parseObject(arg, inner);
    if (key == "record") return parseRecord(arg, inner);
    if (key == "union") return parseUnion(arg, inner);
    if (key == "optional") {
      if (!as_field)
        return error(pointer,
                     "optional is only allowed as the validator of an object field (it means the "
                     "field may be absent)");
      return wrap(Validator::Kind::kOptional, arg, inner);
    }
    return error(pointer, "unknown validator " + quoteJson(key) + " (" + kKnownValidators + ")");
  }

  // The fields of an object validator, also the "document" of a table.
  Result<Validator> parseObject(const json::value& j, const std::string& pointer) const {
    const auto* obj = j.if_object();
    if (!obj) return error(pointer, "an object validator is {\"<field>\": <validator>, ...}");
    Validator v;
    v.kind = Validator::Kind::kObject;
    for (const auto& [name, item] : *obj) {
      const std::string at = jsonPointer(pointer, name);
      if (auto problem = fieldNameProblem(name)) return error(at, *problem, true);
      auto field = parse(item, at, true);
      if (!field.ok()) return field.status();
      v.fields.push_back({std::string(name), std::move(field).value()});
    }
    return v;
  }

 private:
  Result<Validator> parseName(std::string_view name, const std::string& pointer) const {
    using K = Validator::Kind;
    static const std::pair<std::string_view, K> kNames[] = {
        {"string", K::kString},   {"number", K::kNumber}, {"int64", K::kInt64},
        {"boolean", K::kBoolean}, {"null", K::kNull},     {"any", K::kAny},
    };
    for (const auto& [known, kind] : kNames) {
      if (name == known) {
        Validator v;
        v.kind = kind;
        return v;
      }
    }
    return error(pointer, "unknown validator " + quoteJson(name) + " (" + kKnownValidators + ")");
  }

  Result<Validator> parseLiteral(const json::value& j, const std::string& pointer) const {
    if (j.is_uint64())
      return error(pointer, "literal " + json::serialize(j) +
                                " is outside int64; write it as a float (" +
                                formatDouble(static_cast<double>(j.get_uint64())) + ")");
    if (!j.is_string() && !j.is_int64() && !j.is_double() && !j.is_bool())
      return error(pointer, "a literal is a string, a number or a boolean");
    Validator v;
    v.kind = Validator::Kind::kLiteral;
    v.literal = j;
    return v;
  }

  Result<Validator> parseId(const json::value& j, const std::string& pointer) const {
    if (!j.is_string())
      return error(pointer, "an id validator names a table: {\"id\": \"<table>\"}");
    Status name = checkTableName(j.get_string());
    if (!name.ok()) return error(pointer, name.message());
    Validator v;
    v.kind = Validator::Kind::kId;
    v.table = j.get_string();
    return v;
  }

  Result<Validator> wrap(Validator::Kind kind, const json::value& j,
                         const std::string& pointer) const {
    auto inner = parse(j, pointer, false);
    if (!inner.ok()) return inner.status();
    Validator v;
    v.kind = kind;
    v.items.push_back(std::move(inner).value());
    return v;
  }

  Result<Validator> parseRecord(const json::value& j, const std::string& pointer) const {
    const auto* pair = j.if_array();
    if (!pair || pair->size() != 2)
      return error(pointer, "a record validator is [<key validator>, <value validator>]");
    auto key = parse((*pair)[0], jsonPointer(pointer, 0), false);
    if (!key.ok()) return key.status();
    if (!isKeyValidator(*key))
      return error(jsonPointer(pointer, 0),
                   "a record key is \"string\", \"any\", a string literal or a union of those, "
                   "not " +
                       describe(*key));
    auto value = parse((*pair)[1], jsonPointer(pointer, 1), false);
    if (!value.ok()) return value.status();
    Validator v;
    v.kind = Validator::Kind::kRecord;
    v.items.push_back(std::move(key).value());
    v.items.push_back(std::move(value).value());
    return v;
  }

  // Record keys are JSON object keys, so strings only.
  static bool isKeyValidator(const Validator& v) {
    switch (v.kind) {
      case Validator::Kind::kString:
      case Validator::Kind::kAny:
        return true;
      case Validator::Kind::kLiteral:
        return v.literal.is_string();
      case Validator::Kind::kUnion:
        for (const auto& item : v.items)
          if (!isKeyValidator(item)) return false;
        return true;
      default:
        return false;
    }
  }

  Result<Validator> parseUnion(const json::value& j, const std::string& pointer) const {
    const auto* list = j.if_array();
    if (!list || list->empty())
      return error(pointer, "a union validator is a non-empty array of validators");
    Validator v;
    v.kind = Validator::Kind::kUnion;
    for (size_t i = 0; i < list->size(); ++i) {
      auto item = parse((*list)[i], jsonPointer(pointer, i), false);
      if (!item.ok()) return item.status();
      v.items.push_back(std::move(item).value());
    }
    return v;
  }

  Locate locate_;
};

// The first field name of `path` ("a" of "a.b"), or nullopt when `path`
// is not field names joined by '.'.
std::optional<std::string> firstFieldOf(std::string_view path) {
  std::string first;
  size_t start = 0;
  for (;;) {
    size_t dot = path.find('.', start);
    std::string_view segment =
        path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (start == 0) first = segment;
    if (fieldNameProblem(segment)) return std::nullopt;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return first;
}

// "by_role": ["teamId", "role"] at `at`, an index of `table` (whose
// document is parsed already).
Result<IndexDef> parseIndex(const ValidatorParser& parser, const TableSchema& table,
                            const std::string& index_name, const json::value& fields,
                            const std::string& at) {
  if (!isIndexName(index_name))
    return parser.error(at,
                        "index " + quoteJson(index_name) +
                            " is not a valid name (letters, digits and '_', not starting "
                            "with a digit, at most 64)",
                        true);
  IndexDef index;
  index.name = index_name;
  const auto* list = fields.if_array();
  if (!list || list->empty())
    return parser.error(at, "index " + quoteJson(index.name) +
                                " lists no fields; it is an array of "
                                "field paths such as [\"teamId\", \"role\"]");
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string field_at = jsonPointer(at, i);
    const auto* path = (*list)[i].if_string();
    if (!path)
      return parser.error(field_at,
                          "index " + quoteJson(index.name) + ": a field path is a string");
    const std::optional<std::string> first = firstFieldOf(*path);
    if (!first)
      return parser.error(field_at, "index " + quoteJson(index.name) + ": " + quoteJson(*path) +
                                        " is not a field path (field names joined by '.')");
    bool declared = false;
    for (const auto& field : table.document.fields) declared = declared || field.first == *first;
    if (!declared)
      return parser.error(field_at, "index " + quoteJson(index.name) + ": field " +
                                        quoteJson(*first) + " is not in the document of table " +
                                        quoteJson(table.name) + "");
    for (const auto& seen : index.fields) {
      if (seen == *path)
        return parser.error(
            field_at, "index " + quoteJson(index.name) + " lists " + quoteJson(seen) + " twice");
    }
    index.fields.emplace_back(*path);
  }
  return index;
}

// "users": {"document": {...}, "indexes": {...}} at `pointer`.
Result<TableSchema> parseTable(const ValidatorParser& parser, const std::string& name,
                               const json::value& j, const std::string& pointer) {
  const auto* obj = j.if_object();
  if (!obj)
    return parser.error(pointer, "table " + quoteJson(name) +
                                     " must be an object {\"document\": {...}, \"indexes\": "
                                     "{...}}");
  for (const auto& [key, value] : *obj) {
    if (key != "document" && key != "indexes")
      return parser.error(jsonPointer(pointer, key),
                          "unknown key " + quoteJson(key) + " in table " + quoteJson(name) +
                              " (a table has \"document\" and \"indexes\")",
                          true);
  }
  const auto* document = obj->if_contains("document");
  if (!document) return parser.error(pointer, "table " + quoteJson(name) + " has no \"document\"");
  TableSchema table;
  table.name = name;
  auto validator = parser.parseObject(*document, jsonPointer(pointer, "document"));
  if (!validator.ok()) return validator.status();
  table.document = std::move(validator).value();

  const auto* indexes = obj->if_contains("indexes");
  if (!indexes) return table;
  const std::string indexes_at = jsonPointer(pointer, "indexes");
  if (!indexes->is_object())
    return parser.error(indexes_at, "\"indexes\" is an object {\"<index>\": [\"<field>\", ...]}");
  for (const auto& [index_name, fields] : indexes->get_object()) {
    auto index = parseIndex(parser, table, index_name, fields, jsonPointer(indexes_at, index_name));
    if (!index.ok()) return index.status();
    table.indexes.push_back(std::move(index).value());
  }
  return table;
}

// Boost.JSON keeps the last of two equal keys without a word; in a schema
// that is almost always a pasting mistake, so it is refused.
Status checkDuplicates(const JsonLocator& locator, const std::string& source) {
  for (const auto& dup : locator.duplicates()) {
    // pointer: /tables/<t>, /tables/<t>/indexes/<i>, /tables/<t>/document/...
    size_t depth = std::count(dup.pointer.begin(), dup.pointer.end(), '/');
    bool in_tables = dup.pointer.rfind("/tables/", 0) == 0;
    size_t third = in_tables ? dup.pointer.find('/', 8) : std::string::npos;
    std::string_view part =
        third == std::string::npos ? "" : std::string_view(dup.pointer).substr(third + 1);
    std::string what = "key";
    if (in_tables && depth == 2) {
      what = "table";
    } else if (in_tables && depth == 4 && part.rfind("indexes/", 0) == 0) {
      what = "index";
    } else if (in_tables && part.rfind("document/", 0) == 0) {
      what = "field";
    }
    std::string first = dup.first.substr(std::min(dup.first.size(), source.size() + 1));
    return Status(Code::kBadInput, dup.where + ": duplicate " + what + " " + quoteJson(dup.key) +
                                       " (first at " + first + ")");
  }
  return Status::Ok();
}

Result<bool> readFlag(const ValidatorParser& parser, const json::object& root, std::string_view key,
                      bool default_value) {
  const auto* value = root.if_contains(key);
  if (!value) return default_value;
  if (!value->is_bool())
    return parser.error(jsonPointer("", key), quoteJson(key) + " is true or false");
  return value->get_bool();
}

// ---- Validation ----

std::string fieldPath(const std::string& path, std::string_view name) {
  return path.empty() ? quoteJson(name) : path + "." + quoteJson(name);
}

std::string mismatch(const Validator& v, const json::value& got, const std::string& path) {
  return (path.empty() ? "" : "field " + path + ": ") + "expected " + describe(v) + ", got " +
         shortJson(got);
}

// Numbers have two kinds, as in SQLite: an integer within int64, and every
// other number (a double, or an integer literal beyond int64, which SQLite
// also reads as a REAL). See literalMatches here and SqlWriter::literal in schema_sql.cpp.
bool isFloatKind(const json::value& v) { return v.is_double() || v.is_uint64(); }
double floatValue(const json::value& v) {
  return v.is_double() ? v.get_double() : static_cast<double>(v.get_uint64());
}

bool literalMatches(const json::value& literal, const json::value& v) {
  if (literal.is_string()) return v.is_string() && v.get_string() == literal.get_string();
  if (literal.is_bool()) return v.is_bool() && v.get_bool() == literal.get_bool();
  if (literal.is_int64()) return v.is_int64() && v.get_int64() == literal.get_int64();
  return isFloatKind(v) && floatValue(v) == literal.get_double();
}

std::optional<std::string> checkFields(const Validator& v, const json::object& obj,
                                       const std::string& path, bool top) {
  for (const auto& [name, field] : v.fields) {
    const std::string at = fieldPath(path, name);
    const json::value* value = obj.if_contains(name);
    if (!value) {
      if (field.kind == Validator::Kind::kOptional) continue;
      return "missing required field " + at;
    }
    if (auto why = validateValue(field, *value, at)) return why;
  }
  for (const auto& [name, value] : obj) {
    if (top && (name == "_id" || name == "_creationTime")) continue;
    bool declared = false;
    for (const auto& field : v.fields) declared = declared || field.first == name;
    if (!declared) return "unknown field " + fieldPath(path, name) + " (not in the schema)";
  }
  return std::nullopt;
}

// ---- schemaJson ----

// The name of a validator that takes no argument ("string", ...), or
// nullptr for the others: one spelling for the file and for messages.
const char* primitiveName(Validator::Kind kind) {
  using K = Validator::Kind;
  switch (kind) {
    case K::kString:
      return "string";
    case K::kNumber:
      return "number";
    case K::kInt64:
      return "int64";
    case K::kBoolean:
      return "boolean";
    case K::kNull:
      return "null";
    case K::kAny:
      return "any";
    default:
      return nullptr;
  }
}

json::value validatorJson(const Validator& v) {
  using K = Validator::Kind;
  if (const char* name = primitiveName(v.kind)) return name;
  switch (v.kind) {
    case K::kLiteral:
      return {{"literal", v.literal}};
    case K::kId:
      return {{"id", v.table}};
    case K::kArray:
      return {{"array", validatorJson(v.items[0])}};
    case K::kOptional:
      return {{"optional", validatorJson(v.items[0])}};
    case K::kRecord:
      return {{"record", json::array{validatorJson(v.items[0]), validatorJson(v.items[1])}}};
    case K::kUnion: {
      json::array items;
      for (const auto& item : v.items) items.push_back(validatorJson(item));
      return {{"union", std::move(items)}};
    }
    case K::kObject: {
      json::object fields;
      for (const auto& [name, field] : v.fields) fields[name] = validatorJson(field);
      return {{"object", std::move(fields)}};
    }
    default:
      break;
  }
  return nullptr;
}

}  // namespace

const IndexDef* TableSchema::findIndex(std::string_view index) const {
  for (const auto& def : indexes)
    if (def.name == index) return &def;
  return nullptr;
}

const TableSchema* Schema::find(std::string_view table) const {
  for (const auto& def : tables)
    if (def.name == table) return &def;
  return nullptr;
}

Result<Schema> parseSchema(std::string_view text, const std::string& source) {
  auto located = parseJsonLocated(text, source);
  if (!located.ok()) return located.status();
  const JsonLocator& locator = located->locator;
  GRAFT_RETURN_IF_ERROR(checkDuplicates(locator, source));
  ValidatorParser parser([&locator](const std::string& pointer, bool key) {
    return key ? locator.whereKey(pointer) : locator.where(pointer);
  });
  const auto* root = located->value.if_object();
  if (!root)
    return parser.error("", "a schema is a JSON object {\"graft_schema\": 1, \"tables\": {...}}");
  for (const auto& [key, value] : *root) {
    if (key != "graft_schema" && key != "schemaValidation" && key != "allowUnknownTables" &&
        key != "tables")
      return parser.error(jsonPointer("", key),
                          "unknown key " + quoteJson(key) +
                              " (a schema has \"graft_schema\", \"schemaValidation\", "
                              "\"allowUnknownTables\" and \"tables\")",
                          true);
  }
  const auto* version = root->if_contains("graft_schema");
  if (!version || !version->is_int64())
    return parser.error(version ? "/graft_schema" : "",
                        "missing \"graft_schema\": 1 (the schema format version)");
  if (version->get_int64() != 1)
    return parser.error("/graft_schema", "schema format " + std::to_string(version->get_int64()) +
                                             " is not supported; this graft reads format 1");
  Schema schema;
  auto validation = readFlag(parser, *root, "schemaValidation", true);
  if (!validation.ok()) return validation.status();
  schema.validation = *validation;
  auto unknown = readFlag(parser, *root, "allowUnknownTables", true);
  if (!unknown.ok()) return unknown.status();
  schema.allow_unknown_tables = *unknown;

  const auto* tables = root->if_contains("tables");
  if (!tables || !tables->is_object())
    return parser.error(tables ? "/tables" : "",
                        "\"tables\" is an object {\"<table>\": {\"document\": {...}}}");
  for (const auto& [name, value] : tables->get_object()) {
    const std::string at = jsonPointer("/tables", name);
    Status valid = checkTableName(name);
    if (!valid.ok()) return parser.error(at, valid.message(), true);
    auto table = parseTable(parser, std::string(name), value, at);
    if (!table.ok()) return table.status();
    schema.tables.push_back(std::move(table).value());
  }
  return schema;
}

Result<Validator> parseValidator(const json::value& j, const std::string& where) {
  ValidatorParser parser([&where](const std::string& pointer, bool) {
    return pointer.empty() ? where : where + " at " + pointer;
  });
  return parser.parse(j, "", false);
}

std::string schemaJson(const Schema& schema) {
  json::object tables;
  for (const auto& table : schema.tables) {
    json::object indexes;
    for (const auto& index : table.indexes) {
      json::array fields;
      for (const auto& field : index.fields) fields.emplace_back(field);
      indexes[index.name] = std::move(fields);
    }
    tables[table.name] = {{"document", validatorJson(table.document).at("object")},
                          {"indexes", std::move(indexes)}};
  }
  json::value root = {{"graft_schema", 1},
                      {"schemaValidation", schema.validation},
                      {"allowUnknownTables", schema.allow_unknown_tables},
                      {"tables", std::move(tables)}};
  std::string out;
  writeJson(root, out, std::string::npos);
  return out;
}

std::string describe(const Validator& v) {
  using K = Validator::Kind;
  auto list = [](const std::vector<Validator>& items) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + describe(items[i]);
    return out;
  };
  if (const char* name = primitiveName(v.kind)) return name;
  switch (v.kind) {
    case K::kLiteral:
      return "literal(" + describeLiteral(v.literal) + ")";
    case K::kId:
      return "id(" + quoteJson(v.table) + ")";
    case K::kArray:
      return "array(" + describe(v.items[0]) + ")";
    case K::kOptional:
      return "optional(" + describe(v.items[0]) + ")";
    case K::kRecord:
      return "record(" + list(v.items) + ")";
    case K::kUnion:
      return "union(" + list(v.items) + ")";
    case K::kObject: {
      std::string out = "object({";
      for (size_t i = 0; i < v.fields.size(); ++i)
        out += (i ? ", " : "") + v.fields[i].first + ": " + describe(v.fields[i].second);
      return out + "})";
    }
    default:
      break;
  }
  return "?";
}

std::optional<std::string> validateDocument(const Validator& document, const json::object& body) {
  return checkFields(document, body, "", true);
}

std::optional<std::string> validateValue(const Validator& v, const json::value& value,
                                         const std::string& path) {
  using K = Validator::Kind;
  bool ok = false;
  switch (v.kind) {
    case K::kString:
      ok = value.is_string();
      break;
    case K::kNumber:
      ok = value.is_number();
      break;
    case K::kInt64:
      ok = value.is_int64();
      break;
    case K::kBoolean:
      ok = value.is_bool();
      break;
    case K::kNull:
      ok = value.is_null();
      break;
    case K::kAny:
      ok = true;
      break;
    case K::kLiteral:
      ok = literalMatches(v.literal, value);
      break;
    case K::kId:
      ok = value.is_int64() && value.get_int64() >= 1;
      break;
    case K::kOptional:  // present, so the inner validator decides
      return validateValue(v.items[0], value, path);
    case K::kUnion:
      for (const auto& item : v.items) ok = ok || !validateValue(item, value, path);
      break;
    case K::kArray: {
      if (!value.is_array()) break;
      const auto& items = value.get_array();
      for (size_t i = 0; i < items.size(); ++i) {
        if (auto why = validateValue(v.items[0], items[i], path + "[" + std::to_string(i) + "]"))
          return why;
      }
      return std::nullopt;
    }
    case K::kObject:
      if (!value.is_object()) break;
      return checkFields(v, value.get_object(), path, false);
    case K::kRecord: {
      if (!value.is_object()) break;
      for (const auto& [key, item] : value.get_object()) {
        const std::string at = path + "[" + quoteJson(key) + "]";
        if (validateValue(v.items[0], json::string(key), at))
          return (path.empty() ? "" : "field " + path + ": ") + "key " + quoteJson(key) +
                 " is not " + describe(v.items[0]);
        if (auto why = validateValue(v.items[1], item, at)) return why;
      }
      return std::nullopt;
    }
  }
  if (ok) return std::nullopt;
  return mismatch(v, value, path);
}

}  // namespace graft
