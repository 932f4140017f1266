#include "patch.h"

#include <boost/json.hpp>

#include "json_text.h"

namespace graft {
namespace {

bool isSystemField(std::string_view field) { return field == "_id" || field == "_creationTime"; }

// A patch holds its values one level below a document's fields.
Result<boost::json::object> parseObject(std::string_view text, const char* what,
                                        size_t extra_levels = 0) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(text, ec, {}, jsonParseOptions(extra_levels));
  if (ec) return Status(Code::kBadInput, std::string(what) + " is not valid JSON: " + ec.message());
  if (!value.is_object()) return Status(Code::kBadInput, std::string(what) + " is not a JSON object");
  if (holdsNonFiniteNumber(value))
    return Status(Code::kBadInput, std::string(what) + " has a number beyond the range of a float64");
  return std::move(value.as_object());
}

}  // namespace

Result<Patched> applyPatch(std::string_view body, std::string_view patch_json) {
  auto patch = parseObject(patch_json, "patch", 1);
  if (!patch.ok()) return patch.status();
  const boost::json::object* set = nullptr;
  const boost::json::array* unset = nullptr;
  for (const auto& [key, value] : *patch) {
    if (key == "$set" && value.is_object()) {
      set = &value.get_object();
    } else if (key == "$unset" && value.is_array()) {
      unset = &value.get_array();
    } else {
      return Status(Code::kBadInput, "patch has " + jsonQuoted(key) +
                                         "; a patch is {\"$set\": {...}, \"$unset\": [...]}");
    }
  }
  auto doc = parseObject(body, "stored document");
  if (!doc.ok()) return doc.status();

  bool changed = false;
  if (unset) {
    for (const auto& field : *unset) {
      if (!field.is_string())
        return Status(Code::kBadInput, "patch $unset holds a non-string: " +
                                           boost::json::serialize(field));
      std::string_view name = field.get_string();
      if (isSystemField(name))
        return Status(Code::kBadInput, "patch removes " + std::string(name) +
                                           ": _id and _creationTime belong to the store");
      if (set && set->contains(name))
        return Status(Code::kBadInput, "patch both sets and removes " + jsonQuoted(name));
      changed |= doc->stable_erase(name) > 0;  // keeps the other fields in order
    }
  }
  if (set) {
    for (const auto& [field, value] : *set) {
      if (isSystemField(field))
        return Status(Code::kBadInput, "patch sets " + std::string(field) +
                                           ": _id and _creationTime belong to the store");
      auto it = doc->find(field);
      if (it == doc->end()) {
        doc->emplace(field, value);
        changed = true;
      } else if (it->value() != value) {
        it->value() = value;
        changed = true;
      }
    }
  }
  return Patched{boost::json::serialize(*doc), changed};
}

Result<std::string> newBody(std::string_view doc_json, int64_t current_id,
                            double current_creation_time) {
  auto doc = parseObject(doc_json, "document");
  if (!doc.ok()) return doc.status();
  for (const char* field : {"_id", "_creationTime"}) {
    auto it = doc->find(field);
    if (it == doc->end()) continue;
    bool same = current_id != 0 &&
                (std::string_view(field) == "_id"
                     ? it->value().is_int64() && it->value().get_int64() == current_id
                     : it->value().is_number() &&
                           it->value().to_number<double>() == current_creation_time);
    if (!same)
      return Status(Code::kBadInput, std::string("document sets ") + field +
                                         ": _id and _creationTime are assigned by the store");
    doc->stable_erase(it);
  }
  return boost::json::serialize(*doc);
}

}  // namespace graft
