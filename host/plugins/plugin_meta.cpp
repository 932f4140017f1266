#include "plugins/plugin_meta.h"

#include <algorithm>
#include <boost/json.hpp>

#include "plugins/elf_check.h"
#include "base/json_text.h"
#include "plan/manifest.h"

namespace graft {
namespace {

const std::string kRebuild = " (build the plugin again with graft_add_migration)";

// A hostile file could carry a huge section; real metadata is a few hundred
// bytes, plus the description.
constexpr size_t kMaxMetaSize = 64 * 1024;

Status bad(const std::string& why) { return Status(Code::kPlugin, why); }

std::string section() { return "section " + std::string(kMetaSection); }

bool isAbiText(std::string_view text) {
  const size_t dot = text.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == text.size()) return false;
  for (size_t i = 0; i < text.size(); ++i)
    if (i != dot && (text[i] < '0' || text[i] > '9')) return false;
  return text.size() <= 11;
}

// As a message shows a string a plugin gave: quoted and escaped, so that a
// newline in it can not break the message's one line.
std::string quoted(const std::string& text) { return jsonQuoted(text); }

}  // namespace

Result<PluginMeta> parsePluginMeta(std::string_view bytes) {
  const std::string_view text = bytes.substr(0, bytes.find('\0'));
  if (text.empty()) return bad(section() + " is empty" + kRebuild);
  auto parsed = parseJson(text, section());
  if (!parsed.ok()) return bad(parsed.status().message() + kRebuild);
  const boost::json::object* object = parsed->if_object();
  if (!object) return bad(section() + " is not a JSON object" + kRebuild);
  const boost::json::value* version = object->if_contains("graft_meta");
  if (!version || !version->is_int64() || version->as_int64() < 1)
    return bad(section() + ": missing \"graft_meta\": 1 (the metadata format version)" + kRebuild);
  if (version->as_int64() > 1)
    return bad(section() + ": format version " + std::to_string(version->as_int64()) +
               " is newer than this graft reads (upgrade graft)");
  auto text_field = [&](const char* key, std::string* out) -> Status {
    const boost::json::value* value = object->if_contains(key);
    if (!value || !value->is_string())
      return bad(section() + ": \"" + key + "\" is missing or not a string" + kRebuild);
    *out = std::string(value->as_string());
    return Status::Ok();
  };
  PluginMeta meta;
  GRAFT_RETURN_IF_ERROR(text_field("id", &meta.id));
  GRAFT_RETURN_IF_ERROR(text_field("abi", &meta.abi));
  GRAFT_RETURN_IF_ERROR(text_field("logic_digest", &meta.logic_digest));
  GRAFT_RETURN_IF_ERROR(text_field("description", &meta.description));
  if (!isValidMigrationId(meta.id))
    return bad(section() + ": id " + jsonQuoted(meta.id) +
               " is not valid (letters, digits, '_', '-', '.'; at most 128)" + kRebuild);
  if (!isAbiText(meta.abi))
    return bad(section() + ": abi " + jsonQuoted(meta.abi) + " is not <major>.<minor>" + kRebuild);
  const boost::json::value* has_down = object->if_contains("has_down");
  if (!has_down || !has_down->is_bool())
    return bad(section() + ": \"has_down\" is missing or not true or false" + kRebuild);
  meta.has_down = has_down->as_bool();
  return meta;
}

Result<std::optional<PluginMeta>> readPluginMeta(std::string_view bytes) {
  std::optional<std::string_view> found;
  std::string why;
  if (!findElfSection(bytes, kMetaSection, &found, &why)) return bad(why);
  if (!found) return std::optional<PluginMeta>();
  if (found->size() > kMaxMetaSize)
    return bad(section() + " is " + std::to_string(found->size()) + " bytes, more than " +
               std::to_string(kMaxMetaSize) + kRebuild);
  auto meta = parsePluginMeta(*found);
  if (!meta.ok()) return meta.status();
  return std::optional<PluginMeta>(std::move(meta).value());
}

std::string compareMeta(const PluginMeta& embedded, const PluginMeta& returned) {
  std::string differences;
  auto differ = [&](const std::string& what, const std::string& was, const std::string& is,
                    const std::string& fix) {
    differences += (differences.empty() ? "" : "; ") + what + " " + was + " embedded, " + is +
                   " returned (" + fix + ")";
  };
  const std::string rebuild = "build the plugin again with graft_add_migration";
  auto orNone = [](const std::string& digest) {
    if (digest.empty()) return std::string("none");
    const bool plain = std::all_of(digest.begin(), digest.end(), [](char c) {
      return c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20;
    });
    return plain ? digest : jsonQuoted(digest);
  };
  if (embedded.abi != returned.abi) differ("ABI", embedded.abi, returned.abi, rebuild);
  if (embedded.id != returned.id)
    differ("id", quoted(embedded.id), quoted(returned.id),
           "graft_add_migration's target name is the id: name the target after .id");
  if (embedded.logic_digest != returned.logic_digest)
    differ("logic digest", orNone(embedded.logic_digest), orNone(returned.logic_digest), rebuild);
  if (embedded.description != returned.description)
    differ("description", quoted(embedded.description), quoted(returned.description),
           "write .description as one string literal at the start of its line");
  if (embedded.has_down != returned.has_down)
    differ("down step", embedded.has_down ? "present" : "absent",
           returned.has_down ? "present" : "absent",
           "start the line that sets the down step with .down =");
  return differences;
}

}  // namespace graft
