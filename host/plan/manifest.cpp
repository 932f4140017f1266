#include "plan/manifest.h"

#include <boost/json.hpp>

#include <unordered_map>

#include "base/json_text.h"

namespace graft {

bool isValidMigrationId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// Every error names where it is: "<path>:<line>:<column>: <what>".
Result<Manifest> parseManifest(std::string_view text, const std::string& path) {
  auto parsed = parseJsonLocated(text, path);
  if (!parsed.ok()) return parsed.status();
  const JsonLocator& at = parsed->locator;
  auto bad = [&](const std::string& where, const std::string& why) {
    return Status(Code::kBadInput, where + ": " + why);
  };
  const boost::json::object* root = parsed->value.if_object();
  if (!root)
    return bad(at.where(""),
               "a manifest is a JSON object {\"graft_manifest\": 1, \"migrations\": [...]}");
  for (const auto& d : at.duplicates())
    return bad(d.where, "duplicate key " + jsonQuoted(d.key) + " (first at " +
                            d.first.substr(path.size() + 1) + ")");
  for (const auto& [key, value] : *root) {
    if (key != "graft_manifest" && key != "migrations")
      return bad(at.whereKey(jsonPointer("", key)),
                 "unknown key " + jsonQuoted(key) +
                     " (a manifest has only \"graft_manifest\" and \"migrations\")");
  }
  const auto* version = root->if_contains("graft_manifest");
  if (!version || !version->is_int64())
    return bad(at.where("/graft_manifest"),
               "missing \"graft_manifest\": 1 (the manifest format version)");
  if (version->as_int64() != 1)
    return bad(at.where("/graft_manifest"),
               "manifest format " + std::to_string(version->as_int64()) +
                   " is not supported; this graft reads format 1");
  const auto* list = root->if_contains("migrations");
  if (!list || !list->is_array())
    return bad(at.where("/migrations"), "\"migrations\" must be an array of migration ids");

  Manifest manifest{path, {}};
  std::unordered_map<std::string, size_t> seen;
  size_t index = 0;
  for (const auto& entry : list->as_array()) {
    const std::string where = at.where(jsonPointer("/migrations", index));
    const std::string name = "migrations[" + std::to_string(index) + "]";
    ++index;
    if (!entry.is_string()) return bad(where, name + " is not a string");
    std::string id(entry.as_string());
    if (!isValidMigrationId(id))
      return bad(where, name + ": " + jsonQuoted(id) +
                            " is not a valid id (letters, digits, '_', '-', '.'; at most 128)");
    auto [it, inserted] = seen.emplace(id, index - 1);
    if (!inserted) {
      const std::string first = at.where(jsonPointer("/migrations", it->second));
      return bad(where, "duplicate id " + jsonQuoted(id) + " at " + name + ", first at migrations[" +
                            std::to_string(it->second) + "] (" +
                            first.substr(path.size() + 1) + ")");
    }
    manifest.ids.push_back(std::move(id));
  }
  return manifest;
}

Result<Manifest> readManifest(const std::string& path) {
  auto text = readFile(path);
  if (!text.ok()) return text.status().prefixed("read manifest");
  auto manifest = parseManifest(*text, path);
  if (!manifest.ok()) return manifest.status().prefixed("read manifest");
  return manifest;
}

}  // namespace graft
