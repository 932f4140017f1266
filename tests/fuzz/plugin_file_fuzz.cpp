// Fuzzes what graft reads from a plugin file before anything is loaded:
// checkSharedLibrary and findElfSection (host/plugins/elf_check.h), readPluginMeta
// and parsePluginMeta (host/plugins/plugin_meta.h). A plugin file may be truncated
// or hostile, and status, verify and sum read it without loading it.
//
// An input that starts with the ELF magic is a plugin file: it is refused
// with one line, or its sections lie inside its bytes, and readPluginMeta
// gives what parsePluginMeta gives for the section findElfSection found.
// Any other input is the text of a .graft_meta section: one error line, or
// metadata whose fields are valid and that reads back the same once written
// out again. ASan checks that no header is read outside the bytes: the
// input is libFuzzer's own buffer of exactly `size` bytes, not a copy.
#include <elf.h>
#include <link.h>

#include <boost/json.hpp>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "plugins/elf_check.h"
#include "fuzz_check.h"
#include "plan/manifest.h"
#include "plugins/plugin_meta.h"

namespace {

using graft::fuzz::require;

// Every message of these readers is one sentence that ends with its fix in
// parentheses. Text taken from the file is quoted as JSON, so none of its
// control characters (a tab, a carriage return, the escape that starts a
// terminal sequence) reaches the terminal, where it could forge or hide part
// of the line.
void requireSentence(const std::string& why, const char* what) {
  require(!why.empty(), what, "empty message");
  require(why.find('\n') == std::string::npos, what, why);
  for (unsigned char c : why) require(c >= 0x20, what, why);
  require(why.back() == ')', what, why);
}

void requireInside(std::string_view bytes, std::string_view part, const char* what) {
  require(part.data() >= bytes.data() && part.size() <= bytes.size() &&
              part.data() - bytes.data() <= static_cast<std::ptrdiff_t>(bytes.size() - part.size()),
          what);
}

bool isAbiText(const std::string& abi) {
  const size_t dot = abi.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == abi.size()) return false;
  return abi.find_first_not_of("0123456789.") == std::string::npos &&
         abi.find('.', dot + 1) == std::string::npos;
}

// Metadata as graft_add_migration would embed it.
std::string embedded(const graft::PluginMeta& meta) {
  const boost::json::object object{{"graft_meta", 1},
                                   {"id", meta.id},
                                   {"abi", meta.abi},
                                   {"logic_digest", meta.logic_digest},
                                   {"description", meta.description},
                                   {"has_down", meta.has_down}};
  return boost::json::serialize(object);
}

// What parsePluginMeta returns for any text: one error line naming the
// section, or valid fields that read back the same.
void checkParsed(const graft::Result<graft::PluginMeta>& meta) {
  using namespace graft;
  if (!meta.ok()) {
    fuzz::requireOneLineError(meta.status(), "section .graft_meta", {Code::kPlugin});
    requireSentence(meta.status().message(), "metadata error is not one sentence with a fix");
    return;
  }
  require(isValidMigrationId(meta->id), "invalid id accepted", meta->id);
  require(isAbiText(meta->abi), "invalid abi accepted", meta->abi);
  const std::string again = embedded(*meta);
  auto reread = parsePluginMeta(again);
  require(reread.ok(), "metadata written out again does not read", again);
  require(reread->id == meta->id && reread->abi == meta->abi &&
              reread->logic_digest == meta->logic_digest &&
              reread->description == meta->description && reread->has_down == meta->has_down,
          "metadata written out again reads as other metadata", again);
}

void checkPluginFile(std::string_view bytes) {
  using namespace graft;
  const std::string refused = checkSharedLibrary(bytes);
  if (!refused.empty()) {
    requireSentence(refused, "checkSharedLibrary's verdict is not one sentence with a fix");
    return;
  }
  require(bytes.size() >= sizeof(ElfW(Ehdr)), "a file shorter than an ELF header passed");

  // The section name table finds itself under its own name, if it has one.
  for (std::string_view name : {kMetaSection, std::string_view(".shstrtab")}) {
    std::optional<std::string_view> section;
    std::string why;
    if (findElfSection(bytes, name, &section, &why)) {
      require(why.empty(), "findElfSection succeeded with a message", why);
      if (section) requireInside(bytes, *section, "a section view lies outside the file");
    } else {
      requireSentence(why, "findElfSection's error is not one sentence with a fix");
    }
  }

  std::optional<std::string_view> section;
  std::string why;
  const bool found = findElfSection(bytes, kMetaSection, &section, &why);
  auto meta = readPluginMeta(bytes);
  if (!found) {
    require(!meta.ok() && meta.status().code() == Code::kPlugin && meta.status().message() == why,
            "readPluginMeta and findElfSection disagree on the file", why);
    return;
  }
  if (!section) {
    require(meta.ok() && !meta->has_value(), "metadata read from a file without the section");
    return;
  }
  if (!meta.ok()) {
    fuzz::requireOneLineError(meta.status(), "section .graft_meta", {Code::kPlugin});
    requireSentence(meta.status().message(), "metadata error is not one sentence with a fix");
  } else {
    require(meta->has_value(), "a file with the section read as one without it");
  }
  // readPluginMeta refuses a section too big for metadata before parsing it.
  const std::string too_big =
      "section .graft_meta is " + std::to_string(section->size()) + " bytes, more than ";
  if (!meta.ok() && meta.status().message().rfind(too_big, 0) == 0) return;
  auto parsed = parsePluginMeta(*section);
  checkParsed(parsed);
  require(parsed.ok() == meta.ok(), "readPluginMeta and parsePluginMeta disagree");
  if (!parsed.ok()) {
    require(parsed.status().message() == meta.status().message(),
            "readPluginMeta and parsePluginMeta word the error differently",
            meta.status().message());
  } else {
    require(embedded(*parsed) == embedded(**meta),
            "readPluginMeta and parsePluginMeta read other metadata");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (bytes.size() >= SELFMAG && std::memcmp(bytes.data(), ELFMAG, SELFMAG) == 0) {
    checkPluginFile(bytes);
  } else {
    checkParsed(graft::parsePluginMeta(bytes));
  }
  return 0;
}
