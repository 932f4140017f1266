#include "plugins/step_spec.h"

#include <boost/json.hpp>

#include "base/json_text.h"

namespace graft {
namespace {

Status bad(const std::string& what, const std::string& why) {
  return Status(Code::kBadInput, what + ": " + why);
}

// {"field": value}: exactly one field.
Result<RangeSpec::Bound> parseBound(const boost::json::value& v, const std::string& op,
                                    bool inclusive, const std::string& what) {
  const boost::json::object* o = v.if_object();
  if (!o || o->size() != 1)
    return bad(what, "\"" + op + "\" must be an object with one field, e.g. {\"rank\": 3}");
  const auto& [field, value] = *o->begin();
  if (value.is_structured())
    return bad(what, "\"" + op + "\" compares a scalar, not " + boost::json::serialize(value));
  return RangeSpec::Bound{std::string(field), value, inclusive};
}

}  // namespace

Result<RangeSpec> parseRangeSpec(std::string_view json, const std::string& what) {
  auto parsed = parseJson(json, what);
  if (!parsed.ok()) return parsed.status();
  if (!parsed->is_object()) return bad(what, "an index range is a JSON object");
  return parseRangeSpec(parsed->get_object(), what);
}

Result<RangeSpec> parseRangeSpec(const boost::json::object& json, const std::string& what) {
  RangeSpec range;
  for (const auto& [key, value] : json) {
    if (key == "index") {
      if (!value.is_string() || value.get_string().empty())
        return bad(what, "\"index\" must name a declared index");
      range.index = value.get_string();
    } else if (key == "eq") {
      if (!value.is_object()) return bad(what, "\"eq\" must be an object {field: value}");
      for (const auto& [field, v] : value.get_object()) {
        if (v.is_structured())
          return bad(what, "\"eq\" on \"" + std::string(field) + "\" compares a scalar, not " +
                               boost::json::serialize(v));
        range.eq.emplace_back(field, v);
      }
    } else if (key == "gt" || key == "gte") {
      if (range.lower) return bad(what, "give at most one of \"gt\" and \"gte\"");
      auto bound = parseBound(value, key, key == "gte", what);
      if (!bound.ok()) return bound.status();
      range.lower = *bound;
    } else if (key == "lt" || key == "lte") {
      if (range.upper) return bad(what, "give at most one of \"lt\" and \"lte\"");
      auto bound = parseBound(value, key, key == "lte", what);
      if (!bound.ok()) return bound.status();
      range.upper = *bound;
    } else {
      return bad(what, "unknown key \"" + std::string(key) +
                           "\" (an index range has index, eq, gt, gte, lt, lte)");
    }
  }
  if (range.index.empty()) return bad(what, "missing \"index\"");
  if (range.lower && range.upper && range.lower->field != range.upper->field)
    return bad(what, "the lower and upper bounds are on different fields (\"" +
                         range.lower->field + "\", \"" + range.upper->field + "\")");
  return range;
}

Result<KeyRange> resolveRange(const RangeSpec& range, const Schema* schema,
                              const std::string& table, const std::string& what) {
  if (!schema)
    return bad(what, "index \"" + range.index +
                         "\" needs a schema that declares it, and none is pushed (graft schema "
                         "push FILE)");
  const TableSchema* t = schema->find(table);
  const IndexDef* index = t ? t->findIndex(range.index) : nullptr;
  if (!index)
    return bad(what, "the schema in force declares no index \"" + range.index + "\" on " + table +
                         " (declare it under \"indexes\", then graft schema push)");
  auto fields = [&] {
    std::string s;
    for (const auto& f : index->fields) s += (s.empty() ? "" : ", ") + ("\"" + f + "\"");
    return "[" + s + "]";
  };
  KeyRange out;
  out.index = range.index;
  out.fields = index->fields;
  for (size_t i = 0; i < range.eq.size(); ++i) {
    if (i >= index->fields.size() || range.eq[i].first != index->fields[i])
      return bad(what, "equality on \"" + range.eq[i].first + "\" does not follow index " +
                           range.index + " " + fields() +
                           ": eq must cover a prefix of its fields, in order");
    out.eq.push_back(range.eq[i].second);
  }
  for (const auto* bound : {&range.lower, &range.upper}) {
    if (!*bound) continue;
    const size_t next = out.eq.size();
    if (next >= index->fields.size() || (*bound)->field != index->fields[next])
      return bad(what, "a bound on \"" + (*bound)->field + "\" must be on the field after the " +
                           "equalities of index " + range.index + " " + fields());
  }
  if (range.lower) out.lower = KeyRange::Bound{range.lower->value, range.lower->inclusive};
  if (range.upper) out.upper = KeyRange::Bound{range.upper->value, range.upper->inclusive};
  return out;
}

Result<Validator> parseVerifyValidator(std::string_view json, const std::string& what) {
  auto parsed = parseJson(json, what);
  if (!parsed.ok()) return parsed.status();
  if (!parsed->is_object())
    return bad(what, "a verify validator is an object of fields, e.g. {\"role\": \"string\"}");
  boost::json::object wrapped;
  wrapped["object"] = parsed->get_object();
  return parseValidator(wrapped, what);
}

std::optional<std::string> checkVerifyValidator(const Validator& fields,
                                                const boost::json::object& doc) {
  for (const auto& [name, v] : fields.fields) {
    const boost::json::value* value = doc.if_contains(name);
    if (!value) {
      if (v.kind == Validator::Kind::kOptional) continue;
      return "missing required field " + jsonQuoted(name);
    }
    const Validator& inner = v.kind == Validator::Kind::kOptional ? v.items.front() : v;
    // The path as validateDocument words it: the quoted name, to which
    // validateValue adds "field ".
    if (auto why = validateValue(inner, *value, jsonQuoted(name))) return why;
  }
  return std::nullopt;
}

}  // namespace graft
